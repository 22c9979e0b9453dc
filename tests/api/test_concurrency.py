"""Two people acting on the same thing at the same moment, as truly concurrent requests (two
threads through the app, on SQLite and on PostgreSQL): exactly one wins, the other gets a 409
saying what changed, and what is stored is the winner's action, whole (no lost update, nothing
half-applied).

A `Rendezvous` holds each request at its first write until the other one got there too, so
both have read the same state before either writes: the interleaving that loses updates when
a write does not check what it read."""

from __future__ import annotations

import contextlib
import html
import re
import threading
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from models.db import session_scope
from models.repo import skp as skp_repo
from models.repo.hr import create_api_token, create_hr_user
from models.rules.enums import TaskKind
from models.tables import (
    AuditLog,
    CycleStage,
    HrUser,
    OutboxMessage,
    Perilaku,
    Rhk,
    Skp,
    SkpVersi,
    Task,
)
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, open_planning_now, path_of
from tests.api.period_setup import approved_cycle, own_link, ppk_link, record, version_of
from tests.factories import make_org

DML = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.I)


class Rendezvous:
    """Holds every request at its first write to one of `tables` (per database connection)
    until all `parties` are there; a request that ends without writing releases the others."""

    def __init__(self, engine: Engine, tables: set[str], parties: int = 2) -> None:
        self.engine, self.tables = engine, tables
        self.barrier = threading.Barrier(parties)
        self.seen: set[int] = set()
        self.met = 0
        self.lock = threading.Lock()

    def __enter__(self) -> Rendezvous:
        event.listen(self.engine, "before_cursor_execute", self._hold)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._hold)

    def _hold(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        found = DML.match(statement)
        if not found or found.group(1).lower() not in self.tables:
            return
        key = id(conn.connection.dbapi_connection)
        with self.lock:
            if key in self.seen:
                return
            self.seen.add(key)
            self.met += 1  # arrived: the last to arrive lets everyone through
        # a request that ended without writing (or raced ahead) breaks the barrier: go on
        with contextlib.suppress(threading.BrokenBarrierError):
            self.barrier.wait(timeout=15)

    def release(self) -> None:
        self.barrier.abort()


def race(engine: Engine, tables: set[str], *calls: Callable[[], Any]) -> tuple[list[Any], int]:
    """Run the calls at the same moment, each in its own thread; returns their results and how
    many of them reached their first write (all of them: each read before any wrote)."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    with Rendezvous(engine, tables, len(calls)) as rv:
        def run(i: int, call: Callable[[], Any]) -> None:
            start.wait(timeout=15)
            try:
                results[i] = call()
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                results[i] = exc
            finally:
                rv.release()
        threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    assert not any(isinstance(r, BaseException) for r in results), results
    return results, rv.met


def _text(r) -> str:  # type: ignore[no-untyped-def]
    """What the person reads: the page's text (entities decoded) or the API's detail."""
    if r.headers.get("content-type", "").startswith("application/json"):
        return str(r.json().get("detail", ""))
    return html.unescape(r.text)


def _one_winner(a, b) -> tuple[int, Any, Any]:  # type: ignore[no-untyped-def]
    """(index of the winner, winner's response, loser's response): exactly one 409."""
    codes = [a.status_code, b.status_code]
    assert sorted(c == 409 for c in codes) == [False, True], codes
    won = 0 if codes[1] == 409 else 1
    return won, (a, b)[won], (a, b)[1 - won]


def _count(engine: Engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


# -- an SKP: the PPK and the pegawai ------------------------------------------------------------


def _planning(env: AppEnv):  # type: ignore[no-untyped-def]
    """Planning open; the chain kadis <- kabid <- kasi <- staf1, staf2 has RHK; staf2 has
    submitted (so kasi holds a review link)."""
    with session_scope(env.rt.engine) as s:
        org = make_org(s)
    cycle_id = open_planning_now(env.rt, minutes=1000)
    now = env.clock.now()
    with session_scope(env.rt.engine) as s:
        parents: dict[str, int] = {}
        for who, parent in (("kadis", None), ("kabid", "kadis"), ("kasi", "kabid"),
                            ("staf1", "kasi"), ("staf2", "kasi")):
            skp = skp_repo.skp_of(session=s, cycle_id=cycle_id, pegawai_id=org[who].id)
            rhk = skp_repo.add_rhk(session=s, view=skp_repo.load_view(session=s, skp=skp),
                                   jenis="utama", uraian=f"RHK {who}",
                                   intervensi_rhk_id=parents.get(parent) if parent else None,
                                   iki=skp_repo.IkiInput("Dokumen", "4", "dokumen"), now=now)
            parents[who] = rhk.id
        skp = skp_repo.skp_of(session=s, cycle_id=cycle_id, pegawai_id=org["staf2"].id)
        skp_repo.submit(session=s, view=skp_repo.load_view(session=s, skp=skp), now=now,
                        mail=env.rt.mail)
    return cycle_id, org


def _skp(env: AppEnv, pegawai_id: int) -> Skp:
    with session_scope(env.rt.engine) as s:
        return s.execute(select(Skp).where(Skp.pegawai_id == pegawai_id)).scalar_one()


def test_the_ppk_approves_while_the_pegawai_adds_an_rhk(env: AppEnv) -> None:
    """The SKP waits for the PPK; the pegawai, on the page they loaded before, adds an RHK at
    the moment the PPK approves: the approval wins, the RHK is refused saying the SKP's state,
    and the approved version holds exactly the SKP as approved."""
    cycle_id, org = _planning(env)
    staf1 = org["staf1"]
    own = path_of(last_mail(env.rt, staf1.email, "undangan_skp").context["link"])
    skp = _skp(env, staf1.id)
    with session_scope(env.rt.engine) as s:
        skp_repo.submit(session=s, view=skp_repo.load_view(session=s, skp=s.get(Skp, skp.id)),
                        now=env.clock.now(), mail=env.rt.mail)
    review = path_of(last_mail(env.rt, org["kasi"].email, "skp_diajukan").context["link"])
    seen = _skp(env, staf1.id).version
    rhk_before = _count(env.rt.engine, Rhk, Rhk.skp_id == skp.id)
    (approve, add), _ = race(
        env.rt.engine, {"skp", "rhk", "iki", "skpevent"},
        lambda: env.client.post(f"{review}/skp/{skp.id}/setujui", data={"version": str(seen)},
                                follow_redirects=False),
        lambda: env.client.post(f"{own}/rhk", data={"uraian": "RHK susulan", "jenis": "utama",
                                                    "version": str(seen)},
                                follow_redirects=False))
    won, _, lost = _one_winner(approve, add)
    assert won == 0, "a submitted SKP cannot be edited: the approval wins"
    said = _text(lost)
    assert "SKP" in said and ("disetujui" in said or "menunggu persetujuan PPK" in said), said
    final = _skp(env, staf1.id)
    assert final.status == "disetujui" and final.version == seen + 1
    assert _count(env.rt.engine, Rhk, Rhk.skp_id == skp.id) == rhk_before
    with session_scope(env.rt.engine) as s:
        kept = s.execute(select(SkpVersi).where(SkpVersi.skp_id == skp.id)).scalars().all()
        rhk_ids = sorted(s.execute(select(Rhk.id).where(Rhk.skp_id == skp.id)).scalars())
    assert len(kept) == 1 and sorted(r["id"] for r in kept[0].data["rhk"]) == rhk_ids
    assert _count(env.rt.engine, OutboxMessage, OutboxMessage.kind == "skp_disetujui") == 1


def test_the_ppk_and_the_pegawai_edit_a_draft_at_once(env: AppEnv) -> None:
    """On a draft the PPK writes the specific expectations while the pegawai adds an RHK, both
    from the same version: one wins, the other is told who changed what, and only the winner's
    change is stored."""
    cycle_id, org = _planning(env)
    staf1 = org["staf1"]
    own = path_of(last_mail(env.rt, staf1.email, "undangan_skp").context["link"])
    review = path_of(last_mail(env.rt, org["kasi"].email, "skp_diajukan").context["link"])
    skp = _skp(env, staf1.id)
    rhk_before = _count(env.rt.engine, Rhk, Rhk.skp_id == skp.id)
    (ppk, pegawai), met = race(
        env.rt.engine, {"skp", "rhk", "iki", "perilaku", "skpevent"},
        lambda: env.client.post(f"{review}/skp/{skp.id}/ekspektasi",
                                data={"e_Berorientasi Pelayanan": "Ramah kepada semua tamu"},
                                follow_redirects=False),
        lambda: env.client.post(f"{own}/rhk", data={"uraian": "RHK susulan", "jenis": "utama",
                                                    "version": str(skp.version)},
                                follow_redirects=False))
    assert met == 2, "both requests read the SKP before either wrote"
    won, _, lost = _one_winner(ppk, pegawai)
    said = _text(lost)
    assert "baru saja diubah" in said, said
    with session_scope(env.rt.engine) as s:
        expectations = [p.ekspektasi_khusus for p in s.execute(select(Perilaku).where(
            Perilaku.skp_id == skp.id)).scalars() if p.ekspektasi_khusus]
    rhk_after = _count(env.rt.engine, Rhk, Rhk.skp_id == skp.id)
    if won == 0:  # the PPK's expectations are stored; the pegawai's RHK is not
        assert "PPK mengubah ekspektasi khusus" in said, said
        assert expectations == ["Ramah kepada semua tamu"] and rhk_after == rhk_before
    else:
        assert "pegawai menambah RHK" in said, said
        assert expectations == [] and rhk_after == rhk_before + 1
    assert "status SKP sekarang: draf" in said
    assert _skp(env, staf1.id).version == skp.version + 1


# -- the calendar: two HR admins -----------------------------------------------------------------


def _second_admin(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        create_hr_user(session=s, username="admin2", password="rahasia-hr-2", nama="Admin Dua",
                       email="hr2@contoh.go.id", now=env.clock.now())


def _tokens(env: AppEnv) -> list[dict[str, str]]:
    with session_scope(env.rt.engine) as s:
        users = s.execute(select(HrUser).order_by(HrUser.id)).scalars().all()
        return [{"Authorization": "Bearer " + create_api_token(
            session=s, user=u, name="simpeg", now=env.clock.now())} for u in users]


def _planning_stage(env: AppEnv, cycle_id: int) -> CycleStage:
    with session_scope(env.rt.engine) as s:
        return s.execute(select(CycleStage).where(CycleStage.cycle_id == cycle_id,
                                                  CycleStage.code == "perencanaan")).scalar_one()


def test_two_hr_admins_save_the_calendar_through_the_api(env: AppEnv) -> None:
    _second_admin(env)
    first, second = _tokens(env)
    c = env.client.post("/api/v1/cycles", json={"tahun": 2027}, headers=first).json()
    cal = c["perencanaan"]
    (a, b), met = race(
        env.rt.engine, {"cyclestage"},
        lambda: env.client.put(f"/api/v1/cycles/{c['id']}/calendar", headers=first,
                               json=cal | {"due_at": "2027-01-25T16:00"}),
        lambda: env.client.put(f"/api/v1/cycles/{c['id']}/calendar", headers=second,
                               json=cal | {"due_at": "2027-01-27T16:00"}))
    assert met == 2
    won, _, lost = _one_winner(a, b)
    who, due = (("hr:admin", "25 Januari 2027 16.00 WIB"), ("hr:admin2",
                                                              "27 Januari 2027 16.00 WIB"))[won]
    said = _text(lost)
    assert "diubah orang lain" in said and who in said and due in said, said
    got = env.client.get(f"/api/v1/cycles/{c['id']}", headers=first).json()["perencanaan"]
    assert got["due_at"] == ("2027-01-25T16:00", "2027-01-27T16:00")[won]
    assert got["version"] == cal["version"] + 1
    changes = _count(env.rt.engine, AuditLog, AuditLog.action == "kalender.ubah")
    assert changes == 1  # the loser left no trace of a change that did not happen


def test_two_hr_admins_save_the_calendar_in_the_console(env: AppEnv) -> None:
    _second_admin(env)
    env.login()
    other = TestClient(env.client.app, base_url="http://testserver")
    try:
        from tests.api.helpers import hr_login  # type: ignore[attr-defined]
    except ImportError:  # the console without CSRF tokens
        def hr_login(client, username, password):  # type: ignore[no-untyped-def]
            return client.post("/hr/login", data={"username": username, "password": password},
                               follow_redirects=False)
    assert hr_login(other, "admin2", "rahasia-hr-2").status_code == 303
    cycle_id = open_planning_now(env.rt, minutes=100000)
    stage = _planning_stage(env, cycle_id)
    from models.rules.calendar import to_local

    def local(at) -> str:  # type: ignore[no-untyped-def]
        return to_local(at, "Asia/Jakarta").strftime("%Y-%m-%dT%H:%M")
    form = {"opens_at": local(stage.opens_at), "due_at": local(stage.due_at),
            "approve_due_at": local(stage.approve_due_at), "closes_at": local(stage.closes_at),
            "version": str(stage.version)}
    moved = {0: local(stage.due_at + (stage.approve_due_at - stage.due_at) / 4),
             1: local(stage.due_at + (stage.approve_due_at - stage.due_at) / 2)}
    url = f"/hr/cycles/{cycle_id}/calendar"
    (a, b), met = race(
        env.rt.engine, {"cyclestage"},
        lambda: env.client.post(url, data=form | {"due_at": moved[0]}, follow_redirects=False),
        lambda: other.post(url, data=form | {"due_at": moved[1]}, follow_redirects=False))
    assert met == 2
    won, _, lost = _one_winner(a, b)
    said = _text(lost)
    assert "diubah orang lain" in said and ("hr:admin", "hr:admin2")[won] in said, said
    assert local(_planning_stage(env, cycle_id).due_at) == moved[won]
    assert _planning_stage(env, cycle_id).version == stage.version + 1
    assert _count(env.rt.engine, AuditLog, AuditLog.action == "kalender.ubah") == 1


# -- a period's record: the PPK rating twice --------------------------------------------------------


def test_two_ppk_ratings_of_the_same_period_record(env: AppEnv) -> None:
    """The PPK rates a subordinate in two tabs at once with different ratings: one is stored
    with its own email to the pegawai, the other is refused naming the stored rating."""
    case = approved_cycle(env.rt)
    link = ppk_link(env.rt, case.org["kasi"])
    skp_id = case.skp["staf1"]
    seen = version_of(env.rt, skp_id)
    ratings = [("Di Atas Ekspektasi", "Sesuai Ekspektasi"),
               ("Di Bawah Ekspektasi", "Di Bawah Ekspektasi")]

    def rate(hk: str, pk: str):  # type: ignore[no-untyped-def]
        return lambda: env.client.post(f"{link}/pegawai/{skp_id}/nilai", follow_redirects=False,
                                       data={"hasil_kerja": hk, "perilaku": pk,
                                             "catatan": f"{hk}/{pk}", "version": str(seen)})
    (a, b), met = race(env.rt.engine, {"skpperiode", "outboxmessage", "task"},
                       rate(*ratings[0]), rate(*ratings[1]))
    assert met == 2
    won, _, lost = _one_winner(a, b)
    hk, pk = ratings[won]
    said = _text(lost)
    assert "baru saja diubah" in said and f"hasil kerja {hk}, perilaku {pk}" in said, said
    stored = record(env.rt, skp_id)
    assert (stored.hasil_kerja, stored.perilaku, stored.catatan_ppk) == (hk, pk, f"{hk}/{pk}")
    assert stored.version == seen + 1
    with session_scope(env.rt.engine) as s:
        told = s.execute(select(OutboxMessage.context).where(
            OutboxMessage.kind == "penilaian_periodik_diberikan")).scalars().all()
        changes = s.execute(select(AuditLog.after).where(
            AuditLog.entity == "skp_periode")).scalars().all()
    assert [(m["hasil_kerja"], m["perilaku"]) for m in told] == [(hk, pk)]
    assert [(c.get("hasil_kerja"), c.get("perilaku")) for c in changes] == [(hk, pk)]


# -- a task: HR closes it on the person's behalf while the person completes it --------------------


def _report(env: AppEnv, link: str, case, key: str):  # type: ignore[no-untyped-def]
    a, b, c = case.iki[key]
    data = {f"ra_{case.rhk[key]}": "Menyusun jadwal", f"r_{a}": "8", f"r_{b}": "4,5",
            f"r_{c}": "Laporan lengkap", "catatan": "Lancar", "aksi": "laporkan",
            "version": str(version_of(env.rt, case.skp[key]))}
    return lambda: env.client.post(f"{link}/realisasi", data=data, follow_redirects=False)


def _close(env: AppEnv, nip: str, task_id: int, reason: str, h: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda: env.client.post(f"/api/v1/pegawai/{nip}/tugas/{task_id}/tutup",
                                   json={"alasan": reason}, headers=h)


def test_hr_closes_a_task_while_the_person_completes_it(env: AppEnv) -> None:
    """Three times over (either may win each time): the task ends either completed by the
    person or closed by HR with HR's reason, never a mix; HR's 409 says the person finished
    it; the person's report is kept either way."""
    case = approved_cycle(env.rt)
    h = _tokens(env)[0]
    outcomes = []
    for key in ("staf1", "staf2", "kasi"):
        person = case.org[key]
        with session_scope(env.rt.engine) as s:
            task = s.execute(select(Task).where(Task.kind == TaskKind.ISI_REALISASI,
                                                Task.pegawai_id == person.id)).scalar_one()
        reason = f"Cuti; laporan {key} diserahkan di atas kertas"
        (hr, own), met = race(
            env.rt.engine, {"task", "skpperiode", "realisasi", "rencanaaksi"},
            _close(env, person.nip, task.id, reason, h),
            _report(env, own_link(env.rt, person), case, key))
        assert met == 2, (key, hr.status_code, hr.text[:300], own.status_code)
        assert own.status_code == 303, _text(own)  # the report is kept either way
        assert record(env.rt, case.skp[key]).dilaporkan_at is not None
        with session_scope(env.rt.engine) as s:
            final = s.get(Task, task.id)
            closings = s.execute(select(func.count()).select_from(AuditLog).where(
                AuditLog.action == "tugas.tutup_atas_nama",
                AuditLog.entity_id == task.id)).scalar_one()
            # who turned it done, as the audit log saw it: exactly one of the two
            finished_by = [e.actor for e in s.execute(select(AuditLog).where(
                AuditLog.action == "task.ubah", AuditLog.entity_id == task.id)).scalars()
                if (e.after or {}).get("status") == "done"]
        assert final.status == "done" and final.next_reminder_at is None
        if hr.status_code == 200:  # HR's closing, whole
            outcomes.append("hr")
            assert (final.closed_by, final.close_reason) == ("hr:admin", reason)
            assert closings == 1 and finished_by == ["hr:admin"], finished_by
        else:  # the person's completion; nothing of HR's closing is kept
            outcomes.append("pegawai")
            assert finished_by == [f"pegawai:{person.id}"], finished_by
            assert hr.status_code == 409, hr.text
            assert "diselesaikan oleh pegawai sendiri" in _text(hr), _text(hr)
            assert (final.closed_by, final.close_reason, closings) == (None, None, 0)
    assert len(outcomes) == 3

