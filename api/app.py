"""The app factory: create_app(runtime) wires routes, sessions, templates and error mapping."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import LoginRequired, lang_of
from api.launcher import Launcher, OrchestrationUnavailable, PrefectLauncher
from api.oidc import OidcSettings
from api.oidc import router as oidc_routes_router
from api.pages import TEMPLATES, render
from api.routes import (
    dev,
    health,
    hr_api,
    hr_audit,
    hr_dashboard,
    hr_exports,
    hr_kompetensi,
    hr_ops,
    hr_pages,
    hr_pegawai,
    hr_penilaian,
    hr_skm,
    hr_tindak_lanjut,
    hr_users,
    keberatan,
    kompetensi,
    monitoring,
    penilaian,
    preferensi,
    skm,
    tasks,
    umpan_balik,
)
from api.routes.tasks import LinkPageError
from api.security import SecurityHeaders, csrf_protect
from kinerja.runtime import Runtime, secret_key
from models.repo import audit
from models.repo.cycles import NotFound
from models.rules.errors import (
    Forbidden,
    IncompleteSkp,
    InvalidInput,
    InvalidTransition,
    LinkRejected,
    RuleError,
)

#: what a client is told to wait when the database is briefly gone
DB_RETRY_AFTER_SECONDS = 5


def status_of(exc: RuleError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidTransition):
        return 409
    if isinstance(exc, LinkRejected | Forbidden):
        return 403
    if isinstance(exc, IncompleteSkp | InvalidInput):
        return 422
    return 400


class AuditContextMiddleware:
    """A fresh audit context per request: the policy dependency (HR session or token) or the
    task link fills in who acted and from where; every audit line of the request reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            audit.begin(actor="anonim", via="web")
        await self.app(scope, receive, send)


def create_app(rt: Runtime, launcher: Launcher | None = None,
               oidc: OidcSettings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # the thread pool plain `def` handlers run in (per event loop, so set once it runs)
        anyio.to_thread.current_default_thread_limiter().total_tokens = rt.api.threads_for(
            rt.engine.dialect.name)
        # what startup built (modules, routes, templates) lives as long as the process: out of
        # the collector's sight, a full collection walks only what requests make, so it no
        # longer stalls a page for tens of milliseconds
        gc.collect()
        gc.freeze()
        yield

    app = FastAPI(title="Kinerja", version="0.1.0", dependencies=[Depends(csrf_protect)],
                  lifespan=lifespan,
                  description="Siklus kinerja ASN (SKP, PermenPANRB 6/2022): API untuk Pengelola "
                              "Kinerja dan sistem kepegawaian lain (SIMPEG).")
    app.state.rt = rt
    for templates in TEMPLATES.values():
        templates.env.auto_reload = rt.api.dev
    app.state.oidc = oidc or OidcSettings()
    app.state.launcher = launcher or PrefectLauncher(rt.prefect.api)
    app.add_middleware(SessionMiddleware, secret_key=secret_key(rt.api), session_cookie="kinerja_hr",
                       same_site="lax", https_only=rt.api.public_url.startswith("https"),
                       max_age=12 * 3600)
    app.add_middleware(AuditContextMiddleware)
    app.add_middleware(SecurityHeaders, https=rt.api.public_url.startswith("https"))
    # the task-link pages first: they are most of the traffic, and a request is matched
    # against the routes in this order (the HR routes' paths never start with /t/)
    for module in (tasks, health, hr_api, hr_pages, monitoring, umpan_balik, kompetensi,
                   hr_kompetensi, skm, hr_skm, penilaian, hr_penilaian, hr_exports, keberatan,
                   hr_tindak_lanjut, hr_dashboard, hr_ops, hr_audit, hr_users, preferensi):
        app.include_router(module.router)
    app.include_router(hr_penilaian.api)
    app.include_router(hr_pegawai.router)
    app.include_router(hr_pegawai.api)
    app.include_router(hr_audit.api)
    app.include_router(oidc_routes_router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    if rt.api.dev:
        app.include_router(dev.router)

    @app.exception_handler(RuleError)
    async def rule_error(request: Request, exc: RuleError) -> Response:
        status = status_of(exc)
        lang = lang_of(request)
        if request.url.path.startswith("/api/"):
            body = {"detail": exc.message(lang), "error": type(exc).__name__}
            if isinstance(exc, InvalidTransition):
                body["state"] = exc.current
            if isinstance(exc, IncompleteSkp):
                body["problems"] = [p[1] if lang == "en" else p[0] for p in exc.problems]
            problems = getattr(exc, "problems", None)
            if problems and not isinstance(exc, IncompleteSkp):
                body["problems"] = [vars(p) if hasattr(p, "__dict__") else p for p in problems]
            return JSONResponse(body, status_code=status)
        return render(request, "error.html", status_code=status, message=exc.message(lang))

    @app.exception_handler(OrchestrationUnavailable)
    async def no_prefect(request: Request, exc: OrchestrationUnavailable) -> Response:
        msg_id = ("Orkestrasi (server Prefect) tidak dapat dihubungi; siklus belum diluncurkan. "
                  "Data tetap aman. Coba lagi setelah server Prefect berjalan.")
        msg_en = ("Orchestration (the Prefect server) cannot be reached; the cycle was not launched. "
                  "Nothing was lost. Try again once Prefect is running.")
        msg = msg_en if lang_of(request) == "en" else msg_id
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": msg, "error": "OrchestrationUnavailable"}, 503,
                                headers={"Retry-After": "30"})
        return render(request, "error.html", status_code=503, message=msg)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unavailable(request: Request, exc: Exception) -> Response:
        """The database is restarting or unreachable: 503 with Retry-After, nothing half-done
        (the request's transaction was rolled back); the pool reconnects by itself
        (pre-ping), so the next request after the gap works without a restart. A locked SQLite
        database past its busy timeout answers the same way."""
        msg_id = ("Basis data sedang tidak dapat dihubungi; tidak ada yang berubah. Coba lagi "
                  "dalam beberapa detik.")
        msg_en = "The database cannot be reached right now; nothing changed. Try again in a few seconds."
        msg = msg_en if lang_of(request) == "en" else msg_id
        headers = {"Retry-After": str(DB_RETRY_AFTER_SECONDS)}
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": msg, "error": "DatabaseUnavailable"}, 503,
                                headers=headers)
        response = render(request, "error.html", status_code=503, message=msg)
        response.headers.update(headers)
        return response

    @app.exception_handler(LinkPageError)
    async def bad_link(request: Request, exc: LinkPageError) -> Response:
        return render(request, "task/link_error.html", status_code=403, reason=exc.exc.reason,
                      message=exc.exc.message(lang_of(request)),
                      token=exc.token if exc.exc.reason == "expired" else "")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/hr/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        """The API keeps FastAPI's JSON details; a page says in the reader's language which
        value was not understood, and nothing was changed."""
        if request.url.path.startswith("/api/") or not request.url.path.startswith("/hr"):
            return await request_validation_exception_handler(request, exc)
        names = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        lang = lang_of(request)
        message = (f"Nilai tidak dapat dibaca: {', '.join(names)}. Tidak ada yang diubah."
                   if lang == "id" else
                   f"Values that could not be read: {', '.join(names)}. Nothing was changed.")
        return render(request, "error.html", status_code=422, message=message)

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/hr", status_code=303)

    return app
