"""The reminder sweep: reminders to pegawai and PPK, escalation to the atasan PPK, in bulk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from models.repo.outbox import enqueue_messages
from models.repo.people import hr_admin_emails, pegawai_by_id
from models.repo.skp import Mail
from models.rules.enums import SkpStatus, TaskKind, TaskStatus
from models.rules.reminders import escalation_due, reminder_due, review_due
from models.rules.texts import format_datetime
from models.tables import Cycle, CycleStage, Pegawai, Skp, Task


@dataclass(frozen=True)
class SweepResult:
    reminders: int
    escalations: int


def sweep_planning(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                   mail: Mail) -> SweepResult:
    """Queue every reminder and escalation due now for an open planning stage. Idempotent."""
    if stage.opened_at is None or stage.closed_at is not None:
        return SweepResult(0, 0)
    skps = {s.pegawai_id: s for s in session.execute(
        select(Skp).where(Skp.cycle_id == cycle.id)).scalars()}
    tasks = list(session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.status == TaskStatus.OPEN)).scalars())
    people = pegawai_by_id(session=session, ids=[t.pegawai_id for t in tasks] + list(skps))
    waiting: dict[int, int] = {}
    for pid, s in skps.items():
        boss = people[pid].atasan_id if pid in people else None
        if s.status == SkpStatus.DIAJUKAN and boss:
            waiting[boss] = waiting.get(boss, 0) + 1
    messages = [m for t in tasks if (m := _reminder(t, skps, waiting, people, cycle, now, mail))]
    escalations = _escalations(session, cycle, stage, skps, people, now, mail)
    enqueue_messages(session=session, messages=messages + escalations, now=now)
    return SweepResult(len(messages), len(escalations))


def _reminder(task: Task, skps: dict[int, Skp], waiting: dict[int, int],
              people: dict[int, Pegawai], cycle: Cycle, now: datetime, mail: Mail) -> dict | None:
    p = people.get(task.pegawai_id)
    if p is None or not p.active:
        return None
    if task.kind == TaskKind.SUSUN_SKP:
        skp = skps.get(p.id)
        if skp is None or skp.status not in (SkpStatus.DRAF, SkpStatus.DIKEMBALIKAN):
            return None
        kind, prefix, extra = "pengingat_skp", "remind-skp", {}
    else:
        if not waiting.get(p.id):
            return None
        kind, prefix, extra = "pengingat_persetujuan", "remind-ppk", {"pending": waiting[p.id]}
    n = reminder_due(due_at=task.due_at, offsets_minutes=cycle.reminder_offsets,
                     sent=task.reminders_sent, created_at=task.created_at, now=now)
    if n is None:
        return None
    task.reminders_sent = n + 1
    return {"key": f"{prefix}:{task.id}:{n}", "kind": kind, "to_email": p.email,
            "pegawai_id": p.id, "language": mail.language,
            "context": {"agency_name": mail.agency, "nama": p.nama, "tahun": cycle.tahun,
                        "link": mail.links.task(task.id, p.id, now), "n": n + 1,
                        "overdue": now > task.due_at,
                        "due": format_datetime(task.due_at, cycle.timezone, mail.language)}
            | extra}


def _escalations(session: Session, cycle: Cycle, stage: CycleStage, skps: dict[int, Skp],
                 people: dict[int, Pegawai], now: datetime, mail: Mail) -> list[dict]:
    out: list[dict] = []
    hr = None
    for pid, skp in skps.items():
        if skp.status != SkpStatus.DIAJUKAN or skp.escalated_submission >= skp.submissions:
            continue
        if not escalation_due(submitted_at=skp.submitted_at, approve_due_at=stage.approve_due_at,
                              sla_minutes=cycle.review_sla_minutes, now=now):
            continue
        pegawai = people[pid]
        if pegawai.atasan_id is None:  # HR decides these; they were told on submission
            continue
        ppk = people.get(pegawai.atasan_id) or session.get(Pegawai, pegawai.atasan_id)
        boss = session.get(Pegawai, ppk.atasan_id) if ppk and ppk.atasan_id else None
        if boss is not None:
            targets = [(boss.nama, boss.email, boss.id)]
        else:  # the PPK is at the top: HR takes the escalation
            hr = hr if hr is not None else hr_admin_emails(session=session)
            targets = [(nama, email, None) for nama, email in hr]
        due = review_due(submitted_at=skp.submitted_at, approve_due_at=stage.approve_due_at,
                         sla_minutes=cycle.review_sla_minutes)
        for nama, email, target_id in targets:
            out.append({"key": f"escalate:{skp.id}:{skp.submissions}:{email}",
                        "kind": "eskalasi_persetujuan", "to_email": email,
                        "pegawai_id": target_id, "language": mail.language,
                        "context": {"agency_name": mail.agency, "nama": nama,
                                    "tahun": cycle.tahun, "ppk_nama": ppk.nama,
                                    "ppk_nip": ppk.nip, "pegawai_nama": pegawai.nama,
                                    "pegawai_nip": pegawai.nip,
                                    "submitted": format_datetime(skp.submitted_at, cycle.timezone,
                                                                 mail.language),
                                    "due": format_datetime(due, cycle.timezone, mail.language)}})
        skp.escalated_submission = skp.submissions
        session.add(skp)
    return out
