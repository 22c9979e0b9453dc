"""Browser-facing protections, in one place:

- security headers on every answer (a strict Content-Security-Policy: no inline script, no
  framing, forms only to this site; no referrer, so task-link tokens never leak to another
  site; nosniff; HSTS behind https; no caching of personal pages);
- CSRF protection for the console: a request that changes something and is authenticated by
  the session cookie must carry the session's CSRF token (hidden form field `csrf`, added to
  every POST form by `api.pages.render`, or the `X-CSRF-Token` header), and a browser's
  `Origin`, when sent, must be this site. Requests with a bearer token carry no cookie
  authority and need neither; task links (`/t/...`) are authorised by the secret in their
  path, which a forging site cannot know.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.rules.errors import Forbidden

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
#: the interactive API documentation loads its viewer from a CDN; it shows no personal data
DOCS = ("/docs", "/redoc", "/openapi.json")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


class SecurityHeaders:
    """Pure ASGI: adds the headers without touching the body (streams stay streams)."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app, self.https = app, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}

                def add(name: str, value: str) -> None:
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))

                if not path.startswith(DOCS):
                    add("content-security-policy", CSP)
                add("x-content-type-options", "nosniff")
                add("referrer-policy", "no-referrer")
                add("x-frame-options", "DENY")
                add("cross-origin-opener-policy", "same-origin")
                add("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()")
                if self.https:
                    add("strict-transport-security", "max-age=31536000; includeSubDomains")
                if path.startswith(("/hr", "/t/", "/api/")) and not path.startswith("/static"):
                    add("cache-control", "no-store")
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_token(request: Request) -> str | None:
    """The session's CSRF token, made on first use for a logged-in console session."""
    if "sid" not in request.session:
        return None
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def _same_origin(request: Request, origin: str) -> bool:
    public = urlsplit(request.app.state.rt.api.public_url)
    got = urlsplit(origin)
    host = request.headers.get("host", "")
    return (got.scheme, got.netloc) == (public.scheme, public.netloc) or got.netloc == host


async def csrf_protect(request: Request) -> None:
    """An app-wide dependency: runs before every route's own dependencies."""
    if request.method not in UNSAFE:
        return
    origin = request.headers.get("origin")
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return  # no cookie authority: nothing a forging site could borrow
    cookie_session = "sid" in request.session
    if origin and origin != "null" and (cookie_session or request.url.path.startswith("/hr")):
        if not _same_origin(request, origin):
            raise Forbidden("Permintaan dari situs lain ditolak.",
                            "A request from another site was refused.")
    if not cookie_session:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get(CSRF_FIELD)  # Starlette keeps the parsed form
    if not expected or not sent or not secrets.compare_digest(str(sent).encode(),
                                                             str(expected).encode()):
        raise Forbidden("Formulir ini kedaluwarsa atau tidak berasal dari halaman Kinerja; muat "
                        "ulang halaman lalu kirim lagi.",
                        "This form has expired or did not come from a Kinerja page; reload the "
                        "page and send it again.")


_POST_FORM = re.compile(r"(<form\b[^>]*\bmethod=\"post\"[^>]*>)", re.IGNORECASE)


def add_csrf_fields(html: str, token: str) -> str:
    """Every POST form of a console page carries the session's token."""
    field = f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">'
    return _POST_FORM.sub(lambda m: m.group(1) + field, html)
