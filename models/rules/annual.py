"""The annual rating stage (penilaian) calendar and the appeal window."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from models.rules.calendar import StageDates, to_utc
from models.rules.enums import StageCode

DEFAULT_KEBERATAN_HARI = 14


def default_stage(year: int, tz: str = "Asia/Jakarta") -> StageDates:
    """After the year: opens 2 January of the next year; realisasi completed by the 10th, the
    PPK's ratings due the 20th, calibration and HR's publication decision by the 31st."""
    at = lambda d, h: to_utc(datetime.combine(date(year + 1, 1, d), time(h)), tz)  # noqa: E731
    return StageDates(StageCode.PENILAIAN, at(2, 8), at(10, 16), at(20, 16), at(31, 16))


def compressed_stage(start: datetime, minutes: int) -> StageDates:
    step = timedelta(minutes=minutes) / 10
    return StageDates(StageCode.PENILAIAN, start, start + 3 * step, start + 6 * step,
                      start + 10 * step)


def keberatan_due(published_at: datetime, days: float) -> datetime:
    """The last moment a keberatan can be filed."""
    return published_at + timedelta(days=days)


def hasil_kerja_of_unit(grade: str) -> str:
    """A unit head's rating hasil kerja is the unit's grade (capaian kinerja organisasi):
    Istimewa is above expectation, Baik as expected, the three lower grades below."""
    from models.rules.enums import OrgGrade, Rating

    return {OrgGrade.ISTIMEWA: Rating.DI_ATAS, OrgGrade.BAIK: Rating.SESUAI}.get(
        OrgGrade(grade), Rating.DI_BAWAH).value


def saran_perilaku(aggregate: list[tuple[int, int, int]] | None,
                   periodic: list[str]) -> str | None:
    """A suggested rating perilaku: from the 360 aggregate when there is one (counts of di
    bawah / sesuai / di atas per value: most answers above -> Di Atas, most below -> Di Bawah),
    else the most frequent periodic rating perilaku (the latest on a tie). A suggestion only."""
    from collections import Counter

    from models.rules.enums import Rating

    if aggregate:
        below = sum(a for a, _, _ in aggregate)
        ok = sum(b for _, b, _ in aggregate)
        above = sum(c for _, _, c in aggregate)
        total = below + ok + above
        if total:
            if above * 2 > total:
                return Rating.DI_ATAS.value
            if below * 2 > total:
                return Rating.DI_BAWAH.value
            return Rating.SESUAI.value
    if periodic:
        counts = Counter(periodic)
        best = max(counts.values())
        return next(r for r in reversed(periodic) if counts[r] == best)
    return None
