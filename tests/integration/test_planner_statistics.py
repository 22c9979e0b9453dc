"""SQLite plans from the statistics ANALYZE writes (models.db.refresh_statistics): without them
a PPK's submitted SKPs were found by scanning every SKP of the cycle."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Connection, Engine

from kinerja.bench.workloads import new_cycle, open_direct
from kinerja.seed import seed_demo_agency
from models.db import make_engine, refresh_statistics, session_scope
from models.repo import planning
from models.repo.cycles import get_cycle, get_stage
from models.repo.people import active_pegawai_ids
from models.rules.enums import SkpStatus, StageCode
from models.tables import Pegawai, Skp
from tests.factories import runtime_for

_asked = [0]


def _plan(conn: Connection, ppk_id: int, cycle_id: int) -> str:
    """The plan `conn` makes now for the shape of models.repo.waiting._skp_to_approve (a PPK's
    subordinates' submitted SKPs). A real statement first: a connection notices a schema
    change only when it runs one (EXPLAIN does not); a new text each time: the driver keeps
    prepared statements, plans included."""
    query = select(Skp.id, Pegawai.nama).join(Pegawai, Pegawai.id == Skp.pegawai_id).where(
        Skp.cycle_id.in_([cycle_id]), Skp.status == SkpStatus.DIAJUKAN, Pegawai.active,
        Pegawai.atasan_id.in_([ppk_id]))
    sql = str(query.compile(conn.engine, compile_kwargs={"literal_binds": True}))
    conn.exec_driver_sql("SELECT count(*) FROM skp").scalar()
    _asked[0] += 1
    return " / ".join(r[3] for r in conn.exec_driver_sql(
        f"EXPLAIN QUERY PLAN {sql} /* {_asked[0]} */"))


def forget_statistics(engine: Engine) -> None:
    """No statistics, as on a new database, but their table there (so that a later ANALYZE
    elsewhere is no schema change)."""
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        conn.execute(text("DELETE FROM sqlite_stat1"))
    engine.dispose()  # a connection keeps the statistics it read when it opened


def _agency_without_statistics(db: Engine, tmp_path: Path, n: int):  # type: ignore[no-untyped-def]
    """SQLite only: an agency of `n`, a launched cycle, and no planner statistics; (rt, cycle)."""
    if db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its statistics; refresh_statistics is a no-op")
    rt = runtime_for(db, tmp_path)
    with session_scope(db) as s:
        seed_demo_agency(session=s, now=rt.clock.now(), n=n)
    cycle_id = new_cycle(rt, 2031)
    forget_statistics(db)
    return rt, cycle_id


def test_a_ppks_waiting_skps_are_found_from_the_ppk_once_statistics_exist(
        db: Engine, tmp_path: Path) -> None:
    rt, cycle_id = _agency_without_statistics(db, tmp_path, 400)
    with session_scope(db) as s:  # planning opened without the statistics step
        planning.open_planning_chunk(
            session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
            stage=get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN),
            pegawai_ids=active_pegawai_ids(session=s), now=rt.clock.now(), links=rt.links,
            agency=rt.api.agency_name)
        s.execute(update(Skp).values(status=SkpStatus.DIAJUKAN))
        ppk = s.execute(select(Pegawai.atasan_id).where(Pegawai.atasan_id.is_not(None))
                        .limit(1)).scalar_one()
    with db.connect() as api:  # a connection the API holds open all along
        assert "ix_skp_cycle_id" in _plan(api, ppk, cycle_id)  # every SKP of the cycle
        with db.begin() as other:  # ANALYZE elsewhere alone does not reach it
            other.exec_driver_sql("ANALYZE")
        assert "ix_skp_cycle_id" in _plan(api, ppk, cycle_id)

        assert refresh_statistics(db)
        plan = _plan(api, ppk, cycle_id)
        assert plan.startswith("SEARCH pegawai USING INDEX ix_pegawai_atasan_id"), plan


def test_a_locked_database_leaves_the_statistics_for_later(db: Engine, tmp_path: Path) -> None:
    if db.dialect.name != "sqlite":
        assert not refresh_statistics(db)  # PostgreSQL: nothing to do
        return
    import sqlite3

    holder = sqlite3.connect(db.url.database, timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        quick = make_engine(db.url.render_as_string(hide_password=False))
        event.listen(quick, "connect", lambda c, _r: c.execute("PRAGMA busy_timeout=50"))
        assert refresh_statistics(quick) is False  # logged, not raised
        quick.dispose()
    finally:
        holder.rollback()
        holder.close()


def test_opening_planning_directly_leaves_statistics(db: Engine, tmp_path: Path) -> None:
    rt, cycle_id = _agency_without_statistics(db, tmp_path, 50)
    open_direct(rt, cycle_id)
    with db.connect() as conn:
        tables = set(conn.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())
    assert {"skp", "task", "pegawai"} <= tables
