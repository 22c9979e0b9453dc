"""Issue 8, item 6: the soak. A whole compressed year for 5,000 employees (KINERJA_SOAK_EMPLOYEES)
on the production profile (tests/production/cluster.py), played by `kinerja simulate`, while
faults are injected at moments read from Prefect's own view of the year:

1. both Prefect workers SIGKILLed, with the flow processes they ran, while planning opens for
   everyone; started again 15 s later;
2. the mail relay (Postfix) stopped for 90 s once the first monitoring period has opened;
3. the Prefect API replica the app and the first worker talk to stopped for 20 s once the
   second period has opened;
4. the PostgreSQL cluster (both databases) restarted once the third period has opened;
5. one of the API's uvicorn worker processes SIGKILLed once the fourth period has opened.

Afterwards the invariants hold: every task in a valid state, every message the outbox owed
delivered exactly once and nothing else, and every state reached with its audit entry; and
`kinerja simulate`'s own checks of the year pass (everyone invited, every SKP approved, every
period reported and rated, the 360 stage, the year's end). The flow runs the faults cut off
(a killed worker's runs stay "Running" in Prefect: nothing marks a dead process's run crashed)
are listed, not counted as failures: the invariants say whether later runs redid their work.

`make soak` (restarts the PostgreSQL cluster: run it alone)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

from tests.production.cluster import APP_DIR, Cluster
from tests.production.test_profile_year import calendar, check_year_invariants, settle

pytestmark = pytest.mark.soak

EMPLOYEES = int(os.environ.get("KINERJA_SOAK_EMPLOYEES", "5000"))
PG_CLUSTER = os.environ.get("KINERJA_SOAK_PG_CLUSTER", "15/main")


#: what Faults._plan notes, in order: five faults, three of them with their end
FAULTS = ("SIGKILLed while buka-perencanaan ran", "workers started again", "Postfix stopped",
          "Postfix started again", "Prefect replica A stopped", "Prefect replica A started again",
          "PostgreSQL restarted", "API worker process")


@dataclass
class Faults:
    cluster: Cluster
    log: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def note(self, what: str) -> None:
        line = f"{time.monotonic() - self.started:7.1f} s  {what}"
        self.log.append(line)
        print("fault:", line, flush=True)

    def runs(self, name_like: str) -> list[dict]:
        """Flow runs whose name contains `name_like`, from the replica no fault stops."""
        with contextlib.suppress(httpx.HTTPError):
            r = httpx.post(f"{self.cluster.prefect_api(1)}/flow_runs/filter", timeout=10, json={
                "flow_runs": {"name": {"like_": name_like}}, "limit": 50, "offset": 0,
                "sort": "ID_DESC"})
            if r.status_code == 200:
                return r.json()
        return []

    def wait_for(self, name_like: str, state: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.done.is_set():
            if any(r.get("state_type") == state for r in self.runs(name_like)):
                return True
            time.sleep(0.5)
        return False

    def run(self) -> None:
        try:
            self._plan()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _plan(self) -> None:
        c = self.cluster
        if self.wait_for("buka-perencanaan", "RUNNING", 1800):
            time.sleep(1.0)  # into its chunks
            for name in ("worker-1", "worker-2"):
                c.stop_process(name, signal.SIGKILL)
            self.note("workers 1 and 2 SIGKILLed while buka-perencanaan ran")
            time.sleep(15)
            for n in (0, 1):
                c.spawn(f"worker-{n + 1}", ["-m", "prefect", "worker", "start", "--pool",
                                            "kinerja", "--name", f"kinerja-{n + 1}"], replica=n)
            self.note("workers started again")
        if self.wait_for("buka-periode-1-", "COMPLETED", 3600):
            c.mta.stop()
            self.note("Postfix stopped")
            time.sleep(90)
            c.mta.start_again()
            self.note("Postfix started again")
        if self.wait_for("buka-periode-2-", "COMPLETED", 3600):
            c.stop_process("prefect-a", signal.SIGTERM)
            self.note("Prefect replica A stopped")
            time.sleep(20)
            c.spawn("prefect-a", ["-m", "prefect", "server", "start", "--no-services",
                                  "--host", "127.0.0.1", "--port", str(c.prefect_ports[0])])
            self.note("Prefect replica A started again")
        if self.wait_for("buka-periode-3-", "COMPLETED", 3600):
            version, name = PG_CLUSTER.split("/")
            began = time.monotonic()
            subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True, timeout=180)
            self.note(f"PostgreSQL restarted ({time.monotonic() - began:.1f} s)")
        if self.wait_for("buka-periode-4-", "COMPLETED", 3600):
            children = subprocess.run(["pgrep", "-P", str(c.procs["api"].pid)],
                                      capture_output=True, text=True).stdout.split()
            if children:
                os.kill(int(children[0]), signal.SIGKILL)
                self.note(f"API worker process {children[0]} SIGKILLed")


def test_a_year_for_5000_with_faults(cluster_factory) -> None:  # type: ignore[no-untyped-def]
    cluster = cluster_factory(EMPLOYEES)
    faults = Faults(cluster)
    injector = threading.Thread(target=faults.run, name="faults", daemon=True)
    injector.start()
    began = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "kinerja.cli", "simulate", "--url", cluster.app_url,
         *calendar(EMPLOYEES)],
        cwd=APP_DIR, env=cluster.env(), capture_output=True, text=True, timeout=4 * 3600)
    faults.done.set()
    log = cluster.root / "simulate.log"
    log.write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    cluster.logs["simulate"] = log
    print("\n".join(line for line in proc.stdout.splitlines() if "[GAGAL]" in line))
    print(proc.stdout[-6000:])
    print(proc.stderr[-4000:], file=sys.stderr)
    print(f"simulate: {time.monotonic() - began:.0f} s, exit {proc.returncode}")
    print("faults injected:\n  " + "\n  ".join(faults.log))
    settle(cluster, 600)
    # the runs the faults cut off (killed with their worker, or losing their Prefect server
    # for longer than the client's retries) are listed, not failed: the invariants below say
    # whether later runs redid their work
    report = check_year_invariants(cluster, every_run_completed=False)
    print(report)
    assert not faults.errors, faults.errors
    missing = [f for f in FAULTS if not any(f in line for line in faults.log)]
    assert not missing, f"faults not injected: {missing}\n" + "\n".join(faults.log)
    assert proc.returncode == 0, "kinerja simulate reported failed checks (see its summary)"
