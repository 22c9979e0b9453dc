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


def keberatan_due(published_at: datetime, days: int) -> datetime:
    """The last moment a keberatan can be filed."""
    return published_at + timedelta(days=days)
