"""Links and sessions from the browser's side: CSRF on every console form (generated from the
route table), other sites' requests, cookie flags, rate limits on login and on fresh links, no
telling whether a user exists, and the security headers (no inline script anywhere)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from models.db import session_scope
from models.repo.hr import create_api_token
from models.tables import HrUser, Task
from tests.api.conftest import AppEnv
from tests.api.helpers import open_planning_now, path_of
from tests.api.test_authorization import PUBLIC, app_routes
from tests.factories import T0, make_org

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", "1", path)


def test_every_console_change_needs_the_sessions_csrf_token(env: AppEnv) -> None:
    env.login()
    token = env.client.headers.pop("X-CSRF-Token")
    checked = 0
    for route in app_routes(env.client.app):
        if PUBLIC.match(route.path):
            continue
        for method in sorted(route.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            url = _url(route.path)
            kwargs = {"json": {}} if url.startswith("/api/") else {"data": {}}
            missing = env.client.request(method, url, follow_redirects=False, **kwargs)
            wrong = env.client.request(method, url, follow_redirects=False,
                                       headers={"X-CSRF-Token": token[::-1]}, **kwargs)
            assert missing.status_code == wrong.status_code == 403, (method, url)
            assert ("Formulir ini kedaluwarsa" in missing.text), (method, url)
            checked += 1
    assert checked > 60
    # the same form with the field a page put in it is accepted
    r = env.client.post("/hr/cycles", data={"tahun": "2031", "csrf": token},
                        follow_redirects=False)
    assert r.status_code == 303


def test_pages_put_the_token_in_every_post_form(env: AppEnv) -> None:
    env.login()
    page = env.client.get("/hr").text
    forms = re.findall(r"<form\b[^>]*method=\"post\"[^>]*>(.{0,200})", page)
    assert forms and all('name="csrf"' in f for f in forms)
    anonymous = TestClient(env.client.app).get("/hr/login").text
    assert 'name="csrf"' not in anonymous


def test_a_bearer_token_needs_no_csrf_and_other_sites_are_refused(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        admin = s.execute(select(HrUser).where(HrUser.username == "admin")).scalar_one()
        bearer = create_api_token(session=s, user=admin, name="simpeg", now=T0)
    api = TestClient(env.client.app)
    r = api.post("/api/v1/cycles", json={"tahun": 2031},
                 headers={"Authorization": f"Bearer {bearer}"})
    assert r.status_code in (200, 201)
    env.login()
    foreign = env.client.post("/hr/cycles", data={"tahun": "2032"},
                              headers={"Origin": "https://jahat.example"}, follow_redirects=False)
    assert foreign.status_code == 403 and "situs lain" in foreign.text
    login = TestClient(env.client.app).post(
        "/hr/login", data={"username": "admin", "password": "rahasia-hr"},
        headers={"Origin": "https://jahat.example"}, follow_redirects=False)
    assert login.status_code == 403  # login CSRF: no logging a victim into someone's account


def test_session_cookie_flags(env: AppEnv) -> None:
    r = env.client.post("/hr/login", data={"username": "admin", "password": "rahasia-hr"},
                        follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    env.rt.api.base_url = "https://kinerja.contoh.go.id"
    secure = TestClient(create_app(env.rt, launcher=env.launcher),
                        base_url="https://kinerja.contoh.go.id")
    r = secure.post("/hr/login", data={"username": "admin", "password": "rahasia-hr"},
                    follow_redirects=False)
    assert "secure" in r.headers["set-cookie"].lower()
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_login_is_rate_limited_and_does_not_tell_who_exists(env: AppEnv) -> None:
    client = TestClient(env.client.app)
    unknown = client.post("/hr/login", data={"username": "tidak.ada", "password": "salah-sekali"})
    wrong = client.post("/hr/login", data={"username": "admin", "password": "salah-sekali"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.text == wrong.text  # the same page, word for word
    for _ in range(9):  # ten wrong passwords for one username in the window
        assert client.post("/hr/login", data={"username": "admin",
                                              "password": "salah"}).status_code == 401
    limited = client.post("/hr/login", data={"username": "admin", "password": "rahasia-hr"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "Terlalu banyak percobaan" in limited.text
    # the same for a username that does not exist: the limit does not reveal it either
    for _ in range(9):
        client.post("/hr/login", data={"username": "tidak.ada", "password": "salah"})
    assert client.post("/hr/login", data={"username": "tidak.ada",
                                          "password": "x"}).status_code == 429
    env.clock.advance(minutes=16)  # the window passes
    ok = client.post("/hr/login", data={"username": "admin", "password": "rahasia-hr"},
                     follow_redirects=False)
    assert ok.status_code == 303


def test_fresh_link_requests_are_rate_limited(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        org = make_org(s)
        staf = org["staf1"]
    open_planning_now(env.rt)
    with session_scope(env.rt.engine) as s:
        task = s.execute(select(Task).where(Task.pegawai_id == staf.id)).scalars().first()
    token = path_of(env.rt.links.task(task.id, staf.id, env.clock.now())).rsplit("/", 1)[1]
    env.clock.advance(days=30)  # expired
    answers = [env.client.post("/t/renew", data={"token": token}).status_code
               for _ in range(21)]
    assert answers[:20] == [200] * 20 and answers[20] == 429


@pytest.mark.parametrize("path", ["/hr/login", "/healthz", "/t/bukan-token", "/s/tidak-ada"])
def test_security_headers_everywhere(env: AppEnv, path: str) -> None:
    r = env.client.get(path)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"  # task tokens never leave in a Referer
    assert r.headers["x-frame-options"] == "DENY"


def test_no_inline_script_in_any_template() -> None:
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=", text) \
                or "javascript:" in text:
            found.append(str(path.relative_to(TEMPLATES)))
    assert not found, found
