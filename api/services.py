"""What the HR console and the HR JSON API both do, written once."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from api.launcher import Launcher
from kinerja.runtime import Runtime
from models.repo import cycles, transfer
from models.repo.monitoring import period_counts
from models.repo.planning import planning_counts
from models.rules import calendar, periods
from models.rules.enums import CycleStatus, StageCode
from models.rules.errors import InvalidInput
from models.tables import Cycle, CycleStage, Pegawai

COUNTS = ("peserta", "dilaporkan", "dinilai", "belum_dinilai")


class CalendarIn(BaseModel):
    """A stage's dates as wall-clock times in the cycle's time zone (YYYY-MM-DDTHH:MM)."""

    opens_at: datetime
    due_at: datetime
    approve_due_at: datetime
    closes_at: datetime
    version: int | None = Field(default=None, description="the version you read (409 if stale)")


class CycleIn(BaseModel):
    tahun: int = Field(ge=2000, le=2100)
    nama: str = ""
    periodisasi: str = Field(default="triwulanan", description="'triwulanan' or 'bulanan'")
    planning: CalendarIn | None = None


class PeriodisasiIn(BaseModel):
    periodisasi: str = Field(description="'triwulanan' (quarterly) or 'bulanan' (monthly)")


class Pengaturan360In(BaseModel):
    """The cycle's 360 rule (until the stage opens) and threshold (until it closes)."""

    ikut_ppk: bool = True
    ikut_diri: bool = True
    maks_rekan: int = Field(default=3, ge=0, le=10)
    maks_bawahan: int = Field(default=3, ge=0, le=10)
    maks_form: int = Field(default=8, ge=1, le=30)
    ambang: int = Field(default=3, ge=2, le=10)


def feedback_summary(session: Session, cycle: Cycle) -> dict[str, object] | None:
    from sqlalchemy import select

    from models.repo import umpan_balik

    stage = session.execute(select(CycleStage).where(
        CycleStage.cycle_id == cycle.id, CycleStage.code == StageCode.UMPAN_BALIK)).scalar()
    if stage is None:
        return None
    settings = umpan_balik.settings_of(session=session, cycle_id=cycle.id)
    return stage_summary(stage, cycle.timezone) | {
        "pengaturan": {k: v for k, v in settings.model_dump().items() if k != "cycle_id"},
        "progress": umpan_balik.progress(session=session, cycle_id=cycle.id)}


def set_feedback_settings(rt: Runtime, session: Session, cycle_id: int, data: Pengaturan360In,
                          actor: str) -> dict[str, object]:
    from models.repo import umpan_balik

    umpan_balik.update_settings(session=session, cycle_id=cycle_id, values=data.model_dump(),
                                now=rt.clock.now(), actor=actor)
    return feedback_summary(session, cycles.get_cycle(session=session, cycle_id=cycle_id))


class AtasanIn(BaseModel):
    atasan_nip: str = Field(description="NIP of the new superior (PPK)")


class RemindersIn(BaseModel):
    offsets: str = Field(description="relative to the due date, e.g. '-3d, -1d, 1d, 3d'")
    review_sla_minutes: int = Field(ge=0, le=365 * 1440)


def to_stage(data: CalendarIn, tz: str, code: StageCode,
             periode: int = 0) -> calendar.StageDates:
    def utc(v: datetime) -> datetime:
        return calendar.to_utc(v.replace(tzinfo=None), tz) if v.tzinfo is None else v
    return calendar.StageDates(code, utc(data.opens_at), utc(data.due_at),
                               utc(data.approve_due_at), utc(data.closes_at), periode)


def create_cycle(rt: Runtime, session: Session, data: CycleIn, actor: str) -> Cycle:
    tz = rt.api.timezone
    planning = to_stage(data.planning, tz, StageCode.PERENCANAAN) if data.planning else None
    return cycles.create_cycle(session=session, tahun=data.tahun, nama=data.nama, timezone=tz,
                               planning=planning, periodisasi=data.periodisasi,
                               now=rt.clock.now(), actor=actor)


def set_calendar(rt: Runtime, session: Session, cycle_id: int, data: CalendarIn, actor: str,
                 code: StageCode = StageCode.PERENCANAAN, periode: int = 0) -> CycleStage:
    """Change one stage's dates (planning, or a monitoring period when `periode` is given)."""
    cycle = cycles.get_cycle(session=session, cycle_id=cycle_id)
    dates = to_stage(data, cycle.timezone, code, periode)
    if code == StageCode.PEMANTAUAN:
        others = [cycles.stage_dates(s) for s in cycles.period_stages(
            session=session, cycle_id=cycle_id) if s.periode != periode]
        cycles.get_stage(session=session, cycle_id=cycle_id, code=code, periode=periode)
        periods.validate_sequence([*others, dates])
    return cycles.update_stage(session=session, cycle_id=cycle_id, dates=dates,
                               expected_version=data.version, now=rt.clock.now(), actor=actor)


def set_periodisasi(rt: Runtime, session: Session, cycle_id: int, data: PeriodisasiIn,
                    actor: str) -> Cycle:
    """Switch quarterly/monthly (the periods get default dates again); only while draft."""
    return cycles.set_periodisasi(session=session, cycle_id=cycle_id,
                                  periodisasi=data.periodisasi, now=rt.clock.now(), actor=actor)


def change_atasan(rt: Runtime, session: Session, nip: str, data: AtasanIn,
                  actor: str) -> tuple[Pegawai, Pegawai]:
    """Give the employee a new superior (PPK); returns (pegawai, new atasan)."""
    pegawai = transfer.change_atasan(session=session, nip=nip, atasan_nip=data.atasan_nip,
                                     now=rt.clock.now(), actor=actor, mail=rt.mail)
    atasan = session.get(Pegawai, pegawai.atasan_id)
    assert atasan is not None
    return pegawai, atasan


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
    """Start the orchestrator once; a second launch returns the first run and does nothing.
    The database work runs in the thread pool: it must never hold the event loop."""
    from starlette.concurrency import run_in_threadpool

    def check() -> Cycle:
        cycle = cycles.get_cycle(session=session, cycle_id=cycle_id)
        if cycle.status == CycleStatus.DRAFT:
            stage = cycles.get_stage(session=session, cycle_id=cycle_id,
                                     code=StageCode.PERENCANAAN)
            calendar.ensure_launchable(cycles.stage_dates(stage), rt.clock.now())
        return cycle

    cycle = await run_in_threadpool(check)
    if cycle.status != CycleStatus.DRAFT:
        return cycle
    run_id = await launcher.launch(cycle_id)
    return await run_in_threadpool(lambda: cycles.mark_launched(
        session=session, cycle=cycle, flow_run_id=run_id, now=rt.clock.now(), actor=actor))


def _local(v: datetime | None, tz: str) -> str | None:
    return calendar.to_local(v, tz).strftime("%Y-%m-%dT%H:%M") if v else None


def stage_summary(stage: CycleStage, tz: str) -> dict[str, object]:
    """Editable dates as local wall-clock strings; what happened as aware datetimes."""
    return {"opens_at": _local(stage.opens_at, tz), "due_at": _local(stage.due_at, tz),
            "approve_due_at": _local(stage.approve_due_at, tz),
            "closes_at": _local(stage.closes_at, tz), "opened_at": stage.opened_at,
            "closed_at": stage.closed_at, "version": stage.version}


def period_summary(session: Session, cycle: Cycle, stage: CycleStage) -> dict[str, object]:
    """One monitoring period: label, range, dates, state and, once opened, counts per unit."""
    units = (period_counts(session=session, cycle_id=cycle.id, periode=stage.periode)
             if stage.opened_at else [])
    state = "ditutup" if stage.closed_at else "dibuka" if stage.opened_at else "belum_dibuka"
    return {"periode": stage.periode, "label": periods.label(stage.periode, cycle.periodisasi),
            "label_en": periods.label(stage.periode, cycle.periodisasi, "en"),
            "tengah_tahun": periods.is_midyear(stage.periode, cycle.periodisasi),
            "period_start": stage.period_start, "period_end": stage.period_end,
            **stage_summary(stage, cycle.timezone), "state": state,
            "totals": {k: sum(int(u[k]) for u in units) for k in COUNTS} if units else None,
            "units": units}


def period_list(session: Session, cycle_id: int) -> list[dict[str, object]]:
    cycle = cycles.get_cycle(session=session, cycle_id=cycle_id)
    return [period_summary(session, cycle, s)
            for s in cycles.period_stages(session=session, cycle_id=cycle_id)]


def cycle_summary(rt: Runtime, session: Session, cycle_id: int) -> dict[str, object]:
    cycle = cycles.get_cycle(session=session, cycle_id=cycle_id)
    stage = cycles.get_stage(session=session, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
    return {
        "id": cycle.id, "tahun": cycle.tahun, "nama": cycle.nama, "status": cycle.status,
        "timezone": cycle.timezone, "launched_at": cycle.launched_at,
        "flow_run_id": cycle.launch_flow_run_id,
        "reminder_offsets": calendar.format_offsets(cycle.reminder_offsets),
        "review_sla_minutes": cycle.review_sla_minutes, "periodisasi": cycle.periodisasi,
        "perencanaan": stage_summary(stage, cycle.timezone),
        "periode": period_list(session, cycle_id),
        "umpan_balik": feedback_summary(session, cycle),
        "progress": planning_counts(session=session, cycle_id=cycle_id, now=rt.clock.now()),
    }
