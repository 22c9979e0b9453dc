"""The realisasi import on the database and through its doors: JSON API, console, command line."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from models.db import session_scope
from models.importer import ImportRejected
from models.repo.cycles import NotFound
from models.repo.hr import create_api_token
from models.repo.realisasi_import import RealisasiImportResult, import_realisasi
from models.rules.enums import JenisIki, Periodisasi, SkpStatus, StageCode
from models.tables import AuditLog, Cycle, CycleStage, HrUser, Iki, Pegawai, Realisasi, Rhk, Skp
from tests.api.conftest import AppEnv
from tests.factories import T0, make_org

HEADER = ["NIP", "Kode IKI", "Periode", "Realisasi"]


@dataclass
class Setup:
    cycle_id: int
    nip: dict[str, str]
    iki: dict[str, int]  # short name -> IKI id


def make_skp(s: Any, pegawai: Pegawai, cycle: Cycle, approved: bool,
             iki: list[tuple[str, str, JenisIki]]) -> dict[str, int]:
    """An SKP with one RHK per distinct RHK text and its IKI; returns indikator -> IKI id."""
    skp = Skp(cycle_id=cycle.id, pegawai_id=pegawai.id, created_at=T0, updated_at=T0,
              status=SkpStatus.DISETUJUI if approved else SkpStatus.DRAF,
              approved_at=T0 if approved else None)
    s.add(skp)
    s.flush()
    rhk: dict[str, Rhk] = {}
    out: dict[str, int] = {}
    for uraian, indikator, jenis in iki:
        if uraian not in rhk:
            rhk[uraian] = Rhk(skp_id=skp.id, uraian=uraian)
            s.add(rhk[uraian])
            s.flush()
        row = Iki(rhk_id=rhk[uraian].id, indikator=indikator, jenis=jenis, target="100",
                  satuan="%")
        s.add(row)
        s.flush()
        out[indikator] = row.id
    return out


def make_cycle(engine: Engine, periodisasi: Periodisasi = Periodisasi.TRIWULANAN) -> Setup:
    """Cycle 2027 with planning closed and its periods (the first closed); SKPs of the org."""
    count = 4 if periodisasi == Periodisasi.TRIWULANAN else 12
    with session_scope(engine) as s:
        org = make_org(s)
        cycle = Cycle(tahun=2027, nama="SKP 2027", reminder_offsets=[], created_at=T0,
                      periodisasi=periodisasi)
        s.add(cycle)
        s.flush()
        s.add(CycleStage(cycle_id=cycle.id, code=StageCode.PERENCANAAN, opens_at=T0,
                         due_at=T0, approve_due_at=T0, closes_at=T0, opened_at=T0, closed_at=T0))
        for k in range(1, count + 1):
            at = T0 + timedelta(days=30 * k)
            s.add(CycleStage(cycle_id=cycle.id, code=StageCode.PEMANTAUAN, periode=k,
                             opens_at=at, due_at=at, approve_due_at=at, closes_at=at,
                             opened_at=T0 if k <= 2 else None, closed_at=T0 if k == 1 else None))
        kuant, kual = JenisIki.KUANTITATIF, JenisIki.KUALITATIF
        iki = make_skp(s, org["staf1"], cycle, True, [
            ("Layanan data kepegawaian", "Persentase data mutakhir", kuant),
            ("Layanan data kepegawaian", "Kualitas laporan", kual)])
        iki |= make_skp(s, org["staf2"], cycle, True, [("Arsip tertata", "Kehadiran", kuant)])
        make_skp(s, org["kasi"], cycle, False, [("Seksi berjalan", "Rapat", kuant)])
        return Setup(cycle.id, {k: p.nip for k, p in org.items()},
                     {"data": iki["Persentase data mutakhir"], "laporan": iki["Kualitas laporan"],
                      "hadir": iki["Kehadiran"]})


def to_csv(rows: list[list[Any]], header: list[str] = HEADER, delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue().encode()


def to_xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r in [HEADER, *rows]:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_rows(x: Setup) -> list[list[Any]]:
    staf1, staf2 = x.nip["staf1"], x.nip["staf2"]
    return [[staf1, f"IKI-{x.iki['data']}", "TW2", "87,5%"],
            [staf1, f"iki-{x.iki['laporan']}", "Triwulan II", "Laporan lengkap dan rapi"],
            [staf2, str(x.iki["hadir"]), "2", "97"],
            [staf2, f"IKI-{x.iki['hadir']}", "Q3", "1.234,5"]]


def bad_rows(x: Setup) -> list[list[Any]]:
    staf1 = x.nip["staf1"]
    return [[staf1, f"IKI-{x.iki['data']}", "TW2", "87,5"],  # fine, but not written
            [staf1, f"IKI-{x.iki['hadir']}", "TW2", "5"],  # staf2's IKI
            [staf1, f"IKI-{x.iki['data']}", "TW1", "5"],  # closed period
            [x.nip["kasi"], "IKI-1", "5", "lima"],  # unapproved SKP, period outside the cycle
            ["12345", f"IKI-{x.iki['data']}", "TW3", "-2"]]


def run(engine: Engine, x: Setup, data: bytes, filename: str = "realisasi.csv",
        ) -> RealisasiImportResult:
    with session_scope(engine) as s:
        return import_realisasi(session=s, cycle_id=x.cycle_id, data=data, filename=filename,
                                now=T0 + timedelta(days=45), actor="hr:admin")


def stored(engine: Engine) -> dict[tuple[int, int], tuple[float | None, str | None, str]]:
    with session_scope(engine) as s:
        return {(r.iki_id, r.periode): (r.nilai, r.uraian, r.sumber)
                for r in s.execute(select(Realisasi)).scalars()}


def audits(engine: Engine) -> list[dict[str, Any]]:
    with session_scope(engine) as s:
        return [a.after for a in s.execute(select(AuditLog).where(
            AuditLog.action == "realisasi.impor").order_by(AuditLog.id)).scalars()]


@pytest.fixture
def setup(db: Engine) -> Setup:
    return make_cycle(db)


# --- the repository -------------------------------------------------------------------------

def test_import_creates_updates_and_keeps_unchanged(db: Engine, setup: Setup) -> None:
    x = setup
    assert run(db, x, to_csv(good_rows(x))) == RealisasiImportResult(4, 4, 0, 0)
    assert stored(db) == {
        (x.iki["data"], 2): (87.5, None, "impor"),
        (x.iki["laporan"], 2): (None, "Laporan lengkap dan rapi", "impor"),
        (x.iki["hadir"], 2): (97.0, None, "impor"), (x.iki["hadir"], 3): (1234.5, None, "impor")}
    changed = good_rows(x)
    changed[2][3] = "98"
    assert run(db, x, to_csv(changed, delimiter=";")) == RealisasiImportResult(4, 0, 1, 3)
    assert stored(db)[(x.iki["hadir"], 2)] == (98.0, None, "impor")
    assert audits(db) == [
        {"berkas": "realisasi.csv", "baris": 4, "dibuat": 4, "diperbarui": 0, "tidak_berubah": 0},
        {"berkas": "realisasi.csv", "baris": 4, "dibuat": 0, "diperbarui": 1, "tidak_berubah": 3}]


def test_import_replaces_what_the_pegawai_typed(db: Engine, setup: Setup) -> None:
    x = setup
    with session_scope(db) as s:
        skp_id = s.execute(select(Skp.id).join(Pegawai, Skp.pegawai_id == Pegawai.id)
                           .where(Pegawai.nip == x.nip["staf2"])).scalar_one()
        s.add(Realisasi(skp_id=skp_id, iki_id=x.iki["hadir"], periode=2, nilai=50.0,
                        sumber="pegawai", updated_at=T0))
    result = run(db, x, to_csv([[x.nip["staf2"], f"IKI-{x.iki['hadir']}", "2", "97"]]))
    assert (result.created, result.updated) == (0, 1)
    assert stored(db) == {(x.iki["hadir"], 2): (97.0, None, "impor")}


def test_xlsx_import(db: Engine, setup: Setup) -> None:
    x = setup
    data = to_xlsx([[x.nip["staf2"], x.iki["hadir"], 4, 0.955],
                    [x.nip["staf1"], f"IKI-{x.iki['laporan']}", "TW 4", "Baik"]])
    assert run(db, x, data, "realisasi.xlsx") == RealisasiImportResult(2, 2, 0, 0)
    assert stored(db)[(x.iki["hadir"], 4)] == (0.955, None, "impor")


def test_rejected_file_lists_every_problem_and_writes_nothing(db: Engine, setup: Setup) -> None:
    x = setup
    run(db, x, to_csv(good_rows(x)[2:3]))
    before = stored(db)
    with pytest.raises(ImportRejected) as caught:
        run(db, x, to_csv(good_rows(x)[:2] + bad_rows(x)))
    got = [(p.row, p.column, p.message_id) for p in caught.value.problems]
    assert got == [
        (4, "Kode IKI", f"IKI-{x.iki['data']} periode 2 sudah ada di baris 2"),
        (5, "Kode IKI", f"IKI-{x.iki['hadir']} bukan IKI pada SKP pegawai NIP {x.nip['staf1']} "
                        "di siklus ini"),
        (6, "Periode", "periode 1 sudah ditutup"),
        (7, "NIP", f"SKP pegawai NIP {x.nip['kasi']} belum disetujui PPK"),
        (7, "Periode", "periode 5 di luar periode siklus ini (1-4, triwulanan)"),
        (8, "NIP", "NIP harus 18 angka, tertulis '12345'")]
    assert stored(db) == before and len(audits(db)) == 1


def test_the_lookup_takes_a_few_queries_whatever_the_row_count(db: Engine, setup: Setup) -> None:
    x = setup
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def queries(rows: list[list[Any]]) -> int:
        statements.clear()
        event.listen(db, "before_cursor_execute", count)
        try:
            with pytest.raises(ImportRejected):
                run(db, x, to_csv(rows))
        finally:
            event.remove(db, "before_cursor_execute", count)
        return sum(1 for sql in statements if sql.lstrip().upper().startswith("SELECT"))

    few = [[x.nip["staf1"], f"IKI-{x.iki['data']}", "9", "1"]]
    many = few * 40 + [[x.nip["staf2"], f"IKI-{x.iki['hadir']}", "9", "1"]] * 40
    assert queries(many) == queries(few) <= 6


def test_unknown_cycle(db: Engine, setup: Setup) -> None:
    with pytest.raises(NotFound), session_scope(db) as s:
        import_realisasi(session=s, cycle_id=setup.cycle_id + 99, data=b"", filename="r.csv",
                         now=T0, actor="test")


def test_monthly_cycle(db: Engine) -> None:
    x = make_cycle(db, Periodisasi.BULANAN)
    rows = [[x.nip["staf2"], f"IKI-{x.iki['hadir']}", p, "90"]
            for p in ("Februari", "Mar", "2027-04", "05/2027", "June")]
    assert run(db, x, to_csv(rows)).created == 5
    assert sorted(p for _, p in stored(db)) == [2, 3, 4, 5, 6]
    with pytest.raises(ImportRejected) as caught:
        run(db, x, to_csv([[x.nip["staf2"], f"IKI-{x.iki['hadir']}", "2026-07", "1"]]))
    assert caught.value.problems[0].message_id == "tahun 2026 bukan tahun siklus (2027)"


# --- the JSON API ---------------------------------------------------------------------------

@pytest.fixture
def api_setup(env: AppEnv) -> Iterator[Setup]:
    yield make_cycle(env.rt.engine)


def _token(env: AppEnv) -> dict[str, str]:
    with session_scope(env.rt.engine) as s:
        user = s.execute(select(HrUser)).scalar_one()
        return {"Authorization": "Bearer " + create_api_token(
            session=s, user=user, name="simpeg", now=env.clock.now())}


def test_api_import(env: AppEnv, api_setup: Setup) -> None:
    x = api_setup
    url = f"/api/v1/cycles/{x.cycle_id}/realisasi/import"
    files = {"file": ("r.csv", to_csv(good_rows(x)), "text/csv")}
    assert env.client.post(url, files=files).status_code == 401
    h = _token(env)
    r = env.client.post(url, files={"file": ("r.csv", to_csv(bad_rows(x)), "text/csv")}, headers=h)
    assert r.status_code == 422 and r.json()["error"] == "ImportRejected"
    problems = r.json()["problems"]
    assert {(p["row"], p["column"]) for p in problems} >= {(3, "Kode IKI"), (4, "Periode"),
                                                           (5, "NIP"), (6, "NIP")}
    assert all({"row", "column", "message_id", "message_en"} <= set(p) for p in problems)
    assert stored(env.rt.engine) == {}
    r = env.client.post(url, files=files, headers=h)
    assert r.status_code == 200 and r.json() == {"rows": 4, "created": 4, "updated": 0,
                                                 "unchanged": 0}
    r = env.client.post(url, files={"file": ("r.xlsx", to_xlsx(good_rows(x)), "x")}, headers=h)
    assert r.json() == {"rows": 4, "created": 0, "updated": 0, "unchanged": 4}
    r = env.client.post(f"/api/v1/cycles/{x.cycle_id + 99}/realisasi/import", files=files,
                        headers=h)
    assert r.status_code == 404
    with session_scope(env.rt.engine) as s:
        actors = s.execute(select(AuditLog.actor).where(AuditLog.action == "realisasi.impor"))
        assert list(actors.scalars()) == ["hr:admin", "hr:admin"]


# --- the console ----------------------------------------------------------------------------

def test_console_form_upload_and_link(env: AppEnv, api_setup: Setup) -> None:
    x = api_setup
    env.login()
    page = env.client.get(f"/hr/cycles/{x.cycle_id}")
    assert f'href="/hr/cycles/{x.cycle_id}/realisasi/import"' in page.text
    url = f"/hr/cycles/{x.cycle_id}/realisasi/import"
    form = env.client.get(url)
    assert form.status_code == 200 and "Impor realisasi" in form.text
    assert "Triwulan I, Q1" in form.text and "<th>Kode IKI</th>" in form.text
    assert "Import realisasi" in env.client.get(url + "?lang=en").text
    r = env.client.post(url + "?lang=id", files={"file": ("r.csv", to_csv(bad_rows(x)),
                                                          "text/csv")})
    assert r.status_code == 422 and "tidak ada data yang disimpan" in r.text
    assert '<td class="n">4</td><td>Periode</td><td>periode 1 sudah ditutup</td>' in r.text
    assert '<td class="n">6</td><td>NIP</td>' in r.text
    assert stored(env.rt.engine) == {}
    ok = env.client.post(url, files={"file": ("r.csv", to_csv(good_rows(x)), "text/csv")})
    assert ok.status_code == 200
    assert "4 baris; 4 baru, 0 diperbarui, 0 tidak berubah" in " ".join(ok.text.split())
    assert len(stored(env.rt.engine)) == 4


def test_console_needs_a_login(env: AppEnv, api_setup: Setup) -> None:
    r = env.client.get(f"/hr/cycles/{api_setup.cycle_id}/realisasi/import",
                       follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/hr/login")


def test_console_monthly_format(env: AppEnv) -> None:
    x = make_cycle(env.rt.engine, Periodisasi.BULANAN)
    env.login()
    text = env.client.get(f"/hr/cycles/{x.cycle_id}/realisasi/import").text
    assert "2027-01, 01/2027" in text and "Q1" not in text


# --- the command line -----------------------------------------------------------------------

def test_command_line_import(env: AppEnv, api_setup: Setup, tmp_path: Path) -> None:
    x = api_setup
    bad, good = tmp_path / "bad.csv", tmp_path / "good.xlsx"
    bad.write_bytes(to_csv(bad_rows(x)))
    good.write_bytes(to_xlsx(good_rows(x)))
    cmd_env = os.environ | {"KINERJA_DATABASE_URL": env.rt.db.url, "KINERJA_HOME": str(tmp_path)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kinerja.cli", "import-realisasi", *args],
                              capture_output=True, text=True, env=cmd_env, timeout=120)

    r = cli("--cycle", str(x.cycle_id), str(bad))
    assert r.returncode == 1 and "baris 4, kolom Periode: periode 1 sudah ditutup" in r.stderr
    assert stored(env.rt.engine) == {}
    r = cli("--cycle", str(x.cycle_id), str(good))
    assert r.returncode == 0, r.stderr
    assert "baris/rows 4: baru/created 4, diperbarui/updated 0" in r.stdout
    with session_scope(env.rt.engine) as s:
        assert s.execute(select(func.count()).select_from(Realisasi)).scalar_one() == 4
