"""Close the keberatan window (tutup-keberatan): results become final, follow-up starts."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from flows.common import now_of, runtime
from models.db import session_scope
from models.repo import keberatan as repo
from models.repo.cycles import get_cycle


@flow(name="tutup-keberatan", flow_run_name="tutup-keberatan-siklus-{cycle_id}")
def close_appeals_flow(cycle_id: int, now: str | None = None) -> dict[str, int]:
    """At the end of the appeal window: every published result without an undecided keberatan
    becomes final; award candidates, coaching plans (with the PPK's task and email) and angka
    kredit follow. Safe to run twice: nothing is created or sent twice."""
    rt = runtime()
    at = now_of(rt, now)
    with session_scope(rt.engine) as s:
        report = repo.close_appeals(session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
                                    stage=repo.keberatan_stage(session=s, cycle_id=cycle_id),
                                    now=at, mail=rt.mail)
        data = dict(report.data)
    totals = {k: int(v) for k, v in data.items() if isinstance(v, int)}
    run = {k: int(v) for k, v in dict(data.get("run", {})).items()}
    # counts only: no names, no NIP (the Prefect UI has no per-user access control)
    create_table_artifact(table=[totals | run], key=f"keberatan-siklus-{cycle_id}",
                          description=f"Masa keberatan ditutup (siklus {cycle_id}): jumlah saja")
    create_table_artifact(table=[{k: v for k, v in row.items() if k != "unit_id"}
                                 for row in data.get("per_unit", [])],
                          key=f"predikat-unit-siklus-{cycle_id}",
                          description=f"Predikat yang dipublikasikan per unit kerja (siklus "
                                      f"{cycle_id}): jumlah saja")
    get_run_logger().info("keberatan siklus %s ditutup: %s", cycle_id, totals | run)
    return totals | run
