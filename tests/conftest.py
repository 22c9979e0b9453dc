"""Shared fixtures: a migrated test database (SQLite by default, PostgreSQL when
KINERJA_TEST_DATABASE_URL names a server), emptied after each test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from models.db import make_engine, migrate
from models.repo.audit import drop_guard, restore_guard

PG_ADMIN_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_admin(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database for this test session; dropped at the end."""
    server = os.environ.get("KINERJA_TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'kinerja-test.db'}"
        migrate(url)
        yield url
        return
    name = f"kinerja_test_{uuid.uuid4().hex[:10]}"
    with _pg_admin(server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    try:
        yield url
    finally:
        with _pg_admin(server) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = list(reversed(SQLModel.metadata.sorted_tables))
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:  # the audit log refuses DELETE: lift its guard while emptying
            drop_guard(conn)
            for t in tables:
                conn.execute(t.delete())
            restore_guard(conn)


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """The test database, empty at the start and emptied after the test."""
    _empty(engine)
    yield engine
    _empty(engine)
