"""360 feedback through task links: raters proposed and confirmed, anonymous forms, the
threshold, and no page putting a rater's name next to an answer."""

from __future__ import annotations

from sqlalchemy import select

from models.db import session_scope
from models.repo import umpan_balik
from models.tables import Cycle, Jawaban360, OutboxMessage, Penilai360, Skp
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, path_of
from tests.api.period_setup import approved_cycle
from tests.factories import make_pegawai

VALUES = ["sesuai", "di_atas", "sesuai", "sesuai", "di_bawah", "sesuai", "di_atas"]


def _open(env: AppEnv, extra_staff: int = 3):  # type: ignore[no-untyped-def]
    case = approved_cycle(env.rt, open_first=False)
    now = env.clock.now()
    with session_scope(env.rt.engine) as s:
        kasi = case.org["kasi"]
        for n in range(extra_staff):
            p = make_pegawai(s, _unit(s, kasi),
                             nama=f"Staf Tambahan {n + 1}", atasan_id=kasi.id)
            case.org[f"extra{n}"] = p
            s.add(Skp(cycle_id=case.cycle_id, pegawai_id=p.id, status="disetujui",
                      approved_at=now, created_at=now, updated_at=now))
        cycle = s.get(Cycle, case.cycle_id)
        stage = umpan_balik.get_stage(session=s, cycle_id=cycle.id)
        stage.opens_at, stage.due_at = now, now.replace(year=now.year + 1)
        stage.approve_due_at = stage.closes_at = now.replace(year=now.year + 1)
        stage.opened_at = now
        umpan_balik.assign_raters(session=s, cycle=cycle)
        umpan_balik.open_chunk(session=s, cycle=cycle, stage=stage,
                               pegawai_ids=umpan_balik.participants(session=s, cycle_id=cycle.id),
                               now=now, mail=env.rt.mail)
    return case


def _unit(s, person):  # type: ignore[no-untyped-def]
    from models.tables import Unit

    return s.get(Unit, person.unit_id)


def _link(env: AppEnv, person, kind: str) -> str:  # type: ignore[no-untyped-def]
    return path_of(last_mail(env.rt, person.email, kind).context["link"])


def _answer(env: AppEnv, rater, about_id: int, comment: str = "") -> int:  # type: ignore[no-untyped-def]
    link = _link(env, rater, "undangan_360")
    with session_scope(env.rt.engine) as s:
        a = s.execute(select(Penilai360).where(Penilai360.penilai_id == rater.id,
                                               Penilai360.dinilai_id == about_id)).scalar_one()
    data = {f"v{i}": v for i, v in enumerate(VALUES)} | {"k1": comment}
    return env.client.post(f"{link}/formulir/{a.id}", data=data, follow_redirects=False).status_code


def _close(env: AppEnv, cycle_id: int) -> None:
    with session_scope(env.rt.engine) as s:
        cycle = s.get(Cycle, cycle_id)
        umpan_balik.close(session=s, cycle=cycle, stage=umpan_balik.get_stage(
            session=s, cycle_id=cycle_id), now=env.clock.now(), console_link="x", mail=env.rt.mail)


def test_propose_confirm_answer_and_aggregate_after_closing(env: AppEnv) -> None:
    case = _open(env)
    staf1, kasi, kabid = case.org["staf1"], case.org["kasi"], case.org["kabid"]
    own = _link(env, staf1, "undangan_umpan_balik")
    page = env.client.get(own)
    assert page.status_code == 200 and "Kepala Seksi" in page.text  # the PPK rates too
    r = env.client.post(f"{own}/penilai", data={"nip": staf1.nip})
    assert r.status_code == 422 and "Penilaian diri" in r.text
    r = env.client.post(f"{own}/penilai", data={"nip": "199999999999999999"})
    assert r.status_code == 422 and "tidak ditemukan" in r.text
    r = env.client.post(f"{own}/penilai", data={"nip": kabid.nip}, follow_redirects=False)
    assert r.status_code == 303
    ppk = _link(env, kasi, "tetapkan_penilai")
    assert "Kepala Bidang" in env.client.get(ppk).text  # the proposal is on the PPK's list
    r = env.client.post(f"{ppk}/tetapkan-semua", follow_redirects=False)
    assert r.status_code == 303
    invited = last_mail(env.rt, kabid.email, "undangan_360")
    assert invited.context["jumlah"] >= 1
    # proposals close once the PPK confirmed
    r = env.client.post(f"{own}/penilai", data={"nip": case.org["staf2"].nip})
    assert r.status_code == 409
    # a form without every value is refused; a sent form cannot be sent again
    link = _link(env, kabid, "undangan_360")
    with session_scope(env.rt.engine) as s:
        a = s.execute(select(Penilai360).where(Penilai360.penilai_id == kabid.id,
                                               Penilai360.dinilai_id == staf1.id)).scalar_one()
    r = env.client.post(f"{link}/formulir/{a.id}", data={"v0": "sesuai"})
    assert r.status_code == 422 and "Akuntabel" in r.text
    assert _answer(env, kabid, staf1.id, "Sangat bertanggung jawab") == 303
    assert _answer(env, kabid, staf1.id) == 409
    # not yet closed: nothing shown, so an answer cannot be matched to the moment it came in
    assert "setelah tahapnya ditutup" in env.client.get(own).text
    _answer(env, kasi, staf1.id, "Rapi dan tepat waktu")
    raters = [r.rater.id for r in umpan_balik.raters(
        session=_session(env), cycle_id=case.cycle_id, dinilai_id=staf1.id)
        if r.assignment.peran == "rekan" and r.rater.id != kabid.id]
    people = {p.id: p for p in case.org.values()}
    assert _answer(env, people[raters[0]], staf1.id) == 303
    assert _answer(env, staf1, staf1.id) == 303  # self
    _close(env, case.cycle_id)
    page = env.client.get(own)
    assert "Sangat bertanggung jawab" in page.text and "Rapi dan tepat waktu" in page.text
    assert "Kepala Bidang" not in page.text  # the confirmed list is shown as counts only
    ppk_page = env.client.get(ppk)
    assert "Sangat bertanggung jawab" in ppk_page.text


def _session(env: AppEnv):  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    return Session(env.rt.engine)


def test_two_answers_show_nothing_three_show_the_aggregate(env: AppEnv) -> None:
    case = _open(env)
    staf1, staf2 = case.org["staf1"], case.org["staf2"]
    ppk = _link(env, case.org["kasi"], "tetapkan_penilai")
    env.client.post(f"{ppk}/tetapkan-semua")
    people = {p.id: p for p in case.org.values()}
    with session_scope(env.rt.engine) as s:
        rows = s.execute(select(Penilai360).where(Penilai360.peran != "diri")).scalars().all()
        of = {pid: [r.penilai_id for r in rows if r.dinilai_id == pid] for pid in (staf1.id, staf2.id)}
    for rater in of[staf1.id][:2]:
        _answer(env, people[rater], staf1.id, "dua saja")
    for rater in of[staf2.id][:3]:
        _answer(env, people[rater], staf2.id, "tiga orang")
    _close(env, case.cycle_id)
    one = env.client.get(_link(env, staf1, "undangan_umpan_balik")).text
    assert "Jawaban belum cukup" in one and "dua saja" not in one
    two = env.client.get(_link(env, staf2, "undangan_umpan_balik")).text
    assert "Jawaban belum cukup" not in two and "tiga orang" in two


def test_no_output_puts_a_rater_next_to_an_answer(env: AppEnv) -> None:
    case = _open(env)
    ppk = _link(env, case.org["kasi"], "tetapkan_penilai")
    env.client.post(f"{ppk}/tetapkan-semua")
    people = {p.id: p for p in case.org.values()}
    staf1 = case.org["staf1"]
    with session_scope(env.rt.engine) as s:
        raters = [r.penilai_id for r in s.execute(select(Penilai360).where(
            Penilai360.dinilai_id == staf1.id, Penilai360.peran != "diri")).scalars()]
    secrets = {}
    for n, rid in enumerate(raters):
        secrets[rid] = f"RAHASIA-{n}-XQ"
        assert _answer(env, people[rid], staf1.id, secrets[rid]) == 303
    _close(env, case.cycle_id)
    env.login()
    pages: list[tuple[int | None, str]] = []  # (who is looking, what they see)
    for p in people.values():  # every link everyone got, and what HR sees
        with session_scope(env.rt.engine) as s:
            links = [m.context["link"] for m in s.execute(select(OutboxMessage).where(
                OutboxMessage.to_email == p.email)).scalars() if "link" in m.context]
        pages += [(p.id, env.client.get(path_of(link)).text) for link in links]
    pages += [(None, env.client.get(u).text) for u in (f"/hr/cycles/{case.cycle_id}", "/hr",
                                                       f"/api/v1/cycles/{case.cycle_id}")]
    # every block of a page (a card, or the whole JSON) that shows an answer: no other
    # rater's name or NIP in it (the viewer may of course see their own)
    blocks = [(viewer, part) for viewer, text in pages for part in text.split('<div class="card')
              if any(secret in part for secret in secrets.values())]
    assert blocks, "the comments are visible in the aggregate"
    for viewer, part in blocks:
        for rid in raters:
            if rid != viewer:
                assert people[rid].nama not in part and people[rid].nip not in part
    with session_scope(env.rt.engine) as s:  # the answer rows themselves hold no rater
        columns = set(Jawaban360.__table__.columns.keys())
        assert columns == {"id", "cycle_id", "dinilai_id", "diri", "nilai", "penilaian", "komentar"}
        contexts = [str(m.context) for m in s.execute(select(OutboxMessage)).scalars()]
    assert not any(secret in c for c in contexts for secret in secrets.values())


def test_hr_sets_the_360_rule_and_threshold_and_sees_counts_only(env: AppEnv) -> None:
    from tests.api.test_hr_periods import _token

    case = approved_cycle(env.rt, open_first=False)
    env.login()
    url = f"/hr/cycles/{case.cycle_id}/umpan-balik/pengaturan"
    form = {"ikut_ppk": "on", "ikut_diri": "on", "maks_rekan": "4", "maks_bawahan": "2",
            "maks_form": "6", "ambang": "4"}
    assert env.client.post(url, data=form, follow_redirects=False).status_code == 303
    r = env.client.post(url, data=form | {"ambang": "1"})
    assert r.status_code == 422 and "di luar batas" in r.text
    headers = _token(env)
    got = env.client.get(f"/api/v1/cycles/{case.cycle_id}/umpan-balik", headers=headers).json()
    assert got["pengaturan"]["maks_rekan"] == 4 and got["pengaturan"]["ambang"] == 4
    assert set(got["progress"]) == {"penugasan", "ditetapkan", "jawaban", "dinilai"}
    with session_scope(env.rt.engine) as s:  # the stage opens: the rule is fixed now
        stage = umpan_balik.get_stage(session=s, cycle_id=case.cycle_id)
        stage.opened_at = env.clock.now()
    r = env.client.put(f"/api/v1/cycles/{case.cycle_id}/umpan-balik/pengaturan", headers=headers,
                       json={"maks_rekan": 5, "maks_bawahan": 2, "maks_form": 6, "ambang": 4})
    assert r.status_code == 409 and "setelah tahap dibuka" in r.text
    r = env.client.put(f"/api/v1/cycles/{case.cycle_id}/umpan-balik/pengaturan", headers=headers,
                       json={"maks_rekan": 4, "maks_bawahan": 2, "maks_form": 6, "ambang": 3})
    assert r.status_code == 200 and r.json()["pengaturan"]["ambang"] == 3
    page = env.client.get(f"/hr/cycles/{case.cycle_id}")
    assert "Umpan balik 360" in page.text and 'id="pengaturan-360"' in page.text


def test_a_rater_who_had_finished_is_told_of_new_forms(env: AppEnv) -> None:
    case = _open(env)
    kasi, staf1 = case.org["kasi"], case.org["staf1"]
    ppk = _link(env, kasi, "tetapkan_penilai")
    env.client.post(f"{ppk}/bawahan/{staf1.id}/tetapkan")
    kabid = case.org["kabid"]  # kabid is given one form about staf2, answers it...
    r = env.client.post(f"{ppk}/bawahan/{case.org['staf2'].id}/penilai",
                        data={"nip": kabid.nip}, follow_redirects=False)
    assert r.status_code == 303
    env.client.post(f"{ppk}/bawahan/{case.org['staf2'].id}/tetapkan")
    with session_scope(env.rt.engine) as s:
        forms = s.execute(select(Penilai360).where(Penilai360.penilai_id == kabid.id,
                                                   Penilai360.ditetapkan)).scalars().all()
    for f in forms:
        assert _answer(env, kabid, f.dinilai_id) == 303
    with session_scope(env.rt.engine) as s:
        before = s.execute(select(OutboxMessage).where(
            OutboxMessage.to_email == kabid.email, OutboxMessage.kind == "undangan_360")).all()
    # a new form for kabid after they finished: the task reopens and they are told again
    r = env.client.post(f"{ppk}/bawahan/{case.org['extra0'].id}/penilai",
                        data={"nip": kabid.nip}, follow_redirects=False)
    assert r.status_code == 303
    env.client.post(f"{ppk}/bawahan/{case.org['extra0'].id}/tetapkan")
    with session_scope(env.rt.engine) as s:
        after = s.execute(select(OutboxMessage).where(
            OutboxMessage.to_email == kabid.email, OutboxMessage.kind == "undangan_360")).all()
    assert len(after) == len(before) + 1
