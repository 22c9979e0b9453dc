"""The SKP view as read-only rows (what the task page shows) holds the same data as the view
of ORM objects that actions change."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.routes.tasks import resolve
from models.db import session_scope
from models.repo import audit
from models.repo import skp as repo
from models.rules.enums import TaskKind
from models.tables import Cycle, CycleStage, Pegawai, Task
from tests.api.helpers import open_planning_now
from tests.factories import make_org, runtime_for


def _shown(view: repo.SkpView) -> dict:  # type: ignore[type-arg]
    def cols(obj, *names):  # type: ignore[no-untyped-def]
        # with each value's type: a str enum equals its plain text, the pages need the enum
        return tuple((getattr(obj, n), type(getattr(obj, n)).__name__) for n in names) \
            if obj is not None else None

    return {
        "skp": cols(view.skp, "id", "status", "version", "revisi", "return_comment",
                    "submitted_at", "updated_at"),
        "pegawai": cols(view.pegawai, "id", "nama", "nip"),
        "atasan": cols(view.atasan, "id", "nama", "email"),
        "atasan_skp": cols(view.atasan_skp, "id", "status"),
        "rhk": [cols(r, "id", "jenis", "uraian", "intervensi_rhk_id") for r in view.rhk],
        "atasan_rhk": [cols(r, "id", "uraian") for r in view.atasan_rhk],
        "iki": {k: [cols(i, "id", "indikator", "target", "satuan", "aspek", "arah") for i in v]
                for k, v in view.iki.items()},
        "perilaku": [cols(p, "nilai", "ekspektasi_khusus") for p in view.perilaku],
        "events": [cols(e, "id", "at", "action", "actor_id", "comment") for e in view.events],
        "editable": view.editable, "in_revision": view.in_revision,
        "cascade": view.cascade, "drafts": view.drafts(),
    }


def _link_rows(rt, s: Session, cycle_id: int, pegawai_id: int):  # type: ignore[no-untyped-def]
    """The person's planning task link, checked as the task page checks it (read-only rows)."""
    task_id = s.execute(select(Task.id).where(
        Task.cycle_id == cycle_id, Task.pegawai_id == pegawai_id,
        Task.kind == TaskKind.SUSUN_SKP)).scalar_one()
    token = rt.links.task(task_id, pegawai_id, rt.clock.now()).split("/t/", 1)[1]
    audit.begin()
    return resolve(token, rt, s, rows=True)


def test_rows_and_objects_show_the_same_skp(db: Engine, tmp_path: Path) -> None:
    rt = runtime_for(db, tmp_path)
    with session_scope(db) as s:
        org = make_org(s)
    cycle_id = open_planning_now(rt)
    now = rt.clock.now()
    with session_scope(db) as s:
        for who in ("kabid", "kasi", "staf1"):
            # an additional RHK first, then main ones: shown main first on both databases
            for k, jenis in enumerate(("tambahan", "utama", "utama")):
                view = repo.load_view(session=s, skp=repo.skp_of(
                    session=s, cycle_id=cycle_id, pegawai_id=org[who].id))
                link = (view.atasan_rhk[0].id if view.atasan_rhk and jenis == "utama"
                        else None)
                rhk = repo.add_rhk(session=s, view=view, jenis=jenis, uraian=f"{who} {k}",
                                   intervensi_rhk_id=link, now=now,
                                   iki=repo.IkiInput(f"IKI {k}", "4", "dokumen"))
                s.flush()
                if k == 1:  # a second IKI on one RHK
                    repo.add_iki(session=s, view=repo.load_view(session=s, skp=repo.skp_of(
                        session=s, cycle_id=cycle_id, pegawai_id=org[who].id)), rhk_id=rhk.id,
                        iki=repo.IkiInput("IKI kedua", "2", "laporan"), now=now)
                    s.flush()
    for who in ("kadis", "kasi", "staf1"):
        with Session(db) as s:
            objects = _shown(repo.load_view(session=s, skp=repo.skp_of(
                session=s, cycle_id=cycle_id, pegawai_id=org[who].id)))
        with Session(db) as s:
            link = _link_rows(rt, s, cycle_id, org[who].id)
            rows = _shown(repo.load_view_rows(session=s, skp=link.skp, pegawai=link.person,
                                              atasan=link.atasan, atasan_skp=link.atasan_skp))
            assert not s.identity_map  # nothing was loaded as objects
        assert rows == objects
        if who != "kadis":
            assert [r[1][0] for r in objects["rhk"]] == ["utama", "utama", "tambahan"]
            assert sorted(len(v) for v in objects["iki"].values()) == [1, 1, 2]
    assert objects["rhk"] and objects["atasan_rhk"] and objects["events"]  # a full case
    assert len(objects["perilaku"]) == 7


@pytest.fixture
def planning(db: Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The small organisation with planning open: (runtime, people by role, cycle id)."""
    rt = runtime_for(db, tmp_path)
    with session_scope(db) as s:
        org = make_org(s)
    return rt, org, open_planning_now(rt)


def test_a_person_without_a_superior_or_an_rhk_has_an_empty_view(db: Engine, planning) -> None:  # type: ignore[no-untyped-def]
    rt, org, cycle_id = planning
    with Session(db) as s:
        link = _link_rows(rt, s, cycle_id, org["kadis"].id)
        view = repo.load_view_rows(session=s, skp=link.skp, pegawai=link.person,
                                   atasan=link.atasan, atasan_skp=link.atasan_skp)
    assert (view.atasan, view.atasan_skp, view.rhk, view.atasan_rhk, view.iki) == (
        None, None, [], [], {})
    assert len(view.perilaku) == 7 and view.skp.pegawai_id == org["kadis"].id


def test_the_link_as_rows_holds_what_the_link_as_objects_holds(db: Engine, planning) -> None:  # type: ignore[no-untyped-def]
    rt, org, cycle_id = planning
    with Session(db) as s:
        rows = _link_rows(rt, s, cycle_id, org["staf1"].id)
        objects = rows.attached(s)
        assert not objects.rows and objects.task is not rows.task
        for part, table in (("task", Task), ("person", Pegawai), ("cycle", Cycle),
                            ("stage", CycleStage)):
            names = [c.name for c in table.__table__.columns]
            as_rows, as_objects = getattr(rows, part), getattr(objects, part)
            assert [(getattr(as_rows, n), type(getattr(as_rows, n)).__name__) for n in names] \
                == [(getattr(as_objects, n), type(getattr(as_objects, n)).__name__)
                    for n in names], part
        assert rows.stage.due_at is not None and rows.stage.due_at.tzinfo is not None
        assert (rows.skp.pegawai_id, rows.atasan.id, rows.atasan_skp.pegawai_id) == (
            org["staf1"].id, org["kasi"].id, org["kasi"].id)
