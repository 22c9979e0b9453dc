"""Two writers create the same task at once (the minute's sweep and the 360 stage's opening both
inviting one rater: the soak of 2026-11-24, where the sweep's run failed on the unique key):
one task, one invitation, and no error for either writer."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from kinerja.clock import FixedClock
from kinerja.runtime import Runtime
from models.db import session_scope
from models.repo.cycles import create_cycle, get_stage
from models.repo.skp import _ensure_review_task, insert_tasks
from models.repo.umpan_balik import invite_raters
from models.rules import calendar
from models.rules.enums import StageCode, TaskKind, TaskStatus
from models.tables import Cycle, OutboxMessage, Penilai360, Task
from tests.factories import T0, make_org, runtime_for


def _cycle_with_a_rater(db: Engine, tmp_path: Path) -> tuple[Runtime, int, int]:
    """A cycle where staf1 has one confirmed, unanswered 360 form (about their kasi)."""
    rt = runtime_for(db, tmp_path, FixedClock(T0))
    with session_scope(db) as s:
        org = make_org(s)
        cycle = create_cycle(session=s, tahun=2027, now=T0, actor="test",
                             planning=calendar.compressed_planning(T0, 10 * 1440))
        s.add(Penilai360(cycle_id=cycle.id, dinilai_id=org["kasi"].id,
                         penilai_id=org["staf1"].id, peran="bawahan", ditetapkan=True))
    return rt, cycle.id, org["staf1"].id


def _invite(db: Engine, rt: Runtime, cycle_id: int) -> int:
    with session_scope(db) as s:
        cycle = s.get(Cycle, cycle_id)
        stage = get_stage(session=s, cycle_id=cycle_id, code=StageCode.UMPAN_BALIK)
        return invite_raters(session=s, cycle=cycle, stage=stage, now=T0, mail=rt.mail)


def test_a_rater_invited_by_two_writers_at_once(db: Engine, tmp_path: Path) -> None:
    rt, cycle_id, rater = _cycle_with_a_rater(db, tmp_path)
    results: list[object] = []

    def second_writer() -> None:
        try:  # finds no task (the first is not committed); its insert then waits for it
            results.append(_invite(db, rt, cycle_id))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)

    with session_scope(db) as s:
        cycle = s.get(Cycle, cycle_id)
        stage = get_stage(session=s, cycle_id=cycle_id, code=StageCode.UMPAN_BALIK)
        assert invite_raters(session=s, cycle=cycle, stage=stage, now=T0, mail=rt.mail) == 1
        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.5)  # the second writer is now blocked behind this uncommitted insert
    thread.join(30)
    assert results == [0]  # no error, and no second invitation: the first writer sent it
    with session_scope(db) as s:
        tasks = s.execute(select(Task.pegawai_id).where(Task.kind == TaskKind.ISI_360)).all()
        invites = s.execute(select(OutboxMessage.key).where(
            OutboxMessage.kind == "undangan_360")).scalars().all()
    assert tasks == [(rater,)]
    assert invites == [f"invite:{cycle_id}:360:{rater}"]


def test_a_ppk_review_task_made_by_two_writers_at_once(db: Engine, tmp_path: Path) -> None:
    """Two subordinates submit at once to a PPK who has no review task yet (or a submit and
    the sweep): one task, open, and no error for either."""
    rt, cycle_id, _ = _cycle_with_a_rater(db, tmp_path)
    with session_scope(db) as s:
        ppk = s.execute(select(Penilai360.dinilai_id)).scalar_one()  # kasi
    results: list[object] = []

    def ensure(session) -> int:  # type: ignore[no-untyped-def]
        cycle = session.get(Cycle, cycle_id)
        stage = get_stage(session=session, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
        return _ensure_review_task(session, cycle, stage, ppk, T0).id

    def second_writer() -> None:
        try:
            with session_scope(db) as s:
                results.append(ensure(s))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)

    with session_scope(db) as s:
        first = ensure(s)
        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.5)  # the second writer is now blocked behind this uncommitted insert
    thread.join(30)
    assert results == [first]
    with session_scope(db) as s:
        rows = s.execute(select(Task.id, Task.status).where(
            Task.kind == TaskKind.SETUJUI_SKP, Task.pegawai_id == ppk)).all()
    assert rows == [(first, TaskStatus.OPEN)]


def test_a_task_that_exists_is_skipped_and_the_new_ones_are_made(db: Engine,
                                                                  tmp_path: Path) -> None:
    rt, cycle_id, rater = _cycle_with_a_rater(db, tmp_path)
    assert _invite(db, rt, cycle_id) == 1
    with session_scope(db) as s:
        cycle = s.get(Cycle, cycle_id)
        due = T0 + timedelta(days=30)
        made = insert_tasks(session=s, cycle=cycle, now=T0, wanted=[
            (TaskKind.ISI_360, rater, 0, due), (TaskKind.KOMPETENSI, rater, 0, due),
            (TaskKind.ISI_REALISASI, rater, 2, due)])
        assert {(kind, pid) for _, kind, pid in made} == {
            (TaskKind.KOMPETENSI, rater), (TaskKind.ISI_REALISASI, rater)}
        assert all(isinstance(tid, int) for tid, _, _ in made)
        rows = s.execute(select(Task.kind, Task.periode, Task.status).where(
            Task.pegawai_id == rater).order_by(Task.id)).all()
    assert sorted((k, p) for k, p, _ in rows) == [
        ("isi_360", 0), ("isi_realisasi", 2), ("kompetensi", 0)]
    assert all(st == TaskStatus.OPEN for _, _, st in rows)
