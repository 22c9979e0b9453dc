"""The stage calendar: defaults from domain.md, validation, and what is due to run now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.rules.enums import StageCode
from models.rules.errors import InvalidInput, InvalidTransition

DEFAULT_REMINDER_OFFSETS_MINUTES = (-3 * 1440, -1 * 1440, 1 * 1440, 3 * 1440)
DEFAULT_REVIEW_SLA_MINUTES = 3 * 1440
MAX_OFFSET_MINUTES = 365 * 1440


@dataclass(frozen=True)
class StageDates:
    """One stage's dates, aware UTC. due_at: the pegawai's deadline; approve_due_at: the PPK's."""

    code: StageCode
    opens_at: datetime
    due_at: datetime
    approve_due_at: datetime
    closes_at: datetime
    periode: int = 0  # the monitoring period, 0 for a yearly stage


def to_utc(local: datetime, tz: str) -> datetime:
    """A wall-clock time in the agency's zone -> aware UTC."""
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def to_local(utc: datetime, tz: str) -> datetime:
    """Aware UTC -> wall-clock time in the agency's zone (aware)."""
    return utc.astimezone(ZoneInfo(tz))


def default_planning(year: int, tz: str = "Asia/Jakarta") -> StageDates:
    """Planning in January: opens on the 2nd, SKP due the 20th, approval the 31st, closes 7 Feb."""
    at = lambda m, d, h: to_utc(datetime.combine(date(year, m, d), time(h)), tz)  # noqa: E731
    return StageDates(StageCode.PERENCANAAN, at(1, 2, 8), at(1, 20, 16), at(1, 31, 16), at(2, 7, 16))


def compressed_planning(start: datetime, minutes: int) -> StageDates:
    """A planning stage squeezed into `minutes` from `start` (demo and simulation)."""
    step = timedelta(minutes=minutes) / 10
    return StageDates(StageCode.PERENCANAAN, start, start + 4 * step, start + 7 * step,
                      start + 10 * step)


def validate(stage: StageDates) -> None:
    """Dates must run opens <= due <= approve_due <= closes, with the stage not empty."""
    order = [("dibuka", "opens", stage.opens_at), ("batas pengajuan", "due", stage.due_at),
             ("batas persetujuan", "approval due", stage.approve_due_at),
             ("ditutup", "closes", stage.closes_at)]
    for (a_id, a_en, a), (b_id, b_en, b) in zip(order, order[1:], strict=False):
        if b < a:
            raise InvalidInput(f"Tanggal '{b_id}' tidak boleh sebelum '{a_id}'.",
                               f"The '{b_en}' date must not be before '{a_en}'.")
    if stage.closes_at <= stage.opens_at:
        raise InvalidInput("Tahap harus ditutup setelah dibuka.", "A stage must close after it opens.")


def stage_actions(stage: StageDates, opened: bool, closed: bool, now: datetime) -> list[str]:
    """What the orchestrator must do for this stage now: 'open', 'close', both, or nothing."""
    actions = []
    if not opened and now >= stage.opens_at:
        actions.append("open")
    if not closed and now >= stage.closes_at:
        actions.append("close")
    return actions


def ensure_launchable(stage: StageDates, now: datetime) -> None:
    """A cycle can be launched only while its stage can still run to its closing date."""
    if stage.closes_at <= now:
        raise InvalidTransition("cycle", "past", "launch",
                                "Tanggal tutup perencanaan sudah lewat; ubah kalender dahulu, "
                                "lalu luncurkan.",
                                "The planning stage's closing date has passed; change the "
                                "calendar first, then launch.")


def next_event(stage: StageDates, opened: bool, closed: bool) -> datetime | None:
    """When this stage next needs the orchestrator, or None when it is done."""
    if not opened:
        return stage.opens_at
    if not closed:
        return stage.closes_at
    return None


def parse_offsets(text: str) -> tuple[int, ...]:
    """'-3d, -1d, 1d, 3d' or '-30m, 2h' -> minutes; rejects anything else."""
    units = {"m": 1, "h": 60, "d": 1440}
    out = []
    for raw in text.split(","):
        item = raw.strip().lower()
        if not item:
            continue
        unit = item[-1]
        try:
            value = int(item[:-1]) if unit in units else int(item)
        except ValueError:
            raise InvalidInput(
                f"Jarak pengingat '{raw.strip()}' tidak dikenali (contoh: -3d, 1d, 2h).",
                f"Reminder offset '{raw.strip()}' is not understood (e.g. -3d, 1d, 2h).") from None
        minutes = value * units.get(unit, 1440)
        if abs(minutes) > MAX_OFFSET_MINUTES:
            raise InvalidInput(f"Jarak pengingat '{raw.strip()}' melebihi 365 hari.",
                               f"Reminder offset '{raw.strip()}' is beyond 365 days.")
        out.append(minutes)
    return tuple(sorted(set(out)))


def format_offsets(offsets: tuple[int, ...] | list[int]) -> str:
    def one(m: int) -> str:
        if m % 1440 == 0:
            return f"{m // 1440}d"
        if m % 60 == 0:
            return f"{m // 60}h"
        return f"{m}m"
    return ", ".join(one(m) for m in offsets)
