"""The database gone (a restart, a network cut): pages and the API answer 503 with Retry-After
and say nothing changed; when it is back, the same app serves again without a restart."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from api.app import create_app
from tests.factories import runtime_for


def test_503_while_the_database_is_unreachable_then_recovery(db: Engine, tmp_path: Path) -> None:
    gone = create_engine("postgresql+psycopg://postgres@127.0.0.1:9/kinerja",
                         connect_args={"connect_timeout": 2}, pool_pre_ping=True)
    rt = runtime_for(gone, tmp_path)
    client = TestClient(create_app(rt), raise_server_exceptions=False)
    api = client.get("/api/v1/cycles", headers={"Authorization": "Bearer knj_x"})
    assert api.status_code == 503 and api.headers["retry-after"] == "5"
    assert api.json()["error"] == "DatabaseUnavailable"
    page = client.get("/s/layanan-dinas")  # the public survey page reads the database
    assert page.status_code == 503 and "tidak ada yang berubah" in page.text
    assert client.get("/hr/login").status_code == 200  # what needs no database still works

    rt.engine = db  # the database is back (the same engine object in production reconnects)
    assert client.get("/api/v1/cycles", headers={"Authorization": "Bearer knj_x"}).status_code == 401
