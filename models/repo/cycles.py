"""Cycles and their stage calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from models.repo.audit import record
from models.repo.locking import bump_version
from models.rules import annual, calendar, feedback, periods
from models.rules.enums import CycleStatus, Periodisasi, StageCode, TaskKind, TaskStatus
from models.rules.errors import InvalidInput, InvalidTransition
from models.tables import Cycle, CycleStage, Task


class NotFound(InvalidInput):
    """A referenced row does not exist (HTTP 404)."""


def get_cycle(*, session: Session, cycle_id: int) -> Cycle:
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"Siklus {cycle_id} tidak ditemukan.", f"Cycle {cycle_id} not found.")
    return cycle


def list_cycles(*, session: Session) -> list[Cycle]:
    return list(session.execute(select(Cycle).order_by(Cycle.tahun.desc())).scalars())


def get_stage(*, session: Session, cycle_id: int, code: StageCode, periode: int = 0) -> CycleStage:
    stage = session.execute(select(CycleStage).where(
        CycleStage.cycle_id == cycle_id, CycleStage.code == code,
        CycleStage.periode == periode)).scalar_one_or_none()
    if stage is None:
        suffix = f" periode {periode}" if periode else ""
        raise NotFound(f"Tahap {code}{suffix} siklus {cycle_id} tidak ditemukan.",
                       f"Stage {code}{suffix} of cycle {cycle_id} not found.")
    return stage


def list_stages(*, session: Session, cycle_id: int) -> list[CycleStage]:
    """Every stage of the cycle in calendar order (planning, then the periods)."""
    return list(session.execute(select(CycleStage).where(CycleStage.cycle_id == cycle_id)
                                .order_by(CycleStage.opens_at, CycleStage.periode)).scalars())


def period_stages(*, session: Session, cycle_id: int) -> list[CycleStage]:
    return list(session.execute(select(CycleStage).where(
        CycleStage.cycle_id == cycle_id, CycleStage.code == StageCode.PEMANTAUAN)
        .order_by(CycleStage.periode)).scalars())


def stage_dates(stage: CycleStage) -> calendar.StageDates:
    return calendar.StageDates(stage.code, stage.opens_at, stage.due_at, stage.approve_due_at,
                               stage.closes_at, stage.periode)


def _add_periods(session: Session, cycle: Cycle, items: list[periods.Period]) -> None:
    for p in items:
        calendar.validate(p.stage)
    periods.validate_sequence([p.stage for p in items])
    for p in items:
        d = p.stage
        session.add(CycleStage(cycle_id=cycle.id, code=StageCode.PEMANTAUAN, periode=p.periode,
                               period_start=p.period_start, period_end=p.period_end,
                               opens_at=d.opens_at, due_at=d.due_at,
                               approve_due_at=d.approve_due_at, closes_at=d.closes_at))


def default_periods_after(tahun: int, scheme: str, tz: str,
                          planning: calendar.StageDates | CycleStage) -> list[periods.Period]:
    """The year's periods after planning; when planning itself was moved late in the year (a
    demo, a compressed simulation) the periods follow it at the same pace instead."""
    items = periods.default_periods(tahun, scheme, tz, not_before=planning.closes_at)
    if all(p.stage.opens_at <= p.stage.due_at for p in items):
        return items
    minutes = max(1, int((planning.closes_at - planning.opens_at).total_seconds() // 60))
    return periods.compressed_periods(planning.closes_at, minutes, scheme)


def default_feedback_after(tahun: int, tz: str, planning: calendar.StageDates | CycleStage,
                           items: list[periods.Period]) -> calendar.StageDates:
    """The 360 stage in October; on a compressed calendar, during the last period instead."""
    stage = feedback.default_stage(tahun, tz)
    if stage.opens_at >= planning.closes_at:
        return stage
    minutes = max(1, int((planning.closes_at - planning.opens_at).total_seconds() // 60))
    return feedback.compressed_stage(items[-1].stage.opens_at, minutes)


def default_annual_after(tahun: int, tz: str, planning: calendar.StageDates | CycleStage,
                         items: list[periods.Period]) -> calendar.StageDates:
    """The annual rating in January after the year; on a compressed calendar, once the last
    period's reporting is due."""
    stage = annual.default_stage(tahun, tz)
    if items[-1].stage.closes_at <= stage.opens_at and planning.closes_at <= stage.opens_at:
        return stage
    minutes = max(1, int((planning.closes_at - planning.opens_at).total_seconds() // 60))
    return annual.compressed_stage(items[-1].stage.due_at, minutes)


def set_periodisasi(*, session: Session, cycle_id: int, periodisasi: str, now: datetime,
                    actor: str, items: list[periods.Period] | None = None) -> Cycle:
    """Quarterly or monthly periods, with their default dates; only before the cycle starts."""
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    scheme = periods.parse_periodisasi(periodisasi)
    if cycle.status != CycleStatus.DRAFT:
        raise InvalidTransition("cycle", cycle.status.value, "periodisasi",
                                "Periodisasi hanya dapat diubah sebelum siklus diluncurkan.",
                                "The period scheme can only change before the cycle is launched.")
    before = cycle.periodisasi
    planning = get_stage(session=session, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
    for old in period_stages(session=session, cycle_id=cycle_id):
        session.delete(old)
    session.flush()
    cycle.periodisasi = scheme
    cycle.version += 1
    session.add(cycle)
    _add_periods(session, cycle, items or default_periods_after(
        cycle.tahun, scheme, cycle.timezone, planning))
    record(session=session, now=now, actor=actor, action="siklus.periodisasi", entity="cycle",
           entity_id=cycle.id, before={"periodisasi": before}, after={"periodisasi": scheme})
    return cycle


def create_cycle(*, session: Session, tahun: int, now: datetime, actor: str, nama: str = "",
                 timezone: str = "Asia/Jakarta", planning: calendar.StageDates | None = None,
                 reminder_offsets: tuple[int, ...] = calendar.DEFAULT_REMINDER_OFFSETS_MINUTES,
                 review_sla_minutes: int = calendar.DEFAULT_REVIEW_SLA_MINUTES,
                 periodisasi: str = Periodisasi.TRIWULANAN,
                 period_dates: list[periods.Period] | None = None,
                 feedback_dates: calendar.StageDates | None = None,
                 annual_dates: calendar.StageDates | None = None) -> Cycle:
    """A new cycle in draft with the default (or given) planning calendar and periods."""
    if not 2000 <= tahun <= 2100:
        raise InvalidInput(f"Tahun {tahun} tidak valid.", f"Year {tahun} is not valid.")
    if session.execute(select(Cycle.id).where(Cycle.tahun == tahun)).first():
        raise InvalidInput(f"Siklus tahun {tahun} sudah ada.", f"A {tahun} cycle already exists.")
    planning = planning or calendar.default_planning(tahun, timezone)
    calendar.validate(planning)
    scheme = periods.parse_periodisasi(periodisasi)
    cycle = Cycle(tahun=tahun, nama=nama or f"SKP {tahun}", timezone=timezone,
                  reminder_offsets=list(reminder_offsets), review_sla_minutes=review_sla_minutes,
                  periodisasi=scheme, created_at=now)
    session.add(cycle)
    session.flush()
    session.add(CycleStage(cycle_id=cycle.id, code=planning.code, opens_at=planning.opens_at,
                           due_at=planning.due_at, approve_due_at=planning.approve_due_at,
                           closes_at=planning.closes_at))
    items = period_dates or default_periods_after(tahun, scheme, timezone, planning)
    _add_periods(session, cycle, items)
    fb = feedback_dates or default_feedback_after(tahun, timezone, planning, items)
    yearly = annual_dates or default_annual_after(tahun, timezone, planning, items)
    for st in (fb, yearly):
        calendar.validate(st)
        session.add(CycleStage(cycle_id=cycle.id, code=st.code, opens_at=st.opens_at,
                               due_at=st.due_at, approve_due_at=st.approve_due_at,
                               closes_at=st.closes_at))
    record(session=session, now=now, actor=actor, action="siklus.buat", entity="cycle",
           entity_id=cycle.id, after={"tahun": tahun, "periodisasi": scheme})
    return cycle


def update_stage(*, session: Session, cycle_id: int, dates: calendar.StageDates,
                 expected_version: int | None, now: datetime, actor: str) -> CycleStage:
    """Change a stage's dates; flows read them on their next pass, nothing needs a restart."""
    stage = get_stage(session=session, cycle_id=cycle_id, code=dates.code, periode=dates.periode)
    if expected_version is not None and stage.version != expected_version:
        raise _calendar_changed(session, stage)
    if stage.opened_at and _minute(dates.opens_at) != _minute(stage.opens_at):
        raise InvalidTransition("stage", "opened", "reschedule",
                                "Tahap sudah dibuka; tanggal buka tidak dapat diubah lagi.",
                                "The stage is already open; its opening date cannot change.")
    if stage.closed_at:
        raise InvalidTransition("stage", "closed", "reschedule",
                                "Tahap sudah ditutup; tanggalnya tidak dapat diubah.",
                                "The stage is closed; its dates cannot change.")
    calendar.validate(dates)
    if dates.closes_at <= now:
        raise InvalidInput("Tanggal tutup tahap harus di masa depan.",
                           "The stage's closing date must be in the future.")
    before = _dates_dict(stage)
    if stage.opened_at:
        dates = calendar.StageDates(dates.code, stage.opens_at, dates.due_at,
                                    dates.approve_due_at, dates.closes_at, dates.periode)
    bump_version(session, stage, lambda current: _calendar_changed(session, current))
    stage.opens_at, stage.due_at = dates.opens_at, dates.due_at
    stage.approve_due_at, stage.closes_at = dates.approve_due_at, dates.closes_at
    session.add(stage)
    _move_open_tasks(session, cycle_id, stage)
    record(session=session, now=now, actor=actor, action="kalender.ubah", entity="cycle_stage",
           entity_id=stage.id, before=before, after=_dates_dict(stage))
    return stage


#: the dates of a stage, as the calendar form names them
DATE_LABELS = (("opens_at", "buka", "opens"), ("due_at", "batas pegawai", "employees' due"),
               ("approve_due_at", "batas PPK", "PPK's due"), ("closes_at", "tutup", "closes"))


def _calendar_changed(session: Session, stage: CycleStage | Any) -> InvalidTransition:
    """Someone saved this stage's dates since this request read them: say who (the audit log
    keeps it) and what the dates are now (`stage` is the row as it is now)."""
    from models.rules.texts import format_datetime
    from models.tables import AuditLog

    with session.no_autoflush:
        actor = session.execute(select(AuditLog.actor).where(
            AuditLog.entity == "cycle_stage", AuditLog.entity_id == stage.id)
            .order_by(AuditLog.id.desc()).limit(1)).scalar() or "orang lain"
        tz = session.execute(select(Cycle.timezone).where(
            Cycle.id == stage.cycle_id)).scalar() or "Asia/Jakarta"

    def dates(lang: str) -> str:
        return ", ".join(f"{label[lang == 'en']} {format_datetime(_aware(getattr(stage, k)), tz, lang)}"
                         for k, *label in DATE_LABELS)
    return InvalidTransition("stage", str(stage.version), "reschedule",
                             f"Kalender sudah diubah orang lain ({actor}); tanggalnya sekarang: "
                             f"{dates('id')}. Muat ulang halaman lalu ulangi.",
                             f"The calendar was changed by someone else ({actor}); its dates "
                             f"are now: {dates('en')}. Reload and retry.")


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _move_open_tasks(session: Session, cycle_id: int, stage: CycleStage) -> None:
    """Open tasks follow the new deadlines; their reminders start again from the new date."""
    from models.tables import Pegawai

    has_subordinates = select(Pegawai.atasan_id).where(Pegawai.active,
                                                       Pegawai.atasan_id.is_not(None))
    if stage.code == StageCode.PERENCANAAN:
        moves = [(TaskKind.SUSUN_SKP, stage.due_at, None),
                 (TaskKind.SETUJUI_SKP, stage.approve_due_at, None)]
    elif stage.code == StageCode.UMPAN_BALIK:
        moves = [(TaskKind.USUL_PENILAI, stage.due_at, None),
                 (TaskKind.TETAPKAN_PENILAI, stage.approve_due_at, None),
                 (TaskKind.ISI_360, stage.closes_at, None),
                 # a PPK's competency task also covers rating subordinates: the PPK's date
                 (TaskKind.KOMPETENSI, stage.approve_due_at, Task.pegawai_id.in_(has_subordinates)),
                 (TaskKind.KOMPETENSI, stage.due_at, Task.pegawai_id.not_in(has_subordinates))]
    else:
        moves = [(TaskKind.ISI_REALISASI, stage.due_at, None),
                 (TaskKind.NILAI_PERIODIK, stage.approve_due_at, None)]
    for kind, due, extra in moves:
        query = update(Task).where(
            Task.cycle_id == cycle_id, Task.kind == kind, Task.status == TaskStatus.OPEN,
            Task.periode == stage.periode, Task.due_at != due)
        if extra is not None:
            query = query.where(extra)
        session.execute(query.values(due_at=due, reminders_sent=0, next_reminder_at=Task.created_at)
                        .execution_options(synchronize_session=False))


def update_reminders(*, session: Session, cycle_id: int, offsets: tuple[int, ...],
                     review_sla_minutes: int, now: datetime, actor: str) -> Cycle:
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    if review_sla_minutes < 0:
        raise InvalidInput("SLA persetujuan tidak boleh negatif.", "Review SLA must be >= 0.")
    before = {"reminder_offsets": cycle.reminder_offsets, "sla": cycle.review_sla_minutes}
    cycle.reminder_offsets, cycle.review_sla_minutes = list(offsets), review_sla_minutes
    cycle.version += 1
    session.add(cycle)
    # the next sweep looks at every open task once and schedules it by the new offsets
    session.execute(update(Task).where(Task.cycle_id == cycle_id, Task.status == TaskStatus.OPEN)
                    .values(next_reminder_at=Task.created_at)
                    .execution_options(synchronize_session=False))
    record(session=session, now=now, actor=actor, action="pengingat.ubah", entity="cycle",
           entity_id=cycle.id, before=before,
           after={"reminder_offsets": list(offsets), "sla": review_sla_minutes})
    return cycle


def mark_launched(*, session: Session, cycle: Cycle, flow_run_id: str, now: datetime,
                  actor: str) -> Cycle:
    if cycle.status != CycleStatus.DRAFT:
        return cycle
    cycle.status, cycle.launched_at, cycle.launch_flow_run_id = (
        CycleStatus.LAUNCHED, now, flow_run_id)
    session.add(cycle)
    record(session=session, now=now, actor=actor, action="siklus.luncurkan", entity="cycle",
           entity_id=cycle.id, after={"flow_run_id": flow_run_id})
    return cycle


def _dates_dict(stage: CycleStage) -> dict[str, str]:
    return {k: getattr(stage, k).isoformat() for k in
            ("opens_at", "due_at", "approve_due_at", "closes_at")}
