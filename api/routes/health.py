"""GET /healthz: the state of the database, Prefect and SMTP."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import RuntimeDep

router = APIRouter(tags=["health"])


async def _smtp_ok(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 3)
        writer.close()
        return True
    except (OSError, TimeoutError):
        return False


#: the body of both answers: status ok / degraded / down and each check's state
HEALTH_BODY = {"type": "object", "required": ["status", "database", "prefect", "smtp"],
               "properties": {k: {"type": "string"} for k in ("status", "database", "prefect", "smtp")}}


@router.get("/healthz", responses={
    200: {"description": "the database answers (Prefect and SMTP may be down: degraded)",
          "content": {"application/json": {"schema": HEALTH_BODY}}},
    503: {"description": "the database does not answer",
          "content": {"application/json": {"schema": HEALTH_BODY}}}})
async def healthz(rt: RuntimeDep) -> JSONResponse:
    """200 when the database answers; Prefect and SMTP are reported (degraded, not down)."""
    checks: dict[str, str] = {}
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any driver error means "down"
        checks["database"] = f"down: {type(exc).__name__}"
    try:
        async with httpx.AsyncClient(timeout=3) as client:
            r = await client.get(f"{rt.prefect.api}/health")
        checks["prefect"] = "ok" if r.status_code == 200 else f"down: HTTP {r.status_code}"
    except httpx.HTTPError as exc:
        checks["prefect"] = f"down: {type(exc).__name__}"
    checks["smtp"] = "ok" if await _smtp_ok(rt.smtp.host, rt.smtp.port) else "down"
    ok = checks["database"] == "ok"
    status = "ok" if all(v == "ok" for v in checks.values()) else ("degraded" if ok else "down")
    return JSONResponse({"status": status, **checks}, status_code=200 if ok else 503)
