"""The pages' baselines, in the same process setup as the app (uvicorn, one process):
- /row/{pid}: a bare FastAPI endpoint reading one row;
- /reads/{token}: the same bare endpoint making the SKP page's reads (the link check and the
  SKP view, the same statements through the same repository functions) and answering a few
  bytes of JSON: no templates, no middleware, one trip to the thread pool. What the page
  cannot go below without reading less.
Both with the app's thread pool (KINERJA_API_THREADS or its default for the database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
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

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # the same thread pool as the app's (api.app): the same process setup
        anyio.to_thread.current_default_thread_limiter().total_tokens = rt.api.threads_for(
            engine.dialect.name)
        yield

    bare = FastAPI(lifespan=lifespan)

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
