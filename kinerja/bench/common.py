"""Shared by the benchmark workloads: a seeded database, the SMTP sink, figures as JSON lines."""

from __future__ import annotations

import json
import resource
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kinerja.clock import FixedClock
from kinerja.runtime import Runtime
from kinerja.settings import ApiSettings, DatabaseSettings, PrefectSettings, SmtpSettings
from models.db import make_engine, migrate, session_scope


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_sink() -> Iterator[int]:
    """Postfix's smtp-sink on a free port: accepts and discards, fast enough not to be the limit."""
    exe = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(exe).exists():
        raise SystemExit("smtp-sink not found: apt-get install postfix (scripts/bench.sh does)")
    port = free_port()
    proc = subprocess.Popen([exe, "-c", "-u", "root", f"127.0.0.1:{port}", "1000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


@dataclass
class Figure:
    workload: str
    size: int
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""

    def line(self) -> str:
        ratio = round(self.value / self.baseline, 3) if self.baseline else None
        return json.dumps({"workload": self.workload, "size": self.size,
                           "value": round(self.value, 3), "unit": self.unit,
                           "baseline": None if self.baseline is None else round(self.baseline, 3),
                           "baseline_name": self.baseline_name, "ratio": ratio,
                           "at": datetime.now(UTC).isoformat(timespec="seconds")})


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_children_mb() -> float:
    """The largest peak of this process's children that have ended (the dispatch helpers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def runtime(home: Path, db_url: str, smtp_port: int, now: datetime) -> Runtime:
    migrate(db_url)
    return Runtime(api=ApiSettings(home=home, secret_key="bench", base_url="http://127.0.0.1:8000"),
                   db=DatabaseSettings(home=home, database_url=db_url),
                   smtp=SmtpSettings(port=smtp_port, dev_server=False),
                   prefect=PrefectSettings(),
                   engine=make_engine(db_url), clock=FixedClock(now))


def seed(rt: Runtime, n: int) -> None:
    from kinerja.seed import seed_demo_agency

    with session_scope(rt.engine) as s:
        seed_demo_agency(session=s, now=rt.clock.now(), n=n)
