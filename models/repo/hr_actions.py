"""What HR does for one person when the cycle gets stuck: look at their tasks, send a fresh
link, close a task on their behalf (with a reason), reopen their approved SKP, and change their
360 raters. Every action names its reason and is written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlmodel import Session

from models.repo import skp as skp_repo
from models.repo import umpan_balik
from models.repo.audit import record
from models.repo.cycles import NotFound
from models.repo.outbox import enqueue_messages
from models.repo.skp import Mail
from models.rules import console as rules
from models.rules.enums import TaskKind, TaskStatus
from models.rules.errors import InvalidTransition
from models.tables import Cycle, OutboxMessage, Pegawai, Penilai360, Skp, Task, Unit

#: a second "re-send" of the same task's link within this time is refused (a double click)
RESEND_GAP_SECONDS = 60

STATUS_LABEL = {TaskStatus.OPEN: ("terbuka", "open"), TaskStatus.DONE: ("selesai", "done"),
                TaskStatus.CANCELLED: ("dibatalkan", "cancelled")}


@dataclass
class PersonTasks:
    person: Pegawai
    unit: Unit
    atasan: Pegawai | None
    cycle: Cycle | None
    skp: Skp | None
    tasks: list[Task]
    raters: list[umpan_balik.RaterRow]


def person_by_nip(*, session: Session, nip: str) -> Pegawai:
    person = session.execute(select(Pegawai).where(Pegawai.nip == nip.strip())).scalar()
    if person is None:
        raise NotFound(f"Pegawai dengan NIP {nip} tidak ditemukan.",
                       f"No employee with NIP {nip}.")
    return person


def person_tasks(*, session: Session, nip: str, cycle_id: int | None) -> PersonTasks:
    person = person_by_nip(session=session, nip=nip)
    cycle = (session.get(Cycle, cycle_id) if cycle_id else session.execute(
        select(Cycle).order_by(Cycle.tahun.desc(), Cycle.id.desc())).scalars().first())
    tasks: list[Task] = []
    skp = None
    raters: list[umpan_balik.RaterRow] = []
    if cycle is not None:
        tasks = list(session.execute(select(Task).where(
            Task.cycle_id == cycle.id, Task.pegawai_id == person.id,
            # a finished 360 task is not shown: it would say this rater answered (and when)
            or_(Task.kind != TaskKind.ISI_360, Task.status != TaskStatus.DONE))
            .order_by(Task.created_at, Task.id)).scalars())
        skp = skp_repo.skp_of(session=session, cycle_id=cycle.id, pegawai_id=person.id)
        raters = [r for r in umpan_balik.raters(session=session, cycle_id=cycle.id,
                                                  dinilai_id=person.id) if r.assignment.aktif]
    return PersonTasks(person, session.get(Unit, person.unit_id),  # type: ignore[arg-type]
                       session.get(Pegawai, person.atasan_id) if person.atasan_id else None,
                       cycle, skp, tasks, raters)


def _task_of(session: Session, person: Pegawai, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None or task.pegawai_id != person.id:
        raise NotFound(f"Tugas {task_id} milik {person.nama} tidak ditemukan.",
                       f"Task {task_id} of {person.nama} not found.")
    return task


def resend_link(*, session: Session, nip: str, task_id: int, now: datetime, mail: Mail,
                actor: str) -> str:
    """Email the person a fresh link to an open task (the old links keep working until they
    expire). Returns the address it went to, masked. A second click within a minute is refused
    (409), so a double click sends once."""
    person = person_by_nip(session=session, nip=nip)
    task = _task_of(session, person, task_id)
    if task.status != TaskStatus.OPEN:
        raise InvalidTransition("task", task.status.value, "resend",
                                f"Tugas ini berstatus {STATUS_LABEL[task.status][0]}; tautan "
                                "hanya dikirim ulang untuk tugas yang masih terbuka.",
                                f"This task is {STATUS_LABEL[task.status][1]}; links are only "
                                "re-sent for open tasks.")
    if not person.active:
        raise InvalidTransition("pegawai", "inactive", "resend",
                                f"{person.nama} tidak aktif lagi.",
                                f"{person.nama} is no longer active.")
    cycle = session.get(Cycle, task.cycle_id)
    assert cycle is not None
    if session.execute(select(OutboxMessage.id).where(
            OutboxMessage.key.startswith(f"hr-renew:{task.id}:"),
            OutboxMessage.created_at > now - timedelta(seconds=RESEND_GAP_SECONDS))).first():
        raise InvalidTransition("task", "baru_dikirim", "resend",
                                "Tautan baru untuk tugas ini baru saja dikirim; tunggu satu menit "
                                "sebelum mengirim lagi.",
                                "A fresh link for this task was just sent; wait a minute before "
                                "sending another.")
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"hr-renew:{task.id}:{now:%Y%m%d%H%M%S%f}", "kind": "tautan_baru",
        "to_email": person.email, "pegawai_id": person.id, "language": mail.language,
        "context": {"agency_name": mail.agency, "nama": person.nama, "tahun": cycle.tahun,
                    "link": mail.links.task(task.id, person.id, now),
                    "task_label": rules.task_label(task.kind, mail.language)}}])
    record(session=session, now=now, actor=actor, action="tugas.kirim_ulang", entity="task",
           entity_id=task.id, after={"kind": task.kind, "periode": task.periode},
           pegawai_id=person.id, cycle_id=cycle.id)
    user, _, domain = person.email.partition("@")
    return f"{user[:2]}***@{domain}"


def close_task(*, session: Session, nip: str, task_id: int, alasan: str, now: datetime,
               actor: str) -> Task:
    """Close an open task on the person's behalf (they are on leave, the work was done on
    paper...): no more reminders or escalations for it; the reason is kept on the task and in
    the audit log, and the person's page says who closed it."""
    person = person_by_nip(session=session, nip=nip)
    task = _task_of(session, person, task_id)
    reason = rules.reason(alasan)
    if task.status != TaskStatus.OPEN:
        raise _not_open(task, session)
    # claim it in the database first, only if it is still open: the person may be completing
    # it right now; the loser is told what happened and nothing of this closing is kept (the
    # claim also holds the row, so the person's completion then sees it closed)
    claimed = session.execute(update(Task).where(Task.id == task.id,
                                                 Task.status == TaskStatus.OPEN)
                              .values(next_reminder_at=None)
                              .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        session.expire(task)
        raise _not_open(task, session)
    task.status, task.done_at, task.next_reminder_at = TaskStatus.DONE, now, None
    task.closed_by, task.close_reason = actor, reason
    session.add(task)
    record(session=session, now=now, actor=actor, action="tugas.tutup_atas_nama", entity="task",
           entity_id=task.id, before={"status": "open"},
           after={"status": "done", "kind": task.kind, "periode": task.periode,
                  "alasan": reason}, pegawai_id=person.id, cycle_id=task.cycle_id)
    return task


def _not_open(task: Task, session: Session) -> InvalidTransition:
    """The task is not open (any more): say who finished it and when (`task` as it is now)."""
    from models.rules.texts import format_datetime

    tz = session.execute(select(Cycle.timezone).where(Cycle.id == task.cycle_id)).scalar()
    status = TaskStatus(task.status)
    when = ((f" pada {format_datetime(_aware(task.done_at), tz or 'Asia/Jakarta')}",
             f" on {format_datetime(_aware(task.done_at), tz or 'Asia/Jakarta', 'en')}")
            if task.done_at else ("", ""))
    if status == TaskStatus.DONE and task.closed_by:
        by = (f", ditutup oleh {task.closed_by}{when[0]}", f", closed by {task.closed_by}{when[1]}")
    elif status == TaskStatus.DONE:
        by = (f", diselesaikan oleh pegawai sendiri{when[0]}",
              f", completed by the person themselves{when[1]}")
    else:
        by = ("", "")
    return InvalidTransition("task", status.value, "close",
                             f"Tugas ini sudah berstatus {STATUS_LABEL[status][0]}{by[0]}.",
                             f"This task is already {STATUS_LABEL[status][1]}{by[1]}.")


def _aware(at: datetime) -> datetime:
    from datetime import UTC

    return at if at.tzinfo else at.replace(tzinfo=UTC)


def reopen_skp(*, session: Session, nip: str, skp_id: int, alasan: str, now: datetime,
               mail: Mail, actor: str) -> Skp:
    """Reopen an approved SKP for changes (it goes back through the PPK), as the pegawai can."""
    person = person_by_nip(session=session, nip=nip)
    skp = session.get(Skp, skp_id)
    if skp is None or skp.pegawai_id != person.id:
        raise NotFound(f"SKP {skp_id} milik {person.nama} tidak ditemukan.",
                       f"SKP {skp_id} of {person.nama} not found.")
    reason = rules.reason(alasan)
    view = skp_repo.load_view(session=session, skp=skp)
    skp_repo.open_revision(session=session, view=view, alasan=reason, now=now, mail=mail,
                           actor_id=None, actor_label=actor)
    record(session=session, now=now, actor=actor, action="skp.buka_kembali", entity="skp",
           entity_id=skp.id, after={"alasan": reason, "revisi": skp.revisi},
           pegawai_id=person.id, cycle_id=skp.cycle_id)
    return skp


def add_rater(*, session: Session, nip: str, cycle_id: int, rater_nip: str, now: datetime,
              mail: Mail, actor: str) -> Penilai360:
    """HR adds a 360 rater for the person, as their PPK can (invited at once once confirmed)."""
    person = person_by_nip(session=session, nip=nip)
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"Siklus {cycle_id} tidak ditemukan.", f"Cycle {cycle_id} not found.")
    stage = umpan_balik.get_stage(session=session, cycle_id=cycle.id)
    row = umpan_balik.add_rater(session=session, cycle=cycle, stage=stage, dinilai=person,
                                nip=rater_nip, by_ppk=True, now=now, mail=mail)
    record(session=session, now=now, actor=actor, action="penilai360.tambah", entity="penilai360",
           entity_id=row.id, after={"penilai_nip": rater_nip.strip(), "peran": row.peran},
           pegawai_id=person.id, cycle_id=cycle.id)
    return row


def remove_rater(*, session: Session, nip: str, cycle_id: int, assignment_id: int,
                 now: datetime, actor: str) -> None:
    """HR takes a 360 rater off the person's list (not one who already answered)."""
    person = person_by_nip(session=session, nip=nip)
    row = session.get(Penilai360, assignment_id)
    if row is None or row.dinilai_id != person.id or row.cycle_id != cycle_id:
        raise NotFound("Penilai tidak ditemukan dalam daftar orang ini.",
                       "No such rater on this person's list.")
    stage = umpan_balik.get_stage(session=session, cycle_id=cycle_id)
    rows = umpan_balik.raters(session=session, cycle_id=cycle_id, dinilai_id=person.id)
    umpan_balik.remove_rater(session=session, stage=stage, assignment=row, by_ppk=True, now=now,
                             rows=rows)
    rater = session.get(Pegawai, row.penilai_id)
    record(session=session, now=now, actor=actor, action="penilai360.hapus", entity="penilai360",
           entity_id=row.id, before={"penilai_nip": rater.nip if rater else None},
           pegawai_id=person.id, cycle_id=cycle_id)
