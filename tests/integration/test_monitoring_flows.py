"""The monitoring period flows under a real Prefect server: open and close a period twice,
reminders and escalation for a period, a whole compressed year through the orchestrator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from flows.common import use_runtime
from flows.monitoring import close_period, open_period
from flows.orchestrator import orchestrate_once
from flows.reminders import send_reminders
from kinerja.clock import FixedClock
from models.db import session_scope
from models.repo.hr import create_hr_user
from models.tables import CycleStage, OutboxMessage, SkpPeriode, StageReport, Task
from tests.api.period_setup import approved_cycle
from tests.factories import T0, runtime_for

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _kinds(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return dict(s.execute(select(OutboxMessage.kind, func.count())
                              .group_by(OutboxMessage.kind)).all())


def _count(engine: Engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.fixture
def setup(db: Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FixedClock(T0)
    rt = runtime_for(db, tmp_path, clock)
    with session_scope(db) as s:
        create_hr_user(session=s, username="admin", password="x" * 12, nama="HR",
                       email="hr@contoh.go.id", now=T0)
    case = approved_cycle(rt, open_first=False)
    with use_runtime(rt):
        yield rt, clock, case


def test_period_flows_run_twice_do_nothing_twice(setup) -> None:  # type: ignore[no-untyped-def]
    rt, clock, case = setup
    first = open_period(case.cycle_id, 1, now=T0.isoformat())
    assert first == {"peserta": 5, "tasks": 5 + 3, "emails": 5 + 3}  # pegawai + 3 PPKs
    again = open_period(case.cycle_id, 1, now=T0.isoformat())
    assert again == {"peserta": 5, "tasks": 0, "emails": 0}
    assert _count(rt.engine, SkpPeriode) == 5
    assert _kinds(rt.engine) == {"undangan_realisasi": 5, "undangan_penilaian_periodik": 3}
    closed = close_period(case.cycle_id, 1, now=(T0 + timedelta(minutes=100)).isoformat())
    assert closed == {"total": 5, "dilaporkan": 0, "dinilai": 0}
    close_period(case.cycle_id, 1, now=(T0 + timedelta(minutes=200)).isoformat())
    assert _count(rt.engine, StageReport, StageReport.code == "pemantauan.1.tutup") == 1
    assert _kinds(rt.engine)["laporan_periode"] == 1


def _period_mail(engine: Engine, kind: str, label: str = "Triwulan I") -> int:
    with session_scope(engine) as s:
        rows = s.execute(select(OutboxMessage.context).where(OutboxMessage.kind == kind)).scalars()
        return sum(1 for ctx in rows if ctx.get("periode_label") == label)


def test_period_reminders_and_escalation(setup) -> None:  # type: ignore[no-untyped-def]
    rt, clock, case = setup
    with session_scope(rt.engine) as s:
        from models.tables import Cycle

        s.get(Cycle, case.cycle_id).reminder_offsets = [-10, 10]
        stage = s.execute(select(CycleStage).where(CycleStage.periode == 1)).scalar_one()
        due, approve_due = stage.due_at, stage.approve_due_at
    open_period(case.cycle_id, 1, now=T0.isoformat())
    send_reminders(now=(due + timedelta(minutes=11)).isoformat())
    assert _period_mail(rt.engine, "pengingat_realisasi") == 5
    assert _period_mail(rt.engine, "pengingat_penilaian_periodik") == 0  # theirs is later
    before = _kinds(rt.engine)
    send_reminders(now=(due + timedelta(minutes=12)).isoformat())  # nothing new is due
    assert _kinds(rt.engine) == before
    send_reminders(now=(approve_due + timedelta(minutes=1)).isoformat())
    assert _period_mail(rt.engine, "pengingat_penilaian_periodik") == 3
    # kasi -> kabid, kabid -> kadis, kadis (the top) -> HR; once per PPK and period
    assert _period_mail(rt.engine, "eskalasi_penilaian_periodik") == 3
    send_reminders(now=(approve_due + timedelta(minutes=5)).isoformat())
    assert _period_mail(rt.engine, "eskalasi_penilaian_periodik") == 3


@pytest.mark.sqlite_only  # the period flows' queries run on PostgreSQL in the tests below
def test_the_orchestrator_runs_every_period_of_a_compressed_year(setup) -> None:  # type: ignore[no-untyped-def]
    rt, clock, case = setup
    at = T0
    while (nxt := orchestrate_once(case.cycle_id, at)) is not None:
        at = nxt
    with session_scope(rt.engine) as s:
        stages = s.execute(select(CycleStage).where(CycleStage.code != "perencanaan")).scalars().all()
        # the four periods, the 360 stage and the annual rating (its final scoring ran; the
        # publication waits for HR, so no keberatan window exists yet)
        assert len(stages) == 4 + 1 + 1 and all(st.opened_at and st.closed_at for st in stages)
    assert _count(rt.engine, StageReport) == 4 + 1 + 1
    kinds = _kinds(rt.engine)
    assert kinds["undangan_realisasi"] == 4 * 5 and kinds["laporan_periode"] == 4
    assert kinds["undangan_umpan_balik"] == 5 and kinds["laporan_360"] == 1
    assert kinds["undangan_penilaian_tahunan"] == 3 and kinds["laporan_penilaian"] == 1
    # only the PPKs' annual tasks stay open (without reminders): calibration uses their links
    assert _count(rt.engine, Task, Task.status == "open", Task.kind != "nilai_tahunan") == 0
    assert _count(rt.engine, Task, Task.status == "open", Task.next_reminder_at.is_not(None)) == 0


def test_the_360_stage_flows_run_twice_do_nothing_twice(setup) -> None:  # type: ignore[no-untyped-def]
    from flows.umpan_balik import close_feedback, open_feedback
    from models.tables import Penilai360

    rt, clock, case = setup
    first = open_feedback(case.cycle_id, now=T0.isoformat())
    assert first["penugasan"] > 0 and first["tasks"] > 0
    assigned = _count(rt.engine, Penilai360)
    kinds = _kinds(rt.engine)
    assert kinds["undangan_umpan_balik"] == 5 and kinds["tetapkan_penilai"] == 3
    again = open_feedback(case.cycle_id, now=T0.isoformat())
    assert again == {"penugasan": 0, "tasks": 0, "emails": 0}
    assert _count(rt.engine, Penilai360) == assigned and _kinds(rt.engine) == kinds
    closed = close_feedback(case.cycle_id, now=(T0 + timedelta(days=400)).isoformat())
    assert closed["dinilai"] == 5 and closed["cukup"] == 0  # no one answered
    close_feedback(case.cycle_id, now=(T0 + timedelta(days=401)).isoformat())
    assert _kinds(rt.engine)["laporan_360"] == 1
