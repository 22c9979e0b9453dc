"""The reminder sweep on a cron schedule: reminders, escalations, late joiners."""

from __future__ import annotations

from prefect import flow, get_run_logger
from sqlalchemy import select

from flows.common import chunks, now_of, runtime
from models.db import refresh_statistics, session_scope
from models.repo import keberatan, penilaian, planning, umpan_balik
from models.repo.cycles import get_cycle, get_stage
from models.repo.monitoring import open_stages
from models.repo.people import active_pegawai_ids
from models.repo.reminders import SweepResult, sweep_period, sweep_planning
from models.rules.enums import CycleStatus, StageCode
from models.tables import Cycle, CycleStage, Skp


@flow(name="kirim-pengingat", flow_run_name="kirim-pengingat")
def send_reminders(now: str | None = None) -> dict[str, int]:
    """For every launched cycle with a stage open (planning, monitoring periods, 360, annual
    rating) or follow-up still running (keberatan, coaching): queue the reminders and
    escalations that are due."""
    rt = runtime()
    at = now_of(rt, now)
    totals = {"reminders": 0, "escalations": 0, "late_joiners": 0}
    refresh_statistics(rt.engine)  # hourly: what imports and actions changed since
    _catch_up_stages(rt, at)
    with session_scope(rt.engine) as s:
        cycle_ids = list(s.execute(select(Cycle.id).join(
            CycleStage, CycleStage.cycle_id == Cycle.id).where(
            Cycle.status == CycleStatus.LAUNCHED, CycleStage.opened_at.is_not(None),
            CycleStage.closed_at.is_(None)).distinct().order_by(Cycle.id)).scalars())
        # undecided keberatan and open coaching plans outlive every stage
        cycle_ids = sorted(set(cycle_ids) | set(keberatan.cycles_with_follow_up(session=s)))
    failed = []
    for cycle_id in cycle_ids:  # one broken cycle must not stop the others' reminders
        try:
            with session_scope(rt.engine) as s:
                planning_open = get_stage(session=s, cycle_id=cycle_id,
                                          code=StageCode.PERENCANAAN).closed_at is None
            if planning_open:
                totals["late_joiners"] += _open_for_late_joiners(rt, cycle_id, at)
            with session_scope(rt.engine) as s:
                cycle = get_cycle(session=s, cycle_id=cycle_id)
                results = [sweep_planning(session=s, cycle=cycle, stage=get_stage(
                    session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN), now=at, mail=rt.mail)]
                results += [sweep_period(session=s, cycle=cycle, stage=stage, now=at, mail=rt.mail)
                            for stage in open_stages(session=s, cycle_id=cycle_id)]
                feedback = umpan_balik.get_stage(session=s, cycle_id=cycle_id)
                results.append(SweepResult(umpan_balik.sweep(
                    session=s, cycle=cycle, stage=feedback, now=at, mail=rt.mail), 0))
                annual = penilaian.get_stage(session=s, cycle_id=cycle_id)
                results.append(SweepResult(penilaian.sweep(
                    session=s, cycle=cycle, stage=annual, now=at, mail=rt.mail), 0))
                follow_up = keberatan.sweep(session=s, cycle=cycle, now=at, mail=rt.mail)
                results.append(SweepResult(follow_up.reminders, follow_up.escalations))
            totals["reminders"] += sum(r.reminders for r in results)
            totals["escalations"] += sum(r.escalations for r in results)
        except Exception:  # noqa: BLE001 - logged, and the run fails at the end
            get_run_logger().exception("pengingat siklus %s gagal", cycle_id)
            failed.append(cycle_id)
    get_run_logger().info("pengingat: %s", totals)
    if failed:
        raise RuntimeError(f"reminder sweep failed for cycles {failed}")
    return totals


def _catch_up_stages(rt, at) -> None:  # type: ignore[no-untyped-def]
    """A safety net for the orchestrator: if its run died (a restart, a crash), stage
    transitions that are due still happen on the next sweep. Both paths are idempotent."""
    from flows.orchestrator import orchestrate_once

    with session_scope(rt.engine) as s:
        launched = list(s.execute(select(Cycle.id).where(
            Cycle.status == CycleStatus.LAUNCHED)).scalars())
    for cycle_id in launched:
        orchestrate_once(cycle_id, at)


def _open_for_late_joiners(rt, cycle_id: int, at) -> int:  # type: ignore[no-untyped-def]
    """Employees imported after planning opened get their SKP draft and invitation too."""
    with session_scope(rt.engine) as s:
        have = set(s.execute(select(Skp.pegawai_id).where(Skp.cycle_id == cycle_id)).scalars())
        missing = [pid for pid in active_pegawai_ids(session=s) if pid not in have]
    for part in chunks(missing, rt.prefect.chunk_size):
        with session_scope(rt.engine) as s:
            planning.open_planning_chunk(
                session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
                stage=get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN),
                pegawai_ids=list(part), now=at, links=rt.links, agency=rt.api.agency_name,
                language=rt.api.language)
    return len(missing)
