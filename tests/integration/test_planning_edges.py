"""Edge cases of the planning stage at the repository level, on both databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from kinerja.clock import FixedClock
from models.db import session_scope
from models.repo import skp as skp_repo
from models.repo.cycles import get_cycle, get_stage, stage_dates, update_stage
from models.repo.reminders import sweep_planning
from models.rules.calendar import StageDates
from models.rules.enums import StageCode, TaskKind
from models.rules.errors import InvalidTransition
from models.tables import OutboxMessage, Pegawai, Skp, Task, Unit
from tests.api.helpers import open_planning_now
from tests.factories import T0, make_org, make_pegawai, runtime_for


@pytest.fixture
def world(db: Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FixedClock(T0)
    rt = runtime_for(db, tmp_path, clock)
    with session_scope(db) as s:
        org = make_org(s)
    cycle_id = open_planning_now(rt, minutes=1000)
    with session_scope(db) as s:
        get_cycle(session=s, cycle_id=cycle_id).status = "launched"
    return rt, clock, cycle_id, org


def _submit_staf1(rt, cycle_id: int, org) -> int:  # type: ignore[no-untyped-def]
    """The chain kadis <- kabid <- kasi <- staf1 has RHK; staf1 submits."""
    with session_scope(rt.engine) as s:
        parent = None
        for who in ("kadis", "kabid", "kasi", "staf1"):
            skp = skp_repo.skp_of(session=s, cycle_id=cycle_id, pegawai_id=org[who].id)
            view = skp_repo.load_view(session=s, skp=skp)
            rhk = skp_repo.add_rhk(session=s, view=view, jenis="utama", uraian=f"RHK {who}",
                                   intervensi_rhk_id=parent, now=rt.clock.now(),
                                   iki=skp_repo.IkiInput("Dokumen", "4", "dokumen"))
            parent = rhk.id
        skp_repo.submit(session=s, view=skp_repo.load_view(session=s, skp=skp),
                        now=rt.clock.now(), mail=rt.mail)
        return skp.id


def _sweep(rt, cycle_id: int):  # type: ignore[no-untyped-def]
    with session_scope(rt.engine) as s:
        return sweep_planning(session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
                              stage=get_stage(session=s, cycle_id=cycle_id,
                                              code=StageCode.PERENCANAAN),
                              now=rt.clock.now(), mail=rt.mail)


def test_approve_and_return_at_once_one_wins_the_other_gets_409(world) -> None:  # type: ignore[no-untyped-def]
    rt, clock, cycle_id, org = world
    skp_id = _submit_staf1(rt, cycle_id, org)
    ppk = skp_repo.Approver(org["kasi"].id, "Kepala Seksi")
    with session_scope(rt.engine) as a_session:
        a_view = skp_repo.load_view(session=a_session, skp=a_session.get(Skp, skp_id))
        with pytest.raises(InvalidTransition) as err:
            with session_scope(rt.engine) as b:  # the other tab read the same version
                b_view = skp_repo.load_view(session=b, skp=b.get(Skp, skp_id))
                skp_repo.decide(session=a_session, view=a_view, ppk=ppk, approve=True, comment="",
                                now=clock.now(), mail=rt.mail)
                a_session.commit()
                skp_repo.decide(session=b, view=b_view, ppk=ppk, approve=False,
                                comment="kurang", now=clock.now(), mail=rt.mail)
        assert "baru saja diubah" in err.value.message("id")
    with session_scope(rt.engine) as s:
        skp = s.get(Skp, skp_id)
        assert (skp.status, skp.return_comment) == ("disetujui", None)
        kinds = set(s.execute(select(OutboxMessage.kind).where(
            OutboxMessage.pegawai_id == org["staf1"].id)).scalars())
    assert "skp_dikembalikan" not in kinds


def test_a_new_superior_after_submission_gets_the_task_and_the_notice(world) -> None:  # type: ignore[no-untyped-def]
    rt, clock, cycle_id, org = world
    _submit_staf1(rt, cycle_id, org)
    with session_scope(rt.engine) as s:  # HR moves staf1 under a new kasi who had no staff
        kasi2 = make_pegawai(s, s.get(Unit, org["kasi"].unit_id), nama="Kasi Baru",
                             jenis_jabatan="Pengawas", atasan_id=org["kabid"].id)
        s.get(Pegawai, org["staf1"].id).atasan_id = kasi2.id
    clock.advance(minutes=5)
    _sweep(rt, cycle_id)
    with session_scope(rt.engine) as s:
        task = s.execute(select(Task).where(Task.pegawai_id == kasi2.id,
                                            Task.kind == TaskKind.SETUJUI_SKP)).scalar_one()
        notice = s.execute(select(OutboxMessage).where(
            OutboxMessage.to_email == kasi2.email, OutboxMessage.kind == "skp_diajukan")).scalar_one()
    assert task.status == "open" and "/t/" in notice.context["link"]
    _sweep(rt, cycle_id)  # and only once
    with session_scope(rt.engine) as s:
        assert len(s.execute(select(OutboxMessage.id).where(
            OutboxMessage.to_email == kasi2.email)).all()) == 1


def test_moving_the_deadline_moves_the_reminders(world) -> None:  # type: ignore[no-untyped-def]
    rt, clock, cycle_id, org = world
    with session_scope(rt.engine) as s:
        old = stage_dates(get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN))
        later = StageDates(old.code, old.opens_at, old.due_at + timedelta(days=10),
                           old.approve_due_at + timedelta(days=10), old.closes_at + timedelta(days=10))
        update_stage(session=s, cycle_id=cycle_id, dates=later, expected_version=None,
                     now=clock.now(), actor="test")
    clock.at = old.due_at + timedelta(days=1, minutes=1)  # +1d after the OLD date
    assert _sweep(rt, cycle_id).reminders == 0  # nobody is told they are late
    with session_scope(rt.engine) as s:
        dues = set(s.execute(select(Task.due_at).where(Task.kind == TaskKind.SUSUN_SKP)).scalars())
    assert dues == {later.due_at}
    clock.at = later.due_at - timedelta(days=1) + timedelta(minutes=1)
    assert _sweep(rt, cycle_id).reminders == 5  # the -1d reminder of the NEW date


def test_the_opening_date_of_an_open_stage_cannot_move(world) -> None:  # type: ignore[no-untyped-def]
    rt, clock, cycle_id, org = world
    with session_scope(rt.engine) as s:
        old = stage_dates(get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN))
        with pytest.raises(InvalidTransition, match="sudah dibuka"):
            update_stage(session=s, cycle_id=cycle_id, now=clock.now(), actor="t",
                         dates=StageDates(old.code, old.opens_at - timedelta(hours=1), old.due_at,
                                          old.approve_due_at, old.closes_at), expected_version=None)
