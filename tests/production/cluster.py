"""The production profile, started on this machine the way docs/production.md lays it out with
systemd: every process on its own, configured by environment variables alone.

- the app's database and Prefect's database: two PostgreSQL databases created here (Prefect's
  with the pg_trgm extension), dropped at the end;
- Prefect: two API replicas (`prefect server start --no-services`) and one process of the
  background services, sharing the database and Redis messaging (a Redis database of its own,
  flushed before and after);
- `kinerja migrate`, `kinerja import` of the organisation and `kinerja deploy` (prefect.yaml into
  the process work pool);
- two Prefect workers on the pool, one talking to each replica;
- the API: uvicorn with two worker processes;
- the agency's mail relay: a real Postfix (tests/production/mta.py) with STARTTLS and SASL,
  delivering into the Maildir that `kinerja simulate` reads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from tests.production.mta import Postfix

APP_DIR = Path(__file__).resolve().parents[2]
PG_ADMIN = os.environ.get("KINERJA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_DB = int(os.environ.get("KINERJA_TEST_REDIS_DB", "7"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited {proc.returncode} before {url} answered")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=3).status_code < 500:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


@dataclass
class Cluster:
    root: Path
    employees: int
    name: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.app_db = f"kinerja_prod_{self.name}"
        self.prefect_db = f"prefect_prod_{self.name}"
        self.api_port, self.prefect_ports = free_port(), (free_port(), free_port())
        self.mta = Postfix(self.root / "postfix", free_port(), self.home / "mail")

    # -- addresses --------------------------------------------------------------------------
    def pg(self, db: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{PG_ADMIN.split('://', 1)[1].rsplit('/', 1)[0]}/{db}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def prefect_api(self, replica: int = 0) -> str:
        return f"http://127.0.0.1:{self.prefect_ports[replica]}/api"

    @property
    def db_url(self) -> str:
        return self.pg(self.app_db)

    def env(self, replica: int = 0) -> dict[str, str]:
        """The whole production configuration: KINERJA_* for the app and the flows, PREFECT_*
        for the Prefect server, its workers and clients."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("KINERJA_", "PREFECT_"))}
        env.update({
            "PYTHONUNBUFFERED": "1",
            "KINERJA_HOME": str(self.home),
            "KINERJA_DEV": "false",
            "KINERJA_DATABASE_URL": self.db_url,
            "KINERJA_BASE_URL": self.app_url,
            "KINERJA_PORT": str(self.api_port),
            "KINERJA_SECRET_KEY": "uji-profil-produksi-" + self.name * 4,
            "KINERJA_PREFECT_API_URL": self.prefect_api(replica),
            "KINERJA_PREFECT_UI_URL": self.prefect_api(replica).removesuffix("/api"),
            "KINERJA_OPS_EMAILS": "operator@contoh.go.id",
            # a compressed year: email every 15 s, reminders every minute
            "KINERJA_PREFECT_DISPATCH_INTERVAL_SECONDS": "15",
            "KINERJA_PREFECT_REMINDER_CRON": "* * * * *",
            "KINERJA_PREFECT_ORCHESTRATOR_POLL_SECONDS": "10",
            "PREFECT_HOME": str(self.root / "prefect-home"),
            "PREFECT_API_URL": self.prefect_api(replica),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_API_DATABASE_CONNECTION_URL": self.pg(self.prefect_db,
                                                          "postgresql+asyncpg"),
            "PREFECT_MESSAGING_BROKER": "prefect_redis.messaging",
            "PREFECT_MESSAGING_CACHE": "prefect_redis.messaging",
            "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING": "prefect_redis.ordering",
            "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect_redis.lease_storage",
            "PREFECT_REDIS_MESSAGING_HOST": "127.0.0.1",
            "PREFECT_REDIS_MESSAGING_PORT": "6379",
            "PREFECT_REDIS_MESSAGING_DB": str(REDIS_DB),
            "PREFECT_WORKER_QUERY_SECONDS": "5",
        } | self.mta.env())
        return env

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._redis_flush()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.app_db}"')
            conn.execute(f'CREATE DATABASE "{self.prefect_db}"')
        with psycopg.connect(self.pg(self.prefect_db, "postgresql"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        self.mta.start()
        self.kinerja("migrate")
        from kinerja.seed import write_demo_csv

        self.kinerja("import", str(write_demo_csv(self.root / "organisasi.csv",
                                                   n=self.employees)))
        # Prefect: the first replica migrates its database, then the second and the services
        self.spawn("prefect-a", ["-m", "prefect", "server", "start", "--no-services",
                                 "--host", "127.0.0.1", "--port", str(self.prefect_ports[0])])
        wait_http(f"{self.prefect_api(0)}/health", 120, self.procs["prefect-a"])
        self.spawn("prefect-b", ["-m", "prefect", "server", "start", "--no-services",
                                 "--host", "127.0.0.1", "--port", str(self.prefect_ports[1])],
                   replica=1)
        self.spawn("prefect-services", ["-m", "prefect", "server", "services", "start"])
        wait_http(f"{self.prefect_api(1)}/health", 120, self.procs["prefect-b"])
        self.kinerja("deploy")
        self.kinerja("ensure-automation")
        for n in (0, 1):
            self.spawn(f"worker-{n + 1}", ["-m", "prefect", "worker", "start", "--pool",
                                           "kinerja", "--name", f"kinerja-{n + 1}"], replica=n)
        self.spawn("api", ["-m", "uvicorn", "--factory", "api.main:app", "--host", "127.0.0.1",
                           "--port", str(self.api_port), "--workers", "2",
                           "--log-level", "warning"])
        wait_http(f"{self.app_url}/healthz", 90, self.procs["api"])

    def kinerja(self, *args: str, timeout: float = 600) -> str:
        proc = subprocess.run([sys.executable, "-m", "kinerja.cli", *args], cwd=APP_DIR,
                              env=self.env(), capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"kinerja {' '.join(args)} exited {proc.returncode}:\n"
                               f"{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
        return proc.stdout

    def spawn(self, name: str, args: list[str], replica: int = 0) -> subprocess.Popen:
        log = self.root / f"{name}.log"
        self.logs[name] = log
        out = log.open("ab")
        proc = subprocess.Popen([sys.executable, *args], cwd=APP_DIR, env=self.env(replica),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        self.procs[name] = proc
        return proc

    def stop_process(self, name: str, sig: int = signal.SIGTERM, wait: float = 20) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def stop(self) -> None:
        for name in ("api", "worker-1", "worker-2", "prefect-services", "prefect-b",
                     "prefect-a"):
            self.stop_process(name, signal.SIGINT)
        with contextlib.suppress(Exception):
            self.mta.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            for db in (self.app_db, self.prefect_db):
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s", (db,))
                conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
        self._redis_flush()

    def _redis_flush(self) -> None:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()

    def log_tail(self, name: str, lines: int = 40) -> str:
        log = self.logs.get(name)
        if log is None or not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def dead(self) -> list[str]:
        return [name for name, p in self.procs.items() if p.poll() is not None]
