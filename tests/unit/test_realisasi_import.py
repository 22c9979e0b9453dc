"""Realisasi import rows: every rule, with its row and column, in one pass (no database)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook

from models.importer import read_sheet
from models.rules.errors import InvalidInput
from models.rules.org import ImportProblem, ImportRejected
from models.rules.realisasi_import import (
    MAX_URAIAN,
    IkiRef,
    RealisasiLookup,
    RealisasiRow,
    SkpRef,
    check_realisasi,
    kode_iki,
    nips_in,
    parse_angka,
    parse_kode_iki,
    parse_periode,
    parse_realisasi,
)

GURU, KASI, BARU, TANPA_SKP, DRAF = ("199003032015042003", "198003032005011003",
                                     "199504042020012004", "197001011995031001",
                                     "197502022000031002")
HEADER = ["NIP", "Kode IKI", "Periode", "Realisasi"]
GURU_SKP = SkpRef(10, True, (
    IkiRef(12, "Pembelajaran  terlaksana", "Persentase kehadiran siswa", "kuantitatif"),
    IkiRef(13, "Pembelajaran terlaksana", "Kualitas laporan", "kualitatif"),
    IkiRef(14, "Pembelajaran terlaksana", "Jumlah RPP", "kuantitatif"),
    IkiRef(15, "Administrasi kelas", "Jumlah RPP", "kuantitatif"),
    IkiRef(16, "Administrasi kelas", "Rapor tepat waktu", "kuantitatif"),
    IkiRef(17, "Administrasi kelas", "rapor  tepat WAKTU", "kuantitatif"),
))
KASI_SKP = SkpRef(20, True, (IkiRef(40, "Kurikulum tersusun", "Dokumen kurikulum", "kuantitatif"),))


def lookup(**overrides: Any) -> RealisasiLookup:
    values: dict[str, Any] = {
        "tahun": 2027, "periodisasi": "triwulanan", "closed": frozenset({1}),
        "pegawai": frozenset({GURU, KASI, TANPA_SKP, DRAF}),
        "skp": {GURU: GURU_SKP, KASI: KASI_SKP, DRAF: SkpRef(30, False, ())}}
    return RealisasiLookup(**(values | overrides))


def numbered(*rows: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(n, r) for n, r in enumerate(rows, start=2)]


def row(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"NIP": GURU, "Kode IKI": "IKI-12", "Periode": "2",
                              "Realisasi": "95%"}
    return values | {k.replace("_", " "): v for k, v in overrides.items()}


def problems_of(*rows: dict[str, Any], header: list[str] | None = None,
                **kw: Any) -> list[ImportProblem]:
    return check_realisasi(header or HEADER, numbered(*rows), lookup(**kw))[1]


def where(problems: list[ImportProblem]) -> list[tuple[int, str]]:
    return [(p.row, p.column) for p in problems]


def only(problems: list[ImportProblem]) -> ImportProblem:
    assert len(problems) == 1, problems
    return problems[0]


# --- the IKI code ---------------------------------------------------------------------------

def test_kode_iki_and_its_parser() -> None:
    assert kode_iki(12) == "IKI-12"
    for written in ("IKI-12", "iki-12", "12", " IKI-12 ", "IKI 12", "IKI12", 12.0, 12):
        assert parse_kode_iki(written) == 12, written
    for wrong in ("IKI-", "IKI-0", "RHK-12", "12.5", "", None, "IKI--3"):
        assert parse_kode_iki(wrong) is None, wrong


# --- a valid file ---------------------------------------------------------------------------

def test_valid_rows_become_realisasi_rows() -> None:
    rows = numbered(row(), row(**{"Kode IKI": "iki-13", "Realisasi": "  Tepat waktu, rapi  "}),
                    row(NIP=KASI, **{"Kode IKI": "40", "Periode": "TW 4", "Realisasi": 3}))
    assert parse_realisasi(HEADER, rows, lookup()) == [
        RealisasiRow(2, GURU, 10, 12, 2, 95.0, None),
        RealisasiRow(3, GURU, 10, 13, 2, None, "Tepat waktu, rapi"),
        RealisasiRow(4, KASI, 20, 40, 4, 3.0, None)]


def test_header_is_case_insensitive_and_extra_columns_are_ignored() -> None:
    header = ["nip", " KODE  IKI ", "periode", "REALISASI", "Nama", "Keterangan"]
    rows = [(2, {"nip": GURU, "KODE  IKI": "IKI-12", "periode": "3", "REALISASI": "7",
                 "Nama": "Sri", "Keterangan": "dari SIMPEG"})]
    assert parse_realisasi([h.strip() for h in header], rows, lookup())[0].nilai == 7.0


def test_rows_with_only_ignored_columns_filled_are_skipped() -> None:
    header = [*HEADER, "Catatan"]
    rows = numbered(row(), {"Catatan": "baris catatan saja"})
    parsed, problems = check_realisasi(header, rows, lookup())
    assert problems == [] and len(parsed) == 1


# --- the header -----------------------------------------------------------------------------

def test_missing_columns_are_named_on_row_1() -> None:
    problems = check_realisasi(["NIP", "RHK", "Nama"], [], lookup())[1]
    assert where(problems) == [(1, "Kode IKI"), (1, "Periode"), (1, "Realisasi"), (1, "")]
    assert "Kode IKI" in problems[0].message_id and "RHK" in problems[0].message_id
    assert "tidak berisi baris data" in problems[3].message_id


def test_a_column_twice_is_a_problem() -> None:
    problems = check_realisasi([*HEADER, "periode"], numbered(row()), lookup())[1]
    assert where(problems) == [(1, "Periode")]


# --- NIP ------------------------------------------------------------------------------------

def test_nip_rules_follow_the_organisation_import() -> None:
    problems = problems_of(row(NIP="12345"), row(NIP=1.99003032015042e17),
                           row(NIP=GURU + ".0", Periode="3"), row(NIP=f"'{GURU}", Periode="4"),
                           row(NIP=""))
    assert where(problems) == [(2, "NIP"), (3, "NIP"), (6, "NIP")]
    assert "18 angka" in problems[0].message_id
    assert "eksponen" in problems[1].message_id and "Teks" in problems[1].message_id
    assert problems[2].message_id == "NIP wajib diisi"


def test_unknown_nip_no_skp_and_unapproved_skp_are_problems() -> None:
    problems = problems_of(row(NIP=BARU), row(NIP=TANPA_SKP), row(NIP=DRAF))
    assert where(problems) == [(2, "NIP"), (3, "NIP"), (4, "NIP")]
    assert problems[0].message_id == f"NIP {BARU} tidak terdaftar"
    assert "tidak punya SKP pada siklus ini" in problems[1].message_id
    assert "belum disetujui" in problems[2].message_id


# --- the IKI: by code, or by RHK and IKI ----------------------------------------------------

def test_an_iki_of_someone_else_is_refused_without_saying_whose() -> None:
    p = only(problems_of(row(**{"Kode IKI": "IKI-40"})))  # Kasi's IKI on the Guru's row
    assert (p.row, p.column) == (2, "Kode IKI")
    assert p.message_id == f"IKI-40 bukan IKI pada SKP pegawai NIP {GURU} di siklus ini"
    assert KASI not in p.message_id + p.message_en
    assert only(problems_of(row(**{"Kode IKI": "IKI-999"}))).message_id == p.message_id.replace(
        "IKI-40", "IKI-999")


def test_a_malformed_code_is_a_problem() -> None:
    p = only(problems_of(row(**{"Kode IKI": "RHK-3"})))
    assert (p.column, p.message_id) == ("Kode IKI", "Kode IKI 'RHK-3' tidak dikenal; tulis "
                                        "seperti IKI-12")


NAME_HEADER = ["NIP", "RHK", "IKI", "Periode", "Realisasi"]


def by_name(rhk: str, iki: str, **kw: Any) -> dict[str, Any]:
    return {"NIP": GURU, "RHK": rhk, "IKI": iki, "Periode": "2", "Realisasi": "4"} | kw


def test_rhk_and_iki_match_case_insensitively_with_spaces_collapsed() -> None:
    rows = numbered(by_name("pembelajaran TERLAKSANA", "  persentase   kehadiran siswa"),
                    by_name("Administrasi kelas", "jumlah rpp"))
    parsed = parse_realisasi(NAME_HEADER, rows, lookup())
    assert [r.iki_id for r in parsed] == [12, 15]  # "Jumlah RPP" is under both RHK


def test_unknown_and_ambiguous_names_say_what_was_looked_for() -> None:
    problems = problems_of(by_name("RHK lain", "Jumlah RPP"),
                           by_name("Pembelajaran terlaksana", "Jumlah siswa"),
                           by_name("Administrasi kelas", "Rapor tepat waktu"),
                           header=NAME_HEADER)
    assert where(problems) == [(2, "RHK"), (3, "IKI"), (4, "IKI")]
    assert problems[0].message_id == f"RHK 'RHK lain' tidak ada pada SKP pegawai NIP {GURU}"
    assert "IKI 'Jumlah siswa' tidak ada pada RHK 'Pembelajaran terlaksana'" in (
        problems[1].message_id)
    assert "cocok dengan 2 IKI (IKI-16, IKI-17); gunakan kolom Kode IKI" in problems[2].message_id


def test_code_wins_over_names_and_one_of_them_is_needed() -> None:
    header = ["NIP", "Kode IKI", "RHK", "IKI", "Periode", "Realisasi"]
    rows = numbered({**by_name("", ""), "Kode IKI": "IKI-14"},
                    {**by_name("Pembelajaran terlaksana", "Jumlah RPP"), "Kode IKI": ""},
                    {**by_name("Pembelajaran terlaksana", ""), "Kode IKI": ""})
    parsed, problems = check_realisasi(header, rows, lookup())
    assert [r.iki_id for r in parsed] == [14]
    assert where(problems) == [(3, "IKI"), (4, "Kode IKI")]
    assert "sudah ada di baris 2" in problems[0].message_id  # the same IKI and period again
    assert problems[1].message_id == "isi Kode IKI, atau RHK dan IKI"
    only_names = problems_of(by_name("Pembelajaran terlaksana", ""), header=NAME_HEADER)
    assert [(p.column, p.message_id) for p in only_names] == [("IKI", "IKI wajib diisi")]


# --- Periode --------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["2", 2, 2.0, "TW2", "TW 2", "tw ii", "TW II", "Triwulan II",
                                     "triwulan 2", "Q2", "q 2", "TW-2"])
def test_quarter_spellings(written: object) -> None:
    assert parse_periode(written, "triwulanan", 2027) == 2


@pytest.mark.parametrize(("written", "month"), [
    ("3", 3), (12, 12), ("Maret", 3), ("march", 3), ("MAR", 3), ("Mei", 5), ("May", 5),
    ("Agustus", 8), ("Agu", 8), ("Aug", 8), ("Okt", 10), ("Oct", 10), ("Des", 12), ("Dec", 12),
    ("Desember", 12), ("2027-03", 3), ("2027-3", 3), ("03/2027", 3), ("3/2027", 3),
    ("Juni 2027", 6), (datetime(2027, 7, 1), 7)])
def test_month_spellings(written: object, month: int) -> None:
    assert parse_periode(written, "bulanan", 2027) == month


@pytest.mark.parametrize(("written", "kind", "message"), [
    ("5", "triwulanan", "periode 5 di luar periode siklus ini (1-4, triwulanan)"),
    ("0", "triwulanan", "periode 0 di luar periode siklus ini (1-4, triwulanan)"),
    ("TW V", "triwulanan", "Periode 'TW V' tidak dikenal untuk siklus triwulanan"),
    ("Januari", "triwulanan", "Periode 'Januari' tidak dikenal untuk siklus triwulanan"),
    ("13", "bulanan", "periode 13 di luar periode siklus ini (1-12, bulanan)"),
    ("2026-03", "bulanan", "tahun 2026 bukan tahun siklus (2027)"),
    ("03/2028", "bulanan", "tahun 2028 bukan tahun siklus (2027)"),
    ("Q1", "bulanan", "Periode 'Q1' tidak dikenal untuk siklus bulanan"),
    ("Smarch", "bulanan", "Periode 'Smarch' tidak dikenal untuk siklus bulanan"),
])
def test_periods_outside_the_cycle_are_refused(written: str, kind: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_periode(written, kind, 2027)
    assert caught.value.id_text.startswith(message)


def test_a_closed_period_is_refused_and_a_future_one_accepted() -> None:
    problems = problems_of(row(Periode="TW I"), row(Periode="4"))
    assert where(problems) == [(2, "Periode")]
    assert problems[0].message_id == "periode 1 sudah ditutup"


def test_monthly_cycle_rows() -> None:
    rows = numbered(row(Periode="Februari"), row(**{"Kode IKI": "IKI-14", "Periode": "2027-11"}))
    parsed = parse_realisasi(HEADER, rows, lookup(periodisasi="bulanan", closed=frozenset({1})))
    assert [r.periode for r in parsed] == [2, 11]
    p = only(problems_of(row(Periode="Januari"), periodisasi="bulanan"))
    assert (p.row, p.column, p.message_id) == (2, "Periode", "periode 1 sudah ditutup")


# --- Realisasi ------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "value"), [
    ("12,5", 12.5), ("12.5", 12.5), ("1.234,5", 1234.5), ("1,234.5", 1234.5), ("95%", 95.0),
    ("95 %", 95.0), ("1.234.567", 1234567.0), ("0", 0.0), ("0.125", 0.125), (12.5, 12.5),
    (7, 7.0), (0.9523809523809523, 0.9523809523809523), ("1 234,5", 1234.5)])
def test_numbers(written: object, value: float) -> None:
    assert parse_angka(written) == value


@pytest.mark.parametrize(("written", "message"), [
    ("-3", "Realisasi tidak boleh negatif"), (-0.5, "Realisasi tidak boleh negatif"),
    ("abc", "Realisasi harus berupa angka"), ("12.", "Realisasi harus berupa angka"),
    ("1.2.3", "Realisasi harus berupa angka"), ("1,2,3.4", "Realisasi harus berupa angka"),
    (float("nan"), "Realisasi harus berupa angka"), (True, "Realisasi harus berupa angka"),
    ("1.234", "angka '1.234' ambigu"), ("100.000", "angka '100.000' ambigu"),
])
def test_not_numbers(written: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_angka(written)
    assert caught.value.id_text.startswith(message)


def test_realisasi_follows_the_iki_kind() -> None:
    problems = problems_of(row(Realisasi="sembilan puluh"),
                           row(**{"Kode IKI": "IKI-13", "Realisasi": "x" * (MAX_URAIAN + 1)}),
                           row(**{"Kode IKI": "IKI-14", "Realisasi": ""}))
    assert where(problems) == [(2, "Realisasi"), (3, "Realisasi"), (4, "Realisasi")]
    assert "harus berupa angka" in problems[0].message_id
    assert problems[1].message_id == f"Realisasi lebih dari {MAX_URAIAN} karakter"
    assert problems[2].message_id == "Realisasi wajib diisi"


def test_the_same_iki_and_period_twice_names_the_first_row() -> None:
    problems = problems_of(row(), row(Periode="3"), row(**{"Kode IKI": "12", "Periode": "TW2"}))
    p = only(problems)
    assert (p.row, p.column) == (4, "Kode IKI")
    assert p.message_id == "IKI-12 periode 2 sudah ada di baris 2"


# --- one pass, every problem ----------------------------------------------------------------

def test_every_problem_of_the_file_is_listed_in_one_pass() -> None:
    rows = numbered(row(), row(NIP="123"), row(Periode="7", Realisasi="-1"),
                    row(**{"Kode IKI": "IKI-40", "Periode": "Q9"}), row(NIP=BARU, Realisasi=""))
    with pytest.raises(ImportRejected) as caught:
        parse_realisasi(HEADER, rows, lookup())
    assert where(caught.value.problems) == [
        (3, "NIP"), (4, "Periode"), (4, "Realisasi"), (5, "Kode IKI"), (5, "Periode"),
        (6, "NIP"), (6, "Realisasi")]
    assert "baris 3 kolom NIP" in caught.value.message("id")
    assert "row 4 column Periode" in caught.value.message("en")


def test_nips_in_lists_the_well_formed_nips() -> None:
    assert nips_in(HEADER, numbered(row(), row(NIP="12"), row(NIP=KASI + ".0"))) == {GURU, KASI}
    assert nips_in(["Kode IKI"], numbered(row())) == set()


# --- CSV and XLSX through read_sheet ----------------------------------------------------------

def to_csv(rows: list[list[Any]], *, delimiter: str = ",", bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([HEADER, *rows])
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def to_xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r in [HEADER, *rows]:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FILE_ROWS = [[GURU, "IKI-12", "TW2", "12,5"], [GURU, "IKI-13", "2", "Rapi"],
             [KASI, "IKI-40", "Triwulan III", "1.234,5"]]


@pytest.mark.parametrize("data", [to_csv(FILE_ROWS), to_csv(FILE_ROWS, delimiter=";", bom=True)])
def test_csv_files(data: bytes) -> None:
    sheet = read_sheet(data, "realisasi.csv")
    parsed = parse_realisasi(sheet.header, sheet.rows, lookup())
    assert [(r.row, r.iki_id, r.periode, r.nilai, r.uraian) for r in parsed] == [
        (2, 12, 2, 12.5, None), (3, 13, 2, None, "Rapi"), (4, 40, 3, 1234.5, None)]


def test_xlsx_files_with_excel_numbers() -> None:
    data = to_xlsx([[GURU, "IKI-12", 2, 0.955], [GURU, 13, "TW 3", "Rapi"],
                    [KASI, "IKI-40", 4.0, 12]])
    sheet = read_sheet(data, "realisasi.xlsx")
    parsed = parse_realisasi(sheet.header, sheet.rows, lookup())
    assert [(r.iki_id, r.periode, r.nilai, r.uraian) for r in parsed] == [
        (12, 2, 0.955, None), (13, 3, None, "Rapi"), (40, 4, 12.0, None)]


def test_xlsx_problems_name_row_and_column() -> None:
    data = to_xlsx([[GURU, "IKI-12", 2, 5], [int(GURU) * 1.0, "IKI-12", 3, 5],
                    [KASI, "IKI-40", 9, "lima"]])
    sheet = read_sheet(data, "realisasi.xlsx")
    problems = check_realisasi(sheet.header, sheet.rows, lookup())[1]
    assert where(problems) == [(3, "NIP"), (4, "Periode"), (4, "Realisasi")]
    assert "eksponen" in problems[0].message_id
