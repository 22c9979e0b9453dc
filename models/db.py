"""Engine and session factory from a database URL; migrations run through Alembic."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from models.rules.errors import InvalidInput

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """One engine per process; SQLite gets WAL, foreign keys and a busy timeout.

    The pool keeps `pool_size` connections and opens up to as many again under a burst. An
    API process serves up to 40 requests at once (the thread pool); with SQLAlchemy's default
    of 5 kept, 16 concurrent page loads opened and closed a connection on most requests (on
    PostgreSQL a new backend each time: the page's p99 was 659 ms under wrk)."""
    if url.startswith("sqlite"):
        if not in_memory(url):
            Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **({} if in_memory(url) else
                                  {"pool_size": 2 * pool_size, "max_overflow": 2 * pool_size}))

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def refresh_statistics(engine: Engine) -> bool:
    """Give SQLite's query planner statistics of the tables as they are now (ANALYZE), in
    every process's open connections. Returns whether it did (never on PostgreSQL, whose
    autovacuum keeps its own statistics; not when the database stayed locked).

    Without them it guesses: for the SKPs a PPK has to approve it scanned every SKP of the
    cycle (by the cycle's index) instead of finding the PPK's few subordinates first, a cost
    that grew with the agency (1.1 ms a query at 5,000 employees against 0.08 ms with
    statistics), paid on every submit. Run after a stage opened (the tables grew by one row
    or more per employee) and by the hourly reminder sweep; `analysis_limit` keeps it to a
    few milliseconds at any size.

    A connection reads the statistics only when it reads the schema: ANALYZE alone reaches
    the connection that ran it, not the API's pooled ones. Creating and dropping a view
    changes the schema, so every connection (every process) reads it again, with the new
    statistics, at its next statement. Best effort: a failure is logged, never raised (the
    stage or the sweep that asked goes on)."""
    if engine.dialect.name != "sqlite":
        return False
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("DROP VIEW IF EXISTS kinerja_statistik")
            conn.exec_driver_sql("CREATE VIEW kinerja_statistik AS SELECT 1 AS segar")
            conn.exec_driver_sql("DROP VIEW kinerja_statistik")
    except OperationalError as exc:
        logging.getLogger(__name__).warning("statistik SQLite tidak diperbarui: %s", exc)
        return False
    return True


def in_memory(url: str) -> bool:
    """A SQLite database in this process's memory: no file, no other process can open it."""
    return url.startswith("sqlite") and (":///" not in url or url.endswith(":memory:"))


def insert_new(session: Session, model: Any, unique: list[str], *returning: Any) -> Any:
    """INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING `returning`, in the session's
    dialect: a row a racing writer added meanwhile is skipped, not an error (on another
    database the unique key still refuses it, as an error)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert
    else:
        from sqlalchemy import insert

        return insert(model).returning(*returning)
    return upsert(model).on_conflict_do_nothing(index_elements=unique).returning(*returning)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


@event.listens_for(Session, "before_flush")
def _refuse_nul(session: Session, _context: Any, _instances: Any) -> None:
    """Text with a NUL character is refused (422) before it is written, on every database:
    PostgreSQL cannot store it (a driver error, a 500) and SQLite would keep it silently."""
    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            if _has_nul(state.dict.get(attr.key)):
                raise InvalidInput("Teks tidak boleh berisi karakter NUL (\\0); tidak ada yang "
                                   "disimpan.", "Text must not contain a NUL character (\\0); "
                                   "nothing was saved.")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        end_session(session, False)
        raise
    end_session(session, True)


def end_session(session: Session, ok: bool) -> None:
    """Commit (ok) or roll back, then give the connection back."""
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent)."""
    from alembic import command

    if url.startswith("sqlite") and ":///" in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)
