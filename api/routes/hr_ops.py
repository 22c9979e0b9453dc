"""Operations: the console page of Kinerja's flow runs (/hr/operasi) with links to the Prefect
UI, and the webhook Prefect's failure automation calls to have the operators emailed."""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.exc import IntegrityError

from api.access import AgencyReader
from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import GUARD, error_response
from kinerja import operations as ops
from kinerja.runtime import Runtime
from models.db import session_scope
from models.repo import audit
from models.repo import operasi as repo
from models.repo.cycles import list_cycles
from models.rules import operasi as rules

router = APIRouter(dependencies=GUARD)
log = logging.getLogger("kinerja.ops")

#: failures shown on the page, and the most runs listed
FAILURE_DAYS = 7
RUN_LIMIT = 100
MAX_EVENT_BYTES = 64 * 1024
#: no or a wrong secret, a body too large or not a failure event
WEBHOOK_ERRORS: dict[int | str, dict[str, Any]] = {s: error_response(s) for s in (401, 403, 413, 422, 503)}


class PrefectEventIn(BaseModel):
    """The payload the automation's webhook block sends (see kinerja.operations.PAYLOAD)."""

    model_config = ConfigDict(extra="ignore")
    event_id: str = Field(max_length=100)
    event: str = Field(max_length=200)
    occurred: datetime
    flow_run_id: UUID = Field(description="the run's id, or its resource id prefect.flow-run.<id>")
    run_name: str = Field(min_length=1, max_length=500)
    flow_name: str = Field(min_length=1, max_length=200)
    state_name: str = Field(max_length=50)
    state_message: str | None = Field(default="", max_length=50_000)

    @field_validator("flow_run_id", mode="before")
    @classmethod
    def _resource_id(cls, value: Any) -> Any:
        return value.removeprefix("prefect.flow-run.") if isinstance(value, str) else value


def require_ops_secret(request: Request, rt: RuntimeDep) -> None:
    """The webhook is called by Prefect, not a person: the shared secret is its credential."""
    given = request.headers.get(ops.SECRET_HEADER, "")
    if not given:
        raise HTTPException(401, f"Header {ops.SECRET_HEADER} is required.")
    if not hmac.compare_digest(given.encode(), ops.ops_secret(rt.api).encode()):
        raise HTTPException(403, f"Header {ops.SECRET_HEADER} is wrong.")


async def _event_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_EVENT_BYTES:
        raise HTTPException(413, "Event too large.")
    body = await request.body()
    if len(body) > MAX_EVENT_BYTES:
        raise HTTPException(413, "Event too large.")
    return body


@router.post(ops.WEBHOOK_PATH, status_code=202, tags=["ops"], responses=WEBHOOK_ERRORS, openapi_extra={
    "parameters": [{"name": ops.SECRET_HEADER, "in": "header", "required": True,
                    "schema": {"type": "string"}, "description": "the shared secret"}],
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": PrefectEventIn.model_json_schema()}}}})
def prefect_event(_auth: Annotated[None, Depends(require_ops_secret)],
                  body: Annotated[bytes, Depends(_event_body)], rt: RuntimeDep,
                  session: SessionDep) -> JSONResponse:
    """A failure event of a Kinerja flow run, from the Prefect automation
    `kinerja-kegagalan-flow`: queue one email per operator (once per run and state)."""
    try:
        event = PrefectEventIn.model_validate_json(body)
    except ValidationError as exc:
        return JSONResponse({"detail": exc.errors(include_url=False, include_context=False,
                                                  include_input=False)}, 422)
    if not rules.is_failure(event.event, event.state_name):
        return JSONResponse({"detail": f"not a flow run failure event: {event.event} "
                                       f"({event.state_name})"}, 422)
    ctx = audit.current()
    ctx.actor, ctx.via = "prefect", f"otomasi:{ops.AUTOMATION_NAME}"
    run_id = str(event.flow_run_id)
    failure = repo.FlowRunFailure(flow_run_id=run_id, flow_name=event.flow_name,
                                  run_name=event.run_name, state_name=event.state_name,
                                  state_message=event.state_message or "", occurred=event.occurred)
    cfg = repo.FailureMailSettings(
        agency=rt.api.agency_name, language=rt.api.language, timezone=rt.api.timezone,
        run_link=ops.run_link(rt.prefect.ui, run_id),
        console_link=f"{rt.api.public_url}/hr/operasi", quiet_minutes=rt.ops.quiet_minutes)
    recipients = repo.operator_recipients(session=session, configured=rt.ops.recipients,
                                          language=rt.api.language)
    try:
        result = repo.queue_failure_emails(session=session, failure=failure,
                                           recipients=recipients, now=rt.clock.now(), cfg=cfg)
    except IntegrityError:  # the same event delivered twice at the same moment
        session.rollback()
        result = repo.FailureMail(queued=0, recipients=len(recipients), duplicate=True)
    if not recipients:
        log.warning("flow run %s (%s) %s: no operator to email (set KINERJA_OPS_EMAILS or add an "
                    "active HR admin)", event.run_name, run_id, event.state_name)
    return JSONResponse({"flow_run_id": run_id, "queued": result.queued,
                         "recipients": result.recipients, "duplicate": result.duplicate,
                         "suppressed": result.suppressed}, 202)


def _cycles(rt: Runtime) -> list[tuple[int, str]]:
    with session_scope(rt.engine) as s:
        return [(c.id, c.nama or str(c.tahun)) for c in list_cycles(session=s) if c.id]


def _row(run: ops.RunInfo, now: datetime, ui: str, lang: str) -> dict[str, Any]:
    label = ops.FLOWS.get(run.flow, (run.flow, run.flow))[lang == "en"]
    return {"run": run, "label": label, "link": ops.run_link(ui, run.id),
            "duration": rules.format_duration(run.duration(now)),
            "message": rules.redact(run.message, 300)}


@router.get("/hr/operasi", include_in_schema=False)
async def operasi_page(request: Request, rt: RuntimeDep, user: AgencyReader,
                       cycle_id: int | None = None) -> Response:
    """Recent runs of Kinerja's flows (of one cycle when asked), failures first, with links to
    the Prefect UI; a clear message, not an error page, when Prefect is down."""
    cycles = await run_in_threadpool(_cycles, rt)
    now, lang, ui = rt.clock.now(), lang_of(request), rt.prefect.ui
    runs: list[ops.RunInfo] = []
    failures: list[ops.RunInfo] = []
    automation: ops.AutomationInfo | None = None
    error: str | None = None
    try:
        async with ops.prefect_client(rt.prefect.api) as client:
            runs = await ops.read_runs(client, cycle_id=cycle_id, limit=RUN_LIMIT)
            failures = await ops.read_runs(client, failed_since=now - timedelta(
                days=FAILURE_DAYS), limit=RUN_LIMIT)
            automation = await ops.read_automation(client)
    except ops.PrefectUnavailable as exc:
        error = str(exc)
        log.warning("operations page: Prefect at %s unreachable: %s", rt.prefect.api, exc)
    return render(request, "hr/operasi.html", user=user, cycles=cycles, cycle_id=cycle_id,
                  runs=[_row(r, now, ui, lang) for r in runs],
                  failures=[_row(r, now, ui, lang) for r in failures
                            if cycle_id is None or r.cycle_id == cycle_id],
                  automation=automation, automation_name=ops.AUTOMATION_NAME,
                  prefect_error=error, prefect_ui=ui, prefect_api=rt.prefect.api,
                  failure_days=FAILURE_DAYS, flows=ops.FLOWS)
