"""HR acting on the cycle for one person, the audit log that records it, console users and
sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from models.db import session_scope
from models.repo import audit
from models.repo.hr import create_hr_user
from models.rules.enums import HrRole, SkpStatus, TaskKind, TaskStatus
from models.tables import AuditLog, HrSesi, OutboxMessage, Pegawai, Skp, Task
from tests.api.conftest import AppEnv
from tests.api.helpers import hr_login, open_planning_now
from tests.factories import T0, make_org


@pytest.fixture
def org(env: AppEnv) -> dict[str, str]:
    with session_scope(env.rt.engine) as s:
        people = make_org(s)
        nips = {k: p.nip for k, p in people.items()}
    env.cycle_id = open_planning_now(env.rt)  # type: ignore[attr-defined]
    env.login()
    return nips


def _task(env: AppEnv, nip: str, kind: TaskKind) -> Task:
    with session_scope(env.rt.engine) as s:
        return s.execute(select(Task).join(Pegawai, Pegawai.id == Task.pegawai_id).where(
            Pegawai.nip == nip, Task.kind == kind)).scalar_one()


def test_close_a_task_on_someones_behalf_needs_a_reason_and_is_audited(env: AppEnv,
                                                                     org: dict[str, str]) -> None:
    nip = org["staf1"]
    task = _task(env, nip, TaskKind.SUSUN_SKP)
    short = env.client.post(f"/hr/pegawai/{nip}/tugas/{task.id}/tutup", data={"alasan": "cuti"})
    assert short.status_code == 422 and "10 karakter" in short.text
    assert _task(env, nip, TaskKind.SUSUN_SKP).status == TaskStatus.OPEN

    env.clock.advance(minutes=5)
    r = env.client.post(f"/hr/pegawai/{nip}/tugas/{task.id}/tutup",
                        data={"alasan": "Cuti melahirkan; SKP disusun di atas kertas"})
    assert r.status_code == 200 and "ditutup atas nama" in r.text
    closed = _task(env, nip, TaskKind.SUSUN_SKP)
    assert closed.status == TaskStatus.DONE and closed.closed_by == "hr:admin"
    assert closed.next_reminder_at is None and "Cuti melahirkan" in (closed.close_reason or "")
    assert "ditutup oleh" in r.text

    again = env.client.post(f"/api/v1/pegawai/{nip}/tugas/{task.id}/tutup",
                            json={"alasan": "sekali lagi ditutup"})
    assert again.status_code == 409 and "selesai" in again.json()["detail"]

    found = env.client.get("/api/v1/audit", params={"orang": nip, "aksi": "tugas"}).json()
    entry = found["entries"][0]
    assert entry["action"] == "tugas.tutup_atas_nama" and entry["actor"] == "hr:admin"
    assert entry["via"].startswith("sesi:") and entry["pegawai_nip"] == nip
    assert entry["after"]["alasan"].startswith("Cuti melahirkan")
    # the automatic record of the state change names the same session
    states = env.client.get("/api/v1/audit", params={"orang": nip, "aksi": "task.ubah"}).json()
    assert states["entries"][0]["before"]["status"] == "open"
    assert states["entries"][0]["via"] == entry["via"]


def test_resend_a_fresh_link_once_per_click(env: AppEnv, org: dict[str, str]) -> None:
    nip = org["staf2"]
    task = _task(env, nip, TaskKind.SUSUN_SKP)
    r = env.client.post(f"/hr/pegawai/{nip}/tugas/{task.id}/kirim-ulang")
    assert r.status_code == 200 and "Tautan baru dikirim" in r.text
    twice = env.client.post(f"/hr/pegawai/{nip}/tugas/{task.id}/kirim-ulang")  # a double click
    assert twice.status_code == 409 and "baru saja dikirim" in twice.text
    with session_scope(env.rt.engine) as s:
        mails = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "tautan_baru")).scalars().all()
    assert len(mails) == 1
    link = mails[0].context["link"]
    page = env.client.get(link.split("testserver", 1)[-1] if "testserver" in link
                          else "/t/" + link.rsplit("/t/", 1)[1])
    assert page.status_code == 200


def test_reopen_an_skp_only_when_approved(env: AppEnv, org: dict[str, str]) -> None:
    nip = org["staf1"]
    with session_scope(env.rt.engine) as s:
        skp = s.execute(select(Skp).join(Pegawai, Pegawai.id == Skp.pegawai_id)
                        .where(Pegawai.nip == nip)).scalar_one()
        skp_id = skp.id
    r = env.client.post(f"/api/v1/pegawai/{nip}/skp/{skp_id}/buka",
                        json={"alasan": "Penugasan baru dari kepala dinas"})
    assert r.status_code == 409 and r.json()["state"] == SkpStatus.DRAF
    with session_scope(env.rt.engine) as s:
        s.get(Skp, skp_id).status = SkpStatus.DISETUJUI
    r = env.client.post(f"/hr/pegawai/{nip}/skp/{skp_id}/buka",
                        data={"alasan": "Penugasan baru dari kepala dinas"})
    assert r.status_code == 200 and "revisi ke-1" in r.text
    with session_scope(env.rt.engine) as s:
        assert s.get(Skp, skp_id).status == SkpStatus.DRAF
        assert s.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "skp_revisi_dibuka")).scalar_one()


def test_change_the_ppk_from_the_persons_page(env: AppEnv, org: dict[str, str]) -> None:
    r = env.client.post(f"/hr/pegawai/{org['staf1']}/atasan", data={"atasan_nip": org["kabid"]})
    assert r.status_code == 200 and "Kepala Bidang" in r.text
    bad = env.client.post(f"/hr/pegawai/{org['staf1']}/atasan", data={"atasan_nip": "1" * 18})
    assert bad.status_code == 422
    with session_scope(env.rt.engine) as s:
        p = s.execute(select(Pegawai).where(Pegawai.nip == org["staf1"])).scalar_one()
        kabid = s.execute(select(Pegawai).where(Pegawai.nip == org["kabid"])).scalar_one()
        assert p.atasan_id == kabid.id
    log = env.client.get("/hr/audit", params={"orang": org["staf1"]})
    assert "pegawai.atasan" in log.text


def test_audit_log_is_append_only(env: AppEnv, org: dict[str, str]) -> None:
    with session_scope(env.rt.engine) as s:
        assert s.execute(select(AuditLog.id)).first() is not None
    for statement in ("UPDATE auditlog SET actor = 'x'", "DELETE FROM auditlog"):
        with pytest.raises(DBAPIError, match="append-only"):
            with env.rt.engine.begin() as conn:
                conn.execute(text(statement))


def test_audit_search_by_date_in_the_agency_zone_and_csv(env: AppEnv, org: dict[str, str]) -> None:
    day = T0.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Jakarta")).date()
    r = env.client.get("/api/v1/audit", params={"dari": day.isoformat(),
                                                "sampai": day.isoformat()})
    assert r.status_code == 200 and r.json()["total"] >= 1
    later = env.client.get("/api/v1/audit", params={"dari": (day + timedelta(days=1)).isoformat()})
    assert later.json()["total"] == 0
    bad = env.client.get("/api/v1/audit", params={"dari": "kemarin"})
    assert bad.status_code == 422 and "TTTT-BB-HH" in bad.json()["detail"]
    page = env.client.get("/hr/audit", params={"dari": "2026-02-30"})
    assert page.status_code == 422
    csv = env.client.get("/hr/audit.csv")
    assert csv.status_code == 200 and csv.text.splitlines()[0].startswith("\ufeffid,waktu")


def test_operator_sees_only_audit_entries_about_their_people(env: AppEnv,
                                                            org: dict[str, str]) -> None:
    from tests.factories import make_pegawai, make_unit

    with session_scope(env.rt.engine) as s:
        other = make_unit(s, "Dinas Lain")
        make_pegawai(s, other, nama="Orang Lain")
        create_hr_user(session=s, username="op_lain", password="rahasia-panjang-1", nama="Op",
                       email="op@contoh.go.id", now=T0, role=HrRole.OPERATOR,
                       unit_ids=[other.id])
    task = _task(env, org["staf1"], TaskKind.SUSUN_SKP)
    env.client.post(f"/hr/pegawai/{org['staf1']}/tugas/{task.id}/tutup",
                    data={"alasan": "Ditutup untuk uji log audit"})
    env.client.post("/hr/logout")
    hr_login(env.client, "op_lain", "rahasia-panjang-1")
    seen = env.client.get("/api/v1/audit").json()
    assert seen["total"] == 0
    assert env.client.get(f"/hr/pegawai/{org['staf1']}").status_code == 403


def test_sessions_end_on_logout_and_deactivation(env: AppEnv, org: dict[str, str]) -> None:
    from fastapi.testclient import TestClient

    assert env.client.get("/hr").status_code == 200
    cookie = env.client.cookies.get("kinerja_hr")
    env.client.post("/hr/logout")
    # the old cookie no longer opens anything (the session row is revoked, not just forgotten)
    replay = TestClient(env.client.app, cookies={"kinerja_hr": cookie})
    r = replay.get("/hr", follow_redirects=False)
    assert r.status_code == 303 and "/hr/login" in r.headers["location"]

    with session_scope(env.rt.engine) as s:
        create_hr_user(session=s, username="auditor1", password="rahasia-panjang-1", nama="Aud",
                       email="aud@contoh.go.id", now=T0, role=HrRole.AUDITOR)
    other = TestClient(env.client.app)
    hr_login(other, "auditor1", "rahasia-panjang-1")
    assert other.get("/hr/pengguna").status_code == 200
    assert other.post("/hr/pengguna", data={"username": "x"}).status_code == 403
    env.login()
    with session_scope(env.rt.engine) as s:
        uid = s.execute(text("SELECT id FROM hruser WHERE username = 'auditor1'")).scalar_one()
    r = env.client.post(f"/hr/pengguna/{uid}", data={"nama": "Aud", "email": "aud@contoh.go.id",
                                                     "role": "auditor"},  # not active
                        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/hr/pengguna?saved=1"
    assert other.get("/hr", follow_redirects=False).status_code == 303
    with session_scope(env.rt.engine) as s:
        assert all(x.revoked_at for x in s.execute(select(HrSesi).where(
            HrSesi.hr_user_id == uid)).scalars())


def test_idle_session_expires(env: AppEnv, org: dict[str, str]) -> None:
    assert env.client.get("/hr").status_code == 200
    env.clock.advance(hours=2, minutes=1)
    r = env.client.get("/hr", follow_redirects=False)
    assert r.status_code == 303


def test_users_admin_refuses_bad_input_and_self_demotion(env: AppEnv, org: dict[str, str]) -> None:
    r = env.client.post("/hr/pengguna", data={"username": "op", "nama": "Op", "email": "op@x.id",
                                              "role": "operator", "password": "rahasia-panjang-1"})
    assert r.status_code == 422 and "paling sedikit satu unit" in r.text
    r = env.client.post("/hr/pengguna", data={"username": "admin", "nama": "A", "email": "a@x.id",
                                              "role": "admin", "password": "pendek"})
    assert r.status_code == 422 and "sudah dipakai" in r.text and "minimal 10" in r.text
    with session_scope(env.rt.engine) as s:
        uid = s.execute(text("SELECT id FROM hruser WHERE username = 'admin'")).scalar_one()
    r = env.client.post(f"/hr/pengguna/{uid}", data={"nama": "A", "email": "hr@contoh.go.id",
                                                     "role": "auditor", "active": "1"})
    assert r.status_code == 422 and "akun Anda sendiri" in r.text


def test_flow_context_names_the_flow_run() -> None:
    with audit.acting("flow:buka-perencanaan", "flow-run:abc") as ctx:
        assert audit.current() is ctx
    assert audit.current().via == "sistem"


def test_user_changes_are_audited_without_secrets(env: AppEnv, org: dict[str, str]) -> None:
    r = env.client.post("/hr/pengguna", data={"username": "aud2", "nama": "Auditor", "email":
                                              "aud2@contoh.go.id", "role": "auditor",
                                              "password": "rahasia-panjang-1"})
    assert r.status_code == 200
    with session_scope(env.rt.engine) as s:
        uid = s.execute(text("SELECT id FROM hruser WHERE username = 'aud2'")).scalar_one()
    env.client.post(f"/hr/pengguna/{uid}", data={"nama": "Auditor", "email": "baru@contoh.go.id",
                                                 "role": "auditor", "active": "1",
                                                 "password": "rahasia-baru-123"})
    entries = [e for e in env.client.get("/api/v1/audit", params={"aksi": "hr_user"}).json()[
        "entries"] if e["entity_id"] == uid]
    actions = [e["action"] for e in entries]
    assert "hr_user.buat" in actions and "hr_user.kata_sandi" in actions
    assert any(e["after"] and e["after"].get("email") == "baru@contoh.go.id" for e in entries)
    assert all(e["actor"] == "hr:admin" for e in entries)
    assert "scrypt" not in str(entries) and "rahasia" not in str(entries)


def test_a_page_with_a_value_it_cannot_read_says_so(env: AppEnv, org: dict[str, str]) -> None:
    r = env.client.get(f"/hr/pegawai/{org['staf1']}", params={"cycle_id": "x"})
    assert r.status_code == 422 and "cycle_id" in r.text and "Tidak ada yang diubah" in r.text
    api = env.client.get("/api/v1/pegawai/x/tugas", params={"cycle_id": "x"})
    assert api.status_code == 422 and api.json()["detail"][0]["loc"][-1] == "cycle_id"


def test_login_returns_to_the_page_asked_for(env: AppEnv) -> None:
    from fastapi.testclient import TestClient

    fresh = TestClient(env.client.app)
    r = fresh.get("/hr/audit?orang=admin&aksi=skp", follow_redirects=False)
    assert r.headers["location"] == "/hr/login?next=%2Fhr%2Faudit%3Forang%3Dadmin%26aksi%3Dskp"
    done = fresh.post("/hr/login", data={"username": "admin", "password": "rahasia-hr",
                                         "next": "/hr/audit?orang=admin&aksi=skp"},
                      follow_redirects=False)
    assert done.headers["location"] == "/hr/audit?orang=admin&aksi=skp"


def test_an_id_beyond_the_databases_integers_is_a_clear_422(env: AppEnv) -> None:
    env.login()
    r = env.client.get("/hr/cycles/99999999999999999999999")
    assert r.status_code == 422
    assert env.client.get("/t/x/skp/99999999999999999999999").status_code in (403, 422)
