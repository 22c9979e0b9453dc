"""Issue 9: the production profile as it runs. PostgreSQL for the app and for Prefect, two Prefect
API replicas and their services on Redis messaging, two workers on the process work pool, two
API processes, a real Postfix relay with STARTTLS and SASL; `kinerja simulate` plays a whole
compressed year through it. Afterwards every message arrived exactly once, every flow run
completed, and the year's invariants hold.

`make production-test` (KINERJA_PROD_EMPLOYEES, default 2000); not part of `make test`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select, text

from models.rules.enums import OutboxStatus
from models.tables import OutboxMessage as O
from tests.production import invariants
from tests.production.cluster import APP_DIR, Cluster

pytestmark = pytest.mark.production

EMPLOYEES = int(os.environ.get("KINERJA_PROD_EMPLOYEES", "2000"))


def simulate(cluster: Cluster, *args: str, timeout: float = 7200) -> subprocess.CompletedProcess:
    """`kinerja simulate` against the cluster's API, its summary in the test's output."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kinerja.cli", "simulate", "--url",
                           cluster.app_url, *args], cwd=APP_DIR, env=cluster.env(),
                          capture_output=True, text=True, timeout=timeout)
    # the whole summary in the cluster's logs (KINERJA_KEEP_CLUSTER_LOGS keeps them), its end here
    log = cluster.root / "simulate.log"
    log.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    cluster.logs["simulate"] = log
    failed = [line for line in proc.stdout.splitlines() if "[GAGAL]" in line]
    print("\n".join(failed) or "(every check of kinerja simulate passed)")
    print(proc.stdout[-6000:])
    print(proc.stderr[-4000:], file=sys.stderr)
    print(f"simulate: {time.monotonic() - started:.0f} s, exit {proc.returncode}")
    return proc


def settle(cluster: Cluster, seconds: float = 300) -> None:
    """Wait until the outbox owes nothing due and Postfix has delivered its queue."""
    engine = create_engine(cluster.db_url)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                owed = conn.execute(select(func.count()).select_from(O).where(
                    O.status == OutboxStatus.QUEUED,
                    O.next_attempt_at <= datetime.now(UTC))).scalar_one()
            if owed == 0 and cluster.mta.queued() == 0:
                return
            time.sleep(5)
    finally:
        engine.dispose()


def calendar(employees: int) -> list[str]:
    """`kinerja simulate`'s compressed calendar for an agency of this size: every stage gets
    minutes in proportion, since simulated people act at the API's pace and each level of the
    RHK cascade waits for its superior's approval email; eight people act at once. A period
    slot gets 3 minutes per 1,000: at 2 per 1,000, PPKs of a 2,000-employee agency left 10-14%
    unrated in the periods that overlap the 360 stage (2026-11-24)."""
    k = employees / 1000
    return ["--minutes", f"{3 + 3 * k:g}", "--period-minutes", f"{2 + 3 * k:g}",
            "--feedback-minutes", f"{4 + 4 * k:g}", "--annual-minutes", f"{3 + 3 * k:g}",
            "--survey-respondents", "100", "--parallel", "8"]


def check_year_invariants(cluster: Cluster, *, every_run_completed: bool = True
                          ) -> dict[str, object]:
    """The invariants of a finished year; fails with every violation found. Without
    `every_run_completed` (a run with faults) the flow runs' states are reported only."""
    engine = create_engine(cluster.db_url)
    try:
        problems = (invariants.email_once(engine, cluster.home / "mail")
                    + invariants.tasks_valid(engine) + invariants.audit_complete(engine))
        with engine.connect() as conn:
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("pegawai", "skp", "task", "outboxmessage", "auditlog")}
            # the sizing guide's "database per employee-year" (docs/production.md)
            counts["database_bytes"] = conn.execute(text(
                "SELECT pg_database_size(current_database())")).scalar_one()
            counts["table_bytes"] = conn.execute(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
            ).scalar_one()
    finally:
        engine.dispose()
    states, flow_problems = invariants.flow_runs_completed(cluster.prefect_api(1))
    if every_run_completed:
        problems += flow_problems
    else:
        print("\n".join(flow_problems))
    dead = cluster.dead()
    if dead:
        problems.append(f"processes died: {dead}: "
                        + " | ".join(cluster.log_tail(n, 10) for n in dead))
    report = {"counts": counts, "flow_runs": dict(sorted(states.items())),
              "postfix_queue": cluster.mta.queued()}
    print(report)
    assert not problems, "\n".join(problems)
    return report


def test_a_compressed_year_on_the_production_profile(cluster_factory) -> None:  # type: ignore[no-untyped-def]
    cluster = cluster_factory(EMPLOYEES)
    proc = simulate(cluster, *calendar(EMPLOYEES))
    settle(cluster)
    report = check_year_invariants(cluster)
    assert proc.returncode == 0, "kinerja simulate reported failed checks (see its summary)"
    counts = report["counts"]
    assert isinstance(counts, dict) and counts["pegawai"] >= EMPLOYEES
