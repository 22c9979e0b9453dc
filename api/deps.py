"""Dependencies as Annotated aliases: the runtime, a DB session, the language, the form.
(Who may call an HR route is declared with the policies in api.access.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlmodel import Session
from starlette.datastructures import FormData

from kinerja.runtime import Runtime
from models.db import end_session


async def get_rt(request: Request) -> Runtime:
    """Async because it does no I/O: a plain `def` dependency costs a hop to the thread pool
    on every request (about a tenth of a task page's time under load)."""
    return request.app.state.rt


RuntimeDep = Annotated[Runtime, Depends(get_rt)]


async def get_session(rt: RuntimeDep) -> AsyncIterator[Session]:
    """session_scope for a request: commit on success, roll back on error. Opening a session
    does no I/O, so only the end (commit or rollback, then giving the connection back) goes
    to the thread pool; a plain generator would cost a hop at each end."""
    session = Session(rt.engine, expire_on_commit=False)
    try:
        yield session
    except BaseException:
        with anyio.CancelScope(shield=True):  # a client that left still gets its rollback
            await _outside_the_pool(end_session, session, False)
        raise
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        with anyio.CancelScope(shield=True):
            await _outside_the_pool(end_session, session, True)
    else:
        session.close()


async def _outside_the_pool(fn: Callable[..., None], *args: object) -> None:
    """Run the end of a request's transaction in a thread that does not wait for a slot of the
    handlers' thread pool (as FastAPI does for a generator dependency's exit): a finished
    request holds its connection, and on SQLite its write lock, until it commits; if it had
    to queue behind handlers that wait for that lock or a connection, all of them would
    stall until the 30 s timeouts (seen with KINERJA_API_THREADS=4 under the submit load)."""
    await anyio.to_thread.run_sync(fn, *args, limiter=anyio.CapacityLimiter(1))


#: scope="function": the transaction commits before the response leaves, so a redirect after a
#: POST never shows the page as it was before, and a failed commit is an error, not a success
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


class LoginRequired(Exception):
    """An HR page opened without a session: redirect to the login page."""


def lang_of(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("lang")
    return lang if lang in ("id", "en") else request.app.state.rt.api.language


async def _form(request: Request) -> FormData:
    """The submitted form, read asynchronously, so that the endpoint itself can be a plain
    `def`: database work then runs in the thread pool and never blocks the event loop (an
    async endpoint waiting on a database lock stalls every other request)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(_form)]


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a reverse proxy, run uvicorn with
    --proxy-headers and --forwarded-allow-ips so that this is the real client)."""
    return request.client.host if request.client else "unknown"
