"""Hostile text all the way through: names, units, RHK, realisasi, notes, feedback, keberatan
reasons, evidence file names and competency names carrying HTML/JS, SQL and spreadsheet
formulas come out escaped in the HR console and the task pages, escaped in the HTML emails and
verbatim in their plain text, verbatim (as text) in the PDFs, neutralised in every CSV and XLSX
(a formula start gets an apostrophe), and the database keeps them as data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from markupsafe import escape
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select, text

from models.db import session_scope
from models.repo import exports
from models.repo.hr import create_api_token
from models.rules.enums import TaskKind
from models.tables import (
    Bukti,
    HrUser,
    Iki,
    Kompetensi,
    OutboxMessage,
    Pegawai,
    Pelatihan,
    RekomendasiPelatihan,
    Rhk,
    Task,
    Unit,
)
from notifications.render import render
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, path_of
from tests.api.period_setup import own_link, ppk_link, version_of
from tests.api.test_keberatan import publish, rated_cycle, result_link

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE pegawai; --"
HYPERLINK = '=HYPERLINK("http://x")'
CMD = "+cmd|' /C calc'!A0"
AT = "@SUM(1)"
#: what HTML must never carry raw (the formula-only ones are harmless in HTML but must be kept)
HTML_HOSTILE = (SCRIPT, IMG, SQL, HYPERLINK, CMD)
FORMULAS = (HYPERLINK, CMD, AT, "-2+3")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    env: AppEnv
    cycle_id: int
    unit_id: int
    ids: dict[str, int]
    nip: dict[str, str]
    skp: dict[str, int]
    token: str

    def api(self, path: str):  # type: ignore[no-untyped-def]
        r = self.env.client.get(path, headers={"Authorization": f"Bearer {self.token}"})
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r


def _build(env: AppEnv) -> World:
    case = rated_cycle(env.rt)  # five people, approved SKPs, period 1 open, annual ratings in
    now = env.clock.now()
    with session_scope(env.rt.engine) as s:
        people = {k: s.get(Pegawai, p.id) for k, p in case.org.items()}
        unit = s.get(Unit, people["staf1"].unit_id)
        unit.nama = f"Dinas {SCRIPT}"
        people["staf1"].nama, people["staf1"].jabatan = f"Siti {IMG}", SCRIPT
        people["staf2"].nama = SQL
        people["kasi"].nama = HYPERLINK
        people["kabid"].nama = CMD
        people["kadis"].nama, people["kadis"].jabatan = AT, "-2+3"
        rhk = s.get(Rhk, case.rhk["staf1"])
        rhk.uraian = f"{SQL} {SCRIPT}"
        count_iki = s.get(Iki, case.iki["staf1"][0])
        count_iki.indikator, count_iki.satuan = HYPERLINK, IMG
        k = Kompetensi(kode="K-01", nama=HYPERLINK, jenis="manajerial")
        s.add(k)
        s.flush()
        latih = Pelatihan(kompetensi_id=k.id, nama=f"{CMD} {SCRIPT}", penyelenggara=IMG)
        s.add(latih)
        s.flush()
        s.add(RekomendasiPelatihan(cycle_id=case.cycle_id, pegawai_id=people["staf1"].id,
                                   kompetensi_id=k.id, pelatihan_ids=[latih.id], gap=2,
                                   created_at=now))
        user = s.execute(select(HrUser)).scalar_one()
        token = create_api_token(session=s, user=user, name="hostile", now=now)
        ids = {key: p.id for key, p in people.items()}
        nips = {key: p.nip for key, p in people.items()}
        unit_id = unit.id
    client = env.client
    # the pegawai reports through their link: a qualitative realisasi, a note, evidence files
    link = own_link(env.rt, case.org["staf1"])
    a, b, c = case.iki["staf1"]
    r = client.post(f"{link}/realisasi", follow_redirects=False, data={
        f"ra_{case.rhk['staf1']}": f"{SCRIPT} {AT}", f"r_{a}": "8", f"r_{b}": "4",
        f"r_{c}": CMD, "catatan": f"{IMG} {SQL}", "aksi": "laporkan",
        "version": str(version_of(env.rt, case.skp["staf1"]))})
    assert r.status_code == 303, r.text
    for name in (f"{SQL}.pdf", f"..\\..\\{SCRIPT}.pdf", f"../{CMD}.pdf", f"{IMG}.pdf"):
        r = client.post(f"{link}/bukti", data={"iki_id": str(a), "keterangan": SCRIPT},
                        files={"berkas": (name, PDF, "application/pdf")}, follow_redirects=False)
        assert r.status_code == 303, r.text
    r = client.post(f"{link}/bukti", data={"iki_id": str(b), "url": f"https://x.example/?q=\">{SCRIPT}",
                                           "keterangan": HYPERLINK}, follow_redirects=False)
    assert r.status_code == 303, r.text
    # the PPK's feedback on the RHK
    ppk = ppk_link(env.rt, case.org["kasi"])
    r = client.post(f"{ppk}/pegawai/{case.skp['staf1']}/umpan-balik", follow_redirects=False,
                    data={"rhk_id": str(case.rhk["staf1"]), "isi": f"{SCRIPT} {HYPERLINK}"})
    assert r.status_code == 303, r.text
    # results published (emails with the names), then a keberatan with every payload
    publish(env, case)
    r = client.post(f"{result_link(env, case, 'staf1')}/hasil/keberatan", follow_redirects=False,
                    data={"alasan": f"Keberatan: {SCRIPT} {IMG} {SQL} {HYPERLINK} {CMD} {AT}"})
    assert r.status_code == 303, r.text
    return World(env, case.cycle_id, unit_id, ids, nips, case.skp, token)


@pytest.fixture
def world(env: AppEnv) -> Iterator[World]:
    yield _build(env)


def _assert_escaped(pages: dict[str, str], expect: tuple[str, ...] = HTML_HOSTILE) -> None:
    for where, html in pages.items():
        for payload in HTML_HOSTILE:
            assert payload not in html, f"{payload!r} raw in {where}"
        assert "<img src=x" not in html and "onerror=alert" not in html.replace(
            "onerror=alert(1)&gt;", ""), where
    everything = "\n".join(pages.values())
    for payload in expect:  # shown at all (escaped), so the check above means something
        assert str(escape(payload)) in everything, f"{payload!r} not shown escaped"


def test_hr_console_pages_escape_every_payload(world: World) -> None:
    env, cid, uid = world.env, world.cycle_id, world.unit_id
    env.login()
    paths = ["/hr", f"/hr/cycles/{cid}", "/hr/pegawai", f"/hr/pegawai?q={world.nip['staf1']}",
             f"/hr/pegawai/{world.nip['staf1']}?cycle_id={cid}",
             f"/hr/pegawai/{world.nip['kasi']}?cycle_id={cid}",
             f"/hr/cycles/{cid}/dasbor", f"/hr/cycles/{cid}/dasbor/unit/{uid}",
             f"/hr/cycles/{cid}/penilaian", f"/hr/cycles/{cid}/tindak-lanjut",
             f"/hr/cycles/{cid}/ekspor", f"/hr/audit?cycle_id={cid}", "/hr/audit",
             "/hr/kompetensi", f"/hr/kompetensi/siklus/{cid}"]
    pages = {}
    for path in paths:
        r = env.client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        pages[path] = r.text
    _assert_escaped(pages)


def test_task_pages_escape_every_payload(world: World) -> None:
    env = world.env
    with session_scope(env.rt.engine) as s:
        staf1 = s.get(Pegawai, world.ids["staf1"])
        kasi = s.get(Pegawai, world.ids["kasi"])
    own, ppk = own_link(env.rt, staf1), ppk_link(env.rt, kasi)
    hasil = path_of(last_mail(env.rt, staf1.email, "hasil_kinerja").context["link"])
    putusan = _putusan_link(world)
    with session_scope(env.rt.engine) as s:
        keberatan_id = s.execute(text("SELECT id FROM keberatan")).scalar_one()
    paths = [own, ppk, f"{ppk}/pegawai/{world.skp['staf1']}", f"{hasil}/hasil",
             putusan, f"{putusan}/putusan/{keberatan_id}"]
    pages = {}
    for path in paths:
        r = env.client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        pages[path] = r.text
    _assert_escaped(pages)


def _putusan_link(world: World) -> str:
    with session_scope(world.env.rt.engine) as s:
        email = s.get(Pegawai, world.ids["kabid"]).email
    return path_of(last_mail(world.env.rt, email, "keberatan_diajukan").context["link"])


def test_emails_escape_html_and_keep_plain_text_verbatim(world: World) -> None:
    with session_scope(world.env.rt.engine) as s:
        messages = list(s.execute(select(OutboxMessage)).scalars())
    assert messages
    texts, htmls = [], []
    for m in messages:
        for lang in ("id", "en"):
            email = render(m.kind, m.context, lang)
            for payload in HTML_HOSTILE:
                assert payload not in email.html, (m.kind, payload)
            assert "\n" not in email.subject and "\r" not in email.subject
            assert "&lt;" not in email.text and "&#34;" not in email.text, m.kind  # not escaped twice
            texts.append(email.text)
            htmls.append(email.html)
    kinds = {m.kind for m in messages}
    assert {"hasil_kinerja", "keberatan_diajukan"} <= kinds
    joined_text, joined_html = "\n".join(texts), "\n".join(htmls)
    for payload in (f"Siti {IMG}", SQL, CMD, HYPERLINK):  # the people's names
        assert payload in joined_text, payload
        assert str(escape(payload)) in joined_html, payload


def _pdf_words(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_pdfs_hold_the_text_verbatim(world: World) -> None:
    with session_scope(world.env.rt.engine) as s:
        skp = exports.skp_pdf(session=s, cycle_id=world.cycle_id, pegawai_id=world.ids["staf1"],
                              lang="id", instansi=SCRIPT)
        dek = exports.dek_pdf(session=s, cycle_id=world.cycle_id, pegawai_id=world.ids["staf1"],
                              lang="id", instansi=SCRIPT)
    for data, payloads in ((skp, (SCRIPT, f"Siti {IMG}", HYPERLINK, f"{SQL} {SCRIPT}")),
                           (dek, (SCRIPT, f"Siti {IMG}", HYPERLINK, CMD))):
        words = _pdf_words(data)
        for payload in payloads:
            assert payload in words, payload
    # through the HTTP routes too (the file name is a safe slug, never the payload)
    r = world.api(f"/api/v1/cycles/{world.cycle_id}/ekspor/pegawai/{world.ids['staf1']}/dek.pdf")
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert "<" not in r.headers["content-disposition"] and "'" not in r.headers["content-disposition"]


def _csv_rows(body: bytes, delimiter: str = ";") -> list[list[str]]:
    text_ = body.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text_), delimiter=delimiter))


def _assert_no_formula(rows: list[list[str]], where: str) -> set[str]:
    cells = {c for row in rows for c in row}
    for c in cells:
        assert not c.startswith(("=", "+", "-", "@", "\t", "\r")), f"{c!r} in {where}"
    return cells


def test_csv_and_xlsx_exports_neutralise_formulas(world: World) -> None:
    cid, uid = world.cycle_id, world.unit_id
    seen: set[str] = set()
    for path, delimiter in ((f"/api/v1/cycles/{cid}/ekspor/hasil.csv", ";"),
                            (f"/api/v1/cycles/{cid}/dasbor.csv?tabel=kemajuan", ";"),
                            (f"/api/v1/cycles/{cid}/dasbor.csv?tabel=predikat", ";"),
                            (f"/api/v1/cycles/{cid}/dasbor/unit/{uid}.csv", ";"),
                            (f"/api/v1/audit.csv?cycle_id={cid}", ","),
                            ("/api/v1/audit.csv", ",")):
        seen |= _assert_no_formula(_csv_rows(world.api(path).content, delimiter), path)
    world.env.login()
    r = world.env.client.get(f"/hr/kompetensi/siklus/{cid}/rekomendasi.csv")
    assert r.status_code == 200
    seen |= _assert_no_formula(_csv_rows(r.content), "rekomendasi.csv")
    for payload in (HYPERLINK, CMD, AT):
        assert "'" + payload in seen, payload  # kept, with the apostrophe
    assert f"Siti {IMG}" in seen and SQL in seen and f"Dinas {SCRIPT}" in seen  # text as text
    # XLSX: no formula cell, formula starts as text with an apostrophe
    r = world.api(f"/api/v1/cycles/{cid}/ekspor/hasil.xlsx")
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = set()
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate
            if isinstance(cell.value, str):
                assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
                values.add(cell.value)
    for payload in (HYPERLINK, CMD):
        assert "'" + payload in values, payload
    assert SQL in values and f"Siti {IMG}" in values


def test_the_database_keeps_the_payloads_as_data(world: World) -> None:
    with session_scope(world.env.rt.engine) as s:
        assert s.execute(select(func.count()).select_from(Pegawai)).scalar_one() == 5
        assert s.execute(text("SELECT count(*) FROM pegawai")).scalar_one() == 5
        assert s.get(Pegawai, world.ids["staf2"]).nama == SQL
        names = set(s.execute(select(Bukti.nama_berkas)).scalars()) - {None}
        # kept as plain names: what follows the last / or \\ (a browser sends '"' as %22)
        assert {f"{SQL}.pdf", "script>.pdf", "C calc'!A0.pdf", '%22><img src=x onerror=alert(1)>.pdf'} \
            == names, names
        assert all("/" not in n and "\\" not in n and ".." not in n for n in names), names
        assert s.execute(select(func.count()).select_from(Task).where(
            Task.kind == TaskKind.PUTUS_KEBERATAN)).scalar_one() == 1
