"""Settings, one class per boundary, read from KINERJA_* environment variables at the edges."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _home() -> Path:
    return HomeSettings().home


class HomeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KINERJA_", extra="ignore")
    home: Path = Path(".kinerja")


class DatabaseSettings(BaseSettings):
    """The application database; SQLite under KINERJA_HOME unless KINERJA_DATABASE_URL is set."""

    model_config = SettingsConfigDict(env_prefix="KINERJA_", extra="ignore")
    database_url: str = ""
    home: Path = Path(".kinerja")

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'kinerja.db').resolve()}"


class SmtpSettings(BaseSettings):
    """Where the outbox dispatcher sends mail; the default is the development server."""

    model_config = SettingsConfigDict(env_prefix="KINERJA_SMTP_", extra="ignore")
    host: str = "127.0.0.1"
    port: int = 8025
    username: str = ""
    password: str = ""
    starttls: bool = False
    use_tls: bool = False
    #: a PEM file of the certificate authorities that sign the relay's certificate (an agency's
    #: own CA); empty: the system's trust store
    ca_file: str = ""
    timeout: float = 30.0
    sender: str = "Kinerja BKPSDM <kinerja@localhost>"
    #: run the development SMTP server (aiosmtpd, Maildir under KINERJA_HOME/mail) in `kinerja run`
    dev_server: bool = True
    batch_size: int = 500
    #: SMTP connections used at once by the dispatcher
    connections: int = 4
    #: processes a large dispatch is spread over (rendering and the SMTP dialogue take a core
    #: each: one process sends about 1,600 messages/s); 0: one per CPU, at most 4. Only a
    #: dispatch with at least `parallel_from` messages due starts the extra processes (about a
    #: second each)
    processes: int = Field(default=0, ge=0, le=64)
    parallel_from: int = Field(default=5000, ge=1)
    #: with 60 s doubling (capped at 6 h) twelve attempts span about 20 hours of outage
    max_attempts: int = 12
    retry_base_seconds: int = 60


class PrefectSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KINERJA_PREFECT_", extra="ignore")
    host: str = "127.0.0.1"
    port: int = 4200
    #: an external Prefect API (production); empty means `kinerja run` starts its own server
    api_url: str = ""
    #: UI base URL for links from the console; derived from host/port when empty
    ui_url: str = ""
    reminder_cron: str = "0 * * * *"
    #: the daily digest (ringkasan harian), in the agency's time zone
    digest_cron: str = "0 6 * * *"
    dispatch_interval_seconds: int = 60
    #: the orchestrator re-reads the calendar at least this often
    orchestrator_poll_seconds: int = 60
    #: employees per Prefect task: each task run costs ~10 ms plus its API calls on a 2-core
    #: machine, so a few thousand keeps the orchestration overhead small at 100k
    chunk_size: int = 2000
    #: 0: `kinerja run` serves the deployments in its own process (the embedded default);
    #: N > 0: it registers them in the work pool (`kinerja deploy`) and starts N Prefect workers
    workers: int = Field(default=0, ge=0, le=64)
    #: the process work pool the deployments are registered in
    work_pool: str = Field(default="kinerja", pattern=r"^[A-Za-z0-9_.-]+$")

    @property
    def api(self) -> str:
        return self.api_url or f"http://{self.host}:{self.port}/api"

    @property
    def ui(self) -> str:
        if self.ui_url:
            return self.ui_url.rstrip("/")
        return self.api.removesuffix("/api")


#: the API's thread pool by database when KINERJA_API_THREADS is unset. SQLite runs inside the
#: process: a thread never waits on the network for it, so beyond two (one in Python, one in
#: SQLite's C code) threads only contend for Python's lock, and each statement handed back
#: waits for it: the SKP page served 443-523 req/s with 2 threads against 294-372 with 8,
#: same machine, runs in turns (2026-11-24). The price: one long request
#: (an export, an import) holds half the pool while it runs; set KINERJA_API_THREADS higher
#: where that matters. PostgreSQL's threads wait on the network: 8 (the soak's production
#: profile ran with 8).
API_THREADS = {"sqlite": 2, "postgresql": 8}


class ApiSettings(BaseSettings):
    """The HTTP service: where it listens, how links are signed, language and time zone."""

    model_config = SettingsConfigDict(env_prefix="KINERJA_", extra="ignore")
    host: str = "127.0.0.1"
    port: int = 8000
    #: public base URL used in emailed links
    base_url: str = ""
    #: signs task links and HR sessions; generated under KINERJA_HOME on first start when empty
    secret_key: str = ""
    link_ttl_hours: int = 24 * 21
    language: str = Field(default="id", pattern="^(id|en)$")
    timezone: str = "Asia/Jakarta"
    agency_name: str = "Pemerintah Kabupaten Contoh"
    #: development helpers: the /dev/mailbox page
    dev: bool = True
    #: KINERJA_API_WORKERS: uvicorn worker processes of `kinerja run` (each with its own
    #: database pool)
    api_workers: int = Field(default=1, ge=1, le=64)
    #: KINERJA_API_THREADS: requests one API process works on at once (the thread pool the page
    #: handlers run in; Starlette's default is 40); unset: API_THREADS by the database. Python
    #: runs one thread at a time, so past a few the extra threads only wait, holding database
    #: connections: with 8 instead of 40 the SKP page served 409 instead of 374 req/s on
    #: SQLite, 295 instead of 266 on PostgreSQL (make bench, 10,000 employees, 2026-11-24)
    api_threads: int | None = Field(default=None, ge=1, le=200)
    home: Path = Path(".kinerja")

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    def threads_for(self, dialect: str) -> int:
        """The API's thread pool: KINERJA_API_THREADS, or API_THREADS for the database."""
        return self.api_threads or API_THREADS.get(dialect, 8)


class OpsSettings(BaseSettings):
    """Operations: who is emailed when a Kinerja flow run fails, and where Prefect calls us."""

    model_config = SettingsConfigDict(env_prefix="KINERJA_OPS_", extra="ignore")
    #: comma-separated addresses; empty: the active HR admins
    emails: str = ""
    #: the URL Prefect's automation calls (the app's /api/v1/ops/prefect-event); empty: derived
    #: from the app's public URL
    webhook_url: str = ""
    #: after an email about a flow, its further failures within this many minutes are not
    #: emailed again (the console lists them all); 0 emails every failed run
    quiet_minutes: int = Field(default=60, ge=0)

    @property
    def recipients(self) -> list[str]:
        seen: dict[str, None] = {}
        for part in self.emails.replace(";", ",").split(","):
            email = part.strip()
            if email and "@" in email:
                seen.setdefault(email.lower(), None)
        return list(seen)
