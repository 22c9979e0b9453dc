"""HR console and API: monitoring periods (scheme, calendar, table, counts) and a new superior."""

from __future__ import annotations

import re

from sqlalchemy import select

from models.db import session_scope
from models.repo.cycles import get_stage
from models.repo.hr import create_api_token
from models.rules.enums import StageCode
from models.tables import AuditLog, HrUser, Pegawai
from tests.api.conftest import AppEnv
from tests.api.period_setup import approved_cycle
from tests.factories import make_org


def _token(env: AppEnv) -> dict[str, str]:
    with session_scope(env.rt.engine) as s:
        user = s.execute(select(HrUser)).scalar_one()
        token = create_api_token(session=s, user=user, name="simpeg", now=env.clock.now())
    return {"Authorization": f"Bearer {token}"}


def _row(html: str, periode: int) -> str:
    """The period's row of the console table (up to the next row)."""
    match = re.search(rf'<tr id="periode-{periode}">(.*?)</tr>', html, re.S)
    assert match, f"no row for period {periode}"
    return match.group(1)


def _periods(env: AppEnv, h: dict[str, str], cycle_id: int) -> list[dict]:
    r = env.client.get(f"/api/v1/cycles/{cycle_id}/periode", headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def _atasan_of(env: AppEnv, pegawai_id: int) -> int | None:
    with session_scope(env.rt.engine) as s:
        return s.get(Pegawai, pegawai_id).atasan_id  # type: ignore[union-attr]


def test_monthly_cycle_from_the_console_and_the_api(env: AppEnv) -> None:
    env.login()
    home = env.client.get("/hr")
    assert 'name="periodisasi"' in home.text and 'value="bulanan"' in home.text
    r = env.client.post("/hr/cycles", data={"tahun": "2027", "periodisasi": "bulanan"},
                        follow_redirects=False)
    assert r.status_code == 303
    h = _token(env)
    console_id = int(r.headers["location"].rsplit("/", 1)[1])
    rows = _periods(env, h, console_id)
    assert [p["label"] for p in rows][:2] == ["Januari", "Februari"] and len(rows) == 12
    assert [p["periode"] for p in rows if p["tengah_tahun"]] == [6]

    r = env.client.post("/api/v1/cycles", json={"tahun": 2028, "periodisasi": "bulanan"}, headers=h)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["periodisasi"] == "bulanan" and len(c["periode"]) == 12
    assert c["periode"][11]["label"] == "Desember" and c["periode"][11]["label_en"] == "December"
    assert c["periode"][0]["state"] == "belum_dibuka" and c["periode"][0]["totals"] is None
    default = env.client.post("/api/v1/cycles", json={"tahun": 2029}, headers=h).json()
    assert [p["label"] for p in default["periode"]] == [
        "Triwulan I", "Triwulan II", "Triwulan III", "Triwulan IV"]
    bad = env.client.post("/api/v1/cycles", json={"tahun": 2030, "periodisasi": "mingguan"},
                          headers=h)
    assert bad.status_code == 422 and "mingguan" in bad.json()["detail"]
    bad = env.client.post("/hr/cycles", data={"tahun": "2030", "periodisasi": "mingguan"})
    assert bad.status_code == 422 and "tidak dikenal" in bad.text
    assert env.client.get("/api/v1/cycles", headers=h).json()[0]["tahun"] == 2029  # none for 2030


def test_scheme_switches_while_draft_and_is_refused_after_launch(env: AppEnv) -> None:
    env.login()
    h = _token(env)
    cycle_id = env.client.post("/api/v1/cycles", json={"tahun": 2028}, headers=h).json()["id"]
    r = env.client.post(f"/hr/cycles/{cycle_id}/periodisasi", data={"periodisasi": "bulanan"},
                        follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#periode")
    assert len(_periods(env, h, cycle_id)) == 12
    r = env.client.put(f"/api/v1/cycles/{cycle_id}/periodisasi", json={"periodisasi": "triwulanan"},
                       headers=h)
    assert r.status_code == 200 and r.json()["periodisasi"] == "triwulanan"
    assert len(r.json()["periode"]) == 4
    assert env.client.put(f"/api/v1/cycles/{cycle_id}/periodisasi", json={"periodisasi": "harian"},
                          headers=h).status_code == 422

    assert env.client.post(f"/hr/cycles/{cycle_id}/launch", follow_redirects=False).status_code == 303
    assert env.launcher.calls == [cycle_id]
    page = env.client.get(f"/hr/cycles/{cycle_id}")
    assert f'action="/hr/cycles/{cycle_id}/periodisasi"' not in page.text
    r = env.client.post(f"/hr/cycles/{cycle_id}/periodisasi", data={"periodisasi": "bulanan"})
    assert r.status_code == 409
    assert "Periodisasi hanya dapat diubah sebelum siklus diluncurkan." in r.text
    r = env.client.put(f"/api/v1/cycles/{cycle_id}/periodisasi?lang=en",
                       json={"periodisasi": "bulanan"}, headers=h)
    assert r.status_code == 409 and "only change before the cycle is launched" in r.json()["detail"]
    assert len(_periods(env, h, cycle_id)) == 4


def test_period_dates_are_edited_with_a_version_check(env: AppEnv) -> None:
    env.login()
    h = _token(env)
    c = env.client.post("/api/v1/cycles", json={"tahun": 2028}, headers=h).json()
    cid, first = c["id"], c["periode"][0]
    keys = ("opens_at", "due_at", "approve_due_at", "closes_at", "version")
    body = {k: first[k] for k in keys}
    r = env.client.put(f"/api/v1/cycles/{cid}/periode/1/calendar",
                       json=body | {"due_at": "2028-04-09T16:00"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["due_at"] == "2028-04-09T16:00" and r.json()["version"] == 2
    # the version read before is stale now: 409, nothing changes
    r = env.client.put(f"/api/v1/cycles/{cid}/periode/1/calendar",
                       json=body | {"due_at": "2028-04-10T16:00"}, headers=h)
    assert r.status_code == 409 and "diubah orang lain" in r.json()["detail"]
    # due before opens: 422 with the rule, nothing changes
    r = env.client.put(f"/api/v1/cycles/{cid}/periode/1/calendar",
                       json=body | {"version": 2, "due_at": "2027-12-01T16:00"}, headers=h)
    assert r.status_code == 422 and "tidak boleh sebelum" in r.json()["detail"]
    assert _periods(env, h, cid)[0]["due_at"] == "2028-04-09T16:00"
    assert _periods(env, h, cid)[0]["version"] == 2
    # a period may not open before the one before it
    third = {k: c["periode"][2][k] for k in keys}
    r = env.client.put(f"/api/v1/cycles/{cid}/periode/3/calendar",
                       json=third | {"opens_at": "2028-03-01T08:00"}, headers=h)
    assert r.status_code == 422 and "periode 2" in r.json()["detail"]
    assert env.client.put(f"/api/v1/cycles/{cid}/periode/9/calendar", json=third,
                          headers=h).status_code == 404
    assert env.client.get(f"/api/v1/cycles/{cid}", headers=h).json()["periode"][0]["version"] == 2

    second = {k: str(v) for k, v in c["periode"][1].items() if k in keys}
    url = f"/hr/cycles/{cid}/periode/2/calendar"
    r = env.client.post(url, data=second | {"closes_at": "2028-07-25T16:00"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#periode-2")
    assert 'value="2028-07-25T16:00"' in _row(env.client.get(f"/hr/cycles/{cid}").text, 2)
    r = env.client.post(url, data=second | {"closes_at": "2028-07-26T16:00"})  # stale version
    assert r.status_code == 409 and "diubah orang lain" in r.text
    r = env.client.post(url, data=second | {"version": "2", "due_at": "2028-03-01T16:00"})
    assert r.status_code == 422 and "tidak boleh sebelum" in r.text
    r = env.client.post(url, data=second | {"version": "2", "due_at": "kemarin"})
    assert r.status_code == 422 and "Format tanggal" in r.text
    period2 = _periods(env, h, cid)[1]
    assert (period2["closes_at"], period2["due_at"]) == ("2028-07-25T16:00", second["due_at"])


def test_period_table_shows_labels_the_midyear_review_and_counts(env: AppEnv) -> None:
    env.login()
    h = _token(env)
    case = approved_cycle(env.rt)  # 2027, quarterly, period 1 opened for five people
    page = env.client.get(f"/hr/cycles/{case.cycle_id}").text
    assert "Periode pemantauan" in page
    for k, name in enumerate(("Triwulan I", "Triwulan II", "Triwulan III", "Triwulan IV"), 1):
        assert f"<strong>{name}</strong>" in _row(page, k)
    assert "tengah tahun" in _row(page, 2)
    assert all("tengah tahun" not in _row(page, k) for k in (1, 3, 4))
    first = _row(page, 1)
    assert "dibuka" in first and '<td class="n">5</td>' in first and "readonly" in first
    assert "belum dibuka" in _row(page, 3)
    assert "Rincian per unit kerja" in page and "Dinas Pendidikan" in page
    english = env.client.get(f"/hr/cycles/{case.cycle_id}?lang=en").text
    assert "Quarter 2" in _row(english, 2) and "mid-year" in _row(english, 2)

    rows = _periods(env, h, case.cycle_id)
    assert rows[0]["state"] == "dibuka"
    assert rows[0]["totals"] == {"peserta": 5, "dilaporkan": 0, "dinilai": 0, "belum_dinilai": 5}
    assert [u["unit"] for u in rows[0]["units"]] == ["Dinas Pendidikan"]
    assert rows[1]["state"] == "belum_dibuka" and rows[1]["units"] == []
    with session_scope(env.rt.engine) as s:
        stage = get_stage(session=s, cycle_id=case.cycle_id, code=StageCode.PEMANTAUAN, periode=1)
        stage.closed_at = env.clock.now()
    first = _row(env.client.get(f"/hr/cycles/{case.cycle_id}?lang=id").text, 1)
    assert "ditutup" in first and "<form" not in first and '<td class="n">5</td>' in first
    assert _periods(env, h, case.cycle_id)[0]["state"] == "ditutup"

    env.client.post("/hr/cycles", data={"tahun": "2028", "periodisasi": "bulanan"})
    monthly = next(c for c in env.client.get("/api/v1/cycles", headers=h).json()
                   if c["tahun"] == 2028)
    page = env.client.get(f"/hr/cycles/{monthly['id']}?lang=id").text
    assert "<strong>Juni</strong>" in _row(page, 6) and "tengah tahun" in _row(page, 6)
    assert "<strong>Desember</strong>" in _row(page, 12) and page.count("tengah tahun") == 1
    quarterly = env.client.post("/api/v1/cycles", json={"tahun": 2029}, headers=h).json()
    page = env.client.get(f"/hr/cycles/{quarterly['id']}").text
    assert "1 April 2029 – 30 Juni 2029" in _row(page, 2)  # whole days: the end is inclusive


def test_change_atasan_from_the_console(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        org = make_org(s)
    env.login()
    staf1, kasi, kabid, kadis = org["staf1"], org["kasi"], org["kabid"], org["kadis"]
    r = env.client.post("/hr/pegawai/atasan", data={"nip": staf1.nip, "atasan_nip": kabid.nip})
    assert r.status_code == 200, r.text
    assert "Staf Satu" in r.text and "Kepala Bidang" in r.text and "flash notice" in r.text
    assert _atasan_of(env, staf1.id) == kabid.id

    r = env.client.post("/hr/pegawai/atasan", data={"nip": staf1.nip, "atasan_nip": "1" * 18})
    assert r.status_code == 422 and "tidak ditemukan" in r.text
    assert f'value="{"1" * 18}"' in r.text  # the form keeps what was typed
    r = env.client.post("/hr/pegawai/atasan", data={"nip": kadis.nip, "atasan_nip": org["staf2"].nip})
    assert r.status_code == 422 and "melingkar" in r.text
    assert _atasan_of(env, staf1.id) == kabid.id and _atasan_of(env, kadis.id) is None
    with session_scope(env.rt.engine) as s:
        audit = s.execute(select(AuditLog).where(AuditLog.action == "pegawai.atasan")).scalars().all()
    assert [(a.entity_id, a.actor, a.before, a.after) for a in audit] == [
        (staf1.id, "hr:admin", {"nip_atasan": kasi.nip}, {"nip_atasan": kabid.nip})]


def test_change_atasan_through_the_api(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        org = make_org(s)
    h = _token(env)
    staf2, kabid = org["staf2"], org["kabid"]
    r = env.client.put(f"/api/v1/pegawai/{staf2.nip}/atasan", json={"atasan_nip": kabid.nip},
                       headers=h)
    assert r.status_code == 200, r.text
    assert r.json() == {"id": staf2.id, "nip": staf2.nip, "atasan_nip": kabid.nip}
    r = env.client.put(f"/api/v1/pegawai/{'9' * 18}/atasan", json={"atasan_nip": kabid.nip},
                       headers=h)
    assert r.status_code == 422 and "tidak ditemukan" in r.json()["detail"]
    r = env.client.put(f"/api/v1/pegawai/{kabid.nip}/atasan?lang=en",
                       json={"atasan_nip": staf2.nip}, headers=h)
    assert r.status_code == 422 and "circular" in r.json()["detail"]
    r = env.client.put(f"/api/v1/pegawai/{kabid.nip}/atasan", json={"atasan_nip": kabid.nip},
                       headers=h)
    assert r.status_code == 422 and "atasannya sendiri" in r.json()["detail"]
    assert env.client.put(f"/api/v1/pegawai/{staf2.nip}/atasan", json={"atasan_nip": kabid.nip}
                          ).status_code == 401
    assert _atasan_of(env, kabid.id) == org["kadis"].id
    with session_scope(env.rt.engine) as s:
        audit = s.execute(select(AuditLog).where(AuditLog.action == "pegawai.atasan")).scalars().all()
    assert [(a.entity_id, a.after) for a in audit] == [(staf2.id, {"nip_atasan": kabid.nip})]
