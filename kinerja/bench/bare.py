"""The pages' baselines, in the same process setup as the app (uvicorn, one process):
- /row/{pid}: a bare FastAPI endpoint reading one row;
- /reads/{token}: the same bare endpoint making the SKP page's reads (the link check and the
  SKP view, the same statements through the same repository functions) and answering a few
  bytes of JSON: no templates, no middleware, one trip to the thread pool. What the page
  cannot go below without reading less."""

from __future__ import annotations

from fastapi import FastAPI
from sqlmodel import Session

from kinerja.runtime import Runtime
from models.tables import Pegawai


def app() -> FastAPI:
    from api.routes.tasks import resolve
    from models.repo import audit
    from models.repo import skp as skp_repo

    rt = Runtime.from_env()
    engine = rt.engine
    bare = FastAPI()

    @bare.get("/row/{pid}")
    def row(pid: int) -> dict[str, str]:
        with Session(engine) as s:
            p = s.get(Pegawai, pid)
            return {"nip": p.nip, "nama": p.nama}

    @bare.get("/reads/{token}")
    def reads(token: str) -> dict[str, int]:
        audit.begin()
        with Session(engine) as s:
            link = resolve(token, rt, s, rows=True)
            view = skp_repo.load_view_rows(session=s, skp=link.skp, pegawai=link.person,
                                           atasan=link.atasan, atasan_skp=link.atasan_skp)
            return {"rhk": len(view.rhk), "atasan_rhk": len(view.atasan_rhk),
                    "perilaku": len(view.perilaku), "riwayat": len(view.events)}

    return bare
