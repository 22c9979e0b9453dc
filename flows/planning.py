"""Open and close the planning stage (perencanaan) for a cycle, in chunks, idempotently."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.common import Progress, chunks, now_of, runtime
from models.db import refresh_statistics, session_scope
from models.repo import planning
from models.repo.cycles import get_cycle, get_stage
from models.repo.people import active_pegawai_ids
from models.rules.enums import StageCode


@task(name="buka-perencanaan-chunk", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def open_chunk(cycle_id: int, pegawai_ids: list[int], now: str) -> dict[str, int]:
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        cycle = get_cycle(session=s, cycle_id=cycle_id)
        stage = get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
        r = planning.open_planning_chunk(session=s, cycle=cycle, stage=stage,
                                         pegawai_ids=pegawai_ids, now=at, links=rt.links,
                                         agency=rt.api.agency_name, language=rt.api.language)
    return {"skp": r.skp_created, "tasks": r.tasks_created, "emails": r.emails_queued}


@flow(name="buka-perencanaan", flow_run_name="buka-perencanaan-siklus-{cycle_id}")
def open_planning(cycle_id: int, now: str | None = None) -> dict[str, int]:
    """Create every missing SKP draft, task and invitation for the cycle; safe to run twice."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        ids = active_pegawai_ids(session=s)
    progress = Progress(len(ids), f"Membuka perencanaan siklus {cycle_id}")
    totals = {"skp": 0, "tasks": 0, "emails": 0}
    for part in chunks(ids, rt.prefect.chunk_size):
        for k, v in open_chunk(cycle_id, list(part), at.isoformat()).items():
            totals[k] += v
        progress.advance(len(part))
    refresh_statistics(rt.engine)
    with session_scope(rt.engine) as s:
        stage = get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
        if stage.opened_at is None:
            stage.opened_at = at
            s.add(stage)
        counts = planning.planning_counts(session=s, cycle_id=cycle_id, now=at)
    progress.finish()
    _publish_counts(cycle_id, counts, "Perencanaan dibuka")
    get_run_logger().info("perencanaan siklus %s: %s pegawai, dibuat %s", cycle_id, len(ids), totals)
    return totals | {"pegawai": len(ids)}


@flow(name="tutup-perencanaan", flow_run_name="tutup-perencanaan-siklus-{cycle_id}")
def close_planning(cycle_id: int, now: str | None = None) -> dict[str, int]:
    """Close planning: record and report to HR who has no approved SKP; safe to run twice."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        cycle = get_cycle(session=s, cycle_id=cycle_id)
        stage = get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
        report = planning.close_planning(
            session=s, cycle=cycle, stage=stage, now=at, agency=rt.api.agency_name,
            console_link=f"{rt.api.public_url}/hr/cycles/{cycle_id}", language=rt.api.language)
        data = report.data
    _publish_counts(cycle_id, data["per_unit"], "Perencanaan ditutup")
    missing = len(data["without_approved"])
    get_run_logger().info("perencanaan siklus %s ditutup: %s dari %s belum disetujui",
                          cycle_id, missing, data["total"])
    return {"total": data["total"], "approved": data["approved"], "without_approved": missing}


def _publish_counts(cycle_id: int, per_unit: list[dict[str, object]], title: str) -> None:
    """A table artifact of counts per unit: no names, no NIP (the Prefect UI has no ACL)."""
    rows = [{k: v for k, v in row.items() if k != "unit_id"} for row in per_unit]
    create_table_artifact(table=rows, key=f"perencanaan-siklus-{cycle_id}",
                          description=f"{title}: status SKP per unit kerja (siklus {cycle_id})")
