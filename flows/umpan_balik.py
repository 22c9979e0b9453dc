"""Open and close the 360 feedback stage (umpan balik) with the competency self-assessment."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.common import Progress, chunks, now_of, runtime
from models.db import refresh_statistics, session_scope
from models.repo import umpan_balik as repo
from models.repo.cycles import get_cycle


@task(name="tetapkan-penilai-aturan", cache_policy=NO_CACHE)
def assign(cycle_id: int) -> int:
    rt = runtime()
    with session_scope(rt.engine) as s:
        return repo.assign_raters(session=s, cycle=get_cycle(session=s, cycle_id=cycle_id))


@task(name="buka-umpan-balik-chunk", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def open_chunk(cycle_id: int, pegawai_ids: list[int], now: str) -> dict[str, int]:
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        r = repo.open_chunk(session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
                            stage=repo.get_stage(session=s, cycle_id=cycle_id),
                            pegawai_ids=pegawai_ids, now=at, mail=rt.mail)
    return {"tasks": r.tasks, "emails": r.emails}


@flow(name="buka-umpan-balik", flow_run_name="buka-umpan-balik-siklus-{cycle_id}")
def open_feedback(cycle_id: int, now: str | None = None) -> dict[str, int]:
    """Assign raters by the cycle's rule (once), then each pegawai's and PPK's task and
    invitation and the competency self-assessment, in chunks. Safe to run twice."""
    rt = runtime()
    at = now_of(rt, now)
    assigned = assign(cycle_id)
    with session_scope(rt.engine) as s:
        ids = repo.participants(session=s, cycle_id=cycle_id)
    progress = Progress(len(ids), f"Membuka umpan balik 360 siklus {cycle_id}")
    totals = {"penugasan": assigned, "tasks": 0, "emails": 0}
    for part in chunks(ids, rt.prefect.chunk_size):
        r = open_chunk(cycle_id, list(part), at.isoformat())
        totals["tasks"] += r["tasks"]
        totals["emails"] += r["emails"]
        progress.advance(len(part))
    refresh_statistics(rt.engine)
    with session_scope(rt.engine) as s:
        stage = repo.get_stage(session=s, cycle_id=cycle_id)
        if stage.opened_at is None:
            stage.opened_at = at
            s.add(stage)
    progress.finish()
    create_table_artifact(table=[{"peserta": len(ids)} | totals],
                          key=f"umpan-balik-siklus-{cycle_id}",
                          description=f"Umpan balik 360 dibuka (siklus {cycle_id}): jumlah saja")
    get_run_logger().info("umpan balik siklus %s dibuka: %s", cycle_id, totals)
    return totals


@flow(name="tutup-umpan-balik", flow_run_name="tutup-umpan-balik-siklus-{cycle_id}")
def close_feedback(cycle_id: int, now: str | None = None) -> dict[str, int]:
    """Close the stage: aggregates become visible (from the threshold), competency gaps become
    training recommendations, HR gets the response rates. Safe to run twice."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        report = repo.close(session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
                            stage=repo.get_stage(session=s, cycle_id=cycle_id), now=at,
                            console_link=f"{rt.api.public_url}/hr/cycles/{cycle_id}", mail=rt.mail)
        data = dict(report.data)
    create_table_artifact(table=[data], key=f"umpan-balik-siklus-{cycle_id}",
                          description=f"Umpan balik 360 ditutup (siklus {cycle_id}): jumlah saja")
    get_run_logger().info("umpan balik siklus %s ditutup: %s", cycle_id, data)
    return data
