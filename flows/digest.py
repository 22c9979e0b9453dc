"""The daily digest (ringkasan harian) on a cron schedule: one email per person in digest mode
listing everything that waits for them; at most one a day, however often it runs."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from flows.common import Progress, chunks, now_of, runtime
from models.db import session_scope
from models.repo import digest
from models.rules.calendar import to_local


@task(name="kirim-ringkasan-chunk", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def digest_chunk(pegawai_ids: list[int], now: str) -> dict[str, int]:
    """One transaction per chunk: a failed chunk leaves nothing behind and is simply retried."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        run = digest.build_digests(session=s, now=at, mail=rt.mail, timezone=rt.api.timezone,
                                   pegawai_ids=pegawai_ids)
    return run.counts()


@flow(name="kirim-ringkasan", flow_run_name="kirim-ringkasan")
def send_digests(now: str | None = None) -> dict[str, int]:
    """Queue today's digests in chunks of employees (the dispatcher sends them); people who
    already had today's digest are skipped, so a second run on the same day sends nothing."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        ids = digest.digest_candidates(session=s)
    progress = Progress(len(ids), "Ringkasan harian: menyusun")
    totals = {k: 0 for k in digest.DigestRun().counts()} | {"diperiksa": 0}
    for part in chunks(ids, rt.prefect.chunk_size):
        for k, v in digest_chunk(list(part), at.isoformat()).items():
            totals[k] += v
        totals["diperiksa"] += len(part)
        progress.advance(len(part))
    progress.finish()
    # counts only: no names, no NIP (the Prefect UI has no per-user access control)
    create_table_artifact(table=[totals], key="ringkasan-harian",
                          description=f"Ringkasan harian {to_local(at, rt.api.timezone).date()}: "
                                      "jumlah saja")
    get_run_logger().info("ringkasan harian: %s", totals)
    return totals
