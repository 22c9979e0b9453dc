"""API fixtures: the app on the test database with a clock the test moves and a fake launcher."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api.app import create_app
from api.launcher import OrchestrationUnavailable
from kinerja.clock import FixedClock
from kinerja.runtime import Runtime
from models.db import session_scope
from models.repo.hr import create_hr_user
from tests.factories import T0, runtime_for


class FakeLauncher:
    """Records launches; `down=True` behaves like an unreachable Prefect server."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.down = False
        self.paused: set[int] = set()  # cycles with a publication decision run waiting
        self.resumed: list[tuple[int, str]] = []

    async def launch(self, cycle_id: int) -> str:
        if self.down:
            raise OrchestrationUnavailable("ConnectError: refused")
        self.calls.append(cycle_id)
        return f"00000000-0000-0000-0000-{cycle_id:012d}"

    async def resume_publication(self, cycle_id: int, by: str) -> bool:
        if self.down:
            raise OrchestrationUnavailable("ConnectError: refused")
        if cycle_id not in self.paused:
            return False
        self.paused.discard(cycle_id)
        self.resumed.append((cycle_id, by))
        return True


@dataclass
class AppEnv:
    client: TestClient
    rt: Runtime
    clock: FixedClock
    launcher: FakeLauncher

    def login(self) -> None:
        from tests.api.helpers import hr_login

        r = hr_login(self.client, "admin", "rahasia-hr")
        assert r.status_code == 303, r.text


@pytest.fixture
def env(db: Engine, tmp_path: Path) -> Iterator[AppEnv]:
    clock = FixedClock(T0)
    rt = runtime_for(db, tmp_path, clock)
    with session_scope(db) as s:
        create_hr_user(session=s, username="admin", password="rahasia-hr", nama="Admin BKPSDM",
                       email="hr@contoh.go.id", now=T0)
    launcher = FakeLauncher()
    with TestClient(create_app(rt, launcher=launcher), base_url="http://testserver") as client:
        yield AppEnv(client, rt, clock, launcher)
