"""The SKP view as read-only rows (what the task page shows) holds the same data as the view
of ORM objects that actions change."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import session_scope
from models.repo import skp as repo
from tests.api.helpers import open_planning_now
from tests.factories import make_org, runtime_for


def _shown(view: repo.SkpView) -> dict:  # type: ignore[type-arg]
    def cols(obj, *names):  # type: ignore[no-untyped-def]
        # with each value's type: a str enum equals its plain text, the pages need the enum
        return tuple((getattr(obj, n), type(getattr(obj, n)).__name__) for n in names) \
            if obj is not None else None

    return {
        "skp": cols(view.skp, "id", "status", "version", "revisi", "return_comment"),
        "pegawai": cols(view.pegawai, "id", "nama", "nip"),
        "atasan": cols(view.atasan, "id", "nama", "email"),
        "atasan_skp": cols(view.atasan_skp, "id", "status"),
        "rhk": [cols(r, "id", "jenis", "uraian", "intervensi_rhk_id") for r in view.rhk],
        "atasan_rhk": [cols(r, "id", "uraian") for r in view.atasan_rhk],
        "iki": {k: [cols(i, "id", "indikator", "target", "satuan", "aspek", "arah") for i in v]
                for k, v in view.iki.items()},
        "perilaku": [cols(p, "nilai", "ekspektasi_khusus") for p in view.perilaku],
        "events": [cols(e, "id", "action", "actor_id", "comment") for e in view.events],
        "editable": view.editable, "in_revision": view.in_revision,
        "cascade": view.cascade, "drafts": view.drafts(),
    }


def test_rows_and_objects_show_the_same_skp(db: Engine, tmp_path: Path) -> None:
    rt = runtime_for(db, tmp_path)
    with session_scope(db) as s:
        org = make_org(s)
    cycle_id = open_planning_now(rt)
    now = rt.clock.now()
    with session_scope(db) as s:
        for who in ("kabid", "kasi", "staf1"):
            view = repo.load_view(session=s, skp=repo.skp_of(
                session=s, cycle_id=cycle_id, pegawai_id=org[who].id))
            for k in range(2):
                repo.add_rhk(session=s, view=view, jenis="utama", uraian=f"{who} {k}",
                             intervensi_rhk_id=view.atasan_rhk[0].id if view.atasan_rhk else None,
                             now=now, iki=repo.IkiInput(f"IKI {k}", "4", "dokumen"))
                s.flush()
                view = repo.load_view(session=s, skp=repo.skp_of(
                    session=s, cycle_id=cycle_id, pegawai_id=org[who].id))
    for who in ("kadis", "kasi", "staf1"):
        with Session(db) as s:
            objects = _shown(repo.load_view(session=s, skp=repo.skp_of(
                session=s, cycle_id=cycle_id, pegawai_id=org[who].id)))
        with Session(db) as s:
            row = repo.skp_of(session=s, cycle_id=cycle_id, pegawai_id=org[who].id, rows=True)
            rows = _shown(repo.load_view(session=s, skp=row, rows=True))
            assert not s.identity_map or all(  # nothing but the person was loaded as objects
                type(o).__name__ == "Pegawai" for o in s.identity_map.values())
        assert rows == objects
    assert objects["rhk"] and objects["atasan_rhk"] and objects["events"]  # a full case
