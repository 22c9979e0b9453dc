"""HR changes someone's superior mid-cycle: the new PPK takes over the open work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from models.repo.audit import record
from models.repo.outbox import enqueue_messages
from models.repo.skp import Mail, _close_review_if_done, ensure_review_tasks
from models.rules.enums import CycleStatus, StageCode, TaskKind, TaskStatus
from models.rules.errors import InvalidInput
from models.tables import Cycle, CycleStage, Pegawai, Task


def _by_nip(session: Session, nip: str, what_id: str, what_en: str) -> Pegawai:
    person = session.execute(select(Pegawai).where(Pegawai.nip == (nip or "").strip())).scalar()
    if person is None or not person.active:
        raise InvalidInput(f"{what_id} dengan NIP '{nip}' tidak ditemukan atau tidak aktif.",
                           f"No active {what_en} with NIP '{nip}'.")
    return person


def change_atasan(*, session: Session, nip: str, atasan_nip: str, now: datetime, actor: str,
                  mail: Mail) -> Pegawai:
    """Set the superior (PPK) of one employee and hand the open tasks over: the new PPK gets
    the periodic-rating and SKP-approval tasks that wait, and is told by email; the old PPK's
    links stop working for this employee at once (every page re-checks the superior)."""
    pegawai = _by_nip(session, nip, "Pegawai", "employee")
    new = _by_nip(session, atasan_nip, "Atasan", "superior")
    if new.id == pegawai.id:
        raise InvalidInput("Pegawai tidak dapat menjadi atasannya sendiri.",
                           "An employee cannot be their own superior.")
    seen, cur = {pegawai.id}, new
    while cur is not None and cur.atasan_id is not None:  # no loop in the tree
        if cur.atasan_id in seen:
            raise InvalidInput(f"{new.nama} berada di bawah {pegawai.nama}; perubahan ini akan "
                               "membuat rantai atasan melingkar.",
                               f"{new.nama} reports to {pegawai.nama}; this change would make "
                               "the chain of superiors circular.")
        seen.add(cur.id)
        cur = session.get(Pegawai, cur.atasan_id)
    old_id = pegawai.atasan_id
    if old_id == new.id:
        return pegawai
    old = session.get(Pegawai, old_id) if old_id else None
    pegawai.atasan_id, pegawai.updated_at = new.id, now
    session.add(pegawai)
    session.flush()
    record(session=session, now=now, actor=actor, action="pegawai.atasan", entity="pegawai",
           entity_id=pegawai.id, before={"nip_atasan": old.nip if old else None},
           after={"nip_atasan": new.nip})
    handover(session=session, pegawai=pegawai, old=old, now=now, mail=mail)
    return pegawai


def handover(*, session: Session, pegawai: Pegawai, old: Pegawai | None, now: datetime,
             mail: Mail) -> None:
    from models.repo.monitoring import open_stages, sync_ppk_tasks

    cycles = list(session.execute(select(Cycle).where(Cycle.status == CycleStatus.LAUNCHED))
                  .scalars())
    new = session.get(Pegawai, pegawai.atasan_id)
    for cycle in cycles:
        planning = session.execute(select(CycleStage).where(
            CycleStage.cycle_id == cycle.id, CycleStage.code == StageCode.PERENCANAAN)).scalar_one()
        if planning.opened_at is not None:
            ensure_review_tasks(session=session, cycle=cycle, stage=planning, now=now, mail=mail)
            if old is not None:
                _close_review_if_done(session, cycle.id, old.id, now)
        for stage in open_stages(session=session, cycle_id=cycle.id):
            sync_ppk_tasks(session=session, cycle=cycle, stage=stage, now=now, mail=mail)
            task = session.execute(select(Task).where(
                Task.cycle_id == cycle.id, Task.kind == TaskKind.NILAI_PERIODIK,
                Task.pegawai_id == new.id, Task.periode == stage.periode,
                Task.status == TaskStatus.OPEN)).scalar()
            if task is not None:
                enqueue_messages(session=session, now=now, messages=[{
                    "key": f"ppk-baru:{cycle.id}:{stage.periode}:{pegawai.id}:{new.id}",
                    "kind": "ppk_baru", "to_email": new.email, "pegawai_id": new.id,
                    "language": mail.language,
                    "context": {"agency_name": mail.agency, "nama": new.nama,
                                "tahun": cycle.tahun, "link": mail.links.task(task.id, new.id, now),
                                "pegawai_nama": pegawai.nama, "pegawai_nip": pegawai.nip,
                                "ppk_lama_nama": old.nama if old else ""}}])
