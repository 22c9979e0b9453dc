"""The cycle orchestrator: started once per cycle by HR's launch, runs stages on the calendar.

It re-reads the calendar on every pass, so a date HR changes takes effect without a restart.
"""

from __future__ import annotations

import time
from datetime import datetime

from prefect import flow, get_run_logger

from flows.common import now_of, runtime
from flows.outbox import dispatch_outbox
from flows.planning import close_planning, open_planning
from models.db import session_scope
from models.repo.cycles import get_stage, stage_dates
from models.rules import calendar
from models.rules.enums import StageCode


def orchestrate_once(cycle_id: int, at: datetime) -> datetime | None:
    """Run whatever stage transition is due at `at`; return when to look again (None: done)."""
    rt = runtime()
    with session_scope(rt.engine) as s:
        stage = get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
        dates, opened, closed = stage_dates(stage), stage.opened_at is not None, stage.closed_at is not None
    actions = calendar.stage_actions(dates, opened, closed, at)
    if "open" in actions:
        open_planning(cycle_id, now=at.isoformat())
        opened = True
    if "close" in actions:
        close_planning(cycle_id, now=at.isoformat())
        closed = True
    if actions:
        dispatch_outbox(now=at.isoformat())
    return calendar.next_event(dates, opened, closed)


@flow(name="orkestrator-siklus", flow_run_name="orkestrator-siklus-{cycle_id}")
def cycle_orchestrator(cycle_id: int, max_passes: int = 0) -> str:
    """Drive the cycle's stages until the last one has closed (max_passes > 0: tests)."""
    rt = runtime()
    log = get_run_logger()
    passes = 0
    while True:
        at = now_of(rt, None)
        nxt = orchestrate_once(cycle_id, at)
        passes += 1
        if nxt is None:
            log.info("siklus %s: semua tahap selesai", cycle_id)
            return "selesai"
        if max_passes and passes >= max_passes:
            return "berjalan"
        wait = min(rt.prefect.orchestrator_poll_seconds, max(1.0, (nxt - at).total_seconds()))
        log.info("siklus %s: pemeriksaan berikut %s (tidur %.0f s)", cycle_id, nxt.isoformat(), wait)
        time.sleep(wait)
