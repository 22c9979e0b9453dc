"""The pages' baseline: a bare FastAPI endpoint reading one row, in the same process setup."""

from __future__ import annotations

from fastapi import FastAPI
from sqlmodel import Session

from kinerja.settings import DatabaseSettings
from models.db import make_engine
from models.tables import Pegawai


def app() -> FastAPI:
    engine = make_engine(DatabaseSettings().url)
    bare = FastAPI()

    @bare.get("/row/{pid}")
    def row(pid: int) -> dict[str, str]:
        with Session(engine) as s:
            p = s.get(Pegawai, pid)
            return {"nip": p.nip, "nama": p.nama}

    return bare
