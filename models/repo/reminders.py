"""The reminder sweep: reminders to pegawai and PPK, escalation to the atasan PPK, in bulk.

Only tasks whose `next_reminder_at` has come are read, so a sweep over a large agency costs
what is due, not what is open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlmodel import Session

from models.repo.outbox import enqueue_messages
from models.repo.people import pegawai_by_id
from models.repo.skp import Mail, ensure_review_tasks, reschedule
from models.rules.enums import SkpStatus, TaskKind, TaskStatus
from models.rules.reminders import escalation_due, reminder_due, review_due
from models.rules.texts import format_datetime
from models.tables import Cycle, CycleStage, Pegawai, Skp, Task

PAGE = 2000


@dataclass(frozen=True)
class SweepResult:
    reminders: int
    escalations: int


def sweep_planning(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                   mail: Mail) -> SweepResult:
    """Queue every reminder and escalation due now for an open planning stage (after it closed:
    for the SKP revisions opened during the year). Idempotent."""
    if stage.opened_at is None:
        return SweepResult(0, 0)
    ensure_review_tasks(session=session, cycle=cycle, stage=stage, now=now, mail=mail)
    reminders = 0
    while True:
        tasks = list(session.execute(select(Task).where(
            Task.cycle_id == cycle.id, Task.status == TaskStatus.OPEN, Task.periode == 0,
            Task.kind.in_([TaskKind.SUSUN_SKP, TaskKind.SETUJUI_SKP]),
            Task.next_reminder_at <= now).order_by(Task.id).limit(PAGE)).scalars())
        if not tasks:
            break
        messages = _reminders(session, cycle, tasks, now, mail)
        reminders += enqueue_messages(session=session, messages=messages, now=now)
        session.flush()
    escalations = _escalations(session, cycle, stage, now, mail)
    return SweepResult(reminders, escalations)


Made = tuple[str, dict] | None  # (message kind, extra context), or None: nothing to remind


def remind(*, session: Session, cycle: Cycle, tasks: list[Task], people: dict[int, Pegawai],
           now: datetime, mail: Mail, prefix: str,
           message: Callable[[Task, Pegawai], Made]) -> list[dict]:
    """The reminder loop the stages share: for each task whose reminder time has come, count
    the reminder that is due at the cycle's offsets, ask `message` for its kind and context
    (None when nothing is left for the person to do) and schedule the task's next look. The
    key names the task, its due date and the reminder's number, so none is sent twice."""
    out = []
    for task in tasks:
        n = reminder_due(due_at=task.due_at, offsets_minutes=cycle.reminder_offsets,
                         sent=task.reminders_sent, created_at=task.created_at, now=now)
        p = people.get(task.pegawai_id)
        if n is not None:
            task.reminders_sent = n + 1
            made = message(task, p) if p is not None and p.active else None
            if made is not None:
                kind, extra = made
                out.append({
                    "key": f"{prefix}:{task.id}:{int(task.due_at.timestamp())}:{n}", "kind": kind,
                    "to_email": p.email, "pegawai_id": p.id, "language": mail.language,
                    "context": {"agency_name": mail.agency, "nama": p.nama, "tahun": cycle.tahun,
                                "link": mail.links.task(task.id, p.id, now), "n": n + 1,
                                "overdue": now > task.due_at,
                                "due": format_datetime(task.due_at, cycle.timezone,
                                                       mail.language)} | extra})
        reschedule(task, cycle.reminder_offsets)
        session.add(task)
    return out


def _reminders(session: Session, cycle: Cycle, tasks: list[Task], now: datetime,
               mail: Mail) -> list[dict]:
    people = pegawai_by_id(session=session, ids=[t.pegawai_id for t in tasks])
    own = [t.pegawai_id for t in tasks if t.kind == TaskKind.SUSUN_SKP]
    ppk = [t.pegawai_id for t in tasks if t.kind == TaskKind.SETUJUI_SKP]
    status = dict(session.execute(select(Skp.pegawai_id, Skp.status).where(
        Skp.cycle_id == cycle.id, Skp.pegawai_id.in_(own or [-1]))).all())
    waiting = dict(session.execute(select(Pegawai.atasan_id, func.count()).join(
        Skp, Skp.pegawai_id == Pegawai.id).where(
        Skp.cycle_id == cycle.id, Skp.status == SkpStatus.DIAJUKAN,
        Pegawai.atasan_id.in_(ppk or [-1])).group_by(Pegawai.atasan_id)).all())
    out = []
    for task in tasks:
        n = reminder_due(due_at=task.due_at, offsets_minutes=cycle.reminder_offsets,
                         sent=task.reminders_sent, created_at=task.created_at, now=now)
        p = people.get(task.pegawai_id)
        if n is not None:
            task.reminders_sent = n + 1
            message = _message(task, p, cycle, n, status, waiting, now, mail) if p else None
            if message:
                out.append(message)
        reschedule(task, cycle.reminder_offsets)
        session.add(task)
    return out


def _message(task: Task, p: Pegawai, cycle: Cycle, n: int, status: dict, waiting: dict,
             now: datetime, mail: Mail) -> dict | None:
    """The reminder for this task, or None when there is nothing left for the person to do."""
    if not p.active:
        return None
    if task.kind == TaskKind.SUSUN_SKP:
        if status.get(p.id) not in (SkpStatus.DRAF, SkpStatus.DIKEMBALIKAN):
            return None
        kind, prefix, extra = "pengingat_skp", "remind-skp", {}
    else:
        if not waiting.get(p.id):
            return None
        kind, prefix, extra = "pengingat_persetujuan", "remind-ppk", {"pending": waiting[p.id]}
    return {"key": f"{prefix}:{task.id}:{int(task.due_at.timestamp())}:{n}", "kind": kind,
            "to_email": p.email, "pegawai_id": p.id, "language": mail.language,
            "context": {"agency_name": mail.agency, "nama": p.nama, "tahun": cycle.tahun,
                        "link": mail.links.task(task.id, p.id, now), "n": n + 1,
                        "overdue": now > task.due_at,
                        "due": format_datetime(task.due_at, cycle.timezone, mail.language)}
            | extra}


def _escalations(session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                 mail: Mail) -> int:
    """Tell the atasan PPK about SKPs their PPK has not decided in time (once per submission)."""
    query = (select(Skp, Pegawai).join(Pegawai, Pegawai.id == Skp.pegawai_id)
             .where(Skp.cycle_id == cycle.id, Skp.status == SkpStatus.DIAJUKAN,
                    Skp.escalated_submission < Skp.submissions, Pegawai.atasan_id.is_not(None)))
    if stage.closed_at is not None:
        query = query.where(Skp.revisi > 0)
    rows = list(session.execute(query).all())
    rows = [(s, p) for s, p in rows if escalation_due(
        submitted_at=s.submitted_at, approve_due_at=stage.approve_due_at,
        sla_minutes=cycle.review_sla_minutes, now=now)]
    ppks = pegawai_by_id(session=session, ids=[p.atasan_id for _, p in rows])
    bosses = pegawai_by_id(session=session, ids=[q.atasan_id for q in ppks.values() if q.atasan_id])
    out: list[dict] = []
    for skp, pegawai in rows:
        ppk = ppks[pegawai.atasan_id]
        boss = bosses.get(ppk.atasan_id) if ppk.atasan_id else None
        targets = [(boss.nama, boss.email, boss.id)] if boss else _hr(session)
        due = review_due(submitted_at=skp.submitted_at, approve_due_at=stage.approve_due_at,
                         sla_minutes=cycle.review_sla_minutes)
        for nama, email, target_id in targets:
            out.append({"key": f"escalate:{skp.id}:{skp.submissions}:{email}",
                        "kind": "eskalasi_persetujuan", "to_email": email,
                        "pegawai_id": target_id, "language": mail.language,
                        "context": {"agency_name": mail.agency, "nama": nama, "tahun": cycle.tahun,
                                    "ppk_nama": ppk.nama, "ppk_nip": ppk.nip,
                                    "pegawai_nama": pegawai.nama, "pegawai_nip": pegawai.nip,
                                    "submitted": format_datetime(skp.submitted_at, cycle.timezone,
                                                                 mail.language),
                                    "due": format_datetime(due, cycle.timezone, mail.language)}})
    if rows:
        session.execute(update(Skp).where(Skp.id.in_([s.id for s, _ in rows]))
                        .values(escalated_submission=Skp.submissions))
    enqueue_messages(session=session, messages=out, now=now)
    return len(rows)


def _hr(session: Session) -> list[tuple[str, str, int | None]]:
    """The PPK is at the top of the tree: the HR admins take the escalation."""
    from models.repo.people import hr_admin_emails

    return [(nama, email, None) for nama, email in hr_admin_emails(session=session)]


def sweep_period(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                 mail: Mail) -> SweepResult:
    """Reminders for an open monitoring period: pegawai who have not reported their realisasi,
    PPK with subordinates not yet rated; after the PPK's deadline, escalation to the atasan PPK
    (or HR at the top), once per PPK and period. Idempotent."""
    from models.repo.monitoring import period_label, unrated_by_ppk
    from models.rules import periods
    from models.tables import SkpPeriode

    if stage.opened_at is None or stage.closed_at is not None:
        return SweepResult(0, 0)
    from models.repo.monitoring import sync_ppk_tasks

    sync_ppk_tasks(session=session, cycle=cycle, stage=stage, now=now, mail=mail)
    label = period_label(cycle, stage.periode, mail.language)
    midyear = periods.is_midyear(stage.periode, cycle.periodisasi)
    reminders = 0
    while True:
        tasks = list(session.execute(select(Task).where(
            Task.cycle_id == cycle.id, Task.status == TaskStatus.OPEN,
            Task.periode == stage.periode, Task.next_reminder_at <= now)
            .order_by(Task.id).limit(PAGE)).scalars())
        if not tasks:
            break
        people = pegawai_by_id(session=session, ids=[t.pegawai_id for t in tasks])
        own = [t.pegawai_id for t in tasks if t.kind == TaskKind.ISI_REALISASI]
        reported = dict(session.execute(select(Skp.pegawai_id, SkpPeriode.dilaporkan_at).join(
            SkpPeriode, SkpPeriode.skp_id == Skp.id).where(
            Skp.cycle_id == cycle.id, SkpPeriode.periode == stage.periode,
            Skp.pegawai_id.in_(own or [-1]))).all())
        pending = unrated_by_ppk(session, cycle.id, stage.periode,
                                  [t.pegawai_id for t in tasks if t.kind == TaskKind.NILAI_PERIODIK])

        def message(task: Task, p: Pegawai, reported: dict = reported,
                    pending: dict = pending) -> Made:
            period = {"periode_label": label, "midyear": midyear}
            if task.kind == TaskKind.ISI_REALISASI:
                waiting = reported.get(p.id, 1) is None
                return ("pengingat_realisasi", period) if waiting else None
            if not pending.get(p.id):
                return None
            return "pengingat_penilaian_periodik", period | {"pending": pending[p.id]}

        out = remind(session=session, cycle=cycle, tasks=tasks, people=people, now=now,
                     mail=mail, prefix="remind-period", message=message)
        reminders += enqueue_messages(session=session, messages=out, now=now)
        session.flush()
    return SweepResult(reminders, _period_escalations(session, cycle, stage, now, mail, label))


def _period_escalations(session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                        mail: Mail, label: str) -> int:
    """After the PPK's deadline: tell each late PPK's superior (or HR) once per period."""
    if now < stage.approve_due_at:
        return 0
    from models.repo.monitoring import unrated_by_ppk

    pending = unrated_by_ppk(session, cycle.id, stage.periode, None)
    ppks = pegawai_by_id(session=session, ids=list(pending))
    bosses = pegawai_by_id(session=session, ids=[q.atasan_id for q in ppks.values() if q.atasan_id])
    due = format_datetime(stage.approve_due_at, cycle.timezone, mail.language)
    out = []
    for ppk_id, count in pending.items():
        ppk = ppks[ppk_id]
        boss = bosses.get(ppk.atasan_id) if ppk.atasan_id else None
        targets = [(boss.nama, boss.email, boss.id)] if boss else _hr(session)
        for nama, email, target_id in targets:
            out.append({"key": f"escalate-period:{cycle.id}:{stage.periode}:{ppk_id}:{email}",
                        "kind": "eskalasi_penilaian_periodik", "to_email": email,
                        "pegawai_id": target_id, "language": mail.language,
                        "context": {"agency_name": mail.agency, "nama": nama,
                                    "tahun": cycle.tahun, "ppk_nama": ppk.nama,
                                    "ppk_nip": ppk.nip, "periode_label": label,
                                    "pending": count, "due": due}})
    queued = enqueue_messages(session=session, messages=out, now=now)
    return queued
