"""The optional OpenID Connect login against an identity provider served over real HTTP: a
small provider written here (discovery, authorize, token, JWKS) signing RS256 ID tokens, so
that the whole code flow, the key fetch and every check run as they would against Keycloak."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.oidc import OidcSettings
from models.db import session_scope
from models.repo.hr import create_hr_user
from models.rules.enums import HrRole
from models.tables import HrSesi, HrUser
from tests.api.conftest import AppEnv
from tests.factories import T0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Provider:
    issuer: str
    user: dict[str, object] = field(default_factory=dict)  # the claims of whoever "logs in"
    audience: str = "kinerja"
    codes: dict[str, str] = field(default_factory=dict)  # code -> nonce


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    port = _free_port()
    prov = Provider(issuer=f"http://127.0.0.1:{port}/realms/pemda")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True) | {
        "kid": "k1", "use": "sig", "alg": "RS256"}
    idp = FastAPI()

    @idp.get("/realms/pemda/.well-known/openid-configuration")
    def meta() -> dict[str, str]:
        return {"issuer": prov.issuer, "authorization_endpoint": f"{prov.issuer}/auth",
                "token_endpoint": f"{prov.issuer}/token", "jwks_uri": f"{prov.issuer}/certs"}

    @idp.get("/realms/pemda/auth")
    def auth(request: Request) -> RedirectResponse:  # the person "logs in" at once
        q = request.query_params
        assert q["code_challenge_method"] == "S256" and q["response_type"] == "code"
        code = f"code-{len(prov.codes)}"
        prov.codes[code] = q["nonce"]
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}",
                                status_code=302)

    @idp.post("/realms/pemda/token")
    def token(code: str = Form(), code_verifier: str = Form(), client_id: str = Form()) -> JSONResponse:
        nonce = prov.codes.pop(code, None)
        if nonce is None or not code_verifier:
            return JSONResponse({"error": "invalid_grant"}, 400)
        now = int(time.time())
        claims = {"iss": prov.issuer, "aud": prov.audience, "iat": now, "exp": now + 300,
                  "nonce": nonce} | prov.user
        return JSONResponse({"id_token": jwt.encode(claims, key, "RS256", headers={"kid": "k1"}),
                             "token_type": "Bearer"})

    @idp.get("/realms/pemda/certs")
    def certs() -> dict[str, object]:
        return {"keys": [jwk]}

    server = uvicorn.Server(uvicorn.Config(idp, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield prov
    server.should_exit = True
    thread.join(10)


def _login(env: AppEnv, prov: Provider) -> tuple[TestClient, httpx.Response]:
    cfg = OidcSettings(issuer=prov.issuer, client_id="kinerja", client_secret="rahasia")
    client = TestClient(create_app(env.rt, launcher=env.launcher, oidc=cfg))
    assert "akun SSO" in client.get("/hr/login").text
    start = client.get("/hr/login/oidc", params={"next": "/hr/pengguna"}, follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"].startswith(prov.issuer)
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    parsed = urlparse(back.headers["location"])
    done = client.get(f"{parsed.path}?{parsed.query}", follow_redirects=False)
    return client, done


def test_a_registered_user_logs_in_and_the_subject_is_linked(env: AppEnv,
                                                            provider: Provider) -> None:
    with session_scope(env.rt.engine) as s:
        create_hr_user(session=s, username="auditor.sso", password="", nama="Auditor SSO",
                       email="Auditor@Pemda.go.id", now=T0, role=HrRole.AUDITOR)
    provider.user = {"sub": "f81d4fae-7dec", "email": "auditor@pemda.go.id",
                     "email_verified": True}
    client, done = _login(env, provider)
    assert done.status_code == 303 and done.headers["location"] == "/hr/pengguna"
    assert client.get("/hr/pengguna").status_code == 200  # an auditor may read the user list
    with session_scope(env.rt.engine) as s:
        user = s.execute(select(HrUser).where(HrUser.username == "auditor.sso")).scalar_one()
        assert user.oidc_subject == "f81d4fae-7dec"
        assert s.execute(select(HrSesi.metode).where(HrSesi.hr_user_id == user.id)).scalar() == "oidc"
    # the next login matches the subject even when the email changed at the provider
    provider.user = {"sub": "f81d4fae-7dec", "email": "baru@pemda.go.id", "email_verified": False}
    _, again = _login(env, provider)
    assert again.status_code == 303
    # and no password login exists for an SSO-only account
    r = TestClient(client.app).post("/hr/login", data={"username": "auditor.sso", "password": ""})
    assert r.status_code in (401, 422)


def test_unknown_or_unverified_people_are_refused(env: AppEnv, provider: Provider) -> None:
    provider.user = {"sub": "orang-asing", "email": "asing@pemda.go.id", "email_verified": True}
    client, done = _login(env, provider)
    assert done.status_code == 403 and "belum terdaftar" in done.text
    assert client.get("/hr", follow_redirects=False).status_code == 303
    with session_scope(env.rt.engine) as s:
        create_hr_user(session=s, username="op.sso", password="", nama="Operator",
                       email="op@pemda.go.id", now=T0)
    provider.user = {"sub": "lain", "email": "op@pemda.go.id", "email_verified": False}
    _, done = _login(env, provider)
    assert done.status_code == 403  # an unverified email never links an account


def test_a_token_for_another_client_or_a_forged_state_is_refused(env: AppEnv,
                                                                provider: Provider) -> None:
    with session_scope(env.rt.engine) as s:
        create_hr_user(session=s, username="admin.sso", password="", nama="Admin SSO",
                       email="adm@pemda.go.id", now=T0)
    provider.user = {"sub": "adm", "email": "adm@pemda.go.id", "email_verified": True}
    provider.audience = "aplikasi-lain"
    try:
        _, done = _login(env, provider)
        assert done.status_code == 401 and "ditolak" in done.text
    finally:
        provider.audience = "kinerja"
    cfg = OidcSettings(issuer=provider.issuer, client_id="kinerja")
    client = TestClient(create_app(env.rt, launcher=env.launcher, oidc=cfg))
    start = client.get("/hr/login/oidc", follow_redirects=False)
    back = httpx.get(start.headers["location"], follow_redirects=False)
    code = parse_qs(urlparse(back.headers["location"]).query)["code"][0]
    forged = client.get("/hr/login/oidc/callback", params={"code": code, "state": "palsu"},
                        follow_redirects=False)
    assert forged.status_code == 400
    assert client.get("/hr", follow_redirects=False).status_code == 303


def test_disabled_by_default(env: AppEnv) -> None:
    assert "akun SSO" not in env.client.get("/hr/login").text
    assert env.client.get("/hr/login/oidc").status_code == 404


def test_an_address_shared_by_two_users_or_an_inactive_user_links_nobody(
        env: AppEnv, provider: Provider) -> None:
    with session_scope(env.rt.engine) as s:
        for name in ("kembar1", "kembar2"):
            create_hr_user(session=s, username=name, password="", nama=name,
                           email="bersama@pemda.go.id", now=T0)
        off = create_hr_user(session=s, username="nonaktif", password="", nama="Off",
                             email="off@pemda.go.id", now=T0)
        off.active = False
    for email in ("bersama@pemda.go.id", "off@pemda.go.id"):
        provider.user = {"sub": f"sub-{email}", "email": email, "email_verified": True}
        _, done = _login(env, provider)
        assert done.status_code == 403
    with session_scope(env.rt.engine) as s:
        assert not s.execute(select(HrUser.id).where(HrUser.oidc_subject.is_not(None))).first()
