"""Fault: the Prefect server is down for a while, then comes back at the same address.

The app talks to the session's Prefect test server through a TCP proxy the test cuts, with the
real PrefectLauncher. While Prefect is down, task pages work and people's actions are saved (the
emails they cause wait in the outbox); launching a cycle answers 503 with Retry-After and says
that orchestration cannot be reached, changing nothing. When Prefect is back the launch goes
through, and the reminder sweep and the email flow catch up: a stage whose time came is opened,
a late joiner gets their SKP, every queued email is sent once. Nothing is lost.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from api.app import create_app
from api.launcher import OrchestrationUnavailable, PrefectLauncher
from flows.common import use_runtime
from flows.outbox import dispatch_outbox
from flows.reminders import send_reminders
from kinerja.clock import FixedClock
from models.db import session_scope
from models.repo.cycles import create_cycle
from models.repo.hr import create_api_token, create_hr_user
from models.rules import calendar
from models.rules.enums import OutboxStatus
from models.tables import Cycle, CycleStage, OutboxMessage, Rhk, Skp, Unit
from tests.api.helpers import last_mail, open_planning_now, path_of
from tests.factories import T0, make_org, make_pegawai, runtime_for
from tests.integration.test_launcher import _register_orchestrator
from tests.integration.test_smtp_mailer import ScriptedHandler, smtp_server
from tests.tcp_proxy import TcpProxy

# the app's database is not what fails here
pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.sqlite_only]


def _harness() -> tuple[str, int]:
    from prefect.settings import PREFECT_API_URL

    url = urlsplit(str(PREFECT_API_URL.value()))
    return url.hostname or "127.0.0.1", url.port or 4200


def _link(rt, person, kind: str = "undangan_skp") -> str:  # type: ignore[no-untyped-def]
    return path_of(last_mail(rt, person.email, kind).context["link"])


def _skp_status(db: Engine, cycle_id: int, pegawai_id: int) -> str:
    with session_scope(db) as s:
        return str(s.execute(select(Skp.status).where(
            Skp.cycle_id == cycle_id, Skp.pegawai_id == pegawai_id)).scalar_one())


def test_prefect_down_then_back_loses_nothing(db: Engine, tmp_path: Path) -> None:
    handler = ScriptedHandler()
    with smtp_server(handler) as smtp_port, TcpProxy(*_harness()) as proxy:
        prefect_url = f"http://127.0.0.1:{proxy.port}/api"
        proxy.cut()  # Prefect is down: its address refuses connections
        clock = FixedClock(T0)
        rt = runtime_for(db, tmp_path, clock, smtp_port=smtp_port)
        rt.prefect.api_url = prefect_url
        with session_scope(db) as s:
            org = make_org(s)
            user = create_hr_user(session=s, username="admin", password="rahasia-hr",
                                  nama="Admin", email="hr@contoh.go.id", now=T0)
            bearer = create_api_token(session=s, user=user, name="simpeg", now=T0)
        token = {"Authorization": f"Bearer {bearer}"}
        running = open_planning_now(rt, minutes=600)  # opened before Prefect went down
        with session_scope(db) as s:
            s.get(Cycle, running).status = "launched"
            nxt = create_cycle(session=s, tahun=2028, now=T0, actor="test",
                               planning=calendar.compressed_planning(T0 + timedelta(hours=1), 600)).id
        client = TestClient(create_app(rt, launcher=PrefectLauncher(prefect_url)),
                            base_url="http://testserver")

        # --- Prefect down ---------------------------------------------------------------
        health = client.get("/healthz").json()
        assert health["database"] == "ok" and health["prefect"].startswith("down")
        # task pages work and actions are saved
        kadis, kabid = _link(rt, org["kadis"]), _link(rt, org["kabid"])
        assert client.get(kabid).status_code == 200
        for link, uraian, above in ((kadis, "Meningkatnya mutu pendidikan", None),
                                    (kabid, "Kurikulum tersusun", org["kadis"].id)):
            with session_scope(db) as s:  # the cascade: link to the superior's RHK
                parent = s.execute(select(Rhk.id).join(Skp).where(
                    Skp.pegawai_id == above)).scalar() if above else None
            r = client.post(f"{link}/rhk", data={
                "jenis": "utama", "uraian": uraian, "intervensi_rhk_id": str(parent or ""),
                "indikator": f"IKI {uraian}", "target": "4", "satuan": "laporan"},
                follow_redirects=False)
            assert r.status_code == 303, r.text
        assert client.post(f"{kabid}/ajukan", follow_redirects=False).status_code == 303
        assert _skp_status(db, running, org["kabid"].id) == "diajukan"
        assert last_mail(rt, org["kadis"].email, "skp_diajukan").status is OutboxStatus.QUEUED
        # launching says orchestration is unreachable, with Retry-After, and changes nothing
        r = client.post(f"/api/v1/cycles/{nxt}/launch", headers=token)
        assert r.status_code == 503 and r.headers["retry-after"] == "30"
        assert r.json()["error"] == "OrchestrationUnavailable" and "Prefect" in r.json()["detail"]
        login = client.post("/hr/login", data={"username": "admin", "password": "rahasia-hr"},
                            follow_redirects=False)
        assert login.status_code == 303
        page = client.get(f"/hr/cycles/{nxt}")
        assert page.status_code == 200
        csrf = re.findall(r'name="csrf" value="([^"]+)"', page.text)
        r = client.post(f"/hr/cycles/{nxt}/launch", data={"csrf": csrf[:1]},
                        follow_redirects=False)
        assert r.status_code == 503 and "Orkestrasi (server Prefect) tidak dapat dihubungi" in r.text
        assert client.get(f"/api/v1/cycles/{nxt}", headers=token).json()["status"] == "draft"
        # meanwhile a new employee is imported, and the next cycle's planning date comes
        with session_scope(db) as s:
            late = make_pegawai(s, s.get(Unit, org["kasi"].unit_id), atasan_id=org["kasi"].id)
        clock.advance(hours=1, minutes=5)

        # --- Prefect back at the same address --------------------------------------------
        proxy.restore()
        assert client.get("/healthz").json()["prefect"] == "ok"
        asyncio.run(_register_orchestrator())
        first = client.post(f"/api/v1/cycles/{nxt}/launch", headers=token)
        assert first.status_code == 200, first.text
        assert first.json()["status"] == "launched" and first.json()["flow_run_id"]
        assert client.post(f"/api/v1/cycles/{nxt}/launch", headers=token).json() == first.json()
        # the sweep catches up (here the launched orchestrator has no worker to run it)
        with use_runtime(rt):
            send_reminders(now=clock.now().isoformat())
            sent = dispatch_outbox(now=clock.now().isoformat())
        with session_scope(db) as s:
            opened = s.execute(select(CycleStage.opened_at).where(
                CycleStage.cycle_id == nxt, CycleStage.code == "perencanaan")).scalar_one()
            skps = dict(s.execute(select(Skp.cycle_id, func.count()).group_by(Skp.cycle_id)).all())
            rows = s.execute(select(OutboxMessage.key, OutboxMessage.kind,
                                    OutboxMessage.status)).all()
        assert opened is not None and skps == {running: 6, nxt: 6}  # the late joiner in both
        assert last_mail(rt, late.email, "undangan_skp")
        # the catch-up's own dispatch sent most of them; this run found the rest
        assert sent["retried"] == sent["parked"] == sent["remaining"] == 0
        assert {status for *_, status in rows} == {OutboxStatus.SENT}
        assert {"undangan_skp", "skp_diajukan"} <= {kind for _, kind, _ in rows}
        delivered = Counter(handler.keys())
        assert set(delivered) == {key for key, *_ in rows} and set(delivered.values()) == {1}


def test_a_hung_prefect_server_counts_as_down(db: Engine, tmp_path: Path) -> None:
    """A server that accepts connections but never answers (hung, overloaded): HR is told
    within the launcher's timeout, not after minutes of the client's retries."""
    with socket.socket() as hung:  # the kernel accepts into the backlog; nobody answers
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}/api"
        rt = runtime_for(db, tmp_path)
        with session_scope(db) as s:
            user = create_hr_user(session=s, username="admin", password="rahasia-hr",
                                  nama="Admin", email="hr@contoh.go.id", now=T0)
            token = {"Authorization": "Bearer " + create_api_token(
                session=s, user=user, name="simpeg", now=T0)}
            cycle_id = create_cycle(session=s, tahun=2027, now=T0, actor="test",
                                    planning=calendar.compressed_planning(T0, 600)).id
        launcher = PrefectLauncher(url, timeout=1.0)
        client = TestClient(create_app(rt, launcher=launcher), base_url="http://testserver")
        started = time.monotonic()
        r = client.post(f"/api/v1/cycles/{cycle_id}/launch", headers=token)
        assert r.status_code == 503 and r.headers["retry-after"] == "30"
        assert "TimeoutError" not in r.text  # the message is for people
        assert client.get(f"/api/v1/cycles/{cycle_id}", headers=token).json()["status"] == "draft"
        with pytest.raises(OrchestrationUnavailable, match="TimeoutError"):
            asyncio.run(launcher.resume_publication(cycle_id, "hr:admin"))
        assert time.monotonic() - started < 10
