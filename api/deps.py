"""Dependencies as Annotated aliases: the runtime, a DB session, the language, the form.
(Who may call an HR route is declared with the policies in api.access.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.datastructures import FormData

from kinerja.runtime import Runtime
from models.db import session_scope


def get_rt(request: Request) -> Runtime:
    return request.app.state.rt


RuntimeDep = Annotated[Runtime, Depends(get_rt)]


def get_session(rt: RuntimeDep) -> Iterator[Session]:
    with session_scope(rt.engine) as session:
        yield session


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
