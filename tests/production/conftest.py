"""The production profile's cluster (tests/production/cluster.py), for `make production-test`
and `make soak`: started once per test, stopped and its databases dropped afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.production import mta
from tests.production.cluster import Cluster


@pytest.fixture
def cluster_factory() -> Iterator:  # type: ignore[type-arg]
    reason = mta.available()
    if reason:
        pytest.fail(f"the production profile needs Postfix: {reason}")
    started: list[Cluster] = []
    # a TERM (a CI timeout, a Ctrl-C'd shell) still stops the cluster's processes and drops its
    # databases: pytest runs the teardown on KeyboardInterrupt
    previous = signal.signal(signal.SIGTERM,
                             lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    keep = os.environ.get("KINERJA_KEEP_CLUSTER_LOGS", "")

    def start(employees: int) -> Cluster:
        # not under pytest's tmp_path: its folders are private to root, and Postfix's own user
        # must reach the queue and the Maildir
        root = Path(tempfile.mkdtemp(prefix="kinerja-prod-"))
        root.chmod(0o755)
        c = Cluster(root, employees)
        started.append(c)
        c.start()
        return c
    try:
        yield start
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop_all(started, keep)


def _stop_all(started: list[Cluster], keep: str) -> None:
    for c in started:
        c.stop()
        if keep:  # the processes' logs, for a failing run
            dest = Path(keep) / c.name
            dest.mkdir(parents=True, exist_ok=True)
            for log in c.logs.values():
                if log.exists():
                    shutil.copy(log, dest / log.name)
            if c.mta.log.exists():
                shutil.copy(c.mta.log, dest / "maillog")
        shutil.rmtree(c.root, ignore_errors=True)
