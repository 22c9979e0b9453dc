"""The planning stage in bulk: open it for a chunk of employees, and close it with a report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlmodel import Session

from models.repo.audit import close_open_tasks
from models.repo.outbox import enqueue_messages
from models.repo.people import hr_admin_emails, pegawai_by_id, unit_names
from models.repo.skp import insert_tasks
from models.rules.enums import NilaiBerakhlak, SkpStatus, StageCode, TaskKind
from models.rules.texts import format_datetime
from models.rules.tokens import Links
from models.tables import Cycle, CycleStage, Pegawai, Perilaku, Skp, StageReport, Task


@dataclass(frozen=True)
class ChunkResult:
    skp_created: int
    tasks_created: int
    emails_queued: int


def base_context(cycle: Cycle, nama: str, agency: str) -> dict[str, object]:
    return {"agency_name": agency, "nama": nama, "tahun": cycle.tahun}


def open_planning_chunk(*, session: Session, cycle: Cycle, stage: CycleStage,
                        pegawai_ids: list[int], now: datetime, links: Links, agency: str,
                        language: str = "id") -> ChunkResult:
    """Create what is missing for these employees: SKP draft, tasks, invitation. Idempotent.

    Bulk Core inserts: a whole agency is opened in one flow, so per-row ORM objects (about
    0.1 ms each, ten per employee) would dominate the launch.
    """
    people = {row.id: row for row in session.execute(select(
        Pegawai.id, Pegawai.nama, Pegawai.email).where(Pegawai.id.in_(pegawai_ids),
                                                        Pegawai.active))}
    have_skp = set(session.execute(select(Skp.pegawai_id).where(
        Skp.cycle_id == cycle.id, Skp.pegawai_id.in_(pegawai_ids))).scalars())
    fresh = [pid for pid in pegawai_ids if pid not in have_skp and pid in people]
    skp_ids = _insert_returning(session, Skp, [
        {"cycle_id": cycle.id, "pegawai_id": pid, "status": SkpStatus.DRAF, "submissions": 0,
         "escalated_submission": 0, "created_at": now, "updated_at": now, "version": 1}
        for pid in fresh])
    if skp_ids:
        session.execute(insert(Perilaku), [{"skp_id": sid, "nilai": v, "ekspektasi_khusus": None}
                                           for sid in skp_ids for v in NilaiBerakhlak])
    ppk_ids = set(session.execute(select(Pegawai.atasan_id).where(
        Pegawai.active, Pegawai.atasan_id.in_(list(people))).distinct()).scalars())
    tasks = _ensure_tasks(session, cycle, stage, list(people), ppk_ids, now)
    due = format_datetime(stage.due_at, cycle.timezone, language)
    messages = [{"key": f"invite:{cycle.id}:perencanaan:{pid}", "kind": "undangan_skp",
                 "to_email": people[pid].email, "pegawai_id": pid, "language": language,
                 "context": base_context(cycle, people[pid].nama, agency) | {
                     "link": links.task(task_id, pid, now), "due": due}}
                for task_id, kind, pid in tasks if kind == TaskKind.SUSUN_SKP]
    queued = enqueue_messages(session=session, messages=messages, now=now)
    return ChunkResult(len(skp_ids), len(tasks), queued)


def _insert_returning(session: Session, model: type, rows: list[dict]) -> list[int]:
    """Insert many rows in one statement; their ids, in order."""
    if not rows:
        return []
    result = session.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def _ensure_tasks(session: Session, cycle: Cycle, stage: CycleStage, pegawai_ids: list[int],
                  ppk_ids: set[int], now: datetime) -> list[tuple[int, str, int]]:
    """Missing tasks of these people, created; (id, kind, pegawai id) of the new ones."""
    wanted = [(TaskKind.SUSUN_SKP, pid, 0, stage.due_at) for pid in pegawai_ids]
    wanted += [(TaskKind.SETUJUI_SKP, pid, 0, stage.approve_due_at)
               for pid in pegawai_ids if pid in ppk_ids]
    return insert_tasks(session=session, cycle=cycle, now=now, wanted=wanted)


def planning_counts(*, session: Session, cycle_id: int, now: datetime) -> list[dict[str, object]]:
    """Per unit: total, draf, diajukan, dikembalikan, disetujui, terlambat (not submitted, past due)."""
    from sqlalchemy import func

    stage_due = session.execute(select(CycleStage.due_at).where(
        CycleStage.cycle_id == cycle_id, CycleStage.code == StageCode.PERENCANAAN)).scalar_one()
    rows = session.execute(select(Pegawai.unit_id, Skp.status, func.count()).join(
        Skp, Skp.pegawai_id == Pegawai.id).where(Skp.cycle_id == cycle_id)
        .group_by(Pegawai.unit_id, Skp.status))
    counts: dict[int, Counter[str]] = {}
    for unit_id, status, n in rows:
        c = counts.setdefault(unit_id, Counter())
        c["total"] += n
        c[str(status)] += n
        if status in (SkpStatus.DRAF, SkpStatus.DIKEMBALIKAN) and now > stage_due:
            c["terlambat"] += n
    names = unit_names(session=session)
    return [{"unit_id": uid, "unit": names.get(uid, "?"), "total": c["total"],
             **{s.value: c[s.value] for s in SkpStatus}, "terlambat": c["terlambat"]}
            for uid, c in sorted(counts.items(), key=lambda kv: names.get(kv[0], ""))]


def close_planning(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                   console_link: str, agency: str, language: str = "id") -> StageReport:
    """Record who has no approved SKP, tell HR, and mark the stage closed. Idempotent."""
    done = session.execute(select(StageReport).where(
        StageReport.cycle_id == cycle.id, StageReport.code == "perencanaan.tutup")).scalar()
    if done is not None:
        if stage.closed_at is None:
            stage.closed_at = done.created_at
            session.add(stage)
        return done
    pending = list(session.execute(select(Skp.pegawai_id, Skp.status).where(
        Skp.cycle_id == cycle.id, Skp.status != SkpStatus.DISETUJUI)))
    total = session.execute(select(Skp.id).where(Skp.cycle_id == cycle.id)).all()
    people = pegawai_by_id(session=session, ids=[pid for pid, _ in pending])
    units = unit_names(session=session)
    listed = sorted(pending, key=lambda r: (units.get(people[r[0]].unit_id, ""), people[r[0]].nama))
    data = {"total": len(total), "approved": len(total) - len(pending),
            "without_approved": [{"pegawai_id": pid, "status": str(st)} for pid, st in listed],
            "per_unit": planning_counts(session=session, cycle_id=cycle.id, now=now)}
    report = StageReport(cycle_id=cycle.id, code="perencanaan.tutup", created_at=now, data=data)
    session.add(report)
    stage.closed_at = now
    session.add(stage)
    close_open_tasks(session=session, now=now, cycle_id=cycle.id, where=[
        Task.periode == 0, Task.kind.in_([TaskKind.SUSUN_SKP, TaskKind.SETUJUI_SKP])])
    lines = [f"{people[pid].nip} {people[pid].nama} ({units.get(people[pid].unit_id, '')})"
             for pid, _ in listed[:50]]
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"report:{cycle.id}:perencanaan:{email}", "kind": "laporan_perencanaan",
        "to_email": email, "language": language,
        "context": base_context(cycle, nama, agency) | {
            "console_link": console_link, "total": data["total"], "approved": data["approved"],
            "without_approved_count": len(pending), "without_approved": lines}}
        for nama, email in hr_admin_emails(session=session)])
    return report
