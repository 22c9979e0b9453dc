"""The planning stage through task-link pages: draft, cascade, submit, return, approve."""

from __future__ import annotations

from datetime import timedelta

from models.db import session_scope
from models.rules import tokens
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, open_planning_now, outbox_count, path_of, skp_row
from tests.factories import make_org


def _org(env: AppEnv) -> dict:
    with session_scope(env.rt.engine) as s:
        return make_org(s)


def _link(env: AppEnv, person, kind: str = "undangan_skp") -> str:  # type: ignore[no-untyped-def]
    return path_of(last_mail(env.rt, person.email, kind).context["link"])


def _add_rhk(env: AppEnv, link: str, uraian: str, parent: int | None = None) -> None:
    r = env.client.post(f"{link}/rhk", data={
        "jenis": "utama", "uraian": uraian, "intervensi_rhk_id": str(parent or ""),
        "indikator": f"IKI {uraian}", "target": "4", "satuan": "laporan"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _first_rhk_id(env: AppEnv, person) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from models.tables import Rhk
    skp = skp_row(env.rt, person.id)
    with session_scope(env.rt.engine) as s:
        return s.execute(select(Rhk.id).where(Rhk.skp_id == skp.id)).scalars().first()


def test_cascade_draft_submit_return_and_approve(env: AppEnv) -> None:
    org = _org(env)
    open_planning_now(env.rt)
    staf = _link(env, org["staf1"])
    page = env.client.get(staf)
    assert page.status_code == 200
    assert "belum menyusun RHK" in page.text  # the superior has none yet: told why
    assert last_mail(env.rt, org["kasi"].email, "menunggu_rhk_atasan")  # and the superior told

    # the cascade top-down: the JPT needs no intervensi, each level links to the one above
    _add_rhk(env, _link(env, org["kadis"]), "Meningkatnya mutu pendidikan")
    _add_rhk(env, _link(env, org["kabid"]), "Kurikulum tersusun", _first_rhk_id(env, org["kadis"]))
    _add_rhk(env, _link(env, org["kasi"]), "Data sekolah mutakhir", _first_rhk_id(env, org["kabid"]))
    _add_rhk(env, staf, "Mengolah data sekolah", _first_rhk_id(env, org["kasi"]))
    r = env.client.post(f"{staf}/ajukan", follow_redirects=False)
    assert r.status_code == 303
    assert skp_row(env.rt, org["staf1"].id).status == "diajukan"

    review = _link(env, org["kasi"], "skp_diajukan")
    skp_id = skp_row(env.rt, org["staf1"].id).id
    listing = env.client.get(review)
    assert "Staf Satu" in listing.text
    r = env.client.post(f"{review}/skp/{skp_id}/kembalikan", data={"comment": "Target terlalu rendah"},
                        follow_redirects=False)
    assert r.status_code == 303
    returned = last_mail(env.rt, org["staf1"].email, "skp_dikembalikan")
    assert returned.context["comment"] == "Target terlalu rendah"
    page = env.client.get(staf)
    assert "Target terlalu rendah" in page.text

    assert env.client.post(f"{staf}/ajukan", follow_redirects=False).status_code == 303
    r = env.client.post(f"{review}/skp/{skp_id}/setujui", follow_redirects=False)
    assert r.status_code == 303
    assert skp_row(env.rt, org["staf1"].id).status == "disetujui"
    assert last_mail(env.rt, org["staf1"].email, "skp_disetujui")


def test_incomplete_submit_says_what_is_missing_and_changes_nothing(env: AppEnv) -> None:
    org = _org(env)
    open_planning_now(env.rt)
    staf = _link(env, org["staf1"])
    before = skp_row(env.rt, org["staf1"].id)
    r = env.client.post(f"{staf}/ajukan")
    assert r.status_code == 422
    assert "belum ada RHK utama" in r.text
    after = skp_row(env.rt, org["staf1"].id)
    assert (after.status, after.version) == (before.status, before.version)


def test_approve_of_unsubmitted_skp_is_409(env: AppEnv) -> None:
    org = _org(env)
    open_planning_now(env.rt)
    _add_rhk(env, _link(env, org["kadis"]), "RHK pimpinan")
    _add_rhk(env, _link(env, org["kabid"]), "RHK kabid", _first_rhk_id(env, org["kadis"]))
    _add_rhk(env, _link(env, org["kasi"]), "RHK kasi", _first_rhk_id(env, org["kabid"]))
    staf = _link(env, org["staf1"])
    _add_rhk(env, staf, "RHK staf", _first_rhk_id(env, org["kasi"]))
    env.client.post(f"{staf}/ajukan")
    review = _link(env, org["kasi"], "skp_diajukan")
    draft = skp_row(env.rt, org["staf2"].id)
    r = env.client.post(f"{review}/skp/{draft.id}/setujui")
    assert r.status_code == 409
    assert "draf" in r.text
    assert skp_row(env.rt, org["staf2"].id).version == draft.version


def test_tampered_expired_and_someone_elses_links_are_403(env: AppEnv) -> None:
    org = _org(env)
    open_planning_now(env.rt)
    staf = _link(env, org["staf1"])
    r = env.client.get(staf[:-3] + "abc")
    assert r.status_code == 403 and "tidak sah" in r.text
    # someone else's: a PPK's link used on an SKP of a person who is not their subordinate
    _add_rhk(env, _link(env, org["kadis"]), "RHK pimpinan")
    _add_rhk(env, _link(env, org["kabid"]), "RHK kabid", _first_rhk_id(env, org["kadis"]))
    _add_rhk(env, _link(env, org["kasi"]), "RHK kasi", _first_rhk_id(env, org["kabid"]))
    _add_rhk(env, staf, "RHK staf", _first_rhk_id(env, org["kasi"]))
    env.client.post(f"{staf}/ajukan")
    review = _link(env, org["kasi"], "skp_diajukan")
    kadis_skp = skp_row(env.rt, org["kadis"].id)
    r = env.client.post(f"{review}/skp/{kadis_skp.id}/setujui")
    assert r.status_code == 403 and "bukan untuk" in r.text
    # a draft link (not a PPK link) cannot open someone's SKP either
    r = env.client.get(f"{staf}/skp/{skp_row(env.rt, org['staf2'].id).id}")
    assert r.status_code == 403
    # expired: 403 with a way to get a fresh link, which is queued by email
    env.clock.advance(hours=env.rt.api.link_ttl_hours + 1)
    r = env.client.get(staf)
    assert r.status_code == 403 and "kedaluwarsa" in r.text and "/t/renew" in r.text
    before = outbox_count(env.rt)
    token = staf.rsplit("/", 1)[1]
    r = env.client.post("/t/renew", data={"token": token})
    assert r.status_code == 200
    fresh = last_mail(env.rt, org["staf1"].email, "tautan_baru")
    assert outbox_count(env.rt) == before + 1
    assert env.client.get(path_of(fresh.context["link"])).status_code == 200
    # a superior changed mid-cycle: the old PPK's link stops working for that person
    with session_scope(env.rt.engine) as s:
        from models.tables import Pegawai
        p = s.get(Pegawai, org["staf1"].id)
        p.atasan_id = org["kabid"].id
    env.clock.advance(hours=-(env.rt.api.link_ttl_hours + 1))
    r = env.client.get(f"{review}/skp/{skp_row(env.rt, org['staf1'].id).id}")
    assert r.status_code == 403


def test_links_are_signed_for_one_person_and_task(env: AppEnv) -> None:
    org = _org(env)
    open_planning_now(env.rt)
    staf = _link(env, org["staf1"])
    claims = tokens.verify(staf.rsplit("/", 1)[1], env.rt.links.secret, env.clock.now())
    assert claims.pegawai_id == org["staf1"].id
    swapped = tokens.sign(tokens.LinkClaims(claims.task_id, org["staf2"].id,
                                            claims.expires_at), env.rt.links.secret)
    assert env.client.get(f"/t/{swapped}").status_code == 403
    assert claims.expires_at - env.clock.now() == timedelta(hours=env.rt.api.link_ttl_hours)


def test_hr_decides_for_someone_without_a_superior(env: AppEnv) -> None:
    org = _org(env)
    cycle_id = open_planning_now(env.rt)
    top = _link(env, org["kadis"])
    _add_rhk(env, top, "Meningkatnya mutu pendidikan")
    assert env.client.post(f"{top}/ajukan", follow_redirects=False).status_code == 303
    told = last_mail(env.rt, "hr@contoh.go.id", "skp_diajukan")
    assert told.context["link"].endswith(f"/hr/cycles/{cycle_id}#tanpa-ppk")
    env.login()
    page = env.client.get(f"/hr/cycles/{cycle_id}")
    skp_id = skp_row(env.rt, org["kadis"].id).id
    assert f"/skp/{skp_id}/keputusan" in page.text and "Kepala Dinas" in page.text
    r = env.client.post(f"/hr/cycles/{cycle_id}/skp/{skp_id}/keputusan",
                        data={"action": "kembalikan"})
    assert r.status_code == 422 and "alasan pengembalian" in r.text  # a return needs a reason
    r = env.client.post(f"/hr/cycles/{cycle_id}/skp/{skp_id}/keputusan",
                        data={"action": "setujui"}, follow_redirects=False)
    assert r.status_code == 303
    assert skp_row(env.rt, org["kadis"].id).status == "disetujui"
    assert last_mail(env.rt, org["kadis"].email, "skp_disetujui").context["ppk_nama"].startswith(
        "Admin BKPSDM")
    # someone with a PPK is not HR's to decide
    staf_skp = skp_row(env.rt, org["staf1"].id).id
    r = env.client.post(f"/hr/cycles/{cycle_id}/skp/{staf_skp}/keputusan", data={"action": "setujui"})
    assert r.status_code == 404


def test_after_closing_the_pages_refuse_changes(env: AppEnv) -> None:
    org = _org(env)
    open_planning_now(env.rt)
    staf = _link(env, org["staf1"])
    with session_scope(env.rt.engine) as s:
        from sqlalchemy import select

        from models.tables import CycleStage
        planning = s.execute(select(CycleStage).where(CycleStage.code == "perencanaan")).scalar_one()
        planning.closed_at = env.clock.now()
    before = skp_row(env.rt, org["staf1"].id)
    page = env.client.get(staf)
    assert "Tahap perencanaan sudah ditutup" in page.text and 'action="' + staf + '/rhk"' not in page.text
    r = env.client.post(f"{staf}/rhk", data={"jenis": "utama", "uraian": "x"})
    assert r.status_code == 409 and "sudah ditutup" in r.text
    assert skp_row(env.rt, org["staf1"].id).version == before.version
