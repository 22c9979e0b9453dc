"""The annual rating: the PPK's page with suggestions, unit heads taking the unit's grade, the
curve check per unit, calibration with reasons, HR's console and API."""

from __future__ import annotations

from sqlalchemy import select

from models.db import session_scope
from models.repo import penilaian
from models.tables import Cycle, PenilaianTahunan, PerubahanNilai, SkpPeriode, Task
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, path_of
from tests.api.period_setup import approved_cycle


def _open(env: AppEnv):  # type: ignore[no-untyped-def]
    case = approved_cycle(env.rt, open_first=False)
    now = env.clock.now()
    with session_scope(env.rt.engine) as s:
        cycle = s.get(Cycle, case.cycle_id)
        stage = penilaian.get_stage(session=s, cycle_id=cycle.id)
        stage.opens_at, stage.opened_at = now, now
        stage.due_at = stage.approve_due_at = stage.closes_at = now.replace(year=now.year + 1)
        for key in ("staf1", "staf2"):  # two periodic ratings each, for the suggestion
            for k, pk in ((1, "Sesuai Ekspektasi"), (2, "Di Atas Ekspektasi")):
                s.add(SkpPeriode(skp_id=case.skp[key], periode=k, perilaku=pk,
                                 hasil_kerja="Sesuai Ekspektasi", predikat="Baik", updated_at=now))
        penilaian.open_chunk(session=s, cycle=cycle, stage=stage,
                             pegawai_ids=[p.id for p in case.org.values()], now=now, mail=env.rt.mail)
    return case


def _rec(env: AppEnv, skp_id: int) -> PenilaianTahunan:
    with session_scope(env.rt.engine) as s:
        return penilaian.record_of(session=s, skp_id=skp_id)


def test_the_ppk_rates_the_year_with_suggestions(env: AppEnv) -> None:
    case = _open(env)
    link = path_of(last_mail(env.rt, case.org["kasi"].email, "undangan_penilaian_tahunan")
                   .context["link"])
    listing = env.client.get(link)
    assert listing.status_code == 200 and "Staf Satu" in listing.text
    sid = case.skp["staf1"]
    page = env.client.get(f"{link}/tahunan/{sid}")
    assert page.status_code == 200 and "Di Atas Ekspektasi" in page.text  # periodic perilaku
    assert "Triwulan II" in page.text
    r = env.client.post(f"{link}/tahunan/{sid}", data={"hasil_kerja": "Sesuai Ekspektasi"})
    assert r.status_code == 422 and "perilaku" in r.text  # both ratings are needed
    r = env.client.post(f"{link}/tahunan/{sid}", data={
        "hasil_kerja": "Di Atas Ekspektasi", "perilaku": "Di Atas Ekspektasi"},
        follow_redirects=False)
    assert r.status_code == 303 and _rec(env, sid).predikat == "Sangat Baik"
    env.client.post(f"{link}/tahunan/{case.skp['staf2']}", data={
        "hasil_kerja": "Sesuai Ekspektasi", "perilaku": "Sesuai Ekspektasi"})
    with session_scope(env.rt.engine) as s:
        task = s.execute(select(Task).where(Task.kind == "nilai_tahunan",
                                            Task.pegawai_id == case.org["kasi"].id)).scalar_one()
        assert task.status == "done"
    # a PPK cannot open someone who is not their subordinate
    assert env.client.get(f"{link}/tahunan/{case.skp['kabid']}").status_code == 403


def test_unit_head_curve_calibration_and_override(env: AppEnv) -> None:
    case = _open(env)
    assert _rec(env, case.skp["kadis"]).sumber_hasil_kerja == "unit"  # heads the unit
    env.login()
    with session_scope(env.rt.engine) as s:
        unit_id = s.get(type(case.org["kadis"]), case.org["kadis"].id).unit_id
    r = env.client.post(f"/hr/cycles/{case.cycle_id}/penilaian/unit/{unit_id}",
                        data={"grade": "Hebat"})
    assert r.status_code == 422 and "Istimewa" in r.text
    r = env.client.post(f"/hr/cycles/{case.cycle_id}/penilaian/unit/{unit_id}",
                        data={"grade": "Baik"}, follow_redirects=False)
    assert r.status_code == 303
    assert _rec(env, case.skp["kadis"]).hasil_kerja == "Sesuai Ekspektasi"
    kasi = path_of(last_mail(env.rt, case.org["kasi"].email, "undangan_penilaian_tahunan")
                   .context["link"])
    kabid = path_of(last_mail(env.rt, case.org["kabid"].email, "undangan_penilaian_tahunan")
                    .context["link"])
    kadis = path_of(last_mail(env.rt, case.org["kadis"].email, "undangan_penilaian_tahunan")
                    .context["link"])
    good = {"hasil_kerja": "Sesuai Ekspektasi", "perilaku": "Sesuai Ekspektasi"}
    for link, key in ((kasi, "staf1"), (kasi, "staf2"), (kabid, "kasi"), (kadis, "kabid")):
        assert env.client.post(f"{link}/tahunan/{case.skp[key]}", data=good,
                               follow_redirects=False).status_code == 303
    # the top has no PPK in the system: HR records the rating on the PPK's behalf
    r = env.client.post(f"/hr/cycles/{case.cycle_id}/penilaian/tanpa-ppk/{case.skp['kabid']}",
                        data=good)
    assert r.status_code == 422  # kabid has a PPK: refused
    r = env.client.post(f"/hr/cycles/{case.cycle_id}/penilaian/tanpa-ppk/{case.skp['kadis']}",
                        data={"perilaku": "Sesuai Ekspektasi"}, follow_redirects=False)
    assert r.status_code == 303 and _rec(env, case.skp["kadis"]).predikat == "Baik"
    r = env.client.post(f"/hr/cycles/{case.cycle_id}/penilaian/skor", follow_redirects=False)
    assert r.status_code == 303
    page = env.client.get(f"/hr/cycles/{case.cycle_id}/penilaian")
    assert "Butuh Perbaikan" in page.text and "Minta PPK meninjau" in page.text  # a Baik breach
    # calibration: a change now needs a written reason, and is kept
    r = env.client.post(f"{kasi}/tahunan/{case.skp['staf2']}", data={
        "hasil_kerja": "Di Bawah Ekspektasi", "perilaku": "Sesuai Ekspektasi"})
    assert r.status_code == 422 and "alasan" in r.text.lower()
    r = env.client.post(f"{kasi}/tahunan/{case.skp['staf2']}", data={
        "hasil_kerja": "Di Bawah Ekspektasi", "perilaku": "Sesuai Ekspektasi",
        "alasan": "Target utama tidak tercapai pada triwulan IV"}, follow_redirects=False)
    assert r.status_code == 303 and _rec(env, case.skp["staf2"]).predikat == "Butuh Perbaikan"
    with session_scope(env.rt.engine) as s:
        change = s.execute(select(PerubahanNilai).where(
            PerubahanNilai.skp_id == case.skp["staf2"], PerubahanNilai.jenis == "kalibrasi")
        ).scalar_one()
        assert change.alasan.startswith("Target utama") and change.sebelum["predikat"] == "Baik"
    from tests.api.test_hr_periods import _token

    units = env.client.post(f"/api/v1/cycles/{case.cycle_id}/penilaian/skor",
                            headers=_token(env)).json()
    assert units[0]["pelanggaran"] == []  # one Butuh Perbaikan: the Baik curve fits now
    # an override is kept with its reason
    with session_scope(env.rt.engine) as s:
        penilaian.set_unit_grade(session=s, cycle_id=case.cycle_id, unit_id=unit_id,
                                 grade="Istimewa", now=env.clock.now(), actor="hr:test")
    units = env.client.get(f"/api/v1/cycles/{case.cycle_id}/penilaian", headers=_token(env)).json()
    assert units[0]["grade"] == "Istimewa"
    r = env.client.post(f"/hr/cycles/{case.cycle_id}/penilaian/unit/{unit_id}/override",
                        data={"alasan": ""})
    assert r.status_code == 422
    r = env.client.post(f"/hr/cycles/{case.cycle_id}/penilaian/unit/{unit_id}/override",
                        data={"alasan": "Unit kecil; pola wajar"}, follow_redirects=False)
    assert r.status_code == 303


def test_hr_moves_the_annual_rating_dates(env: AppEnv) -> None:
    from tests.api.test_hr_periods import _token

    case = approved_cycle(env.rt, open_first=False)
    body = {"opens_at": "2028-01-03T08:00", "due_at": "2028-01-11T16:00",
            "approve_due_at": "2028-01-21T16:00", "closes_at": "2028-02-01T16:00"}
    r = env.client.put(f"/api/v1/cycles/{case.cycle_id}/penilaian/calendar", json=body,
                       headers=_token(env))
    assert r.status_code == 200 and r.json()["closes_at"].startswith("2028-02-01T16:00")
    r = env.client.put(f"/api/v1/cycles/{case.cycle_id}/penilaian/calendar",
                       json=body | {"due_at": "2027-12-01T16:00"}, headers=_token(env))
    assert r.status_code == 422


def test_hr_sets_the_appeal_window_until_publication(env: AppEnv) -> None:
    from tests.api.test_hr_periods import _token

    case = approved_cycle(env.rt, open_first=False)
    url = f"/api/v1/cycles/{case.cycle_id}/penilaian/keberatan"
    assert env.client.put(url, json={"hari": 0}, headers=_token(env)).status_code == 422
    r = env.client.put(url, json={"hari": 21}, headers=_token(env))
    assert r.status_code == 200 and r.json()["keberatan_hari"] == 21
