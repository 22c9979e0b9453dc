"""The planning stage flows under a real Prefect server (the session test harness)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from flows.common import use_runtime
from flows.orchestrator import orchestrate_once
from flows.planning import close_planning, open_planning
from flows.reminders import send_reminders
from kinerja.clock import FixedClock
from models.db import session_scope
from models.repo.cycles import create_cycle
from models.repo.hr import create_hr_user
from models.rules import calendar
from models.tables import AuditLog, CycleStage, OutboxMessage, Perilaku, Skp, StageReport, Task
from tests.factories import T0, make_org, make_pegawai, make_unit, runtime_for
from tests.integration.test_planner_statistics import forget_statistics

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _count(engine: Engine, model) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _kinds(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return dict(s.execute(select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)).all())


@pytest.fixture
def setup(db: Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FixedClock(T0)
    rt = runtime_for(db, tmp_path, clock)
    with session_scope(db) as s:
        org = make_org(s)
        unit = make_unit(s, "Dinas Kesehatan")
        for _ in range(5):
            make_pegawai(s, unit, atasan_id=org["kadis"].id)
        create_hr_user(session=s, username="admin", password="x" * 12, nama="HR",
                       email="hr@contoh.go.id", now=T0)
        cycle = create_cycle(session=s, tahun=2027, now=T0, actor="test",
                             planning=calendar.compressed_planning(T0, 1000),
                             reminder_offsets=(-60, 60), review_sla_minutes=60)
        cycle.status = "launched"
    with use_runtime(rt):
        yield rt, clock, cycle.id, org


def test_open_planning_is_chunked_and_idempotent(setup) -> None:  # type: ignore[no-untyped-def]
    rt, clock, cycle_id, org = setup
    sqlite = rt.engine.dialect.name == "sqlite"
    if sqlite:
        forget_statistics(rt.engine)
    result = open_planning(cycle_id, now=T0.isoformat())
    assert result["pegawai"] == 10 and result["skp"] == 10 and result["emails"] == 10
    if sqlite:  # the query planner was told what the stage's opening wrote
        with rt.engine.connect() as conn:
            tables = set(conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1").scalars())
        assert {"skp", "task"} <= tables
    again = open_planning(cycle_id, now=T0.isoformat())
    assert again["skp"] == again["tasks"] == again["emails"] == 0
    assert _count(rt.engine, Skp) == 10
    assert _count(rt.engine, Perilaku) == 70
    assert _count(rt.engine, Task) == 10 + 3  # every pegawai + PPKs kadis, kabid, kasi
    assert _kinds(rt.engine) == {"undangan_skp": 10}
    with session_scope(rt.engine) as s:  # the stage's opening is in the audit log, by the run
        opened = s.execute(select(AuditLog).where(AuditLog.entity == "cycle_stage")).scalars().all()
    assert len(opened) == 1 and opened[0].after["opened_at"]
    assert opened[0].actor == "flow:buka-perencanaan" and opened[0].via.startswith("flow-run:")
    assert opened[0].cycle_id == cycle_id


def test_reminders_escalation_and_close(setup) -> None:  # type: ignore[no-untyped-def]
    rt, clock, cycle_id, org = setup
    open_planning(cycle_id, now=T0.isoformat())
    with session_scope(rt.engine) as s:
        stage = s.execute(select(CycleStage).where(CycleStage.code == "perencanaan")).scalar_one()
        due, approve_due, closes = stage.due_at, stage.approve_due_at, stage.closes_at
    # an hour before the due date: one reminder per unsubmitted SKP, once
    first = send_reminders(now=(due - timedelta(minutes=30)).isoformat())
    assert first["reminders"] == 10
    assert send_reminders(now=(due - timedelta(minutes=20)).isoformat())["reminders"] == 0
    # someone submits late and the PPK sits on it: escalation to the atasan PPK after the SLA
    with session_scope(rt.engine) as s:
        skp = s.execute(select(Skp).where(Skp.pegawai_id == org["staf1"].id)).scalar_one()
        skp.status, skp.submitted_at, skp.submissions = "diajukan", approve_due, 1
    late = approve_due + timedelta(minutes=rt_sla(rt) + 1)
    result = send_reminders(now=late.isoformat())
    assert result["escalations"] == 1
    kinds = _kinds(rt.engine)
    assert kinds["eskalasi_persetujuan"] == 1 and kinds["pengingat_persetujuan"] == 1
    with session_scope(rt.engine) as s:
        esc = s.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "eskalasi_persetujuan")).scalar_one()
    assert esc.to_email == org["kabid"].email  # the PPK (kasi)'s own superior
    assert send_reminders(now=late.isoformat())["escalations"] == 0
    # closing: the report names who has no approved SKP; HR is told; reminders stop
    out = close_planning(cycle_id, now=closes.isoformat())
    assert out == {"total": 10, "approved": 0, "without_approved": 10}
    assert close_planning(cycle_id, now=closes.isoformat()) == out
    assert _count(rt.engine, StageReport) == 1
    assert _kinds(rt.engine)["laporan_perencanaan"] == 1
    assert send_reminders(now=(closes + timedelta(days=3)).isoformat())["reminders"] == 0


def rt_sla(rt) -> int:  # type: ignore[no-untyped-def]
    from models.tables import Cycle
    with session_scope(rt.engine) as s:
        return s.execute(select(Cycle.review_sla_minutes)).scalar_one()


def test_late_joiners_get_their_skp(setup) -> None:  # type: ignore[no-untyped-def]
    rt, clock, cycle_id, org = setup
    open_planning(cycle_id, now=T0.isoformat())
    with session_scope(rt.engine) as s:
        unit = make_unit(s, "Dinas Sosial")
        make_pegawai(s, unit, atasan_id=org["kadis"].id)
    assert send_reminders(now=(T0 + timedelta(minutes=1)).isoformat())["late_joiners"] == 1
    assert _count(rt.engine, Skp) == 11


def test_orchestrator_follows_a_calendar_changed_mid_way(setup) -> None:  # type: ignore[no-untyped-def]
    rt, clock, cycle_id, org = setup
    assert orchestrate_once(cycle_id, T0 - timedelta(minutes=5)) == T0  # nothing yet
    with session_scope(rt.engine) as s:  # HR moves the opening earlier: no restart needed
        stage = s.execute(select(CycleStage).where(CycleStage.code == "perencanaan")).scalar_one()
        stage.opens_at = T0 - timedelta(minutes=10)
        closes = stage.closes_at
    nxt = orchestrate_once(cycle_id, T0 - timedelta(minutes=5))
    assert nxt == closes and _count(rt.engine, Skp) == 10
    # planning closes; the first monitoring period opens at the same moment (it may not open
    # before planning closes), so the next event is the second period's opening
    nxt = orchestrate_once(cycle_id, closes)
    with session_scope(rt.engine) as s:
        first, second = s.execute(select(CycleStage).where(CycleStage.periode.in_([1, 2]))
                                  .order_by(CycleStage.periode)).scalars()
        assert first.opens_at == closes and first.opened_at is not None
        assert nxt == second.opens_at
    assert _count(rt.engine, StageReport) == 1


def test_the_sweep_catches_up_when_the_orchestrator_is_gone(setup) -> None:  # type: ignore[no-untyped-def]
    rt, clock, cycle_id, org = setup
    with session_scope(rt.engine) as s:
        closes = s.execute(select(CycleStage).where(CycleStage.code == "perencanaan")).scalar_one().closes_at
    send_reminders(now=T0.isoformat())  # no orchestrator ran: the sweep opens planning
    assert _count(rt.engine, Skp) == 10
    send_reminders(now=closes.isoformat())  # ...and closes it when its date comes
    assert _count(rt.engine, StageReport) == 1


def test_the_orchestrator_rides_out_a_briefly_locked_database(setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    import flows.orchestrator as orch

    rt, clock, cycle_id, org = setup
    calls = {"n": 0}

    def flaky(cid, at, decide=False):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OperationalError("UPDATE ...", {}, Exception("database is locked"))
        return None

    monkeypatch.setattr(orch, "orchestrate_once", flaky)
    monkeypatch.setattr(orch.time, "sleep", lambda s: None)
    assert orch.cycle_orchestrator(cycle_id) == "selesai" and calls["n"] == 3
