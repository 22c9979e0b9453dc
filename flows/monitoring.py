"""Open and close a monitoring period (pemantauan) for a cycle, in chunks, idempotently."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from flows.common import Progress, chunks, now_of, runtime
from models.db import refresh_statistics, session_scope
from models.repo import monitoring
from models.repo.cycles import get_cycle
from models.tables import Skp


@task(name="buka-periode-chunk", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def open_chunk(cycle_id: int, periode: int, pegawai_ids: list[int], now: str) -> dict[str, int]:
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        r = monitoring.open_period_chunk(
            session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
            stage=monitoring.get_period_stage(session=s, cycle_id=cycle_id, periode=periode),
            pegawai_ids=pegawai_ids, now=at, mail=rt.mail)
    return {"peserta": r.participants, "tasks": r.tasks_created, "emails": r.emails_queued}


@flow(name="buka-periode", flow_run_name="buka-periode-{periode}-siklus-{cycle_id}")
def open_period(cycle_id: int, periode: int, now: str | None = None) -> dict[str, int]:
    """Every employee with an approved SKP enters the period: record, task, invitation, and a
    task for their PPK. Safe to run twice: only what is missing is created or sent."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        ids = list(s.execute(select(Skp.pegawai_id).where(
            Skp.cycle_id == cycle_id, Skp.approved_at.is_not(None)).order_by(Skp.pegawai_id))
            .scalars())
    progress = Progress(len(ids), f"Membuka periode {periode} siklus {cycle_id}")
    totals = {"peserta": 0, "tasks": 0, "emails": 0}
    for part in chunks(ids, rt.prefect.chunk_size):
        for k, v in open_chunk(cycle_id, periode, list(part), at.isoformat()).items():
            totals[k] += v
        progress.advance(len(part))
    refresh_statistics(rt.engine)
    with session_scope(rt.engine) as s:
        stage = monitoring.get_period_stage(session=s, cycle_id=cycle_id, periode=periode)
        if stage.opened_at is None:
            stage.opened_at = at
            s.add(stage)
        counts = monitoring.period_counts(session=s, cycle_id=cycle_id, periode=periode)
    progress.finish()
    _publish(cycle_id, periode, counts, "dibuka")
    get_run_logger().info("periode %s siklus %s dibuka: %s", periode, cycle_id, totals)
    return totals


@flow(name="tutup-periode", flow_run_name="tutup-periode-{periode}-siklus-{cycle_id}")
def close_period(cycle_id: int, periode: int, now: str | None = None) -> dict[str, int]:
    """Close the period: records become read-only, HR gets the counts; safe to run twice."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        report = monitoring.close_period(
            session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
            stage=monitoring.get_period_stage(session=s, cycle_id=cycle_id, periode=periode),
            now=at, console_link=f"{rt.api.public_url}/hr/cycles/{cycle_id}", mail=rt.mail)
        data = report.data
    _publish(cycle_id, periode, data["per_unit"], "ditutup")
    get_run_logger().info("periode %s siklus %s ditutup: %s dari %s dinilai", periode, cycle_id,
                          data["dinilai"], data["total"])
    return {"total": data["total"], "dilaporkan": data["dilaporkan"], "dinilai": data["dinilai"]}


def _publish(cycle_id: int, periode: int, per_unit: list[dict[str, object]], what: str) -> None:
    """Counts per unit only: no names, no NIP (the Prefect UI has no per-user access control)."""
    rows = [{k: v for k, v in row.items() if k != "unit_id"} for row in per_unit]
    create_table_artifact(table=rows, key=f"pemantauan-{periode}-siklus-{cycle_id}",
                          description=f"Periode {periode} {what}: realisasi dan penilaian per unit "
                                      f"kerja (siklus {cycle_id})")
