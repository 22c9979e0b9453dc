"""Monitoring rules: periods from the calendar, capaian per IKI, the suggested rating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.rules import monitoring, periods
from models.rules.calendar import to_local
from models.rules.enums import Periodisasi, Rating
from models.rules.errors import InvalidInput


def test_quarterly_periods_follow_the_year_and_open_after_planning() -> None:
    planning_close = datetime(2027, 2, 7, 9, 0, tzinfo=UTC)  # 16:00 WIB
    ps = periods.default_periods(2027, "triwulanan", not_before=planning_close)
    assert [p.periode for p in ps] == [1, 2, 3, 4]
    local = lambda d: to_local(d, "Asia/Jakarta").replace(tzinfo=None)  # noqa: E731
    assert local(ps[0].period_start) == datetime(2027, 1, 1)
    assert local(ps[0].period_end) == datetime(2027, 4, 1)
    assert ps[0].stage.opens_at == planning_close  # realisasi needs an approved SKP
    assert local(ps[1].stage.opens_at) == datetime(2027, 4, 1, 8)
    assert local(ps[0].stage.due_at) == datetime(2027, 4, 7, 16)
    assert local(ps[0].stage.approve_due_at) == datetime(2027, 4, 14, 16)
    assert local(ps[0].stage.closes_at) == datetime(2027, 4, 21, 16)
    assert local(ps[3].period_end) == datetime(2028, 1, 1)
    assert local(ps[3].stage.closes_at) == datetime(2028, 1, 21, 16)


def test_monthly_periods_and_the_mid_year_review() -> None:
    ps = periods.default_periods(2027, Periodisasi.BULANAN)
    assert len(ps) == 12 and periods.count("bulanan") == 12
    assert [periods.is_midyear(p.periode, "bulanan") for p in ps].index(True) == 5  # June
    assert periods.is_midyear(2, "triwulanan") and not periods.is_midyear(6, "triwulanan")
    local = to_local(ps[1].stage.due_at, "Asia/Jakarta")
    assert (local.month, local.day, local.hour) == (3, 5, 16)  # February's report by 5 March
    assert periods.label(2, "triwulanan") == "Triwulan II"
    assert periods.label(6, "bulanan") == "Juni" and periods.label(6, "bulanan", "en") == "June"


def test_compressed_periods_overlap_like_a_real_year() -> None:
    start = datetime(2027, 1, 1, tzinfo=UTC)
    ps = periods.compressed_periods(start, 10, "triwulanan")
    assert ps[1].stage.opens_at == ps[0].stage.due_at == start + timedelta(minutes=4)
    assert ps[0].stage.closes_at > ps[1].stage.opens_at  # closes after the next one opened
    periods.validate_sequence([p.stage for p in ps])


def test_unknown_period_scheme_is_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match="triwulanan"):
        periods.parse_periodisasi("mingguan")


@pytest.mark.parametrize(("target", "arah", "nilai", "expected"), [
    ("10", "naik", 8, 80.0),            # higher is better
    ("10", "naik", 12.5, 125.0),
    ("5", "turun", 4.5, 110.0),         # lower is better: (2x5 - 4.5) / 5
    ("5", "turun", 12, 0.0),            # far worse than the target: never below 0
    ("0", "naik", 3, 100.0),            # zero target, higher is better: met
    ("0", "turun", 0, 100.0),           # zero target, lower is better: only zero meets it
    ("0", "turun", 1, 0.0),
    ("Sesuai standar", "naik", 1, None),  # a qualitative target: no capaian
    ("10", "naik", None, None),         # no realisasi yet
    ("95%", "naik", 95, 100.0),
])
def test_capaian_per_iki(target: str, arah: str, nilai: float | None, expected: float | None) -> None:
    assert monitoring.capaian_iki(target, arah, nilai) == expected


def test_realisasi_is_a_number_for_quantitative_and_text_for_qualitative_iki() -> None:
    assert monitoring.parse_realisasi("kuantitatif", "12,5").nilai == 12.5
    assert monitoring.parse_realisasi("kuantitatif", "1.234,5").nilai == 1234.5
    assert monitoring.parse_realisasi("kuantitatif", "  ") is None
    assert monitoring.parse_realisasi("kualitatif", "Sesuai SOP").uraian == "Sesuai SOP"
    with pytest.raises(InvalidInput, match="Waktu layanan"):
        monitoring.parse_realisasi("kuantitatif", "cepat", "Waktu layanan")
    with pytest.raises(InvalidInput, match="negatif"):
        monitoring.parse_realisasi("kuantitatif", "-3")
    with pytest.raises(InvalidInput, match="terlalu panjang"):
        monitoring.parse_realisasi("kualitatif", "x" * 2001)


@pytest.mark.parametrize(("items", "expected"), [
    ([(120, True), (115, False), (100, False)], Rating.DI_ATAS),
    ([(120, False), (115, False), (80, True)], Rating.SESUAI),   # an RHK utama below: not Di Atas
    ([(80, True), (90, False), (120, False)], Rating.DI_BAWAH),  # most below
    ([(100, True), (105, False)], Rating.SESUAI),
    ([(None, True), (130, True)], Rating.DI_ATAS),                # qualitative IKI do not count
    ([(None, True)], None),                                       # nothing computable: no hint
    ([], None),
])
def test_the_suggested_rating_hasil_kerja(items: list, expected: Rating | None) -> None:
    assert monitoring.saran_hasil_kerja(items) == expected


def test_monthly_default_after_planning_keeps_calendar_months() -> None:
    planning_close = datetime(2027, 2, 7, 9, 0, tzinfo=UTC)  # 16:00 WIB
    ps = periods.default_periods(2027, "bulanan", not_before=planning_close)
    local = lambda d: to_local(d, "Asia/Jakarta").replace(tzinfo=None)  # noqa: E731
    # January ended before planning closed: it opens then and gets its full reporting time
    assert ps[0].stage.opens_at == planning_close
    assert local(ps[0].stage.due_at) == datetime(2027, 2, 12, 16)
    assert ps[0].stage.opens_at <= ps[0].stage.due_at <= ps[0].stage.approve_due_at
    assert local(ps[1].stage.due_at) == datetime(2027, 3, 5, 16)  # February as usual
    assert local(ps[5].period_start) == datetime(2027, 6, 1)
    periods.validate_sequence([p.stage for p in ps])
