"""Optional console login through the agency's OpenID Connect provider (Keycloak, Azure AD,
Google Workspace, the national SSO...): authorization code flow with PKCE, state and nonce; the
ID token is verified against the provider's published keys (issuer, audience, expiry, nonce).

The provider says who someone is; Kinerja decides what they may do: the person must already be
a console user (added by an admin with a role), matched by the provider's subject, or, at the
first login, by a verified email address (the subject is then linked). Enabled when
KINERJA_OIDC_ISSUER and KINERJA_OIDC_CLIENT_ID are set.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, select

from api.deps import SessionDep, lang_of
from api.pages import render
from models.repo.audit import record
from models.repo.hr import start_session
from models.rules.console import safe_next
from models.tables import HrUser

router = APIRouter(prefix="/hr/login/oidc", include_in_schema=False)


class OidcSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KINERJA_OIDC_", extra="ignore")
    issuer: str = ""
    client_id: str = ""
    client_secret: str = ""
    scopes: str = "openid email profile"
    #: the button's text on the login page
    label: str = "Masuk dengan akun SSO instansi"

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)


class OidcError(Exception):
    """The provider could not be reached or did not vouch for the person."""


_discovery: dict[str, tuple[float, dict[str, Any]]] = {}
_jwks: dict[str, jwt.PyJWKClient] = {}


def discover(issuer: str) -> dict[str, Any]:
    """The provider's metadata, cached for an hour."""
    cached = _discovery.get(issuer)
    if cached and time.monotonic() - cached[0] < 3600:
        return cached[1]
    try:
        r = httpx.get(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=10)
        r.raise_for_status()
        meta = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(f"discovery failed: {type(exc).__name__}") from exc
    if meta.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise OidcError("the provider's metadata names another issuer")
    _discovery[issuer] = (time.monotonic(), meta)
    return meta


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _settings(request: Request) -> OidcSettings:
    return request.app.state.oidc


def _callback_url(request: Request) -> str:
    return request.app.state.rt.api.public_url + "/hr/login/oidc/callback"


def _fail(request: Request, status: int, id_text: str, en_text: str) -> Response:
    request.session.pop("oidc", None)
    return render(request, "hr/login.html", status_code=status, next="/hr",
                  error=en_text if lang_of(request) == "en" else id_text)


@router.get("")
def start(request: Request, next: str = "/hr") -> Response:
    cfg = _settings(request)
    if not cfg.enabled:
        return _fail(request, 404, "Login SSO tidak diaktifkan.", "SSO login is not enabled.")
    try:
        meta = discover(cfg.issuer)
    except OidcError:
        return _fail(request, 503, "Penyedia identitas (SSO) tidak dapat dihubungi; coba lagi "
                     "nanti atau masuk dengan kata sandi.",
                     "The identity provider (SSO) cannot be reached; try again later or log in "
                     "with a password.")
    state, nonce, verifier = (secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                              secrets.token_urlsafe(48))
    request.session["oidc"] = {"state": state, "nonce": nonce, "verifier": verifier,
                               "next": safe_next(next)}
    query = urlencode({
        "response_type": "code", "client_id": cfg.client_id, "scope": cfg.scopes,
        "redirect_uri": _callback_url(request), "state": state, "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256"})
    return RedirectResponse(f"{meta['authorization_endpoint']}?{query}", status_code=303)


def verify_id_token(cfg: OidcSettings, meta: dict[str, Any], id_token: str,
                    nonce: str) -> dict[str, Any]:
    """The ID token's claims, or OidcError: signature from the provider's keys, issuer,
    audience, expiry (a minute of clock skew) and the nonce of this login."""
    client = _jwks.get(meta["jwks_uri"])
    if client is None:
        client = _jwks.setdefault(meta["jwks_uri"], jwt.PyJWKClient(meta["jwks_uri"]))
    try:
        key = client.get_signing_key_from_jwt(id_token)
        claims = jwt.decode(id_token, key.key, algorithms=["RS256", "ES256", "PS256"],
                            audience=cfg.client_id, issuer=meta["issuer"], leeway=60,
                            options={"require": ["exp", "iat", "sub", "aud", "iss"]})
    except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
        raise OidcError(f"id_token refused: {type(exc).__name__}") from exc
    if not secrets.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise OidcError("id_token refused: nonce")
    return claims


@router.get("/callback")
def callback(request: Request, session: SessionDep, code: str = "", state: str = "",
             error: str = "") -> Response:
    cfg = _settings(request)
    pending = request.session.get("oidc")
    if not cfg.enabled or not pending:
        return _fail(request, 400, "Sesi login SSO tidak ditemukan; mulai lagi dari halaman "
                     "masuk.", "No SSO login in progress; start again from the login page.")
    if error or not code or not secrets.compare_digest(state.encode(), pending["state"].encode()):
        return _fail(request, 400, "Login SSO dibatalkan atau tidak sah; mulai lagi.",
                     "The SSO login was cancelled or is not valid; start again.")
    try:
        meta = discover(cfg.issuer)
        r = httpx.post(meta["token_endpoint"], timeout=15, data={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": _callback_url(request), "code_verifier": pending["verifier"],
            "client_id": cfg.client_id, "client_secret": cfg.client_secret})
        if r.status_code != 200 or "id_token" not in r.json():
            raise OidcError(f"token endpoint answered {r.status_code}")
        claims = verify_id_token(cfg, meta, r.json()["id_token"], pending["nonce"])
    except (OidcError, httpx.HTTPError, ValueError):
        return _fail(request, 401, "Penyedia identitas tidak memastikan identitas Anda; login "
                     "ditolak.", "The identity provider did not confirm who you are; login "
                     "refused.")
    user = session.execute(select(HrUser).where(HrUser.oidc_subject == claims["sub"])).scalar()
    if user is None and claims.get("email") and claims.get("email_verified") is True:
        # link only an unambiguous match: exactly one active user with this address, not yet
        # linked (two accounts sharing an address must be told apart by an admin)
        matches = session.execute(select(HrUser).where(
            func.lower(HrUser.email) == str(claims["email"]).lower(),
            HrUser.oidc_subject.is_(None), HrUser.active)).scalars().all()
        user = matches[0] if len(matches) == 1 else None
        if user is not None:
            user.oidc_subject = claims["sub"]
            record(session=session, now=request.app.state.rt.clock.now(),
                   actor=f"hr:{user.username}", action="hr_user.oidc_tautkan", entity="hr_user",
                   entity_id=user.id, after={"issuer": meta["issuer"]})
    if user is None or not user.active:
        return _fail(request, 403, "Akun SSO ini belum terdaftar sebagai pengguna Kinerja yang "
                     "aktif; minta admin Pengelola Kinerja menambahkan Anda.",
                     "This SSO account is not an active Kinerja user; ask a performance admin "
                     "to add you.")
    target = pending["next"]
    request.session.clear()
    request.session["sid"] = start_session(session=session, user=user, metode="oidc",
                                           now=request.app.state.rt.clock.now())
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(target, status_code=303)
