"""The cycle orchestrator: started once per cycle by HR's launch, runs stages on the calendar.

It re-reads the calendar on every pass, so a date HR changes takes effect without a restart.
Stages run in calendar order: planning, then each monitoring period (several may be open at
once: a period closes after the next one has opened).
"""

from __future__ import annotations

import time
from datetime import datetime

from prefect import flow, get_run_logger, tags
from sqlalchemy.exc import OperationalError

from flows.common import now_of, runtime
from flows.monitoring import close_period, open_period
from flows.outbox import dispatch_outbox
from flows.penilaian import close_annual, open_annual, publication_decision
from flows.planning import close_planning, open_planning
from flows.umpan_balik import close_feedback, open_feedback
from models.db import session_scope
from models.repo.cycles import list_stages, stage_dates
from models.rules import calendar
from models.rules.enums import StageCode

#: consecutive database errors the orchestrator rides out (with backoff) before failing
MAX_DB_RETRIES = 8


def _run(code: StageCode, periode: int, action: str, cycle_id: int, at: datetime,
         decide: bool) -> None:
    if code == StageCode.PENILAIAN:
        if action == "open":
            open_annual(cycle_id, now=at.isoformat())
        else:
            close_annual(cycle_id, now=at.isoformat())
            if decide:  # only the orchestrator waits for HR; the sweep's catch-up never blocks
                publication_decision(cycle_id)
    elif code == StageCode.KEBERATAN:
        if action == "close":
            from flows.keberatan import close_appeals_flow

            close_appeals_flow(cycle_id, now=at.isoformat())
    elif code == StageCode.PERENCANAAN:
        (open_planning if action == "open" else close_planning)(cycle_id, now=at.isoformat())
    elif code == StageCode.UMPAN_BALIK:
        (open_feedback if action == "open" else close_feedback)(cycle_id, now=at.isoformat())
    else:
        (open_period if action == "open" else close_period)(cycle_id, periode, now=at.isoformat())


def orchestrate_once(cycle_id: int, at: datetime, decide: bool = False) -> datetime | None:
    """Run whatever stage transitions are due at `at`; return when to look again (None: done).
    `decide`: after the final scoring, wait for HR's publication decision (the orchestrator
    flow does; the reminder sweep's catch-up does not)."""
    rt = runtime()
    with session_scope(rt.engine) as s:
        stages = [(stage_dates(st), st.opened_at is not None, st.closed_at is not None)
                  for st in list_stages(session=s, cycle_id=cycle_id)]
    # every due transition, in time order: an open before a close at the same moment
    due = sorted(((d.opens_at if a == "open" else d.closes_at, a == "close", d, a)
                  for d, opened, closed in stages
                  for a in calendar.stage_actions(d, opened, closed, at)),
                 key=lambda x: (x[0], x[1], x[2].periode))
    state = {(d.code, d.periode): [opened, closed] for d, opened, closed in stages}
    for _, _, d, action in due:
        with tags(f"siklus-{cycle_id}"):  # the Prefect UI filters a cycle's runs by this tag
            _run(d.code, d.periode, action, cycle_id, at, decide)
        state[(d.code, d.periode)][0 if action == "open" else 1] = True
    if due:
        dispatch_outbox(now=at.isoformat())
    events = [e for d, _, _ in stages
              if (e := calendar.next_event(d, *state[(d.code, d.periode)])) is not None]
    return min(events) if events else None


@flow(name="orkestrator-siklus", flow_run_name="orkestrator-siklus-{cycle_id}")
def cycle_orchestrator(cycle_id: int, max_passes: int = 0) -> str:
    """Drive the cycle's stages until the last one has closed (max_passes > 0: tests)."""
    rt = runtime()
    log = get_run_logger()
    passes, failures = 0, 0
    while True:
        at = now_of(rt, None)
        try:
            nxt = orchestrate_once(cycle_id, at, decide=True)
            failures = 0
        except OperationalError as exc:  # the database briefly locked or restarting
            failures += 1
            if failures > MAX_DB_RETRIES:
                raise
            log.warning("siklus %s: basis data belum tersedia (%s); dicoba lagi", cycle_id,
                        type(exc).__name__)
            time.sleep(min(60.0, 2.0 ** failures))
            continue
        passes += 1
        if nxt is None:
            log.info("siklus %s: semua tahap selesai", cycle_id)
            return "selesai"
        if max_passes and passes >= max_passes:
            return "berjalan"
        wait = min(rt.prefect.orchestrator_poll_seconds, max(1.0, (nxt - at).total_seconds()))
        log.info("siklus %s: pemeriksaan berikut %s (tidur %.0f s)", cycle_id, nxt.isoformat(), wait)
        time.sleep(wait)
