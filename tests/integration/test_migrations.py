"""The Alembic migrations produce exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import models.tables  # noqa: F401


def test_no_drift_between_models_and_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                SQLModel.metadata)
    assert diff == []


def test_upgrading_a_database_that_holds_a_cycle(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """From the first release's schema with data in it, up to head, down and up again: the
    new stages are added for the existing cycle and no table rebuild trips a foreign key."""
    import os
    import uuid
    from datetime import datetime

    from sqlalchemy import text

    from models.db import make_engine, migrate
    from tests.conftest import _pg_admin

    server = os.environ.get("KINERJA_TEST_DATABASE_URL", "")
    name = f"kinerja_mig_{uuid.uuid4().hex[:8]}"
    if server.startswith("postgresql"):
        with _pg_admin(server) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = server.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    try:
        migrate(url, "0002")
        eng = make_engine(url)
        t = datetime(2027, 1, 1)
        with eng.begin() as c:
            c.execute(text("INSERT INTO unit (nama, active) VALUES ('U', true)"))
            c.execute(text(
                "INSERT INTO pegawai (nip, nama, email, jabatan, jenis_jabatan, status, unit_id, "
                "active, updated_at) VALUES ('198001012005010001', 'A', 'a@x.id', 'J', "
                "'PELAKSANA', 'PNS', 1, true, :t)"), {"t": t})
            c.execute(text(
                "INSERT INTO cycle (tahun, nama, status, timezone, reminder_offsets, "
                "review_sla_minutes, created_at, version) VALUES (2027, 'x', 'DRAFT', "
                "'Asia/Jakarta', '[]', 10, :t, 1)"), {"t": t})
            c.execute(text(
                "INSERT INTO cyclestage (cycle_id, code, opens_at, due_at, approve_due_at, "
                "closes_at, version) VALUES (1, 'perencanaan', :t, :t, :t, :t, 1)"), {"t": t})
            c.execute(text(
                "INSERT INTO skp (cycle_id, pegawai_id, status, submissions, escalated_submission, "
                "created_at, updated_at, version) VALUES (1, 1, 'DRAF', 0, 0, :t, :t, 1)"), {"t": t})
            c.execute(text(
                "INSERT INTO task (cycle_id, kind, pegawai_id, status, due_at, created_at, "
                "reminders_sent) VALUES (1, 'susun_skp', 1, 'OPEN', :t, :t, 0)"), {"t": t})
        migrate(url)
        with eng.begin() as c:
            stages = c.execute(text("SELECT code FROM cyclestage ORDER BY id")).scalars().all()
            assert stages == ["perencanaan", "umpan_balik", "penilaian"]
            assert c.execute(text("SELECT periode FROM task")).scalar_one() == 0
        migrate(url, "0002")
        migrate(url)
        eng.dispose()
    finally:
        if server.startswith("postgresql"):
            with _pg_admin(server) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
