"""Hostile uploads through the HTTP doors: evidence files on the pegawai's task link, the
organisation import and the realisasi import. Wrong types, oversize bodies, zip bombs, unsafe
zip paths, broken workbooks and path-traversal names are refused (422/413, never 500) and
nothing is written; every kind of broken row is named by row and column, all or nothing."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from api.routes import common, hr_api
from models.db import session_scope
from models.repo.hr import create_api_token
from models.tables import AuditLog, Bukti, HrUser, Pegawai, Realisasi
from tests.api import test_realisasi_import_api as rimp
from tests.api.conftest import AppEnv
from tests.api.period_setup import approved_cycle, own_link
from tests.integration import test_org_import as oimp

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SHEET_NS = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def workbook(header: list[Any], rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r in [header, *rows]:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rezip(data: bytes, replace: dict[str, bytes] | None = None,
          add: dict[str, bytes] | None = None) -> bytes:
    """The same zip with some entries replaced or added."""
    replace, add = replace or {}, add or {}
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
        for name, body in add.items():
            z.writestr(name, body)
    return out.getvalue()


def bomb_sheet() -> bytes:
    """A worksheet that unpacks ~1,000 times larger than it is (openpyxl would parse it all)."""
    row = b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>'
    return SHEET_NS + b"<sheetData>" + row * 40_000 + b"</sheetData></worksheet>"


SHEET = "xl/worksheets/sheet1.xml"
#: name -> (file name, bytes from a good workbook, what the refusal says)
BROKEN_FILES: dict[str, tuple[str, Callable[[bytes], bytes], str]] = {
    "wrong type": ("pegawai.pdf", lambda good: PDF, "tidak didukung"),
    "an executable named .xlsx": ("pegawai.xlsx", lambda good: b"MZ\x90\x00" + bytes(200),
                                  "tidak dapat dibaca"),
    "a truncated workbook": ("pegawai.xlsx", lambda good: good[: len(good) // 2],
                             "tidak dapat dibaca"),
    "a malformed worksheet": ("pegawai.xlsx", lambda good: rezip(good, {SHEET: b"<worksheet><sh"}),
                              "tidak dapat dibaca"),
    "a NUL in the worksheet XML": ("pegawai.xlsx", lambda good: rezip(good, {
        SHEET: SHEET_NS + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a\x00'
        b"</t></is></c></row></sheetData></worksheet>"}), "tidak dapat dibaca"),
    "a zip bomb (ratio)": ("pegawai.xlsx", lambda good: rezip(good, {SHEET: bomb_sheet()}),
                           "rasio kompresi"),
    "a zip of too many entries": ("pegawai.xlsx", lambda good: rezip(
        good, add={f"xl/media/x{i}.bin": b"" for i in range(2001)}), "entri"),
    "an unsafe zip path": ("pegawai.xlsx", lambda good: rezip(
        good, add={"../../../etc/cron.d/x": b"* * * * * root true"}), "jalur tidak aman"),
    "a CSV field beyond 128 KiB": ("pegawai.csv", lambda good: b"NIP,Nama\n1," + b"x" * 200_000,
                                   "tidak dapat dibaca"),
    "UTF-16 text": ("pegawai.csv", lambda good: "NIP;Nama\n1;a\n".encode("utf-16"), "UTF-8"),
    "a NUL in a CSV cell": ("pegawai.csv", lambda good: b"NIP,Nama\n1,a\x00b\n", "NUL"),
    "a traversal name, no extension": ("../../../etc/passwd", lambda good: b"root:x:0:0\n",
                                       "tidak didukung"),
}


@dataclass
class Doors:
    env: AppEnv
    headers: dict[str, str]
    realisasi: rimp.Setup

    def counts(self) -> tuple[int, int, int]:
        with session_scope(self.env.rt.engine) as s:
            return tuple(s.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
                         for t in (Pegawai, Realisasi, AuditLog))

    def post(self, door: str, name: str, data: bytes):  # type: ignore[no-untyped-def]
        url = ("/api/v1/import" if door == "organisasi"
               else f"/api/v1/cycles/{self.realisasi.cycle_id}/realisasi/import")
        return self.env.client.post(url, files={"file": (name, data, "application/octet-stream")},
                                    headers=self.headers)

    def good(self, door: str) -> bytes:
        if door == "organisasi":
            return workbook(oimp.HEADER, oimp.organisation())
        return workbook(rimp.HEADER, rimp.good_rows(self.realisasi))


@pytest.fixture
def doors(env: AppEnv) -> Doors:
    x = rimp.make_cycle(env.rt.engine)
    with session_scope(env.rt.engine) as s:
        user = s.execute(select(HrUser)).scalar_one()
        token = create_api_token(session=s, user=user, name="simpeg", now=env.clock.now())
    return Doors(env, {"Authorization": f"Bearer {token}"}, x)


@pytest.mark.parametrize("door", ["organisasi", "realisasi"])
@pytest.mark.parametrize("case", list(BROKEN_FILES))
def test_broken_files_are_refused_by_both_imports_and_write_nothing(doors: Doors, door: str,
                                                                   case: str) -> None:
    name, make, says = BROKEN_FILES[case]
    before = doors.counts()
    r = doors.post(door, name, make(doors.good(door)))
    assert r.status_code == 422, (case, r.status_code, r.text[:300])
    body = r.json()
    assert body["error"] == "ImportRejected" and says in body["detail"], body["detail"]
    assert body["problems"] and all({"row", "column"} <= set(p) for p in body["problems"])
    assert doors.counts() == before


@pytest.mark.parametrize("door", ["organisasi", "realisasi"])
def test_an_oversize_import_is_refused_before_it_is_read(doors: Doors, door: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    before = doors.counts()
    monkeypatch.setattr(hr_api, "MAX_IMPORT_BYTES", 50_000)  # the handler's own limit
    r = doors.post(door, "besar.csv", b"NIP,Nama\n" + b"1,a\n" * 100_000)
    assert r.status_code == 422 and "terlalu besar" in r.json()["detail"]
    monkeypatch.setattr(common, "MAX_BODY_BYTES", 50_000)  # the route's: before parsing
    r = doors.post(door, "besar.csv", b"NIP,Nama\n" + b"1,a\n" * 100_000)
    assert r.status_code == 413 and "terlalu besar" in r.json()["detail"]
    assert doors.counts() == before


@pytest.mark.parametrize("door", ["organisasi", "realisasi"])
def test_a_traversal_file_name_is_only_a_name(doors: Doors, door: str) -> None:
    """A good file under a hostile name is read by its content (imports keep no file)."""
    r = doors.post(door, "..\\..\\..\\tmp\\x/../../pegawai.xlsx", doors.good(door))
    assert r.status_code == 200, r.text


# -- evidence files on the task link ------------------------------------------------------------

def docx(**extra: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("_rels/.rels", b"<Relationships/>")
        z.writestr("word/document.xml", b"<w:document/>")
        for name, body in extra.items():
            z.writestr(name, body)
    return out.getvalue()


_MEGABYTE = bytes(1024 * 1024)
BROKEN_EVIDENCE: dict[str, tuple[str, Callable[[], bytes], str]] = {  # built when used
    "an executable": ("program.exe", lambda: b"MZ\x90\x00", "tidak diterima"),
    "an executable named .pdf": ("laporan.pdf", lambda: b"MZ\x90\x00" + bytes(64), "bukan PDF"),
    "a double extension": ("laporan.pdf.exe", lambda: PDF, "tidak diterima"),
    "a disguised extension (U+202E)": ("laporan\u202efdp.exe", lambda: PDF, "tidak diterima"),
    "HTML named .png": ("foto.png", lambda: b"<html><script>alert(1)</script></html>",
                        "bukan PNG"),
    "a zip bomb (ratio)": ("notulen.docx", lambda: docx(**{"word/media/a.xml": b" " * 5_000_000}),
                           "rasio kompresi"),
    "a zip bomb (total size)": ("notulen.docx", lambda: docx(**{
        f"word/media/{i}.bin": _MEGABYTE for i in range(101)}), "lebih dari 100 MB"),
    "a zip of too many entries": ("notulen.docx", lambda: docx(**{
        f"word/m/{i}": b"" for i in range(2001)}), "entri"),
    "an unsafe zip path": ("notulen.docx", lambda: docx(**{"../../evil.sh": b"rm -rf /"}),
                           "jalur tidak aman"),
    "not a zip at all": ("notulen.docx", lambda: b"PK\x03\x04" + bytes(100), "bukan Word"),
    "an empty file": ("kosong.pdf", lambda: b"", "kosong"),
}


@pytest.mark.parametrize("case", list(BROKEN_EVIDENCE))
def test_broken_evidence_files_are_refused_and_nothing_is_kept(env: AppEnv, case: str) -> None:
    name, make, says = BROKEN_EVIDENCE[case]
    data = make()
    pc = approved_cycle(env.rt)
    link = own_link(env.rt, pc.org["staf1"])
    r = env.client.post(f"{link}/bukti", data={"iki_id": str(pc.iki["staf1"][0])},
                        files={"berkas": (name, data, "application/octet-stream")})
    assert r.status_code == 422, (case, r.status_code)
    assert says in r.text, case
    with session_scope(env.rt.engine) as s:
        assert s.execute(select(func.count()).select_from(Bukti)).scalar_one() == 0
    root = env.rt.evidence.root()
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


@pytest.mark.parametrize(("name", "kept"), [
    ("../../../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Windows\\System32\\laporan.pdf", "laporan.pdf"),
    ("/var/lib/kinerja/bukti/ab/cd/x.pdf", "x.pdf"),
    ("....//....//laporan.pdf", "laporan.pdf"),
    ("..", None),
])
def test_evidence_names_never_become_paths(env: AppEnv, name: str, kept: str | None) -> None:
    pc = approved_cycle(env.rt)
    link = own_link(env.rt, pc.org["staf1"])
    r = env.client.post(f"{link}/bukti", data={"iki_id": str(pc.iki["staf1"][0])},
                        files={"berkas": (name, PDF, "application/pdf")}, follow_redirects=False)
    with session_scope(env.rt.engine) as s:
        names = list(s.execute(select(Bukti.nama_berkas)).scalars())
    if kept is None:  # no extension left: refused
        assert r.status_code == 422 and names == []
        return
    assert r.status_code == 303 and names == [kept]
    stored = [p for p in env.rt.evidence.root().rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].name not in (kept, name)  # kept by its hash
    assert env.rt.evidence.root() in stored[0].parents


def test_an_oversize_evidence_body_is_refused_before_it_is_read(env: AppEnv,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pc = approved_cycle(env.rt)
    link = own_link(env.rt, pc.org["staf1"])
    monkeypatch.setattr(common, "MAX_BODY_BYTES", 0)  # the evidence limit (256 KiB here) rules
    big = PDF + bytes(2 * env.rt.evidence.max_bytes)
    r = env.client.post(f"{link}/bukti", data={"iki_id": str(pc.iki["staf1"][0])},
                        files={"berkas": ("besar.pdf", big, "application/pdf")})
    assert r.status_code == 413
    with session_scope(env.rt.engine) as s:
        assert s.execute(select(func.count()).select_from(Bukti)).scalar_one() == 0


# -- every kind of broken row: named by row and column, nothing written -----------------------------

def _org(rows: list[list[str]]) -> list[list[str]]:
    return [list(r) for r in rows]


def _set(index: int, column: str, value: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def change(rows: list[list[str]]) -> list[list[str]]:
        rows = _org(rows)
        rows[index][oimp.HEADER.index(column)] = value
        return rows
    return change


#: label -> (change to the good organisation, the (row, column) named); rows start at 2
ORG_ROWS: dict[str, tuple[Callable[[list[list[str]]], list[list[str]]], tuple[int, str]]] = {
    "NIP too short": (_set(0, "NIP", "12345"), (2, "NIP")),
    "NIP with letters": (_set(0, "NIP", "19950404202001200X"), (2, "NIP")),
    "NIP in scientific notation": (_set(0, "NIP", "1.99504E+17"), (2, "NIP")),
    "NIP empty": (_set(0, "NIP", ""), (2, "NIP")),
    "name empty": (_set(1, "Nama", "  "), (3, "Nama")),
    "name too long": (_set(1, "Nama", "A" * 201), (3, "Nama")),
    "bad email": (_set(2, "Email", "bukan-email"), (4, "Email")),
    "email with a newline": (_set(2, "Email", "a@b.id\nBcc: x@y.id"), (4, "Email")),
    "unknown jenis jabatan": (_set(1, "Jenis Jabatan", "Raja"), (3, "Jenis Jabatan")),
    "unknown status": (_set(1, "Status", "Honorer"), (3, "Status")),
    "fungsional without jenjang": (_set(0, "Jenjang", ""), (2, "Jenjang")),
    "unknown jenjang": (_set(0, "Jenjang", "Ahli Super"), (2, "Jenjang")),
    "unit empty": (_set(3, "Unit Kerja", ""), (5, "Unit Kerja")),
    "unknown superior": (_set(0, "NIP Atasan", "199001012015011099"), (2, "NIP Atasan")),
    "malformed superior": (_set(0, "NIP Atasan", "atasan"), (2, "NIP Atasan")),
    "own superior": (_set(1, "NIP Atasan", oimp.KASI), (3, "NIP Atasan")),
    "duplicate NIP": (lambda rows: _org(rows) + [_org(rows)[0]], (6, "NIP")),
    "superiors in a cycle": (_set(3, "NIP Atasan", oimp.GURU), (2, "NIP Atasan")),
    "a NUL in a cell": (_set(1, "Jabatan", "Kepala\x00Seksi"), (3, "Jabatan")),
}


@pytest.mark.parametrize(("case", "fmt"), [
    (case, fmt) for case in ORG_ROWS for fmt in ("csv", "xlsx")
    if not (fmt == "xlsx" and "NUL" in case)])  # XML cannot hold a NUL: an unreadable sheet
def test_org_import_names_every_broken_row_and_writes_nothing(doors: Doors, case: str,
                                                              fmt: str) -> None:
    change, (row, column) = ORG_ROWS[case]
    rows = change(oimp.organisation())
    data = oimp.to_csv(rows) if fmt == "csv" else workbook(oimp.HEADER, rows)
    before = doors.counts()
    r = doors.post("organisasi", f"pegawai.{fmt}", data)
    assert r.status_code == 422, (case, r.text[:300])
    named = {(p["row"], p["column"]) for p in r.json()["problems"]}
    assert (row, column) in named, (case, named)
    assert doors.counts() == before


def _realisasi_rows(x: rimp.Setup) -> dict[str, tuple[list[Any], tuple[int, str]]]:
    """label -> (a broken row after one good row, the (row, column) it is named by: row 3)."""
    staf1, staf2, kasi = x.nip["staf1"], x.nip["staf2"], x.nip["kasi"]
    data, hadir = f"IKI-{x.iki['data']}", f"IKI-{x.iki['hadir']}"
    return {
        "NIP too short": (["12345", data, "TW2", "5"], (3, "NIP")),
        "unknown NIP": (["199001012015011099", data, "TW2", "5"], (3, "NIP")),
        "SKP not approved": ([kasi, data, "TW2", "5"], (3, "NIP")),
        "someone else's IKI": ([staf1, hadir, "TW2", "5"], (3, "Kode IKI")),
        "malformed IKI code": ([staf1, "IKI-satu", "TW2", "5"], (3, "Kode IKI")),
        "IKI code missing": ([staf1, "", "TW2", "5"], (3, "Kode IKI")),
        "unknown period": ([staf1, data, "TW9", "5"], (3, "Periode")),
        "period outside the cycle": ([staf1, data, "5", "5"], (3, "Periode")),
        "closed period": ([staf1, data, "TW1", "5"], (3, "Periode")),
        "not a number": ([staf2, hadir, "TW2", "lima"], (3, "Realisasi")),
        "ambiguous thousands": ([staf2, hadir, "TW2", "1.234"], (3, "Realisasi")),
        "negative": ([staf2, hadir, "TW2", "-2"], (3, "Realisasi")),
        "empty realisasi": ([staf2, hadir, "TW2", ""], (3, "Realisasi")),
        "a formula": ([staf2, hadir, "TW2", "=1+1"], (3, "Realisasi")),
        "infinite": ([staf2, hadir, "TW2", "1e400"], (3, "Realisasi")),
        "the same IKI and period twice": ([staf1, data, "TW2", "7"], (3, "Kode IKI")),
    }


REALISASI_CASES = list(_realisasi_rows(rimp.Setup(0, dict.fromkeys(("staf1", "staf2", "kasi"), ""),
                                                   dict.fromkeys(("data", "hadir"), 0))))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("case", REALISASI_CASES)
def test_realisasi_import_names_every_broken_row_and_writes_nothing(doors: Doors, case: str,
                                                                    fmt: str) -> None:
    x = doors.realisasi
    bad, (row, column) = _realisasi_rows(x)[case]
    rows = [rimp.good_rows(x)[0], bad]
    data = rimp.to_csv(rows) if fmt == "csv" else workbook(rimp.HEADER, rows)
    before = doors.counts()
    r = doors.post("realisasi", f"realisasi.{fmt}", data)
    assert r.status_code == 422, (case, r.text[:300])
    problems = r.json()["problems"]
    assert (row, column) in {(p["row"], p["column"]) for p in problems}, (case, problems)
    assert all(p["message_id"] and p["message_en"] for p in problems)
    assert doors.counts() == before


def test_a_huge_excel_number_is_a_problem_not_a_crash(doors: Doors) -> None:
    x = doors.realisasi
    good = workbook(rimp.HEADER, [[x.nip["staf2"], f"IKI-{x.iki['hadir']}", "TW2", 123456789]])
    sheet = zipfile.ZipFile(io.BytesIO(good)).read(SHEET)  # openpyxl cannot write it: XML can
    data = rezip(good, {SHEET: sheet.replace(b"<v>123456789</v>", b"<v>1" + b"0" * 400 + b"</v>")})
    before = doors.counts()
    r = doors.post("realisasi", "realisasi.xlsx", data)
    assert r.status_code == 422
    assert (2, "Realisasi") in {(p["row"], p["column"]) for p in r.json()["problems"]}
    assert doors.counts() == before
