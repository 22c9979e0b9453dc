"""Organisation import against the database: CSV and XLSX, all or nothing, re-import, seed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kinerja.seed import UNITS, seed_demo_agency
from models.db import session_scope
from models.importer import ImportRejected, ImportResult, import_organisation
from models.rules.enums import JenisJabatan, StatusPegawai
from models.rules.errors import RuleError
from models.tables import AuditLog, Pegawai, Unit

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
HEADER = ["NIP", "Nama", "Email", "Jabatan", "Jenis Jabatan", "Unit Kerja", "NIP Atasan",
          "Status", "Jenjang"]
SEKDA, KADIS, KASI, GURU = ("197001011995031001", "197502022000031002", "198003032005011003",
                            "199504042020012004")


def person(nip: str, nama: str, jabatan: str, jenis: str, unit: str, atasan: str = "",
           status: str = "PNS", jenjang: str = "") -> list[str]:
    email = nama.split(",")[0].lower().replace(" ", ".") + "@contoh.go.id"
    return [nip, nama, email, jabatan, jenis, unit, atasan, status, jenjang]


def organisation() -> list[list[str]]:
    """Staff before their superiors, on purpose: superiors are resolved after all inserts."""
    return [
        person(GURU, "Sri Wahyuni, S.Pd.", "Guru Ahli Pertama", "Fungsional", "Dinas Pendidikan",
               KASI, "PPPK", "Ahli Pertama"),
        person(KASI, "Asep Saepudin, S.E.", "Kepala Seksi Kurikulum", "Pengawas",
               "Dinas Pendidikan", KADIS),
        person(KADIS, "Dr. Maruli Siregar, M.Pd.", "Kepala Dinas Pendidikan", "JPT",
               "Dinas Pendidikan", SEKDA),
        person(SEKDA, "Andi Muhammad Arsyad, S.H., M.Si.", "Sekretaris Daerah", "jpt",
               "Sekretariat Daerah"),
    ]


def to_csv(rows: list[list[str]], *, delimiter: str = ",", bom: bool = False,
           header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


def to_xlsx(rows: list[list[Any]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run_import(engine: Engine, data: bytes, filename: str = "pegawai.csv",
               now: datetime = NOW, **kw: Any) -> ImportResult:
    with session_scope(engine) as session:
        return import_organisation(session=session, data=data, filename=filename, now=now,
                                   actor="hr:admin", **kw)


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {t.__name__: session.exec(select(func.count()).select_from(t)).one()
                for t in (Unit, Pegawai, AuditLog)}


def people(engine: Engine) -> dict[str, Pegawai]:
    with Session(engine) as session:
        return {p.nip: p for p in session.exec(select(Pegawai))}


def unit_names(engine: Engine) -> dict[int, str]:
    with Session(engine) as session:
        return {u.id: u.nama for u in session.exec(select(Unit)) if u.id is not None}


def audit(engine: Engine) -> list[AuditLog]:
    with Session(engine) as session:
        return list(session.exec(select(AuditLog).order_by(AuditLog.id)))


def test_csv_import_creates_units_people_and_superiors(db: Engine) -> None:
    result = run_import(db, to_csv(organisation()))
    assert (result.added, result.updated, result.unchanged, result.problems) == (4, 0, 0, [])
    found, units = people(db), unit_names(db)
    assert sorted(units.values()) == ["Dinas Pendidikan", "Sekretariat Daerah"]
    assert found[SEKDA].atasan_id is None
    assert found[KADIS].atasan_id == found[SEKDA].id
    assert found[GURU].atasan_id == found[KASI].id
    guru = found[GURU]
    assert (guru.jenis_jabatan, guru.status, guru.jenjang) == (
        JenisJabatan.FUNGSIONAL, StatusPegawai.PPPK, "Ahli Pertama")
    assert units[guru.unit_id] == "Dinas Pendidikan" and guru.updated_at == NOW
    assert found[SEKDA].jenis_jabatan is JenisJabatan.JPT and found[SEKDA].status == "PNS"
    rows = audit(db)
    assert [(a.action, a.actor, a.at) for a in rows] == [("pegawai.tambah", "hr:admin", NOW)] * 4
    assert rows[0].before is None and rows[0].after is not None
    assert rows[0].after["nip"] == GURU and rows[0].after["nip_atasan"] == KASI


def test_xlsx_import(db: Engine) -> None:
    header = [h.lower() if h.startswith("NIP") else h for h in HEADER]
    result = run_import(db, to_xlsx([list(r) for r in organisation()], header),
                        filename="Pegawai.XLSX")
    assert (result.added, result.updated, result.unchanged) == (4, 0, 0)
    found = people(db)
    assert found[GURU].atasan_id == found[KASI].id and found[KASI].atasan_id == found[KADIS].id
    assert found[GURU].status is StatusPegawai.PPPK


def test_xlsx_with_numeric_nips_is_rejected_with_rows(db: Engine) -> None:
    rows: list[list[Any]] = [list(r) for r in organisation()]
    rows[0][0] = int(GURU)  # a number cell: stored with 15 significant digits, like Excel does
    rows[1][6] = float(KADIS)
    rows.insert(2, [None] * len(HEADER))  # a blank line keeps the following row numbers
    rows[3][2] = "bukan-email"
    with pytest.raises(ImportRejected) as caught:
        run_import(db, to_xlsx(rows), filename="pegawai.xlsx")
    assert [(p.row, p.column) for p in caught.value.problems] == [
        (2, "NIP"), (3, "NIP Atasan"), (5, "Email")]
    assert "Teks" in caught.value.problems[0].message_id
    assert counts(db) == {"Unit": 0, "Pegawai": 0, "AuditLog": 0}


def test_a_rejected_file_writes_nothing(db: Engine) -> None:
    run_import(db, to_csv(organisation()))
    before = counts(db)
    rows = organisation()
    rows[1][5] = "Dinas Baru"  # a valid transfer to a new unit...
    rows.append(person("199601012021011005", "Budi Santoso", "Pengelola Data", "Pelaksana",
                       "Dinas Lain", KASI))  # ...a valid new person in a new unit...
    rows.append(person("123", "Salah", "Pengelola Data", "Pelaksana", "Dinas Pendidikan",
                       "199912312020121999"))  # ...and one bad row
    with pytest.raises(ImportRejected) as caught:
        run_import(db, to_csv(rows), now=LATER)
    assert isinstance(caught.value, RuleError)
    assert [(p.row, p.column) for p in caught.value.problems] == [(7, "NIP")]
    assert "baris 7 kolom NIP" in str(caught.value)
    assert counts(db) == before
    assert unit_names(db)[people(db)[KASI].unit_id] == "Dinas Pendidikan"


def test_reimport_updates_in_place_and_audits_changes(db: Engine) -> None:
    run_import(db, to_csv(organisation()))
    first = people(db)
    rows = organisation()
    rows[0][5] = "SD Negeri 1 Sukamaju"  # the guru is transferred...
    rows[0][6] = KADIS  # ...and now reports to the Kepala Dinas
    rows[0][2] = "sri.baru@contoh.go.id"
    del rows[1]  # the kasi is missing from this file: left alone
    result = run_import(db, to_csv(rows), now=LATER)
    assert (result.added, result.updated, result.unchanged) == (0, 1, 2)
    now_found, units = people(db), unit_names(db)
    guru = now_found[GURU]
    assert guru.id == first[GURU].id and guru.atasan_id == first[KADIS].id
    assert units[guru.unit_id] == "SD Negeri 1 Sukamaju" and guru.updated_at == LATER
    assert now_found[KASI].active and now_found[KASI].updated_at == NOW
    changes = [a for a in audit(db) if a.action == "pegawai.ubah"]
    assert len(changes) == 1 and changes[0].entity_id == guru.id and changes[0].at == LATER
    assert changes[0].before == {"email": "sri.wahyuni@contoh.go.id",
                                 "unit": "Dinas Pendidikan", "nip_atasan": KASI}
    assert changes[0].after == {"email": "sri.baru@contoh.go.id",
                                "unit": "SD Negeri 1 Sukamaju", "nip_atasan": KADIS}


def test_an_unchanged_reimport_writes_no_audit(db: Engine) -> None:
    run_import(db, to_csv(organisation()))
    before = counts(db)
    result = run_import(db, to_csv(organisation(), delimiter=";"), now=LATER)
    assert (result.added, result.updated, result.unchanged) == (0, 0, 4)
    assert counts(db) == before


def test_semicolon_csv_with_bom(db: Engine) -> None:
    data = to_csv(organisation(), delimiter=";", bom=True)
    assert data.startswith(b"\xef\xbb\xbfNIP;Nama")
    assert run_import(db, data).added == 4
    assert people(db)[GURU].nama == "Sri Wahyuni, S.Pd."


def test_a_partial_file_may_name_existing_superiors(db: Engine) -> None:
    run_import(db, to_csv(organisation()))
    staff = person("199601012021011005", "Budi Santoso", "Pengelola Data", "Pelaksana",
                   "dinas pendidikan", KASI)
    assert run_import(db, to_csv([staff])).added == 1
    found = people(db)
    assert found[staff[0]].atasan_id == found[KASI].id
    assert found[staff[0]].unit_id == found[KASI].unit_id  # units match case-insensitively


def test_a_cycle_with_existing_rows_is_rejected(db: Engine) -> None:
    run_import(db, to_csv(organisation()))
    sekda = organisation()[3]
    sekda[6] = GURU  # guru -> kasi -> kadis -> sekda -> guru, through the database
    with pytest.raises(ImportRejected) as caught:
        run_import(db, to_csv([sekda]))
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (2, "NIP Atasan")
    assert all(nip in problem.message_id for nip in (SEKDA, GURU, KASI, KADIS))


def test_an_inactive_unit_is_rejected(db: Engine) -> None:
    run_import(db, to_csv(organisation()))
    with session_scope(db) as session:
        unit = session.exec(select(Unit).where(Unit.nama == "Dinas Pendidikan")).one()
        unit.active = False
    with pytest.raises(ImportRejected) as caught:
        run_import(db, to_csv(organisation()))
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "Unit Kerja"),
                                                                  (3, "Unit Kerja"),
                                                                  (4, "Unit Kerja")]


def test_the_caller_commits(db: Engine) -> None:
    with Session(db) as session:
        result = import_organisation(session=session, data=to_csv(organisation()),
                                     filename="a.csv", now=NOW, actor="hr:admin")
        assert result.added == 4
        assert session.exec(select(func.count()).select_from(Pegawai)).one() == 4
        session.rollback()
    assert counts(db) == {"Unit": 0, "Pegawai": 0, "AuditLog": 0}


def test_a_dry_run_reports_without_writing(db: Engine) -> None:
    bad = organisation()
    bad[0][2] = "bukan-email"
    result = run_import(db, to_csv(bad), dry_run=True)
    assert [(p.row, p.column) for p in result.problems] == [(2, "Email")]
    good = run_import(db, to_csv(organisation()), dry_run=True)
    assert (good.added, good.problems) == (4, [])
    assert counts(db) == {"Unit": 0, "Pegawai": 0, "AuditLog": 0}


@pytest.mark.parametrize(("data", "filename"), [
    (b"NIP,Nama\n", "pegawai.pdf"),
    ("NIP;Nama\n".encode("utf-16"), "pegawai.csv"),
    (b"PK\x03\x04 not really a workbook", "pegawai.xlsx"),
])
def test_unreadable_files_are_rejected(db: Engine, data: bytes, filename: str) -> None:
    with pytest.raises(ImportRejected) as caught:
        run_import(db, data, filename)
    assert len(caught.value.problems) == 1


def test_missing_header_columns_are_rejected(db: Engine) -> None:
    header = [h for h in HEADER if h != "Unit Kerja"]
    rows = [[c for i, c in enumerate(r) if i != 5] for r in organisation()]
    with pytest.raises(ImportRejected) as caught:
        run_import(db, to_csv(rows, header=header))
    assert [(p.row, p.column) for p in caught.value.problems] == [(1, "Unit Kerja")]


def test_demo_seed_imports_a_whole_kabupaten(db: Engine) -> None:
    with session_scope(db) as session:
        result = seed_demo_agency(session=session, now=NOW)
    assert (result.added, result.updated, result.unchanged) == (300, 0, 0)
    found, units = list(people(db).values()), set(unit_names(db).values())
    tops = [p for p in found if p.atasan_id is None]
    assert [(p.jabatan, p.jenis_jabatan) for p in tops] == [("Sekretaris Daerah", JenisJabatan.JPT)]
    by_id = {p.id: p for p in found}
    assert all(p.atasan_id in by_id for p in found if p is not tops[0])
    assert {u[0] for u in UNITS[:8]} <= units
    assert {p.status for p in found} == {StatusPegawai.PNS, StatusPegawai.PPPK}
    assert {p.jenis_jabatan for p in found} == set(JenisJabatan)
    heads = [p for p in found if p.atasan_id == tops[0].id and p.jenis_jabatan == JenisJabatan.JPT]
    assert len(heads) == 7  # the heads of the other seven units
    assert all(p.jenjang for p in found if p.jenis_jabatan == JenisJabatan.FUNGSIONAL)
    with session_scope(db) as session:
        again = seed_demo_agency(session=session, now=LATER)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 300)
