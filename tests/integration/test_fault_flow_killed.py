"""Fault: the `buka-perencanaan` flow process is killed (SIGKILL) half-way through opening
planning for 5,000 employees; running it again completes the stage with no duplicate SKP, task
or email.

The real flow runs in a child process, as a worker would run it, against the test database and
the session's Prefect test server. Each chunk commits in one transaction, so the kill leaves
whole chunks done and the rest untouched; the re-run computes what is missing from the
database and does only that.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from kinerja.seed import seed_demo_agency
from models.db import session_scope
from models.repo.cycles import create_cycle
from models.rules import calendar
from models.rules.enums import StageCode, TaskKind
from models.tables import AuditLog, CycleStage, OutboxMessage, Pegawai, Perilaku, Skp, Task
from tests.factories import T0

pytestmark = pytest.mark.usefixtures("prefect_harness")

N = 5000
CHUNK = 100
ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import json, sys
from flows.planning import open_planning
print(json.dumps(open_planning(int(sys.argv[1]), now=sys.argv[2])), flush=True)
"""


def _child_env(engine: Engine, home: Path) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith(("KINERJA_", "PREFECT_"))}
    env.update({
        "KINERJA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "KINERJA_HOME": str(home), "KINERJA_SECRET_KEY": "test-secret",
        "KINERJA_BASE_URL": "http://testserver", "KINERJA_PREFECT_CHUNK_SIZE": str(CHUNK),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_LOGGING_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)})
    return env


def _flow(env: dict[str, str], cycle_id: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(cycle_id), T0.isoformat()],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        def n(stmt) -> int:  # type: ignore[no-untyped-def]
            return int(s.execute(stmt).scalar_one())

        return {"skp": n(select(func.count()).select_from(Skp)),
                "perilaku": n(select(func.count()).select_from(Perilaku)),
                "susun": n(select(func.count()).select_from(Task).where(
                    Task.kind == TaskKind.SUSUN_SKP)),
                "invites": n(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.kind == "undangan_skp"))}


@pytest.fixture
def agency(db: Engine) -> int:
    with session_scope(db) as s:
        seed_demo_agency(session=s, now=T0, n=N)
    with session_scope(db) as s:
        cycle = create_cycle(session=s, tahun=2027, now=T0, actor="test",
                             planning=calendar.compressed_planning(T0, 1000))
        cycle.status = "launched"
    return cycle.id


def test_killed_mid_opening_then_rerun_completes_without_duplicates(
        db: Engine, agency: int, tmp_path: Path) -> None:
    cycle_id = agency
    env = _child_env(db, tmp_path)

    # 1. run the flow and kill it once some chunks have committed
    started = time.monotonic()
    proc = _flow(env, cycle_id)
    try:
        while _counts(db)["skp"] < 10 * CHUNK:
            assert proc.poll() is None, f"the flow ended before it was killed: {proc.stderr.read()}"
            assert time.monotonic() - started < 120, "no progress"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    partial = _counts(db)
    # whole chunks only: every SKP so far has its behaviours, its task and its invitation
    assert partial["skp"] % CHUNK == 0 and CHUNK <= partial["skp"] < N, partial
    assert partial == {"skp": partial["skp"], "perilaku": 7 * partial["skp"],
                       "susun": partial["skp"], "invites": partial["skp"]}, partial
    with session_scope(db) as s:
        stage = s.execute(select(CycleStage).where(
            CycleStage.cycle_id == cycle_id, CycleStage.code == StageCode.PERENCANAAN)).scalar_one()
        assert stage.opened_at is None  # not opened yet: the orchestrator and sweep retry it

    # 2. run it again, in a new process and with other chunk boundaries: it does only what is
    # missing
    rerun = _flow(env | {"KINERJA_PREFECT_CHUNK_SIZE": str(7 * CHUNK)}, cycle_id)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err[-3000:]
    totals = json.loads(out.strip().splitlines()[-1])
    assert totals["pegawai"] == N and totals["skp"] == N - partial["skp"]
    assert totals["emails"] == N - partial["skp"]

    # 3. exactly one SKP, one susun_skp task and one invitation per person; the PPK tasks
    with session_scope(db) as s:
        people = dict(s.execute(select(Pegawai.id, Pegawai.atasan_id).where(Pegawai.active)).all())
        skp = Counter(s.execute(select(Skp.pegawai_id).where(Skp.cycle_id == cycle_id)).scalars())
        tasks = Counter((str(kind), pid) for kind, pid in s.execute(select(
            Task.kind, Task.pegawai_id).where(Task.cycle_id == cycle_id)))
        invites = Counter(s.execute(select(OutboxMessage.key).where(
            OutboxMessage.kind == "undangan_skp")).scalars())
        invitees = Counter(s.execute(select(OutboxMessage.pegawai_id).where(
            OutboxMessage.kind == "undangan_skp")).scalars())
        perilaku = s.execute(select(func.count()).select_from(Perilaku)).scalar_one()
        opened_at = s.execute(select(CycleStage.opened_at).where(
            CycleStage.cycle_id == cycle_id, CycleStage.code == StageCode.PERENCANAAN)).scalar_one()
        stage_audit = s.execute(select(func.count()).select_from(AuditLog).where(
            AuditLog.entity == "cycle_stage")).scalar_one()
    assert len(people) == N
    assert skp == Counter(people.keys()) and perilaku == 7 * N
    ppk = {atasan for atasan in people.values() if atasan in people}
    assert ppk and len(ppk) < N
    assert tasks == Counter({(TaskKind.SUSUN_SKP, pid): 1 for pid in people}
                            | {(TaskKind.SETUJUI_SKP, pid): 1 for pid in ppk})
    assert invites == Counter(f"invite:{cycle_id}:perencanaan:{pid}" for pid in people)
    assert invitees == Counter(people.keys())
    assert opened_at is not None and stage_audit == 1
