"""Competency rules: the default list and catalogue, the 1..5 scale, the gap rule."""

from __future__ import annotations

import pytest

from models.rules import kompetensi as rules
from models.rules.errors import InvalidInput


def test_default_list_follows_the_national_standard_and_every_training_has_a_competency() -> None:
    names = {k.nama for k in rules.DEFAULT_KOMPETENSI if k.jenis == "manajerial"}
    assert names == {"Integritas", "Kerja Sama", "Komunikasi", "Orientasi pada Hasil",
                     "Pelayanan Publik", "Pengembangan Diri dan Orang Lain",
                     "Mengelola Perubahan", "Pengambilan Keputusan"}
    assert [k.nama for k in rules.DEFAULT_KOMPETENSI if k.jenis == "sosial_kultural"] == [
        "Perekat Bangsa"]
    assert any(k.jenis == "teknis" for k in rules.DEFAULT_KOMPETENSI)
    codes = [k.kode for k in rules.DEFAULT_KOMPETENSI]
    assert len(codes) == len(set(codes)) and all(rules.clean_kode(c) == c for c in codes)
    assert all(k.jenis in rules.JENIS and 1 <= k.level_standar <= 5
               for k in rules.DEFAULT_KOMPETENSI)
    assert {p.kode_kompetensi for p in rules.DEFAULT_PELATIHAN} == set(codes)
    training = {p.nama for p in rules.DEFAULT_PELATIHAN}
    assert {"Manajemen waktu", "Komunikasi efektif", "Pelayanan prima"} <= training


@pytest.mark.parametrize(("value", "expected"), [("1", 1), (" 5 ", 5), (3, 3), ("", None),
                                                 (None, None), ("03", 3)])
def test_ratings_from_one_to_five_or_empty(value: object, expected: int | None) -> None:
    assert rules.parse_nilai(value, "Integritas") == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["0", "6", "tiga", "2.5", "-1", "4,0", "100"])
def test_anything_else_is_refused_naming_the_competency_in_both_languages(value: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        rules.parse_nilai(value, "Integritas")
    assert "Integritas" in exc.value.message("id") and "1 sampai 5" in exc.value.message("id")
    assert "1 to 5" in exc.value.message("en") and value in exc.value.message("en")


def test_gap_is_measured_from_the_ppk_rating_else_the_self_rating() -> None:
    assert rules.gap(3, nilai_diri=4, nilai_ppk=1) == 2
    assert rules.gap(3, nilai_diri=1, nilai_ppk=None) == 2
    assert rules.gap(3, nilai_diri=1, nilai_ppk=4) == -1
    assert rules.gap(3, None, None) is None


def test_threshold_never_counts_meeting_the_standard_as_a_gap() -> None:
    assert rules.is_gap(1, 1) and rules.is_gap(2, 2) and not rules.is_gap(1, 2)
    assert not rules.is_gap(0, 0) and not rules.is_gap(-1, 1) and not rules.is_gap(None, 1)


def test_gaps_lists_only_what_reaches_the_threshold() -> None:
    rows = [rules.Rated(1, 10, 3, 2, None),  # self 2 vs 3: gap 1
            rules.Rated(1, 11, 3, 5, 1),  # the PPK's 1 wins over self 5: gap 2
            rules.Rated(2, 10, 3, 1, 3),  # the PPK's 3 wins over self 1: no gap
            rules.Rated(2, 11, 4, None, None)]  # unrated: nothing
    assert rules.gaps(rows, 1) == [(1, 10, 1), (1, 11, 2)]
    assert rules.gaps(rows, 2) == [(1, 11, 2)]


def test_hr_inputs_are_checked() -> None:
    assert rules.clean_kode(" tek-04 ") == "TEK-04"
    assert rules.parse_jenis("Sosial Kultural") == "sosial_kultural"
    assert rules.parse_level("4") == 4
    assert rules.clean_nama("  Analisis   kebijakan ", "Nama", "Name") == "Analisis kebijakan"
    assert rules.clean_optional("  ", "Ket", "Desc", 10) is None
    for bad in (lambda: rules.clean_kode("kode dengan spasi"), lambda: rules.clean_kode(""),
                lambda: rules.parse_jenis("lainnya"), lambda: rules.parse_level(""),
                lambda: rules.parse_level("7"), lambda: rules.clean_nama("", "Nama", "Name"),
                lambda: rules.clean_nama("x" * 201, "Nama", "Name")):
        with pytest.raises(InvalidInput):
            bad()
    assert rules.jenis_label("manajerial", "en") == "Managerial"
