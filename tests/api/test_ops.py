"""The operations webhook (called by Prefect's failure automation) and the /hr/operasi page."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from kinerja.operations import SECRET_HEADER, WEBHOOK_PATH, ops_secret
from kinerja.settings import OpsSettings
from models.db import session_scope
from models.repo.hr import create_hr_user
from models.rules.enums import HrRole
from models.tables import HrUser, OutboxMessage
from tests.api.conftest import AppEnv
from tests.api.helpers import hr_login, outbox_count
from tests.factories import T0

RUN_ID = "0b9f5b4e-1d2c-4a4e-9f3a-6c1d2e3f4a5b"


def event(**overrides: Any) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "event": "prefect.flow-run.Failed",
            "occurred": datetime(2027, 4, 1, 1, 0, tzinfo=UTC).isoformat(),
            "flow_run_id": f"prefect.flow-run.{RUN_ID}", "run_name": "buka-periode-2-siklus-7",
            "flow_name": "buka-periode", "state_name": "Failed",
            "state_message": "Flow run encountered an exception: SMTPRecipientsRefused: "
                             "budi@contoh.go.id (NIP 198001012005011001)"} | overrides


def post(env: AppEnv, body: dict[str, Any] | str, secret: str | None = "good") -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = ops_secret(env.rt.api) if secret == "good" else secret
    return env.client.post(WEBHOOK_PATH, content=body if isinstance(body, str)
                           else json.dumps(body), headers=headers)


def failure_mail(env: AppEnv) -> list[OutboxMessage]:
    with session_scope(env.rt.engine) as s:
        return list(s.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "kegagalan_flow").order_by(OutboxMessage.id)).scalars())


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("", 401), ("salah", 403),
                                                 ("x" * 64, 403)])
def test_webhook_refuses_a_missing_or_wrong_secret(env: AppEnv, secret: str | None,
                                                   status: int) -> None:
    before = outbox_count(env.rt)
    r = post(env, event(), secret=secret)
    assert r.status_code == status, r.text
    assert SECRET_HEADER in r.json()["detail"]
    assert outbox_count(env.rt) == before


def test_a_failure_event_emails_the_hr_admins_once(env: AppEnv) -> None:
    r = post(env, event())
    assert r.status_code == 202, r.text
    assert r.json() == {"flow_run_id": RUN_ID, "queued": 1, "recipients": 1, "duplicate": False,
                        "suppressed": False}
    [mail] = failure_mail(env)
    assert mail.to_email == "hr@contoh.go.id"
    assert mail.key == f"kegagalan:buka-periode:{RUN_ID}:failed:hr@contoh.go.id"
    ctx = mail.context
    assert ctx["run_link"] == f"http://127.0.0.1:9/runs/flow-run/{RUN_ID}"
    assert ctx["console_link"] == "http://testserver/hr/operasi"
    assert (ctx["run_name"], ctx["flow_name"], ctx["state_name"]) == (
        "buka-periode-2-siklus-7", "buka-periode", "Failed")
    assert ctx["occurred"] == "1 April 2027 08.00 WIB"  # Asia/Jakarta
    # no personal data beyond the run name: the address and the NIP are hidden
    assert "budi@" not in ctx["state_message"] and "198001012005011001" not in ctx["state_message"]
    assert "SMTPRecipientsRefused: [email] (NIP [nomor])" in ctx["state_message"]

    again = post(env, event())  # Prefect delivering the same failure again (a new event id)
    assert again.status_code == 202 and again.json()["duplicate"] is True
    assert again.json()["queued"] == 0 and len(failure_mail(env)) == 1


def test_configured_operators_and_the_quiet_window(env: AppEnv) -> None:
    env.rt.ops = OpsSettings(emails="Ops@Contoh.go.id; hr@contoh.go.id, ops@contoh.go.id",
                             quiet_minutes=60)
    assert post(env, event()).json()["queued"] == 2
    mails = failure_mail(env)
    assert {(m.to_email, m.context["nama"]) for m in mails} == {
        ("ops@contoh.go.id", "Operator Kinerja"), ("hr@contoh.go.id", "Admin BKPSDM")}
    # the same flow failing in another run within the hour is not emailed again...
    other = str(uuid.uuid4())
    r = post(env, event(flow_run_id=other, state_name="Crashed", event="prefect.flow-run.Crashed"))
    assert r.json() | {"flow_run_id": None} == {"flow_run_id": None, "queued": 0,
                                                "recipients": 2, "duplicate": False,
                                                "suppressed": True}
    # ...another flow is, and after the window the same flow is too
    assert post(env, event(flow_run_id=other, flow_name="kirim-email",
                           run_name="kirim-email")).json()["queued"] == 2
    env.clock.advance(minutes=61)
    assert post(env, event(flow_run_id=str(uuid.uuid4()))).json()["queued"] == 2
    assert len(failure_mail(env)) == 6


@pytest.mark.parametrize("body", [
    "not json",
    json.dumps(event(flow_run_id="bukan-uuid")),
    json.dumps({k: v for k, v in event().items() if k != "flow_name"}),
    json.dumps(event(event="prefect.flow-run.Completed", state_name="Completed")),
    json.dumps(event(event="prefect.flow-run.Failed", state_name="Crashed")),
])
def test_malformed_or_other_events_are_refused(env: AppEnv, body: str) -> None:
    r = post(env, body)
    assert r.status_code == 422, r.text
    assert failure_mail(env) == []


def test_no_operator_no_email(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:  # the only HR admin leaves
        s.execute(select(HrUser)).scalar_one().active = False
    r = post(env, event())
    assert r.status_code == 202 and r.json()["recipients"] == 0 and failure_mail(env) == []


def test_operations_page_says_clearly_when_prefect_is_down(env: AppEnv) -> None:
    env.login()
    r = env.client.get("/hr/operasi")
    assert r.status_code == 200
    assert "Server Prefect tidak dapat dihubungi" in r.text and 'id="prefect-down"' in r.text
    assert "http://127.0.0.1:9/api" in r.text
    en = env.client.get("/hr/operasi?cycle_id=3&lang=en")
    assert en.status_code == 200 and "The Prefect server cannot be reached" in en.text


def test_operations_page_needs_an_agency_reader(env: AppEnv) -> None:
    assert env.client.get("/hr/operasi", follow_redirects=False).status_code == 303
    with session_scope(env.rt.engine) as s:
        create_hr_user(session=s, username="auditor", password="rahasia-hr", nama="Auditor",
                       email="audit@contoh.go.id", now=T0, role=HrRole.AUDITOR)
    r = hr_login(env.client, "auditor", "rahasia-hr")
    assert r.status_code == 303
    assert env.client.get("/hr/operasi").status_code == 200
