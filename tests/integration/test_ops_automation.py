"""A failed flow run reaches the operators' inbox through the real Prefect automation: the
session's Prefect server runs the triggers and actions services, its CallWebhook action posts to
a live Kinerja app, the app queues the email, the dispatcher sends it to a real SMTP server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import Engine

from api.app import create_app
from flows.common import use_runtime
from flows.planning import open_planning
from kinerja import operations as ops
from kinerja import status
from kinerja.clock import SystemClock
from kinerja.runtime import Runtime
from kinerja.settings import OpsSettings, PrefectSettings
from models.db import session_scope
from models.repo.hr import create_hr_user
from models.tables import OutboxMessage
from notifications.devsmtp import messages_to, read_message, start_dev_smtp
from notifications.dispatch import dispatch_due
from notifications.mailer import SmtpMailer
from tests.api.helpers import hr_login
from tests.factories import T0, runtime_for

pytestmark = pytest.mark.usefixtures("prefect_harness")
OPERATORS = ("ops1@contoh.go.id", "ops2@contoh.go.id")
MISSING_CYCLE = 987654


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, check: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.2)


@dataclass
class WebhookCalls:
    """Counts what the app answered Prefect's webhook calls (an ASGI wrapper around the app)."""

    app: Any
    statuses: list[int] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != ops.WEBHOOK_PATH:
            return await self.app(scope, receive, send)

        async def record(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append(message["status"])
            await send(message)
        await self.app(scope, receive, record)


@dataclass
class Live:
    rt: Runtime
    base: str
    calls: WebhookCalls
    maildir: Path


@pytest.fixture
def live(db: Engine, tmp_path: Path) -> Iterator[Live]:
    from prefect.settings import PREFECT_API_URL

    smtp_port, http_port = _free_port(), _free_port()
    rt = runtime_for(db, tmp_path, SystemClock(), smtp_port=smtp_port)
    rt.api.base_url = f"http://127.0.0.1:{http_port}"
    rt.prefect = PrefectSettings(api_url=str(PREFECT_API_URL.value()))
    rt.ops = OpsSettings(emails=",".join(OPERATORS))
    with session_scope(db) as s:  # an HR admin to open the console page (not an operator here)
        create_hr_user(session=s, username="admin", password="rahasia-hr", nama="Admin BKPSDM",
                       email="hr@contoh.go.id", now=T0)
    calls = WebhookCalls(create_app(rt))
    server = uvicorn.Server(uvicorn.Config(calls, host="127.0.0.1", port=http_port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    smtp = start_dev_smtp(tmp_path / "mail", "127.0.0.1", smtp_port)
    _wait("the app to listen", lambda: server.started, 20)
    try:
        yield Live(rt, rt.api.public_url, calls, tmp_path / "mail")
    finally:
        server.should_exit = True
        thread.join(10)
        smtp.stop()


@pytest.fixture
def automation(live: Live) -> Iterator[str]:
    """The automation as `kinerja run` sets it up, removed afterwards (the Prefect server is
    shared by the session)."""
    api, url = live.rt.prefect.api, ops.webhook_url(live.rt.api, live.rt.ops)
    automation_id = ops.ensure_failure_automation(api, url, ops.ops_secret(live.rt.api))
    yield automation_id

    async def remove() -> None:
        async with ops.prefect_client(api) as client:
            for found in await client.read_automations_by_name(ops.AUTOMATION_NAME):
                await client.delete_automation(found.id)
    asyncio.run(remove())


def _failure_mail(engine: Engine) -> list[OutboxMessage]:
    with session_scope(engine) as s:
        return list(s.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "kegagalan_flow")).scalars())


def _fail_again(api: str, run_id: str) -> None:
    from prefect.states import Failed

    async def go() -> None:
        async with ops.prefect_client(api) as client:
            await client.set_flow_run_state(run_id, Failed(message="gagal lagi"), force=True)
    asyncio.run(go())


def test_ensure_is_idempotent(live: Live, automation: str) -> None:
    api, secret = live.rt.prefect.api, ops.ops_secret(live.rt.api)
    again = ops.ensure_failure_automation(api, live.base + ops.WEBHOOK_PATH, secret)
    assert again == automation

    async def count() -> int:
        async with ops.prefect_client(api) as client:
            return len(await client.read_automations_by_name(ops.AUTOMATION_NAME))
    assert asyncio.run(count()) == 1


def test_a_failed_flow_run_emails_the_operators_once(live: Live, automation: str) -> None:
    rt = live.rt
    with use_runtime(rt):  # a real stage flow that fails: the cycle does not exist
        state = open_planning(MISSING_CYCLE, return_state=True)
    assert state.is_failed()
    run_id = str(state.state_details.flow_run_id)
    run_name = f"buka-perencanaan-siklus-{MISSING_CYCLE}"

    _wait("the automation's email in the outbox", lambda: len(_failure_mail(rt.engine)) == 2)
    mails = _failure_mail(rt.engine)
    assert {m.to_email for m in mails} == set(OPERATORS)
    link = f"{rt.prefect.ui}/runs/flow-run/{run_id}"
    assert {(m.context["run_name"], m.context["flow_name"], m.context["state_name"],
             m.context["run_link"]) for m in mails} == {
        (run_name, "buka-perencanaan", "Failed", link)}

    _fail_again(rt.prefect.api, run_id)  # the same run fails a second time
    _wait("the second webhook call", lambda: len(live.calls.statuses) >= 2)
    assert live.calls.statuses == [202, 202]
    assert len(_failure_mail(rt.engine)) == 2

    report = asyncio.run(dispatch_due(engine=rt.engine, mailer=SmtpMailer(rt.smtp), smtp=rt.smtp,
                                      now=rt.clock.now()))
    assert report.sent == 2
    for email in OPERATORS:
        [key] = messages_to(live.maildir, email, "kegagalan:")
        mail = read_message(live.maildir, key)
        assert run_name in mail.subject and link in mail.links
        assert mail.outbox_key.startswith(f"kegagalan:buka-perencanaan:{run_id}:failed:")

    _console_shows_the_failure(live, run_id, run_name, link)
    report_now = status.gather(rt, cycle_id=None, days=1)
    assert report_now.exit_code == status.EXIT_FAILURES
    assert run_id in {r.id for r in report_now.failures}
    assert report_now.automation is not None and report_now.automation.enabled
    text = status.format_text(report_now, rt.api.timezone)
    assert run_name in text and link in text and "aktif" in text


def _console_shows_the_failure(live: Live, run_id: str, run_name: str, link: str) -> None:
    with httpx.Client(base_url=live.base) as client:
        r = hr_login(client, "admin", "rahasia-hr")
        assert r.status_code == 303, r.text
        page = client.get("/hr/operasi")
        assert page.status_code == 200
        html = page.text
        assert 'id="prefect-down"' not in html
        assert f'data-run="{run_id}"' in html and f'href="{link}"' in html and run_name in html
        assert "Perencanaan dibuka" in html and "disetujui\">aktif" in html
        of_cycle = client.get(f"/hr/operasi?cycle_id={MISSING_CYCLE}").text
        assert f'data-run="{run_id}"' in of_cycle
        other = client.get(f"/hr/operasi?cycle_id={MISSING_CYCLE // 10}").text
        assert 'id="daftar-run"' not in other  # siklus-98765 is not siklus-987654
