"""What the HR console and the HR JSON API both do, written once."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from api.launcher import Launcher
from kinerja.runtime import Runtime
from models.repo import cycles
from models.repo.planning import planning_counts
from models.rules import calendar
from models.rules.enums import CycleStatus, StageCode
from models.rules.errors import InvalidInput
from models.tables import Cycle, CycleStage


class CalendarIn(BaseModel):
    """Planning stage dates as wall-clock times in the cycle's time zone (YYYY-MM-DDTHH:MM)."""

    opens_at: datetime
    due_at: datetime
    approve_due_at: datetime
    closes_at: datetime
    version: int | None = Field(default=None, description="the version you read (409 if stale)")


class CycleIn(BaseModel):
    tahun: int = Field(ge=2000, le=2100)
    nama: str = ""
    planning: CalendarIn | None = None


class RemindersIn(BaseModel):
    offsets: str = Field(description="relative to the due date, e.g. '-3d, -1d, 1d, 3d'")
    review_sla_minutes: int = Field(ge=0, le=365 * 1440)


def to_stage(data: CalendarIn, tz: str) -> calendar.StageDates:
    def utc(v: datetime) -> datetime:
        return calendar.to_utc(v.replace(tzinfo=None), tz) if v.tzinfo is None else v
    return calendar.StageDates(StageCode.PERENCANAAN, utc(data.opens_at), utc(data.due_at),
                               utc(data.approve_due_at), utc(data.closes_at))


def create_cycle(rt: Runtime, session: Session, data: CycleIn, actor: str) -> Cycle:
    tz = rt.api.timezone
    planning = to_stage(data.planning, tz) if data.planning else None
    return cycles.create_cycle(session=session, tahun=data.tahun, nama=data.nama, timezone=tz,
                               planning=planning, now=rt.clock.now(), actor=actor)


def set_calendar(rt: Runtime, session: Session, cycle_id: int, data: CalendarIn,
                 actor: str) -> CycleStage:
    cycle = cycles.get_cycle(session=session, cycle_id=cycle_id)
    return cycles.update_stage(session=session, cycle_id=cycle_id,
                               dates=to_stage(data, cycle.timezone),
                               expected_version=data.version, now=rt.clock.now(), actor=actor)


def set_reminders(rt: Runtime, session: Session, cycle_id: int, data: RemindersIn,
                  actor: str) -> Cycle:
    offsets = calendar.parse_offsets(data.offsets)
    if not offsets:
        raise InvalidInput("Isi minimal satu jarak pengingat.", "Give at least one reminder offset.")
    return cycles.update_reminders(session=session, cycle_id=cycle_id, offsets=offsets,
                                   review_sla_minutes=data.review_sla_minutes,
                                   now=rt.clock.now(), actor=actor)


async def launch(rt: Runtime, session: Session, launcher: Launcher, cycle_id: int,
                 actor: str) -> Cycle:
    """Start the orchestrator once; a second launch returns the first run and does nothing."""
    cycle = cycles.get_cycle(session=session, cycle_id=cycle_id)
    if cycle.status != CycleStatus.DRAFT:
        return cycle
    stage = cycles.get_stage(session=session, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
    calendar.ensure_launchable(cycles.stage_dates(stage), rt.clock.now())
    run_id = await launcher.launch(cycle_id)
    return cycles.mark_launched(session=session, cycle=cycle, flow_run_id=run_id,
                                now=rt.clock.now(), actor=actor)


def cycle_summary(rt: Runtime, session: Session, cycle_id: int) -> dict[str, object]:
    cycle = cycles.get_cycle(session=session, cycle_id=cycle_id)
    stage = cycles.get_stage(session=session, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
    tz = cycle.timezone

    def local(v: datetime | None) -> str | None:
        return calendar.to_local(v, tz).strftime("%Y-%m-%dT%H:%M") if v else None
    return {
        "id": cycle.id, "tahun": cycle.tahun, "nama": cycle.nama, "status": cycle.status,
        "timezone": tz, "launched_at": cycle.launched_at, "flow_run_id": cycle.launch_flow_run_id,
        "reminder_offsets": calendar.format_offsets(cycle.reminder_offsets),
        "review_sla_minutes": cycle.review_sla_minutes,
        "perencanaan": {"opens_at": local(stage.opens_at), "due_at": local(stage.due_at),
                        "approve_due_at": local(stage.approve_due_at),
                        "closes_at": local(stage.closes_at), "opened_at": stage.opened_at,
                        "closed_at": stage.closed_at, "version": stage.version},
        "progress": planning_counts(session=session, cycle_id=cycle_id, now=rt.clock.now()),
    }
