"""Monitoring periods from the cycle calendar: quarterly by default, monthly as an option.

A period covers period_start..period_end (exclusive) and is a stage of its own: it opens at the
start of the period (tasks and invitations), the pegawai reports by due_at, the PPK rates by
approve_due_at, and it closes at closes_at, after which its records are read-only. The second
quarter (June, monthly) is the mid-year review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.rules.calendar import StageDates, to_utc
from models.rules.enums import Periodisasi, StageCode
from models.rules.errors import InvalidInput

ROMAN = ("I", "II", "III", "IV")
BULAN_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
            "September", "Oktober", "November", "Desember")
BULAN_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December")

#: days after the period's end: (pegawai reports, PPK rates, the period closes)
DEADLINES_DAYS = {Periodisasi.TRIWULANAN: (7, 14, 21), Periodisasi.BULANAN: (5, 10, 14)}


@dataclass(frozen=True)
class Period:
    periode: int
    period_start: datetime  # aware UTC
    period_end: datetime  # aware UTC, exclusive
    stage: StageDates


def count(periodisasi: Periodisasi | str) -> int:
    return 4 if Periodisasi(periodisasi) == Periodisasi.TRIWULANAN else 12


def is_midyear(periode: int, periodisasi: Periodisasi | str) -> bool:
    """The mid-year review: the second quarter, or June."""
    return periode == (2 if Periodisasi(periodisasi) == Periodisasi.TRIWULANAN else 6)


def label(periode: int, periodisasi: Periodisasi | str, lang: str = "id") -> str:
    if Periodisasi(periodisasi) == Periodisasi.TRIWULANAN:
        return (f"Quarter {periode}" if lang == "en" else f"Triwulan {ROMAN[periode - 1]}")
    return (BULAN_EN if lang == "en" else BULAN_ID)[periode - 1]


def default_periods(year: int, periodisasi: Periodisasi | str, tz: str = "Asia/Jakarta",
                    not_before: datetime | None = None) -> list[Period]:
    """The year's periods with their deadlines; none opens before `not_before` (the close of
    planning), since realisasi needs an approved SKP."""
    kind = Periodisasi(periodisasi)
    months = 3 if kind == Periodisasi.TRIWULANAN else 1
    report, rate, close = DEADLINES_DAYS[kind]
    out = []
    for k in range(1, count(kind) + 1):
        first = date(year, (k - 1) * months + 1, 1)
        nxt = date(year + 1, 1, 1) if k * months == 12 else date(year, k * months + 1, 1)
        start, end = to_utc(datetime.combine(first, time(0)), tz), to_utc(
            datetime.combine(nxt, time(0)), tz)
        opens = max(to_utc(datetime.combine(first, time(8)), tz), not_before or start)
        # a period that ended before planning closed (January, monthly) counts from its opening
        base = max(nxt, (opens.astimezone(ZoneInfo(tz)) + timedelta(days=1)).date())

        def at(days: int, base: date = base) -> datetime:  # 16:00 on the n-th day after `base`
            return to_utc(datetime.combine(base + timedelta(days=days - 1), time(16)), tz)
        out.append(Period(k, start, end, StageDates(StageCode.PEMANTAUAN, opens, at(report),
                                                    at(rate), at(close), periode=k)))
    return out


def compressed_periods(start: datetime, minutes: int, periodisasi: Periodisasi | str) -> list[Period]:
    """Periods squeezed for a demo or a simulation, as in a real year: each runs 40% of
    `minutes` and the next starts when it ends; reporting is due at its end, rating at 70% of
    `minutes` from its start, closing at 100% (so a period closes after the next one opened)."""
    step = timedelta(minutes=minutes) / 10
    out = []
    for k in range(1, count(periodisasi) + 1):
        s = start + (k - 1) * 4 * step
        out.append(Period(k, s, s + 4 * step, StageDates(StageCode.PEMANTAUAN, s, s + 4 * step,
                                                         s + 7 * step, s + 10 * step, periode=k)))
    return out


def validate_sequence(stages: list[StageDates]) -> None:
    """Each period opens no earlier than the one before it."""
    ordered = sorted(stages, key=lambda s: s.periode)
    for prev, cur in zip(ordered, ordered[1:], strict=False):
        if cur.opens_at < prev.opens_at:
            raise InvalidInput(
                f"Periode {cur.periode} tidak boleh dibuka sebelum periode {prev.periode}.",
                f"Period {cur.periode} must not open before period {prev.periode}.")


def parse_periodisasi(value: str) -> Periodisasi:
    try:
        return Periodisasi(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Periodisasi '{value}' tidak dikenal; pilih 'triwulanan' atau 'bulanan'.",
            f"Unknown period scheme '{value}'; choose 'triwulanan' (quarterly) or 'bulanan' "
            "(monthly).") from None
