"""The annual rating stage: open it, close it with the final scoring and curve check, and the
publication decision, a flow that pauses until HR resumes it from the console."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from sqlalchemy import func, select

from flows.common import Progress, chunks, now_of, runtime
from models.db import refresh_statistics, session_scope
from models.repo import penilaian as repo
from models.repo.cycles import get_cycle
from models.tables import Pegawai, Skp, Unit


@task(name="buka-penilaian-chunk", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def open_chunk(cycle_id: int, pegawai_ids: list[int], now: str) -> int:
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        return repo.open_chunk(session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
                               stage=repo.get_stage(session=s, cycle_id=cycle_id),
                               pegawai_ids=pegawai_ids, now=at, mail=rt.mail)


@flow(name="buka-penilaian", flow_run_name="buka-penilaian-siklus-{cycle_id}")
def open_annual(cycle_id: int, now: str | None = None) -> dict[str, int]:
    """Every approved SKP gets its annual record; every PPK a task and an invitation."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        ids = list(s.execute(select(Skp.pegawai_id).where(
            Skp.cycle_id == cycle_id, Skp.approved_at.is_not(None))).scalars())
    progress = Progress(len(ids), f"Membuka penilaian tahunan siklus {cycle_id}")
    emails = 0
    for part in chunks(ids, rt.prefect.chunk_size):
        emails += open_chunk(cycle_id, list(part), at.isoformat())
        progress.advance(len(part))
    refresh_statistics(rt.engine)
    with session_scope(rt.engine) as s:
        stage = repo.get_stage(session=s, cycle_id=cycle_id)
        if stage.opened_at is None:
            stage.opened_at = at
            s.add(stage)
        per_unit = s.execute(
            select(Unit.nama, func.count(Skp.id)).join(Pegawai, Pegawai.unit_id == Unit.id)
            .join(Skp, Skp.pegawai_id == Pegawai.id)
            .where(Skp.cycle_id == cycle_id, Skp.approved_at.is_not(None))
            .group_by(Unit.nama).order_by(Unit.nama)).all()
    progress.finish()
    create_table_artifact(  # unit names and counts only, never a person
        table=[{"unit": unit, "pegawai dinilai": n} for unit, n in per_unit],
        key=f"penilaian-dibuka-siklus-{cycle_id}",
        description=f"Penilaian tahunan dibuka (siklus {cycle_id}): peserta per unit")
    get_run_logger().info("penilaian siklus %s dibuka: %s pegawai, %s email", cycle_id, len(ids),
                          emails)
    return {"peserta": len(ids), "emails": emails}


def _publish_units(cycle_id: int, data: dict) -> None:  # type: ignore[type-arg]
    """Per unit: grade, counts per predikat and the breaches (unit names, no person)."""
    rows = [{"unit": u["unit"], "nilai unit": u["grade"] or "-", "pegawai": u["total"],
             "dinilai": u["dinilai"], **u["predikat"],
             "pelanggaran": "; ".join(u["pelanggaran"]) or "-",
             "diterima HR": "ya" if u["override"] else "-"} for u in data["units"]]
    create_table_artifact(table=rows, key=f"penilaian-siklus-{cycle_id}",
                          description=f"Skor akhir dan kurva distribusi per unit (siklus {cycle_id})")


@flow(name="tutup-penilaian", flow_run_name="tutup-penilaian-siklus-{cycle_id}")
def close_annual(cycle_id: int, now: str | None = None) -> dict[str, int]:
    """Close the rating stage and run the final scoring: every predikat, every unit against
    its curve, the breaches to HR (console and email). Calibration may follow."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        report = repo.close(session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
                            stage=repo.get_stage(session=s, cycle_id=cycle_id), now=at,
                            console_link=f"{rt.api.public_url}/hr/cycles/{cycle_id}/penilaian",
                            mail=rt.mail)
        data = dict(report.data)
    _publish_units(cycle_id, data)
    breaking = sum(1 for u in data["units"] if u["pelanggaran"] and not u["override"])
    get_run_logger().info("skor akhir siklus %s: %s dari %s dinilai, %s unit melanggar kurva",
                          cycle_id, data["dinilai"], data["total"], breaking)
    return {"total": data["total"], "dinilai": data["dinilai"], "unit_melanggar": breaking}


class PublishDecision(RunInput):
    """HR's decision from the console."""

    publish: bool
    by: str


@flow(name="keputusan-publikasi", flow_run_name="keputusan-publikasi-siklus-{cycle_id}")
def publication_decision(cycle_id: int, timeout_hours: int = 24 * 60) -> str:
    """Wait (paused, no worker slot held by anything but this run) until HR decides in the
    console; publishing is never automatic. HR can also publish from the console directly when
    this run is gone (a restart): both paths are the same idempotent function."""
    decision = pause_flow_run(wait_for_input=PublishDecision, timeout=timeout_hours * 3600,
                              key=f"publikasi-{cycle_id}")
    if decision is None or not decision.publish:
        get_run_logger().info("siklus %s: publikasi belum diputuskan", cycle_id)
        return "ditunda"
    rt = runtime()
    with session_scope(rt.engine) as s:
        from models.repo.keberatan import publish

        n = publish(session=s, cycle=get_cycle(session=s, cycle_id=cycle_id), now=rt.clock.now(),
                    mail=rt.mail)
    # not who decided: an HR username can be a person's name (the audit log keeps it)
    get_run_logger().info("siklus %s: %s hasil dipublikasikan atas keputusan HR", cycle_id, n)
    return "dipublikasikan"
