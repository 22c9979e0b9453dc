"""The year's end under a real Prefect server: the annual rating stage flows, the final
scoring, and the publication decision that pauses until HR resumes it with the decision."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from flows.common import use_runtime
from flows.penilaian import close_annual, open_annual, publication_decision
from kinerja.clock import FixedClock
from models.db import session_scope
from models.repo import penilaian
from models.repo.hr import create_hr_user
from models.tables import CycleStage, OutboxMessage, PenilaianTahunan, Task
from tests.api.period_setup import approved_cycle
from tests.factories import T0, runtime_for

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _kinds(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        return dict(s.execute(select(OutboxMessage.kind, func.count())
                              .group_by(OutboxMessage.kind)).all())


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


def test_open_close_and_the_paused_publication_decision(setup) -> None:  # type: ignore[no-untyped-def]
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    rt, clock, case = setup
    assert open_annual(case.cycle_id, now=T0.isoformat())["peserta"] == 5
    again = open_annual(case.cycle_id, now=T0.isoformat())
    assert again["emails"] == 0 and _kinds(rt.engine)["undangan_penilaian_tahunan"] == 3
    with session_scope(rt.engine) as s:  # everyone rated Baik
        for rec in s.execute(select(PenilaianTahunan)).scalars():
            rec.hasil_kerja = rec.perilaku = "Sesuai Ekspektasi"
    result = close_annual(case.cycle_id, now=(T0 + timedelta(days=1)).isoformat())
    assert result == {"total": 5, "dinilai": 5, "unit_melanggar": 0}  # no unit grade yet
    assert _kinds(rt.engine)["laporan_penilaian"] == 1

    outcome: list[str] = []
    runner = threading.Thread(target=lambda: outcome.append(publication_decision(case.cycle_id)))
    runner.start()
    name = f"keputusan-publikasi-siklus-{case.cycle_id}"
    paused = None
    for _ in range(120):  # the run pauses and waits for HR's input
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=[name])), limit=5, sort=FlowRunSort.ID_DESC)
        if runs and runs[0].state and runs[0].state.is_paused():
            paused = runs[0]
            break
        time.sleep(0.5)
    assert paused is not None, "the decision run never paused"
    with session_scope(rt.engine) as s:  # nothing is published while HR has not decided
        assert not s.execute(select(PenilaianTahunan).where(
            PenilaianTahunan.status == "dipublikasi")).first()
    import asyncio

    from api.launcher import PrefectLauncher

    # the console's path: find the paused run by its name and resume it with the decision
    assert asyncio.run(PrefectLauncher().resume_publication(case.cycle_id, "hr:admin"))
    runner.join(120)
    assert outcome == ["dipublikasikan"]
    with session_scope(rt.engine) as s:
        statuses = set(s.execute(select(PenilaianTahunan.status)).scalars())
        assert statuses == {"dipublikasi"}
        window = s.execute(select(CycleStage).where(CycleStage.code == "keberatan")).scalar_one()
        assert window.closes_at > window.opens_at
        assert s.execute(select(func.count()).select_from(Task).where(
            Task.kind == "hasil_kinerja")).scalar_one() == 5
    assert _kinds(rt.engine)["hasil_kinerja"] == 5
    with session_scope(rt.engine) as s:
        assert penilaian.calibrating(s, case.cycle_id)
