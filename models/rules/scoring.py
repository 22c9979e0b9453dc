"""Scoring rules of PermenPANRB 6/2022 as plain functions: the predikat matrix, capaian, the
distribution curve per unit grade, angka kredit and the public-survey IKM.

Tables marked (verify) in domain.md are data here (module constants that callers may replace),
not logic. Enum values are the official spellings so exports match.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from models.rules.enums import OrgGrade, Predikat, Rating
from models.rules.errors import InvalidInput

#: low to high
PREDIKAT_ORDER = (Predikat.SANGAT_KURANG, Predikat.KURANG, Predikat.BUTUH_PERBAIKAN,
                  Predikat.BAIK, Predikat.SANGAT_BAIK)


R, P = Rating, Predikat
#: (hasil kerja, perilaku) -> predikat: the official matrix
MATRIX: Mapping[tuple[Rating, Rating], Predikat] = {
    (R.DI_ATAS, R.DI_BAWAH): P.KURANG, (R.DI_ATAS, R.SESUAI): P.BAIK,
    (R.DI_ATAS, R.DI_ATAS): P.SANGAT_BAIK,
    (R.SESUAI, R.DI_BAWAH): P.KURANG, (R.SESUAI, R.SESUAI): P.BAIK, (R.SESUAI, R.DI_ATAS): P.BAIK,
    (R.DI_BAWAH, R.DI_BAWAH): P.SANGAT_KURANG, (R.DI_BAWAH, R.SESUAI): P.BUTUH_PERBAIKAN,
    (R.DI_BAWAH, R.DI_ATAS): P.BUTUH_PERBAIKAN,
}


def predikat(hasil_kerja: Rating, perilaku: Rating) -> Predikat:
    """The predikat kinerja pegawai from the two ratings."""
    return MATRIX[(Rating(hasil_kerja), Rating(perilaku))]


def capaian(target: float, realisasi: float, lower_is_better: bool = False) -> float:
    """Attainment of one IKI in percent (a suggestion, never the rating itself).

    Higher is better: realisasi / target x 100. Lower is better (costs, complaints, days):
    (2 x target - realisasi) / target x 100, never below 0, so meeting the target is 100% and
    needing nothing at all is 200%. A zero target: higher-is-better is met by anything (100%);
    lower-is-better is met only by zero (100%), anything above is 0%.
    """
    if target < 0 or realisasi < 0:
        raise InvalidInput("Target dan realisasi tidak boleh negatif.",
                           "Target and realisasi must not be negative.")
    if target == 0:
        return 100.0 if (not lower_is_better or realisasi == 0) else 0.0
    if lower_is_better:
        return round(max(0.0, (2 * target - realisasi) / target * 100), 2)
    return round(realisasi / target * 100, 2)


class Rounding(StrEnum):
    """How a share limit becomes a head count in a unit of n people (the regulation is silent).

    NEAREST (default): count = share x n rounded half up, for "at most" and "at least" alike;
    STRICT: "at most" rounds down and "at least" rounds up (never looser than the share);
    LENIENT: "at most" rounds up and "at least" rounds down (never stricter than the share).
    """

    NEAREST = "nearest"
    STRICT = "strict"
    LENIENT = "lenient"


@dataclass(frozen=True)
class CurveRule:
    """At most / at least `share` of the unit (or `count` people) with a predikat in `of`."""

    of: frozenset[Predikat]
    kind: str  # "at_most" | "at_least"
    share: float
    min_count: int = 0  # "at least one": a count rule on top of (or instead of) the share

    def label(self, lang: str = "id") -> str:
        names = " atau ".join(sorted(p.value for p in self.of)) if lang == "id" else \
            " or ".join(sorted(p.value for p in self.of))
        if self.min_count and not self.share:
            return (f"minimal {self.min_count} orang {names}" if lang == "id"
                    else f"at least {self.min_count} {names}")
        pct = f"{self.share:.0%}"
        if self.kind == "at_most":
            return f"{names} paling banyak {pct}" if lang == "id" else f"{names} at most {pct}"
        return f"{names} paling sedikit {pct}" if lang == "id" else f"{names} at least {pct}"


def _r(*of: Predikat) -> frozenset[Predikat]:
    return frozenset(of)


#: SE MenPANRB 3/2023 (verify): the predikat mix each unit grade allows
CURVE: Mapping[OrgGrade, tuple[CurveRule, ...]] = {
    OrgGrade.ISTIMEWA: (CurveRule(_r(P.SANGAT_BAIK), "at_most", 0.70),),
    OrgGrade.BAIK: (CurveRule(_r(P.BAIK), "at_most", 0.70),
                    CurveRule(_r(P.BUTUH_PERBAIKAN, P.KURANG), "at_least", 0.0, min_count=1)),
    OrgGrade.BUTUH_PERBAIKAN: (CurveRule(_r(P.BUTUH_PERBAIKAN), "at_least", 0.60),
                               CurveRule(_r(P.SANGAT_BAIK), "at_most", 0.10)),
    OrgGrade.KURANG: (CurveRule(_r(P.KURANG), "at_least", 0.60),
                      CurveRule(_r(P.BUTUH_PERBAIKAN), "at_least", 0.10),
                      CurveRule(_r(P.SANGAT_BAIK), "at_most", 0.10)),
    OrgGrade.SANGAT_KURANG: (CurveRule(_r(P.SANGAT_KURANG), "at_least", 0.60),
                             CurveRule(_r(P.KURANG, P.BUTUH_PERBAIKAN), "at_least", 0.10),
                             CurveRule(_r(P.SANGAT_BAIK), "at_most", 0.0)),
}


@dataclass(frozen=True)
class Breach:
    """One curve rule a unit breaks: the share found against the share allowed."""

    rule: CurveRule
    found: int
    total: int
    allowed: int  # the head-count limit after rounding

    @property
    def found_share(self) -> float:
        return self.found / self.total if self.total else 0.0

    def message(self, lang: str = "id") -> str:
        if lang == "en":
            return (f"{self.rule.label('en')}: found {self.found} of {self.total} "
                    f"({self.found_share:.0%}), allowed {self.allowed}")
        return (f"{self.rule.label('id')}: ditemukan {self.found} dari {self.total} "
                f"({self.found_share:.0%}), batas {self.allowed} orang")


def _limit(rule: CurveRule, n: int, rounding: Rounding) -> int:
    exact = rule.share * n
    if rounding == Rounding.NEAREST:
        count = int(Decimal(str(exact)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    elif (rule.kind == "at_most") == (rounding == Rounding.STRICT):
        count = math.floor(exact + 1e-9)
    else:
        count = math.ceil(exact - 1e-9)
    return max(count, rule.min_count) if rule.kind == "at_least" else count


def check_distribution(org_grade: OrgGrade, predikat_list: Iterable[Predikat],
                       rounding: Rounding = Rounding.NEAREST,
                       curve: Mapping[OrgGrade, Sequence[CurveRule]] = CURVE) -> list[Breach]:
    """Every curve rule of the unit's grade that its employees' predikat break (empty: fits)."""
    counts = Counter(Predikat(p) for p in predikat_list)
    n = sum(counts.values())
    breaches = []
    for rule in curve[OrgGrade(org_grade)]:
        found = sum(counts[p] for p in rule.of)
        allowed = _limit(rule, n, Rounding(rounding))
        if (rule.kind == "at_most" and found > allowed) or \
                (rule.kind == "at_least" and found < allowed):
            breaches.append(Breach(rule, found, n, allowed))
    return breaches


#: (verify) angka kredit coefficient per jenjang of a functional post
KOEFISIEN: Mapping[str, float] = {
    "Ahli Pertama": 12.5, "Ahli Muda": 25.0, "Ahli Madya": 37.5, "Ahli Utama": 50.0,
    "Pemula": 3.75, "Terampil": 5.0, "Mahir": 12.5, "Penyelia": 25.0,
}
#: (verify) share of the coefficient earned per predikat
PERSEN_ANGKA_KREDIT: Mapping[Predikat, float] = {
    P.SANGAT_BAIK: 1.50, P.BAIK: 1.00, P.BUTUH_PERBAIKAN: 0.75, P.KURANG: 0.50,
    P.SANGAT_KURANG: 0.25,
}


def angka_kredit(jenjang: str, predikat: Predikat,
                 koefisien: Mapping[str, float] = KOEFISIEN) -> float:
    """Yearly credit points of a functional post: koefisien x the predikat's percentage."""
    if jenjang not in koefisien:
        raise InvalidInput(f"Jenjang '{jenjang}' tidak dikenal untuk angka kredit.",
                           f"Unknown jenjang '{jenjang}' for credit points.")
    return round(koefisien[jenjang] * PERSEN_ANGKA_KREDIT[Predikat(predikat)], 4)


SKM_ELEMENTS = ("persyaratan", "sistem, mekanisme, prosedur", "waktu", "biaya/tarif",
                "produk layanan", "kompetensi pelaksana", "perilaku pelaksana",
                "penanganan pengaduan", "sarana prasarana")
#: (verify) PermenPANRB 14/2017 grades: lower bound of IKM for each
IKM_GRADES = (("A", 88.31), ("B", 76.61), ("C", 65.00), ("D", 0.0))


@dataclass(frozen=True)
class Ikm:
    value: float
    grade: str
    element_means: tuple[float, ...]
    responses: int


def ikm_grade(value: float) -> str:
    """A (>= 88.31), B (76.61 to 88.30), C (65.00 to 76.60) or D (below 65)."""
    return next(g for g, low in IKM_GRADES if round(value, 2) >= low)


def ikm(answers: Iterable[Sequence[int]]) -> Ikm:
    """The unit's IKM: the mean of the nine element means (answers 1..4) x 25, with its grade."""
    rows = [tuple(a) for a in answers]
    if not rows:
        raise InvalidInput("Belum ada jawaban survei.", "No survey answers yet.")
    for n, row in enumerate(rows, start=1):
        if len(row) != len(SKM_ELEMENTS) or any(v not in (1, 2, 3, 4) for v in row):
            raise InvalidInput(f"Jawaban ke-{n} harus 9 nilai 1 sampai 4.",
                               f"Answer {n} must be nine values from 1 to 4.")
    means = tuple(sum(r[i] for r in rows) / len(rows) for i in range(len(SKM_ELEMENTS)))
    value = round(sum(means) / len(means) * 25, 2)
    return Ikm(value, ikm_grade(value), tuple(round(m, 3) for m in means), len(rows))
