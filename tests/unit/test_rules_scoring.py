"""The scoring rules: all nine matrix cells, each curve pattern fitting and breaking each limit
(small units included), capaian, angka kredit per jenjang, IKM grades at their boundaries."""

from __future__ import annotations

import pytest

from models.rules.errors import InvalidInput
from models.rules.scoring import (
    KOEFISIEN,
    PREDIKAT_ORDER,
    OrgGrade,
    Predikat,
    Rating,
    Rounding,
    angka_kredit,
    capaian,
    check_distribution,
    ikm,
    ikm_grade,
    predikat,
)

R, P, G = Rating, Predikat, OrgGrade


@pytest.mark.parametrize(("hasil", "perilaku", "expected"), [
    (R.DI_ATAS, R.DI_BAWAH, P.KURANG), (R.DI_ATAS, R.SESUAI, P.BAIK),
    (R.DI_ATAS, R.DI_ATAS, P.SANGAT_BAIK),
    (R.SESUAI, R.DI_BAWAH, P.KURANG), (R.SESUAI, R.SESUAI, P.BAIK), (R.SESUAI, R.DI_ATAS, P.BAIK),
    (R.DI_BAWAH, R.DI_BAWAH, P.SANGAT_KURANG), (R.DI_BAWAH, R.SESUAI, P.BUTUH_PERBAIKAN),
    (R.DI_BAWAH, R.DI_ATAS, P.BUTUH_PERBAIKAN),
])
def test_matrix(hasil: Rating, perilaku: Rating, expected: Predikat) -> None:
    assert predikat(hasil, perilaku) == expected
    assert predikat(hasil.value, perilaku.value) == expected  # type: ignore[arg-type]


def test_official_spellings_and_order() -> None:
    assert P.KURANG.value == "Kurang/Misconduct" and R.DI_ATAS.value == "Di Atas Ekspektasi"
    assert [p.value for p in PREDIKAT_ORDER] == [
        "Sangat Kurang", "Kurang/Misconduct", "Butuh Perbaikan", "Baik", "Sangat Baik"]


@pytest.mark.parametrize(("target", "realisasi", "lower", "expected"), [
    (10, 10, False, 100.0), (10, 12, False, 120.0), (8, 2, False, 25.0),
    (10, 10, True, 100.0), (10, 5, True, 150.0), (10, 15, True, 50.0), (10, 30, True, 0.0),
    (10, 0, True, 200.0), (0, 0, False, 100.0), (0, 3, False, 100.0), (0, 0, True, 100.0),
    (0, 1, True, 0.0), (3, 1, False, 33.33),
])
def test_capaian(target: float, realisasi: float, lower: bool, expected: float) -> None:
    assert capaian(target, realisasi, lower_is_better=lower) == expected


def test_capaian_refuses_negative_numbers() -> None:
    with pytest.raises(InvalidInput):
        capaian(-1, 2)


def mix(**counts: int) -> list[Predikat]:
    names = {"sb": P.SANGAT_BAIK, "b": P.BAIK, "bp": P.BUTUH_PERBAIKAN, "k": P.KURANG,
             "sk": P.SANGAT_KURANG}
    return [names[k] for k, n in counts.items() for _ in range(n)]


def labels(grade: OrgGrade, people: list[Predikat], rounding: Rounding = Rounding.NEAREST) -> list[str]:
    return [b.rule.label("en") for b in check_distribution(grade, people, rounding)]


def test_istimewa() -> None:
    assert labels(G.ISTIMEWA, mix(sb=7, b=3)) == []
    assert labels(G.ISTIMEWA, mix(sb=8, b=2)) == ["Sangat Baik at most 70%"]


def test_baik() -> None:
    assert labels(G.BAIK, mix(sb=2, b=7, bp=1)) == []
    assert labels(G.BAIK, mix(sb=1, b=8, k=1)) == ["Baik at most 70%"]
    assert labels(G.BAIK, mix(sb=4, b=6)) == ["at least 1 Butuh Perbaikan or Kurang/Misconduct"]


def test_butuh_perbaikan() -> None:
    assert labels(G.BUTUH_PERBAIKAN, mix(bp=6, b=3, sb=1)) == []
    assert labels(G.BUTUH_PERBAIKAN, mix(bp=5, b=5)) == ["Butuh Perbaikan at least 60%"]
    assert labels(G.BUTUH_PERBAIKAN, mix(bp=6, b=2, sb=2)) == ["Sangat Baik at most 10%"]


def test_kurang() -> None:
    assert labels(G.KURANG, mix(k=6, bp=1, b=2, sb=1)) == []
    assert labels(G.KURANG, mix(k=5, bp=2, b=3)) == ["Kurang/Misconduct at least 60%"]
    assert labels(G.KURANG, mix(k=7, b=3)) == ["Butuh Perbaikan at least 10%"]
    assert labels(G.KURANG, mix(k=6, bp=2, sb=2)) == ["Sangat Baik at most 10%"]


def test_sangat_kurang() -> None:
    assert labels(G.SANGAT_KURANG, mix(sk=6, k=2, bp=2)) == []
    assert labels(G.SANGAT_KURANG, mix(sk=5, k=5)) == ["Sangat Kurang at least 60%"]
    assert labels(G.SANGAT_KURANG, mix(sk=9, b=1)) == [
        "Butuh Perbaikan or Kurang/Misconduct at least 10%"]
    assert labels(G.SANGAT_KURANG, mix(sk=7, k=2, sb=1)) == ["Sangat Baik at most 0%"]


def test_small_units_follow_the_rounding_rule() -> None:
    three = mix(sb=2, b=1)  # 67% Sangat Baik: 70% of 3 is 2.1 people
    assert labels(G.ISTIMEWA, three) == []
    four_bp = mix(bp=2, b=2)  # 60% of 4 is 2.4 people
    assert labels(G.BUTUH_PERBAIKAN, four_bp, Rounding.NEAREST) == []
    assert labels(G.BUTUH_PERBAIKAN, four_bp, Rounding.STRICT) == ["Butuh Perbaikan at least 60%"]
    five = mix(b=4, bp=1)  # 70% of 5 = 3.5: nearest allows 4, strict 3
    assert labels(G.BAIK, five, Rounding.NEAREST) == []
    assert labels(G.BAIK, five, Rounding.STRICT) == ["Baik at most 70%"]
    assert labels(G.BAIK, mix(b=1, bp=1), Rounding.LENIENT) == []
    # "at least one" is a head count whatever the size
    assert labels(G.BAIK, mix(sb=1, b=1), Rounding.LENIENT) == [
        "at least 1 Butuh Perbaikan or Kurang/Misconduct"]


def test_breach_says_found_and_allowed() -> None:
    [breach] = check_distribution(G.ISTIMEWA, mix(sb=9, b=1))
    assert (breach.found, breach.total, breach.allowed) == (9, 10, 7)
    assert breach.message("id") == "Sangat Baik paling banyak 70%: ditemukan 9 dari 10 (90%), batas 7 orang"


@pytest.mark.parametrize("jenjang", sorted(KOEFISIEN))
def test_angka_kredit_for_each_jenjang(jenjang: str) -> None:
    k = KOEFISIEN[jenjang]
    assert angka_kredit(jenjang, P.SANGAT_BAIK) == pytest.approx(k * 1.5)
    assert angka_kredit(jenjang, P.BAIK) == pytest.approx(k)
    assert angka_kredit(jenjang, P.BUTUH_PERBAIKAN) == pytest.approx(k * 0.75)
    assert angka_kredit(jenjang, P.KURANG) == pytest.approx(k * 0.5)
    assert angka_kredit(jenjang, P.SANGAT_KURANG) == pytest.approx(k * 0.25)


def test_angka_kredit_known_values_and_unknown_jenjang() -> None:
    assert angka_kredit("Ahli Muda", P.BAIK) == 25.0
    assert angka_kredit("Pemula", P.SANGAT_BAIK) == 5.625
    with pytest.raises(InvalidInput, match="Jenjang"):
        angka_kredit("Madya", P.BAIK)


def test_ikm_grade_boundaries() -> None:
    assert ikm([[4] * 9]).value == 100.0 and ikm([[4] * 9]).grade == "A"
    assert ikm([[1] * 9]).value == 25.0 and ikm([[1] * 9]).grade == "D"
    assert ikm([[3] * 9, [4] * 9]).value == 87.5 and ikm([[3] * 9, [4] * 9]).grade == "B"
    assert ikm([[3] * 9]).value == 75.0 and ikm([[3] * 9]).grade == "C"
    assert ikm([[2] * 9, [3] * 9]).value == 62.5 and ikm([[2] * 9, [3] * 9]).grade == "D"
    assert [ikm_grade(v) for v in (88.31, 88.30, 76.61, 76.60, 65.0, 64.99)] == \
        ["A", "B", "B", "C", "C", "D"]


def test_ikm_rejects_bad_answers() -> None:
    with pytest.raises(InvalidInput, match="ke-2"):
        ikm([[4] * 9, [5] * 9])
    with pytest.raises(InvalidInput):
        ikm([[4] * 8])
    with pytest.raises(InvalidInput):
        ikm([])
