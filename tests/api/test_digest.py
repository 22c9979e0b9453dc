"""The daily digest through the real pages: per-event mail held for people in digest mode, one
digest a day listing every item that waits (with working links), nothing lost, nothing twice;
the person's choice on their task link, and HR's API."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from models.db import session_scope
from models.repo.digest import DigestRun, build_digests
from models.repo.hr import create_hr_user
from models.repo.waiting import count_items, count_waiting, waiting_items
from models.rules.digest import HELD_UNTIL
from models.rules.enums import HrRole, JenisJabatan, OutboxStatus, Ringkasan
from models.tables import AuditLog, OutboxMessage, Pegawai, Rhk, Task
from notifications.dispatch import dispatch_due
from notifications.mailer import RecordingMailer
from tests.api.conftest import AppEnv
from tests.api.helpers import hr_login, last_mail, open_planning_now, path_of, skp_row
from tests.factories import T0, make_pegawai, make_unit

#: 06:00 WIB on the day after T0 (the flow's default schedule)
NEXT_MORNING = T0 + timedelta(hours=23)
PLANNING = 10 * 1440  # minutes: SKP due in 4 days, approvals in 7, planning closes in 10


def _org(env: AppEnv, n: int, unit: str = "Dinas Pendidikan",
         ringkasan: Ringkasan = Ringkasan.OTOMATIS) -> tuple[Pegawai, list[Pegawai]]:
    """A head of unit (JPT, the top: no intervensi needed) with `n` subordinates."""
    with session_scope(env.rt.engine) as s:
        u = make_unit(s, unit)
        head = make_pegawai(s, u, nama="Kepala Dinas", jabatan="Kepala Dinas",
                            jenis_jabatan=JenisJabatan.JPT, ringkasan=ringkasan)
        staff = [make_pegawai(s, u, nama=f"Staf {i + 1:02d}", atasan_id=head.id)
                 for i in range(n)]
    return head, staff


def _invite(env: AppEnv, person: Pegawai) -> str:
    return path_of(last_mail(env.rt, person.email, "undangan_skp").context["link"])


def _add_rhk(env: AppEnv, link: str, parent: int | None = None) -> None:
    r = env.client.post(f"{link}/rhk", data={
        "jenis": "utama", "uraian": "Layanan data sekolah", "intervensi_rhk_id": str(parent or ""),
        "indikator": "Laporan tersusun", "target": "4", "satuan": "laporan"},
        follow_redirects=False)
    assert r.status_code == 303, r.text


def _rhk_of(env: AppEnv, person: Pegawai) -> int:
    with session_scope(env.rt.engine) as s:
        return s.execute(select(Rhk.id).where(Rhk.skp_id == skp_row(env.rt, person.id).id)
                         ).scalars().first()


def _submit(env: AppEnv, person: Pegawai, parent: int) -> None:
    link = _invite(env, person)
    _add_rhk(env, link, parent)
    assert env.client.post(f"{link}/ajukan", follow_redirects=False).status_code == 303


def _mails(env: AppEnv, person: Pegawai, kind: str) -> list[OutboxMessage]:
    with session_scope(env.rt.engine) as s:
        return list(s.execute(select(OutboxMessage).where(
            OutboxMessage.to_email == person.email, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)).scalars())


def _held(rows: list[OutboxMessage]) -> list[bool]:
    return [m.status == OutboxStatus.QUEUED and m.next_attempt_at >= HELD_UNTIL for m in rows]


def _dispatch(env: AppEnv, at: datetime) -> list[str]:
    """Run the real dispatcher with a recording mailer; the keys it emailed."""
    mailer = RecordingMailer()
    asyncio.run(dispatch_due(engine=env.rt.engine, mailer=mailer, smtp=env.rt.smtp, now=at))
    return [m.key for m in mailer.sent]


def _digests(env: AppEnv, at: datetime) -> DigestRun:
    with session_scope(env.rt.engine) as s:
        return build_digests(session=s, now=at, mail=env.rt.mail, timezone=env.rt.api.timezone)


def _lines(digest: OutboxMessage, jenis: str) -> list[dict]:
    return next((g["butir"] for g in digest.context["kelompok"] if g["jenis"] == jenis), [])


def test_over_five_items_the_ppk_gets_the_digest_instead_and_nothing_is_lost(env: AppEnv) -> None:
    head, staff = _org(env, 7)
    open_planning_now(env.rt, PLANNING)
    _add_rhk(env, _invite(env, head))
    top = _rhk_of(env, head)
    for i, person in enumerate(staff, start=1):
        env.clock.advance(minutes=1)
        _submit(env, person, top)
        # the head's own SKP draft is one item, each submitted SKP another: held from 6 on
        assert _held(_mails(env, head, "skp_diajukan")) == [n > 5 for n in range(2, i + 2)]
    emailed = _dispatch(env, env.clock.now())
    per_event = [m.key for m in _mails(env, head, "skp_diajukan")]
    assert [k for k in per_event if k in emailed] == per_event[:4]  # the held three never go
    assert _dispatch(env, env.clock.now() + timedelta(days=30)) == []

    # one SKP handled before the digest: not listed
    review = path_of(_mails(env, head, "skp_diajukan")[0].context["link"])
    first = skp_row(env.rt, staff[0].id)
    assert env.client.post(f"{review}/skp/{first.id}/setujui",
                           follow_redirects=False).status_code == 303

    run = _digests(env, NEXT_MORNING)
    assert (run.dikirim, run.ditahan_terkirim) == (1, 3)
    (digest,) = _mails(env, head, "ringkasan_harian")
    skps = _lines(digest, "setujui_skp")
    assert [b["nama"] for b in skps] == [p.nama for p in staff[1:]]
    assert [b["nip"] for b in skps] == [p.nip for p in staff[1:]]
    assert all(b["batas"] and not b["terlambat"] for b in skps)
    assert all(b["baru"] for b in skps)  # a first digest: everything is new
    assert _lines(digest, "susun_skp")  # the head's own draft waits too
    assert digest.context["jumlah"] == 7 and digest.context["ringkasan"] == "otomatis"
    assert digest.key == f"ringkasan:{head.id}:2027-01-02"
    # the three held notices were carried by the digest: sent, never due on their own
    assert [m.status for m in _mails(env, head, "skp_diajukan")] == [OutboxStatus.SENT] * 7
    emailed = _dispatch(env, NEXT_MORNING)
    assert digest.key in emailed and not set(per_event) & set(emailed)

    # a link in the digest works: it opens the approval list, and an approval goes through
    link = path_of(skps[0]["link"])
    page = env.client.get(link)
    assert page.status_code == 200 and staff[1].nama in page.text
    second = skp_row(env.rt, staff[1].id)
    assert env.client.post(f"{link}/skp/{second.id}/setujui",
                           follow_redirects=False).status_code == 303
    assert env.client.get(path_of(digest.context["link"])).status_code == 200  # preferences

    # at most one digest a day: later runs the same day send nothing
    assert _digests(env, NEXT_MORNING + timedelta(hours=10)).dikirim == 0
    assert len(_mails(env, head, "ringkasan_harian")) == 1

    # next morning, still over five: a new digest, nothing new in it
    run = _digests(env, NEXT_MORNING + timedelta(days=1))
    assert run.dikirim == 1
    later = _mails(env, head, "ringkasan_harian")[-1]
    assert [b["nama"] for b in _lines(later, "setujui_skp")] == [p.nama for p in staff[2:]]
    assert later.context["baru"] == 0 and later.context["jumlah"] == 6


def test_a_ppk_with_two_subordinates_gets_one_email_per_event_and_no_digest(
        env: AppEnv) -> None:
    head, staff = _org(env, 2)
    open_planning_now(env.rt, PLANNING)
    _add_rhk(env, _invite(env, head))
    for person in staff:
        _submit(env, person, _rhk_of(env, head))
    rows = _mails(env, head, "skp_diajukan")
    assert _held(rows) == [False, False]
    assert {m.key for m in rows} <= set(_dispatch(env, env.clock.now()))
    run = _digests(env, NEXT_MORNING)
    assert run.dikirim == 0 and _mails(env, head, "ringkasan_harian") == []


def test_harian_always_digests_and_setiap_never(env: AppEnv) -> None:
    env.login()
    daily, daily_staff = _org(env, 1, "Dinas Sosial")
    each, each_staff = _org(env, 7, "Dinas Kesehatan")
    for nip, choice in ((daily.nip, "harian"), (each.nip, "setiap")):
        r = env.client.put(f"/api/v1/pegawai/{nip}/ringkasan", json={"ringkasan": choice})
        assert r.status_code == 200 and r.json()["ringkasan"] == choice
    open_planning_now(env.rt, PLANNING)
    assert _held(_mails(env, daily, "undangan_skp")) == [True]  # even the invitation waits
    assert _held(_mails(env, each, "undangan_skp")) == [False]
    for head, staff in ((daily, daily_staff), (each, each_staff)):
        _add_rhk(env, _invite(env, head))
        for person in staff:
            _submit(env, person, _rhk_of(env, head))
    assert _held(_mails(env, daily, "skp_diajukan")) == [True]
    assert _held(_mails(env, each, "skp_diajukan")) == [False] * 7

    run = _digests(env, NEXT_MORNING)
    assert run.dikirim == 1 and _mails(env, each, "ringkasan_harian") == []
    (digest,) = _mails(env, daily, "ringkasan_harian")
    assert [b["nama"] for b in _lines(digest, "setujui_skp")] == [daily_staff[0].nama]
    assert len(_lines(digest, "susun_skp")) == 1
    assert digest.context["ringkasan"] == "harian" and digest.context["jumlah"] == 2
    assert [m.status for m in _mails(env, daily, "skp_diajukan")] == [OutboxStatus.SENT]


def test_nothing_waiting_means_no_digest_and_held_notices_of_handled_work_are_dropped(
        env: AppEnv) -> None:
    head, (person,) = _org(env, 1, ringkasan=Ringkasan.HARIAN)
    with session_scope(env.rt.engine) as s:
        s.get(Pegawai, person.id).ringkasan = Ringkasan.HARIAN
    open_planning_now(env.rt, PLANNING)
    _add_rhk(env, _invite(env, head))
    _submit(env, person, _rhk_of(env, head))  # the person's own draft is done
    assert _held(_mails(env, head, "skp_diajukan")) == [True]
    # the head acts from the page before any digest: approves, and submits their own SKP
    with session_scope(env.rt.engine) as s:
        task = s.execute(select(Task).where(Task.pegawai_id == head.id,
                                            Task.kind == "setujui_skp")).scalar_one()
        review = path_of(env.rt.links.task(task.id, head.id, env.clock.now()))
    assert env.client.post(f"{review}/skp/{skp_row(env.rt, person.id).id}/setujui",
                           follow_redirects=False).status_code == 303
    assert env.client.post(f"{_invite(env, head)}/ajukan", follow_redirects=False).status_code == 303

    run = _digests(env, NEXT_MORNING)
    # both invitations (both chose `harian`) and the notice: nothing they speak of waits
    assert run.dikirim == 0 and run.ditahan_dibuang == 3
    assert _mails(env, head, "ringkasan_harian") == [] and _mails(env, person, "ringkasan_harian") == []
    assert _mails(env, head, "skp_diajukan") == [] and _mails(env, person, "undangan_skp") == []


def test_the_person_chooses_from_any_task_link(env: AppEnv) -> None:
    head, (person,) = _org(env, 1)
    open_planning_now(env.rt, PLANNING)
    link = _invite(env, person)
    page = env.client.get(link)
    assert f'href="{link}/preferensi"' in page.text  # the footer of every task page
    page = env.client.get(f"{link}/preferensi")
    assert page.status_code == 200
    for value in ("otomatis", "harian", "setiap"):
        assert f'value="{value}"' in page.text
    assert 'value="otomatis" checked' in page.text and "Selalu ringkasan harian" in page.text
    assert "Always the daily digest" in env.client.get(f"{link}/preferensi?lang=en").text

    r = env.client.post(f"{link}/preferensi", data={"ringkasan": "harian"}, follow_redirects=False)
    assert r.status_code == 303
    page = env.client.get(r.headers["location"] + "&lang=id")
    assert "disimpan" in page.text and 'value="harian" checked' in page.text
    with session_scope(env.rt.engine) as s:
        assert s.get(Pegawai, person.id).ringkasan == Ringkasan.HARIAN
        audit = s.execute(select(AuditLog).where(AuditLog.entity == "pegawai",
                                                 AuditLog.entity_id == person.id)).scalars().all()
    assert any((a.after or {}).get("ringkasan") == "harian" and a.actor == f"pegawai:{person.id}"
               for a in audit)

    for bad in ("mingguan", ""):
        r = env.client.post(f"{link}/preferensi", data={"ringkasan": bad})
        assert r.status_code == 422 and "otomatis, harian, setiap" in r.text
    with session_scope(env.rt.engine) as s:
        assert s.get(Pegawai, person.id).ringkasan == Ringkasan.HARIAN
    assert env.client.get(f"{link[:-3]}abc/preferensi").status_code == 403


def test_hr_sets_the_choice_through_the_api(env: AppEnv) -> None:
    head, (person,) = _org(env, 1)
    url = f"/api/v1/pegawai/{person.nip}/ringkasan"
    assert env.client.put(url, json={"ringkasan": "harian"}).status_code == 401
    env.login()
    r = env.client.put(url, json={"ringkasan": "harian"})
    assert r.status_code == 200
    assert r.json() == {"nip": person.nip, "ringkasan": "harian", "ringkasan_terakhir": None}
    for bad in ({"ringkasan": "mingguan"}, {"ringkasan": 3}, {}):
        r = env.client.put(url, json=bad)
        assert r.status_code == 422, bad
    assert "otomatis, harian, setiap" in env.client.put(url, json={"ringkasan": "x"}).json()["detail"]
    assert env.client.put("/api/v1/pegawai/000000000000000000/ringkasan",
                          json={"ringkasan": "setiap"}).status_code == 404
    with session_scope(env.rt.engine) as s:
        assert s.get(Pegawai, person.id).ringkasan == Ringkasan.HARIAN
        create_hr_user(session=s, username="auditor", password="rahasia-auditor", nama="Auditor",
                       email="audit@contoh.go.id", now=T0, role=HrRole.AUDITOR)
    env.client.post("/hr/logout")
    r = hr_login(env.client, "auditor", "rahasia-auditor")
    assert r.status_code == 303
    assert env.client.put(url, json={"ringkasan": "setiap"}).status_code == 403


def test_held_notices_are_told_even_when_the_work_falls_back_to_five(env: AppEnv) -> None:
    head, staff = _org(env, 6)
    open_planning_now(env.rt, PLANNING)
    _add_rhk(env, _invite(env, head))
    for person in staff:
        _submit(env, person, _rhk_of(env, head))
    assert _held(_mails(env, head, "skp_diajukan")) == [False] * 4 + [True] * 2
    review = path_of(_mails(env, head, "skp_diajukan")[0].context["link"])
    for person in staff[:3]:  # three approved: 3 SKPs and the own draft wait, 4 items
        assert env.client.post(f"{review}/skp/{skp_row(env.rt, person.id).id}/setujui",
                               follow_redirects=False).status_code == 303
    run = _digests(env, NEXT_MORNING)
    assert (run.dikirim, run.ditahan_terkirim) == (1, 2)
    (digest,) = _mails(env, head, "ringkasan_harian")
    assert [b["nama"] for b in _lines(digest, "setujui_skp")] == [p.nama for p in staff[3:]]
    assert digest.context["jumlah"] == 4
    # nothing held any more and only four wait: back to one email per event, no digest
    assert _digests(env, NEXT_MORNING + timedelta(days=1)).dikirim == 0


def test_the_digest_rule_counts_only_until_it_knows(env: AppEnv) -> None:
    """The count behind holding a message agrees with the digest's own list up to its limit,
    and stops reading a person's kinds of work once they are above it."""
    head, staff = _org(env, 7)
    open_planning_now(env.rt, PLANNING)
    _add_rhk(env, _invite(env, head))
    top = _rhk_of(env, head)
    for person in staff:
        _submit(env, person, top)
    ids = [head.id] + [p.id for p in staff]
    now = env.clock.now()
    with session_scope(env.rt.engine) as s:
        full = {pid: count_items(lines)
                for pid, lines in waiting_items(session=s, pegawai_ids=ids, now=now).items()}
        assert full == {head.id: 8}  # their own draft and the seven submitted SKPs
        assert count_waiting(session=s, pegawai_ids=ids, now=now, enough=100) == full
        assert count_waiting(session=s, pegawai_ids=ids, now=now, enough=5) == full
        # above 0 after their own draft: the SKPs to approve are not read for them
        assert count_waiting(session=s, pegawai_ids=ids, now=now, enough=0) == {head.id: 1}
