"""The HR JSON API: token auth, cycles, calendar, launch (idempotent), progress, healthz."""

from __future__ import annotations

from models.db import session_scope
from models.repo.hr import create_api_token
from models.tables import HrUser
from tests.api.conftest import AppEnv
from tests.api.helpers import open_planning_now
from tests.factories import make_org


def _token(env: AppEnv) -> dict[str, str]:
    from sqlalchemy import select

    with session_scope(env.rt.engine) as s:
        user = s.execute(select(HrUser)).scalar_one()
        token = create_api_token(session=s, user=user, name="simpeg", now=env.clock.now())
    return {"Authorization": f"Bearer {token}"}


def test_api_needs_a_token(env: AppEnv) -> None:
    assert env.client.get("/api/v1/cycles").status_code == 401
    assert env.client.get("/api/v1/cycles", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert env.client.get("/api/v1/cycles", headers=_token(env)).status_code == 200


def test_cycle_calendar_and_launch(env: AppEnv) -> None:
    h = _token(env)
    r = env.client.post("/api/v1/cycles", json={"tahun": 2027}, headers=h)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["perencanaan"]["opens_at"] == "2027-01-02T08:00"  # local time, Asia/Jakarta
    assert env.client.post("/api/v1/cycles", json={"tahun": 2027}, headers=h).status_code == 422
    cal = c["perencanaan"] | {"due_at": "2027-01-25T16:00"}
    r = env.client.put(f"/api/v1/cycles/{c['id']}/calendar", json=cal, headers=h)
    assert r.status_code == 200 and r.json()["perencanaan"]["due_at"] == "2027-01-25T16:00"
    # a stale version loses, with a message; nothing changes
    r = env.client.put(f"/api/v1/cycles/{c['id']}/calendar", json=cal | {"due_at": "2027-01-26T16:00"},
                       headers=h)
    assert r.status_code == 409 and "diubah orang lain" in r.json()["detail"]
    bad = r = env.client.put(f"/api/v1/cycles/{c['id']}/calendar", json=c["perencanaan"] | {
        "version": 2, "closes_at": "2026-12-01T00:00"}, headers=h)
    assert bad.status_code == 422
    r = env.client.get(f"/api/v1/cycles/{c['id']}", headers=h)
    assert r.json()["perencanaan"]["due_at"] == "2027-01-25T16:00"
    r = env.client.put(f"/api/v1/cycles/{c['id']}/reminders",
                       json={"offsets": "-2d, 1d", "review_sla_minutes": 60}, headers=h)
    assert r.json()["reminder_offsets"] == "-2d, 1d"
    assert env.client.put(f"/api/v1/cycles/{c['id']}/reminders",
                          json={"offsets": "kapan-kapan", "review_sla_minutes": 60},
                          headers=h).status_code == 422

    first = env.client.post(f"/api/v1/cycles/{c['id']}/launch", headers=h).json()
    second = env.client.post(f"/api/v1/cycles/{c['id']}/launch", headers=h).json()
    assert first["status"] == "launched" and first == second
    assert env.launcher.calls == [c["id"]]  # launching twice does nothing more


def test_launch_when_prefect_is_down_says_so_and_changes_nothing(env: AppEnv) -> None:
    h = _token(env)
    c = env.client.post("/api/v1/cycles", json={"tahun": 2028}, headers=h).json()
    env.launcher.down = True
    r = env.client.post(f"/api/v1/cycles/{c['id']}/launch", headers=h)
    assert r.status_code == 503 and "Prefect" in r.json()["detail"]
    assert env.client.get(f"/api/v1/cycles/{c['id']}", headers=h).json()["status"] == "draft"


def test_progress_per_unit(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        make_org(s)
    cycle_id = open_planning_now(env.rt)
    rows = env.client.get(f"/api/v1/cycles/{cycle_id}/progress", headers=_token(env)).json()
    assert rows == [{"unit_id": rows[0]["unit_id"], "unit": "Dinas Pendidikan", "total": 5,
                     "draf": 5, "diajukan": 0, "dikembalikan": 0, "disetujui": 0, "terlambat": 0}]


def test_console_pages_need_login(env: AppEnv) -> None:
    r = env.client.get("/hr", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/hr/login")
    bad = env.client.post("/hr/login", data={"username": "admin", "password": "salah"})
    assert bad.status_code == 401
    env.login()
    page = env.client.get("/hr")
    assert page.status_code == 200 and "Buat siklus baru" in page.text
    r = env.client.post("/hr/cycles", data={"tahun": "2029"}, follow_redirects=False)
    assert r.status_code == 303
    page = env.client.get(r.headers["location"])
    assert "Luncurkan siklus" in page.text
    r = env.client.post(r.headers["location"] + "/launch", follow_redirects=False)
    assert r.status_code == 303 and env.launcher.calls
    assert "Lihat orkestrator di Prefect" in env.client.get(r.headers["location"]).text
    assert "English" in page.text and "Create with" in env.client.get("/hr?lang=en").text


def test_healthz_reports_each_part(env: AppEnv) -> None:
    r = env.client.get("/healthz")
    body = r.json()
    assert r.status_code == 200
    assert body["database"] == "ok" and body["prefect"].startswith("down") and body["status"] == "degraded"


def test_bad_console_and_api_input_is_422_not_500(env: AppEnv) -> None:
    h = _token(env)
    c = env.client.post("/api/v1/cycles", json={"tahun": 2027}, headers=h).json()
    r = env.client.put(f"/api/v1/cycles/{c['id']}/reminders",
                       json={"offsets": "-1d, 9999999999d", "review_sla_minutes": 60}, headers=h)
    assert r.status_code == 422 and "365" in r.json()["detail"]
    assert env.client.get("/api/v1/pegawai?limit=-1", headers=h).status_code == 422
    env.login()
    r = env.client.post("/hr/cycles", data={"tahun": "1999"})
    assert r.status_code == 422 and "2000" in r.text
    r = env.client.post(f"/hr/cycles/{c['id']}/reminders",
                        data={"offsets": "-1d", "review_sla_minutes": "-5"})
    assert r.status_code == 422 and "menit" in r.text


def test_launch_after_the_closing_date_is_refused(env: AppEnv) -> None:
    h = _token(env)
    c = env.client.post("/api/v1/cycles", json={"tahun": 2026}, headers=h).json()  # Jan 2026
    r = env.client.post(f"/api/v1/cycles/{c['id']}/launch", headers=h)
    assert r.status_code == 409 and "sudah lewat" in r.json()["detail"]
    assert env.launcher.calls == []
