"""The reminder sweep: reminders to pegawai and PPK, escalation to the atasan PPK, in bulk.

Only tasks whose `next_reminder_at` has come are read, so a sweep over a large agency costs
what is due, not what is open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from models.repo.outbox import enqueue_messages
from models.repo.people import pegawai_by_id, recipients_by_id
from models.repo.skp import Mail, ensure_review_tasks
from models.rules.enums import SkpStatus, TaskKind, TaskStatus
from models.rules.reminders import escalation_due, next_reminder_at, reminder_due, review_due
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
        tasks = due_tasks(session, now, Task.cycle_id == cycle.id, Task.periode == 0,
                          Task.kind.in_([TaskKind.SUSUN_SKP, TaskKind.SETUJUI_SKP]))
        if not tasks:
            break
        messages = _reminders(session, cycle, tasks, now, mail)
        reminders += enqueue_messages(session=session, messages=messages, now=now)
        session.flush()
    escalations = _escalations(session, cycle, stage, now, mail)
    return SweepResult(reminders, escalations)


Made = tuple[str, dict] | None  # (message kind, extra context), or None: nothing to remind

#: what the sweeps read of a due task: plain rows, not ORM objects (the sweep writes the task's
#: reminder count and next look back in one executemany, without the unit of work)
TASK_COLUMNS = (Task.id, Task.cycle_id, Task.pegawai_id, Task.kind, Task.periode, Task.due_at,
                Task.created_at, Task.reminders_sent)
_t = Task.__table__
_RESCHEDULE = (update(_t).where(_t.c.id == bindparam("tid"))
               .values(reminders_sent=bindparam("sent"), next_reminder_at=bindparam("nxt")))


def due_tasks(session: Session, now: datetime, *where: Any) -> list[Any]:
    """The next page of open tasks whose reminder time has come (rows of TASK_COLUMNS)."""
    return list(session.execute(select(*TASK_COLUMNS).where(
        Task.status == TaskStatus.OPEN, Task.next_reminder_at <= now, *where)
        .order_by(Task.id).limit(PAGE)))


def schedule(session: Session, cycle: Cycle, tasks: list[Any], now: datetime) -> dict[int, int]:
    """Count the reminders due now and write each task's count and next look in one statement.
    Returns {task id: the number of the reminder due now} for the tasks that have one.

    Tasks may be rows or ORM objects; an ORM object gets the written values without becoming
    dirty (they are in the database already; the audit log does not follow reminder counts)."""
    offsets = cycle.reminder_offsets
    due: dict[int, int] = {}
    writes = []
    for task in tasks:
        n = reminder_due(due_at=task.due_at, offsets_minutes=offsets, sent=task.reminders_sent,
                         created_at=task.created_at, now=now)
        sent = task.reminders_sent if n is None else n + 1
        if n is not None:
            due[task.id] = n
        writes.append({"tid": task.id, "sent": sent, "nxt": next_reminder_at(
            due_at=task.due_at, offsets_minutes=offsets, sent=sent, created_at=task.created_at)})
    if writes:
        session.connection().execute(_RESCHEDULE, writes)
    for task, w in zip(tasks, writes, strict=True):
        if isinstance(task, Task):
            set_committed_value(task, "reminders_sent", w["sent"])
            set_committed_value(task, "next_reminder_at", w["nxt"])
    return due


def remind(*, session: Session, cycle: Cycle, tasks: list[Any], people: dict[int, Any],
           now: datetime, mail: Mail, prefix: str | Callable[[Any], str],
           message: Callable[[Any, Any], Made]) -> list[dict]:
    """The reminder loop the stages share: for each task whose reminder time has come, count
    the reminder that is due at the cycle's offsets, ask `message` for its kind and context
    (None when nothing is left for the person to do) and schedule the task's next look. The
    key names the task, its due date and the reminder's number, so none is sent twice; its
    prefix is `prefix`, or `prefix(task)` where one sweep reminds of several kinds."""
    due = schedule(session, cycle, tasks, now)
    out = []
    for task in tasks:
        n = due.get(task.id)
        p = people.get(task.pegawai_id)
        if n is None or p is None or not p.active:
            continue
        made = message(task, p)
        if made is not None:
            kind, extra = made
            start = prefix(task) if callable(prefix) else prefix
            out.append(_reminder(task, p, cycle, n, now, mail, start, kind, extra))
    return out


def _reminder(task: Any, p: Any, cycle: Cycle, n: int, now: datetime, mail: Mail, prefix: str,
              kind: str, extra: dict) -> dict:
    return {"key": f"{prefix}:{task.id}:{int(task.due_at.timestamp())}:{n}", "kind": kind,
            "to_email": p.email, "pegawai_id": p.id, "language": mail.language,
            "context": {"agency_name": mail.agency, "nama": p.nama, "tahun": cycle.tahun,
                        "link": mail.links.task(task.id, p.id, now), "n": n + 1,
                        "overdue": now > task.due_at,
                        "due": format_datetime(task.due_at, cycle.timezone, mail.language)}
            | extra}


def _reminders(session: Session, cycle: Cycle, tasks: list[Any], now: datetime,
               mail: Mail) -> list[dict]:
    people = recipients_by_id(session=session, ids=[t.pegawai_id for t in tasks])
    own = [t.pegawai_id for t in tasks if t.kind == TaskKind.SUSUN_SKP]
    ppk = [t.pegawai_id for t in tasks if t.kind == TaskKind.SETUJUI_SKP]
    status = dict(session.execute(select(Skp.pegawai_id, Skp.status).where(
        Skp.cycle_id == cycle.id, Skp.pegawai_id.in_(own or [-1]))).all())
    waiting = dict(session.execute(select(Pegawai.atasan_id, func.count()).join(
        Skp, Skp.pegawai_id == Pegawai.id).where(
        Skp.cycle_id == cycle.id, Skp.status == SkpStatus.DIAJUKAN,
        Pegawai.atasan_id.in_(ppk or [-1])).group_by(Pegawai.atasan_id)).all())

    def message(task: Any, p: Any) -> Made:
        """Nothing when nothing is left for the person to do."""
        if task.kind == TaskKind.SUSUN_SKP:
            if status.get(p.id) not in (SkpStatus.DRAF, SkpStatus.DIKEMBALIKAN):
                return None
            return "pengingat_skp", {}
        if not waiting.get(p.id):
            return None
        return "pengingat_persetujuan", {"pending": waiting[p.id]}

    return remind(session=session, cycle=cycle, tasks=tasks, people=people, now=now, mail=mail,
                  prefix=lambda t: "remind-skp" if t.kind == TaskKind.SUSUN_SKP else "remind-ppk",
                  message=message)


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
        tasks = due_tasks(session, now, Task.cycle_id == cycle.id, Task.periode == stage.periode)
        if not tasks:
            break
        people = recipients_by_id(session=session, ids=[t.pegawai_id for t in tasks])
        own = [t.pegawai_id for t in tasks if t.kind == TaskKind.ISI_REALISASI]
        reported = dict(session.execute(select(Skp.pegawai_id, SkpPeriode.dilaporkan_at).join(
            SkpPeriode, SkpPeriode.skp_id == Skp.id).where(
            Skp.cycle_id == cycle.id, SkpPeriode.periode == stage.periode,
            Skp.pegawai_id.in_(own or [-1]))).all())
        pending = unrated_by_ppk(session, cycle.id, stage.periode,
                                  [t.pegawai_id for t in tasks if t.kind == TaskKind.NILAI_PERIODIK])

        def message(task: Any, p: Any, reported: dict = reported,
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
