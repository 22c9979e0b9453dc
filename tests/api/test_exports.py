"""Exports: results CSV/XLSX, the SKP and DEK PDFs (read back with pypdf), the ZIP per unit,
the SIASN skp22 list, the console page and the API, with hostile names all the way through."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from models.db import session_scope
from models.repo import exports
from models.repo.hr import create_api_token
from models.rules.enums import (
    JenisJabatan,
    NilaiBerakhlak,
    OrgGrade,
    Predikat,
    Rating,
    StatusPegawai,
)
from models.tables import (
    AuditLog,
    HrUser,
    Keberatan,
    Kompetensi,
    NilaiUnit,
    Pegawai,
    Pelatihan,
    PenilaianTahunan,
    Perilaku,
    Realisasi,
    RekomendasiPelatihan,
    SkpPeriode,
    TunjanganKinerja,
    Unit,
)
from tests.api.conftest import AppEnv
from tests.api.period_setup import approved_cycle

FORMULA = '=HYPERLINK("http://evil.example/x","klik")'
CMD = "+cmd|' /C calc'!A0"
SCRIPT = "<script>alert(1)</script> Budi"


@dataclass
class Case:
    cycle_id: int
    tahun: int
    unit_id: int
    ids: dict[str, int]
    nip: dict[str, str]


def _words(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _setup(env: AppEnv) -> Case:
    pc = approved_cycle(env.rt, open_first=False)
    now = env.clock.now()
    with session_scope(env.rt.engine) as s:
        people = {k: s.get(Pegawai, p.id) for k, p in pc.org.items()}
        people["staf1"].nama, people["staf1"].jabatan = "Siti Nurhaliza", "Analis Kebijakan"
        people["staf1"].jenis_jabatan, people["staf1"].jenjang = JenisJabatan.FUNGSIONAL, "Ahli Muda"
        people["staf2"].nama, people["staf2"].status = CMD, StatusPegawai.PPPK
        people["kasi"].nama = FORMULA
        people["kabid"].nama = SCRIPT
        skp1 = pc.skp["staf1"]
        for n in NilaiBerakhlak:
            s.add(Perilaku(skp_id=skp1, nilai=n, ekspektasi_khusus=(
                "Menjawab aduan dalam 2 hari" if n == NilaiBerakhlak.BERORIENTASI_PELAYANAN else None)))
        count_iki, days_iki, text_iki = pc.iki["staf1"]
        for periode, (count, days) in {1: (12.0, 4.0), 2: (9.5, 6.0)}.items():
            s.add(Realisasi(skp_id=skp1, iki_id=count_iki, periode=periode, nilai=count, updated_at=now))
            s.add(Realisasi(skp_id=skp1, iki_id=days_iki, periode=periode, nilai=days, updated_at=now))
        s.add(Realisasi(skp_id=skp1, iki_id=text_iki, periode=1, uraian="Laporan sesuai standar",
                        updated_at=now))
        s.add(SkpPeriode(skp_id=skp1, periode=1, hasil_kerja=Rating.DI_ATAS, perilaku=Rating.SESUAI,
                         predikat=Predikat.BAIK, dinilai_at=now, dinilai_oleh_id=people["kasi"].id,
                         updated_at=now))
        rated = {"staf1": (Rating.DI_ATAS, Rating.DI_ATAS, Predikat.SANGAT_BAIK, "dipublikasi"),
                 "staf2": (Rating.DI_BAWAH, Rating.SESUAI, Predikat.BUTUH_PERBAIKAN, "final"),
                 "kasi": (Rating.SESUAI, Rating.SESUAI, Predikat.BAIK, "dinilai")}
        for key, (hk, pk, pred, status) in rated.items():
            s.add(PenilaianTahunan(skp_id=pc.skp[key], cycle_id=pc.cycle_id, hasil_kerja=hk,
                                   perilaku=pk, predikat=pred, status=status, dinilai_at=now,
                                   dinilai_oleh_id=people[key].atasan_id,
                                   catatan="Pertahankan" if key == "staf1" else None))
        s.add(Keberatan(skp_id=pc.skp["staf2"], diajukan_at=now, alasan="Realisasi belum dihitung",
                        status="diubah", pemutus_id=people["kabid"].id,
                        diputus_at=now + timedelta(days=3), alasan_putusan="Bukti baru diterima",
                        predikat_sebelum=Predikat.SANGAT_KURANG,
                        predikat_sesudah=Predikat.BUTUH_PERBAIKAN))
        for pred, persen in ((Predikat.SANGAT_BAIK, 100.0), (Predikat.BAIK, 100.0),
                             (Predikat.BUTUH_PERBAIKAN, 87.5)):
            s.add(TunjanganKinerja(cycle_id=pc.cycle_id, predikat=pred, persen=persen))
        unit_id = people["staf1"].unit_id
        s.add(NilaiUnit(cycle_id=pc.cycle_id, unit_id=unit_id, grade=OrgGrade.BAIK,
                        ditetapkan_oleh="hr:admin", ditetapkan_at=now))
        k = Kompetensi(kode="K-01", nama="Manajemen waktu", jenis="manajerial")
        s.add(k)
        s.flush()
        latih = Pelatihan(kompetensi_id=k.id, nama="Pelatihan Manajemen Waktu")
        s.add(latih)
        s.flush()
        s.add(RekomendasiPelatihan(cycle_id=pc.cycle_id, pegawai_id=people["staf1"].id,
                                   kompetensi_id=k.id, pelatihan_ids=[latih.id], gap=2,
                                   created_at=now))
        return Case(pc.cycle_id, now.year, unit_id, {k: p.id for k, p in people.items()},
                    {k: p.nip for k, p in people.items()})


@pytest.fixture
def case(env: AppEnv) -> Case:
    return _setup(env)


def _token(env: AppEnv) -> dict[str, str]:
    with session_scope(env.rt.engine) as s:
        user = s.execute(select(HrUser)).scalar_one()
        token = create_api_token(session=s, user=user, name="payroll", now=env.clock.now())
    return {"Authorization": f"Bearer {token}"}


# -- plain functions --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_get_an_apostrophe(value: str) -> None:
    assert exports.neutralise(value) == "'" + value


def test_ordinary_text_is_kept_and_control_characters_go() -> None:
    assert exports.neutralise("Siti Nurhaliza") == "Siti Nurhaliza"
    assert exports.neutralise("a\x01b") == "ab"


def test_latin1_transliterates_what_core_fonts_cannot_draw() -> None:
    assert exports.latin1("Şükrü – “Ahli” ≥ 5 …") == 'Sükrü - "Ahli" >= 5 ...'
    assert exports.latin1("中") == "?"


def test_slug_is_a_safe_file_name() -> None:
    assert exports.slug("../Dinas Pendidikan & Kebudayaan") == "Dinas_Pendidikan_Kebudayaan"
    assert exports.slug("<script>") == "script"


# -- results ----------------------------------------------------------------------------------------


def test_result_rows_hold_ppk_ratings_angka_kredit_and_tunjangan(env: AppEnv, case: Case) -> None:
    with session_scope(env.rt.engine) as s:
        rows = {r.nip: r for r in exports.result_rows(session=s, cycle_id=case.cycle_id)}
    assert len(rows) == 5
    staf1 = rows[case.nip["staf1"]]
    assert (staf1.nama, staf1.ppk_nip, staf1.ppk_nama) == ("Siti Nurhaliza", case.nip["kasi"], FORMULA)
    assert (staf1.hasil_kerja, staf1.perilaku, staf1.predikat) == (
        "Di Atas Ekspektasi", "Di Atas Ekspektasi", "Sangat Baik")
    assert staf1.angka_kredit == 37.5  # Ahli Muda 25 x 150%
    assert staf1.tunjangan_persen == 100.0
    assert rows[case.nip["staf2"]].tunjangan_persen == 87.5
    assert rows[case.nip["staf2"]].angka_kredit is None  # not a JF
    assert rows[case.nip["kadis"]].status == exports.NOT_RATED
    assert rows[case.nip["kadis"]].ppk_nip == ""


def test_csv_has_bom_semicolons_and_neutralised_formulas(env: AppEnv, case: Case) -> None:
    env.login()
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/hasil.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["NIP", "Nama", "Jabatan"]
    by_nip = {row[0]: row for row in rows[1:]}
    assert by_nip[case.nip["kasi"]][1] == "'" + FORMULA
    assert by_nip[case.nip["staf2"]][1] == "'" + CMD
    assert by_nip[case.nip["staf1"]][5] == "'" + FORMULA  # the PPK's name too
    assert by_nip[case.nip["kabid"]][1] == SCRIPT  # text, nothing to neutralise
    assert by_nip[case.nip["staf1"]][8:12] == ["Sangat Baik", "dipublikasi", "37,5", "100"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_of_one_unit(env: AppEnv, case: Case) -> None:
    with session_scope(env.rt.engine) as s:
        other = Unit(nama="Dinas Kesehatan")
        s.add(other)
        s.flush()
        other_id = other.id
    env.login()
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/hasil.csv?unit_id={case.unit_id}")
    assert len(r.content.decode("utf-8-sig").strip().splitlines()) == 6
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/hasil.csv?unit_id={other_id}")
    assert len(r.content.decode("utf-8-sig").strip().splitlines()) == 1
    assert env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/hasil.csv?unit_id=999").status_code == 404


def test_xlsx_reads_back_with_text_not_formulas(env: AppEnv, case: Case) -> None:
    env.login()
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/hasil.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.active
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]][:2] == ["NIP", "Nama"]
    assert ws[1][0].font.bold
    assert ws.column_dimensions["B"].width >= 30
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    by_nip = {row[0].value: row for row in ws.iter_rows(min_row=2)}
    assert by_nip[case.nip["kasi"]][1].value == "'" + FORMULA
    assert by_nip[case.nip["staf2"]][1].value == "'" + CMD
    assert by_nip[case.nip["kabid"]][1].value == SCRIPT
    assert by_nip[case.nip["staf1"]][0].data_type == "s"  # the NIP stays text
    assert by_nip[case.nip["staf1"]][10].value == 37.5
    assert by_nip[case.nip["staf1"]][11].value == 100.0


# -- PDFs -------------------------------------------------------------------------------------------


def test_skp_pdf_holds_identity_ppk_rhk_iki_and_perilaku(env: AppEnv, case: Case) -> None:
    env.login()
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/pegawai/{case.ids['staf1']}/skp.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert f'filename="SKP_{case.tahun}_{case.nip["staf1"]}.pdf"' in r.headers["content-disposition"]
    text = _words(r.content)
    for needed in ("SASARAN KINERJA PEGAWAI", "Siti Nurhaliza", case.nip["staf1"], "Ahli Muda",
                   FORMULA, case.nip["kasi"], "Hasil kerja Staf Satu", "Dokumen diselesaikan",
                   "10 dokumen", "makin kecil makin baik", "Hasil kerja Kepala Seksi",
                   "Berorientasi Pelayanan", "Menjawab aduan dalam 2 hari", "Kolaboratif",
                   "disetujui"):
        assert needed in text, needed


def test_dek_pdf_holds_ratings_predikat_realisasi_and_keberatan(env: AppEnv, case: Case) -> None:
    env.login()
    base = f"/hr/cycles/{case.cycle_id}/ekspor/pegawai"
    text = _words(env.client.get(f"{base}/{case.ids['staf1']}/dek.pdf").content)
    for needed in ("DOKUMEN EVALUASI KINERJA PEGAWAI", "Siti Nurhaliza", case.nip["staf1"],
                   "Di Atas Ekspektasi", "Sangat Baik", "Triwulan I", "Triwulan II", "12 dokumen",
                   "120%", "95%", "Laporan sesuai standar", "Baik", "37,5", "Pertahankan",
                   FORMULA, case.nip["kasi"], SCRIPT, "Manajemen waktu",
                   "Pelatihan Manajemen Waktu", "Pemerintah Kabupaten Contoh"):
        assert needed in text, needed
    text2 = _words(env.client.get(f"{base}/{case.ids['staf2']}/dek.pdf").content)
    for needed in (CMD, case.nip["staf2"], "Di Bawah Ekspektasi", "Sesuai Ekspektasi",
                   "Butuh Perbaikan", "PPPK", "predikat diubah: Sangat Kurang menjadi Butuh Perbaikan",
                   "Bukti baru diterima"):
        assert needed in text2, needed
    text3 = _words(env.client.get(f"{base}/{case.ids['kadis']}/dek.pdf?lang=en").content)
    assert "EMPLOYEE PERFORMANCE EVALUATION" in text3 and "not rated yet" in text3


def test_pdf_of_someone_without_skp_is_404(env: AppEnv, case: Case) -> None:
    env.login()
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/pegawai/99999/dek.pdf")
    assert r.status_code == 404


def test_latin1_fallback_without_a_unicode_font(env: AppEnv, case: Case) -> None:
    with session_scope(env.rt.engine) as s:
        s.get(Pegawai, case.ids["staf1"]).nama = "Şükrü “Siti” Nurhaliza"
    with session_scope(env.rt.engine) as s:
        [b] = exports.load_berkas(session=s, cycle_id=case.cycle_id, pegawai_ids=[case.ids["staf1"]])
        plain = _words(exports.render_dek(b, "id", "", fonts=None))
        embedded = exports.unicode_fonts()
        rich = _words(exports.render_skp(b, "id", "", fonts=embedded)) if embedded else ""
    assert 'Sükrü "Siti" Nurhaliza' in plain and "Sangat Baik" in plain
    if embedded:
        assert "Şükrü “Siti” Nurhaliza" in rich


def test_unit_zip_holds_every_pdf_and_the_csv(env: AppEnv, case: Case) -> None:
    env.login()
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/unit/{case.unit_id}.zip")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = zf.namelist()
    assert len([n for n in names if n.endswith("_SKP.pdf")]) == 5
    assert len([n for n in names if n.endswith("_DEK.pdf")]) == 5
    assert len([n for n in names if n.endswith(".csv")]) == 1
    assert all(".." not in n and not n.startswith("/") for n in names)
    [dek] = [n for n in names if n.startswith(f"kinerja_{case.tahun}_Dinas_Pendidikan/"
                                              f"{case.nip['staf1']}_") and n.endswith("_DEK.pdf")]
    assert "Sangat Baik" in _words(zf.read(dek))
    [csv_name] = [n for n in names if n.endswith(".csv")]
    rows = list(csv.reader(io.StringIO(zf.read(csv_name).decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 6 and ["'" + FORMULA] == [r[1] for r in rows if r[0] == case.nip["kasi"]]


# -- SIASN ------------------------------------------------------------------------------------------


def test_siasn_json_lists_published_ratings_with_national_codes(env: AppEnv, case: Case) -> None:
    env.login()
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/siasn.json")
    assert r.status_code == 200
    data = {x["nip"]: x for x in json.loads(r.content)}
    assert set(data) == {case.nip["staf1"], case.nip["staf2"]}  # kasi is not published yet
    one = data[case.nip["staf1"]]
    assert one["statusPegawai"] == "PNS" and one["predikat"] == "Sangat Baik"
    assert one["skp22"] == {
        "tahun": case.tahun, "pnsDinilaiOrang": None, "hasilKinerjaNilai": 1,
        "perilakuKerjaNilai": 1, "kuadranKinerjaNilai": 1, "statusPenilai": "ASN",
        "penilaiNipNrp": case.nip["kasi"], "penilaiNama": FORMULA, "penilaiJabatan": "Kepala Seksi",
        "penilaiUnorNama": "Dinas Pendidikan", "penilaiGolongan": None}
    two = data[case.nip["staf2"]]
    assert two["statusPegawai"] == "PPPK"
    assert (two["skp22"]["hasilKinerjaNilai"], two["skp22"]["perilakuKerjaNilai"],
            two["skp22"]["kuadranKinerjaNilai"]) == (3, 2, 3)
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor/siasn.json?semua=true")
    assert len(json.loads(r.content)) == 3


# -- the console page, the API and who may download -------------------------------------------------


def test_console_page_lists_units_and_people_with_names_as_text(env: AppEnv, case: Case) -> None:
    env.login()
    r = env.client.get(f"/hr/cycles/{case.cycle_id}/ekspor")
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Budi" in r.text
    assert f"/hr/cycles/{case.cycle_id}/ekspor/unit/{case.unit_id}.zip" in r.text
    assert f"/ekspor/pegawai/{case.ids['staf1']}/dek.pdf" in r.text
    assert "kuadranKinerjaNilai" in r.text
    cycle_page = env.client.get(f"/hr/cycles/{case.cycle_id}")
    assert f'href="/hr/cycles/{case.cycle_id}/ekspor"' in cycle_page.text


def test_downloads_need_a_login_and_are_audited(env: AppEnv, case: Case) -> None:
    base = f"/hr/cycles/{case.cycle_id}/ekspor"
    paths = ["", "/hasil.csv", "/hasil.xlsx", f"/pegawai/{case.ids['staf1']}/skp.pdf",
             f"/pegawai/{case.ids['staf1']}/dek.pdf", f"/unit/{case.unit_id}.zip", "/siasn.json"]
    for path in paths:
        r = env.client.get(base + path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/hr/login"), path
        api = env.client.get(f"/api/v1/cycles/{case.cycle_id}/ekspor{path}")
        assert api.status_code == 401, path
    env.login()
    env.client.get(f"{base}/hasil.csv?unit_id={case.unit_id}")
    with session_scope(env.rt.engine) as s:
        logged = s.execute(select(AuditLog).where(AuditLog.action == "ekspor")).scalars().all()
    assert [(a.actor, a.after) for a in logged] == [
        ("hr:admin", {"jenis": "csv", "unit_id": case.unit_id})]


def test_api_with_a_token(env: AppEnv, case: Case) -> None:
    h = _token(env)
    base = f"/api/v1/cycles/{case.cycle_id}/ekspor"
    index = env.client.get(base, headers=h).json()
    assert index["unit"][0]["zip"] == f"{base}/unit/{case.unit_id}.zip"
    assert index["siasn_kode"]["kuadran"]["Kurang/Misconduct"] == 4
    rows = env.client.get(f"{base}/hasil?unit_id={case.unit_id}", headers=h).json()
    assert {r["nama"] for r in rows} >= {FORMULA, CMD, SCRIPT}
    csv_text = env.client.get(f"{base}/hasil.csv", headers=h).content.decode("utf-8-sig")
    assert "'" + CMD in csv_text
    pdf = env.client.get(f"{base}/pegawai/{case.ids['staf2']}/skp.pdf", headers=h)
    assert pdf.status_code == 200 and CMD in _words(pdf.content)
    assert env.client.get(f"{base}/siasn.json", headers=h).status_code == 200
    assert env.client.get(f"{base}/unit/{case.unit_id}.zip", headers=h).status_code == 200
    assert env.client.get("/api/v1/cycles/999/ekspor/hasil.csv", headers=h).status_code == 404
