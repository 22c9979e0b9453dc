"""Organisation import rows: every problem type, with its row and column, in one pass."""

from __future__ import annotations

from typing import Any

import pytest

from kinerja.seed import HEADER as DEMO_HEADER
from kinerja.seed import demo_rows
from models.rules.enums import JenisJabatan, StatusPegawai
from models.rules.errors import RuleError
from models.rules.org import (
    COLUMNS,
    ImportProblem,
    ImportRejected,
    PegawaiRow,
    check_rows,
    to_pegawai_rows,
    validate_rows,
)

HEADER = [*COLUMNS, "Status", "Jenjang"]
SEKDA = "197001011995031001"
KADIS = "197502022000031002"
GURU = "199003032015042003"
STAFF = "199504042020011004"


def make_row(**overrides: Any) -> dict[str, Any]:
    """A valid row (a Guru under the Kepala Dinas); keys use the header names."""
    row: dict[str, Any] = {
        "NIP": GURU, "Nama": "Sri Wahyuni, S.Pd.", "Email": "sri.wahyuni@contoh.go.id",
        "Jabatan": "Guru Ahli Muda", "Jenis Jabatan": "Fungsional",
        "Unit Kerja": "Dinas Pendidikan",
        "NIP Atasan": KADIS, "Status": "PNS", "Jenjang": "Ahli Muda",
    }
    row.update({k.replace("_", " "): v for k, v in overrides.items()})
    return row


def numbered(*rows: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return [(n, r) for n, r in enumerate(rows, start=2)]


def kadis(**overrides: Any) -> dict[str, Any]:
    return make_row(**{"NIP": KADIS, "Nama": "Dr. Budi Santoso, M.Pd.",
                       "Email": "budi@contoh.go.id", "Jabatan": "Kepala Dinas Pendidikan",
                       "Jenis_Jabatan": "JPT", "NIP_Atasan": "", "Jenjang": "", **overrides})


def problems_of(*rows: dict[str, Any], existing: dict[str, str | None] | None = None,
                header: list[str] | None = None) -> list[ImportProblem]:
    return validate_rows(header or HEADER, numbered(*rows), existing=existing or {})


def where(problems: list[ImportProblem]) -> list[tuple[int, str]]:
    return [(p.row, p.column) for p in problems]


def test_a_valid_file_has_no_problems_and_is_normalised() -> None:
    rows = numbered(kadis(), make_row(**{
        "Nama": "  Sri   Wahyuni ", "Email": " Sri.Wahyuni@Contoh.go.id",
        "Jenis Jabatan": "fungsional", "Status": "", "Jenjang": "ahli  muda",
        "Unit Kerja": "Dinas  Pendidikan"}))
    people, problems = check_rows(HEADER, rows, existing={})
    assert problems == []
    assert people[1] == PegawaiRow(
        row=3, nip=GURU, nama="Sri Wahyuni", email="sri.wahyuni@contoh.go.id",
        jabatan="Guru Ahli Muda", jenis_jabatan=JenisJabatan.FUNGSIONAL,
        status=StatusPegawai.PNS, jenjang="Ahli Muda", unit="Dinas Pendidikan", atasan_nip=KADIS)
    assert people[0].atasan_nip is None and people[0].jenis_jabatan is JenisJabatan.JPT


def test_header_names_are_matched_case_insensitively_and_trimmed() -> None:
    header = [f"  {h.upper()} " for h in COLUMNS]
    rows = [(2, {f"{h.upper()}": v for h, v in kadis().items() if h in COLUMNS})]
    people, problems = check_rows(header, rows, existing={})
    assert problems == [] and people[0].status is StatusPegawai.PNS


def test_missing_header_columns_are_reported_on_row_1() -> None:
    header = [h for h in HEADER if h not in ("Email", "NIP Atasan", "Status")]
    problems = problems_of(kadis(), header=header)
    assert where(problems) == [(1, "Email"), (1, "NIP Atasan")]
    assert "Email" in problems[0].message_id and "missing" in problems[0].message_en


def test_a_column_given_twice_is_reported() -> None:
    assert where(problems_of(kadis(), header=[*HEADER, "nip"])) == [(1, "NIP")]


@pytest.mark.parametrize("column", ["NIP", "Nama", "Email", "Jabatan", "Jenis Jabatan",
                                    "Unit Kerja"])
def test_missing_required_field(column: str) -> None:
    problems = problems_of(kadis(), make_row(**{column: "  "}))
    assert where(problems) == [(3, column)]
    assert "wajib" in problems[0].message_id and "required" in problems[0].message_en


@pytest.mark.parametrize("nip", ["19900303201504200", "1990030320150420031", "19900303201504200X"])
def test_nip_must_be_18_digits(nip: str) -> None:
    problems = problems_of(kadis(), make_row(NIP=nip))
    assert where(problems) == [(3, "NIP")]
    assert "18" in problems[0].message_id and nip in problems[0].message_en


@pytest.mark.parametrize("value", [int(GURU), "19900303 201504 2 003", f"'{GURU}", f"{GURU}.0"])
def test_nip_numbers_spaces_and_quotes_are_normalised(value: object) -> None:
    people, problems = check_rows(HEADER, numbered(kadis(), make_row(NIP=value)), existing={})
    assert problems == [] and people[1].nip == GURU


@pytest.mark.parametrize("value", [1.99003032015042e17, "1.99003E+17", "1,99003E+17"])
def test_scientific_notation_nips_are_rejected_clearly(value: object) -> None:
    problems = problems_of(kadis(), make_row(NIP=value))
    assert where(problems) == [(3, "NIP")]
    assert "Teks" in problems[0].message_id and "Text" in problems[0].message_en


def test_malformed_superior_nip_is_reported_on_its_column() -> None:
    assert where(problems_of(kadis(), make_row(NIP_Atasan="12345"))) == [(3, "NIP Atasan")]


def test_duplicate_nip_names_both_rows() -> None:
    problems = problems_of(kadis(), make_row(), make_row(Nama="Orang Lain"))
    assert where(problems) == [(4, "NIP")]
    assert "3" in problems[0].message_id and "4" in problems[0].message_id
    assert "rows 3 and 4" in problems[0].message_en


@pytest.mark.parametrize("email", ["sri.wahyuni", "sri@contoh", "sri wahyuni@contoh.go.id",
                                   "sri@@contoh.go.id"])
def test_bad_email(email: str) -> None:
    assert where(problems_of(kadis(), make_row(Email=email))) == [(3, "Email")]


def test_unknown_jenis_jabatan_and_status() -> None:
    problems = problems_of(kadis(), make_row(Jenis_Jabatan="Eselon III", Status="Honorer"))
    assert where(problems) == [(3, "Jenis Jabatan"), (3, "Status")]
    assert "Pelaksana" in problems[0].message_en and "PPPK" in problems[1].message_id


def test_jenis_jabatan_and_status_are_stored_with_the_official_spelling() -> None:
    people, _ = check_rows(HEADER, numbered(kadis(Jenis_Jabatan="jpt"), make_row(
        Jenis_Jabatan="PELAKSANA", Jabatan="Pengelola Data", Status="pppk", Jenjang="")),
        existing={})
    assert people[0].jenis_jabatan is JenisJabatan.JPT
    assert people[1].jenis_jabatan is JenisJabatan.PELAKSANA
    assert people[1].status is StatusPegawai.PPPK and people[1].jenjang is None


def test_unknown_superior() -> None:
    problems = problems_of(make_row(), existing={SEKDA: None})
    assert where(problems) == [(2, "NIP Atasan")]
    assert KADIS in problems[0].message_id and "unknown superior" in problems[0].message_en


def test_a_superior_among_existing_employees_is_known() -> None:
    assert problems_of(make_row(), existing={KADIS: SEKDA, SEKDA: None}) == []


def test_a_superior_later_in_the_file_is_known() -> None:
    assert problems_of(make_row(), kadis()) == []


def test_self_as_superior() -> None:
    problems = problems_of(kadis(NIP_Atasan=KADIS))
    assert where(problems) == [(2, "NIP Atasan")]
    assert "sendiri" in problems[0].message_id


def test_a_cycle_in_the_file_names_its_nips_once() -> None:
    problems = problems_of(kadis(NIP_Atasan=GURU), make_row())
    assert where(problems) == [(2, "NIP Atasan")]
    assert f"{KADIS} (baris 2) → {GURU} (baris 3) → {KADIS}" in problems[0].message_id
    assert "cycle" in problems[0].message_en


def test_a_longer_cycle_is_found() -> None:
    problems = problems_of(kadis(NIP_Atasan=STAFF), make_row(),
                           make_row(NIP=STAFF, NIP_Atasan=GURU, Email="s@contoh.go.id"))
    assert where(problems) == [(2, "NIP Atasan")]
    assert all(nip in problems[0].message_en for nip in (KADIS, GURU, STAFF))


def test_a_cycle_through_existing_employees_is_found() -> None:
    # in the database the Kepala Dinas reports to the guru; the file makes the guru report back
    problems = problems_of(make_row(), existing={KADIS: GURU, GURU: None})
    assert where(problems) == [(2, "NIP Atasan")]
    assert f"{KADIS} (data lama)" in problems[0].message_id
    assert f"{KADIS} (existing)" in problems[0].message_en


def test_the_file_overrides_an_existing_superior_so_no_false_cycle() -> None:
    # the database says kadis -> guru, but the file moves the kadis to the top
    assert problems_of(make_row(), kadis(), existing={KADIS: GURU, GURU: KADIS}) == []


def test_jenjang_for_a_non_fungsional_post_is_fine() -> None:
    people, problems = check_rows(HEADER, numbered(kadis(Jenjang="Ahli Utama")), existing={})
    assert problems == [] and people[0].jenjang == "Ahli Utama"


@pytest.mark.parametrize("jenjang", ["Ahli Sedang", "Golongan III/a"])
def test_fungsional_with_an_unknown_jenjang(jenjang: str) -> None:
    problems = problems_of(kadis(), make_row(Jenjang=jenjang))
    assert where(problems) == [(3, "Jenjang")]
    assert "Ahli Pertama" in problems[0].message_en


def test_fungsional_without_a_jenjang() -> None:
    assert where(problems_of(kadis(), make_row(Jenjang=""))) == [(3, "Jenjang")]


def test_values_longer_than_the_table_allows() -> None:
    assert where(problems_of(kadis(), make_row(Nama="A" * 201))) == [(3, "Nama")]


def test_a_unit_that_is_inactive() -> None:
    problems = validate_rows(HEADER, numbered(kadis(), make_row(Unit_Kerja="dinas pendidikan")),
                             existing={}, inactive_units=["Dinas Pendidikan"])
    assert where(problems) == [(2, "Unit Kerja"), (3, "Unit Kerja")]


def test_blank_rows_are_ignored() -> None:
    assert problems_of(kadis(), {h: "" for h in HEADER}, {h: None for h in HEADER}) == []


def test_every_problem_is_reported_in_one_pass_sorted_by_row() -> None:
    rows = [
        kadis(Email="budi"),
        make_row(NIP="123"),
        make_row(NIP=STAFF, Jenis_Jabatan="Staf", NIP_Atasan="199912312020121999"),
        make_row(NIP=STAFF, Jenjang="Tinggi"),
        make_row(NIP=SEKDA, NIP_Atasan=SEKDA, Nama=""),
    ]
    assert where(problems_of(*rows, header=[*HEADER, "Catatan"])) == [
        (2, "Email"), (3, "NIP"), (4, "Jenis Jabatan"), (4, "NIP Atasan"), (5, "Jenjang"),
        (5, "NIP"), (6, "Nama"), (6, "NIP Atasan")]


def test_a_row_with_other_problems_still_counts_as_a_superior() -> None:
    problems = problems_of(kadis(Email="bad"), make_row())
    assert where(problems) == [(2, "Email")]


def test_to_pegawai_rows_returns_rows_or_raises() -> None:
    assert [p.nip for p in to_pegawai_rows(HEADER, numbered(kadis(), make_row()))] == [KADIS, GURU]
    with pytest.raises(ImportRejected) as caught:
        to_pegawai_rows(HEADER, numbered(kadis(), make_row(Email="x")))
    assert isinstance(caught.value, RuleError)
    assert where(caught.value.problems) == [(3, "Email")]
    assert "baris 3 kolom Email" in caught.value.message("id")
    assert "row 3 column Email" in caught.value.message("en")


def test_the_rejection_message_shows_the_first_problems_and_counts_the_rest() -> None:
    problems = [ImportProblem(n, "Email", "email salah", "bad email") for n in range(2, 32)]
    error = ImportRejected(problems)
    assert error.message().startswith("Impor ditolak, 30 masalah: baris 2 kolom Email")
    assert error.message().endswith("dan 10 masalah lainnya")
    assert error.message("en").endswith("and 10 more")


# The demo kabupaten (kinerja.seed) must always be a valid import file.

@pytest.mark.parametrize("n", [20, 21, 99, 300, 1234, 5000])
def test_demo_rows_are_exactly_n_valid_rows(n: int) -> None:
    rows = demo_rows(n, seed=n)
    assert len(rows) == n
    assert validate_rows(DEMO_HEADER, numbered(*rows), existing={}) == []
    assert len({r["NIP"] for r in rows}) == len({r["Email"] for r in rows}) == n
    assert all(r["Email"].isascii() for r in rows)
    assert [r["NIP Atasan"] for r in rows].count("") == 1


def test_demo_rows_are_deterministic_for_a_seed() -> None:
    assert demo_rows(300, seed=7) == demo_rows(300, seed=7)
    assert demo_rows(300, seed=7) != demo_rows(300, seed=8)


def test_demo_nips_encode_birth_date_tmt_and_gender() -> None:
    for row in demo_rows(500):
        nip = row["NIP"]
        assert 1966 <= int(nip[:4]) <= 2003 and 1 <= int(nip[4:6]) <= 12
        month = int(nip[12:14])
        assert month == 21 if row["Status"] == "PPPK" else 1 <= month <= 12
        assert nip[14] in "12" and nip[15:] != "000"
