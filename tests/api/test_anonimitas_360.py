"""360 anonymity in the outputs added since the 360 stage: HR's dashboard (page, drill-down,
CSV, JSON), the audit log (page, JSON, CSV), the daily digest emails, the operations page and
the person page. None of them shows an answer, ties a rater to one, or lists who answered."""

from __future__ import annotations

import json

from sqlalchemy import select

from models.db import session_scope
from models.repo import digest
from models.rules.enums import Ringkasan, TaskKind
from models.tables import OutboxMessage, Pegawai, Penilai360, Task, Unit
from notifications.render import render
from tests.api.conftest import AppEnv
from tests.api.helpers import path_of
from tests.api.test_hr_periods import _token
from tests.api.test_umpan_balik import _answer, _close, _link, _open

STATUSES = (None, "done", "pending", "overdue")


def _digests(env: AppEnv) -> list[tuple[int, str]]:
    """Build today's digests now and render each as the recipient reads it (text and HTML)."""
    with session_scope(env.rt.engine) as s:
        digest.build_digests(session=s, now=env.clock.now(), mail=env.rt.mail,
                             timezone=env.rt.api.timezone)
        rows = list(s.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "ringkasan_harian")).scalars())
    out = []
    for m in rows:
        mail = render(m.kind, m.context, m.language)
        out.append((m.pegawai_id, f"{mail.subject}\n{mail.text}\n{mail.html}"))
    return out


def _hr_outputs(env: AppEnv, cycle_id: int, units: list[int],
                people: list[Pegawai]) -> list[tuple[str, str]]:
    """(where, body) of every HR output of the dashboard, audit log, operations and person."""
    h = _token(env)
    get = env.client.get
    urls = [f"/hr/cycles/{cycle_id}/dasbor", f"/hr/cycles/{cycle_id}/dasbor?tahap=umpan_balik",
            "/hr/audit", f"/hr/audit?cycle_id={cycle_id}", "/hr/audit.csv", "/hr/operasi",
            f"/hr/operasi?cycle_id={cycle_id}"]
    urls += [f"/hr/cycles/{cycle_id}/dasbor.csv?tabel={t}"
             for t in ("kemajuan", "predikat", "umpan_balik", "skm", "terlambat")]
    for unit in units:
        for status in STATUSES:
            q = "?tahap=umpan_balik" + (f"&status={status}" if status else "")
            urls += [f"/hr/cycles/{cycle_id}/dasbor/unit/{unit}{q}",
                     f"/hr/cycles/{cycle_id}/dasbor/unit/{unit}.csv{q}"]
    urls += [f"/hr/pegawai/{p.nip}?cycle_id={cycle_id}" for p in people]
    api = [f"/api/v1/cycles/{cycle_id}/dasbor", f"/api/v1/cycles/{cycle_id}/dasbor.csv",
           f"/api/v1/cycles/{cycle_id}/dasbor.csv?tabel=umpan_balik",
           "/api/v1/audit?limit=1000", "/api/v1/audit.csv"]
    api += [f"/api/v1/cycles/{cycle_id}/dasbor/unit/{u}?tahap=umpan_balik" for u in units]
    api += [f"/api/v1/pegawai/{p.nip}/tugas?cycle_id={cycle_id}" for p in people]
    out = []
    for url in urls:
        r = get(url)
        assert r.status_code == 200, (url, r.status_code)
        out.append((url, r.text))
    for url in api:
        r = get(url, headers=h)
        assert r.status_code == 200, (url, r.status_code)
        out.append((url, r.text))
    return out


def test_no_new_output_shows_an_answer_or_who_answered(env: AppEnv) -> None:
    case = _open(env)
    people = {p.id: p for p in case.org.values()}
    staf1, kabid = case.org["staf1"], case.org["kabid"]
    with session_scope(env.rt.engine) as s:  # a rater and a rated person read digests
        for p in (staf1, kabid, case.org["kasi"]):
            s.get(Pegawai, p.id).ringkasan = Ringkasan.HARIAN
    env.client.post(f"{_link(env, case.org['kasi'], 'tetapkan_penilai')}/tetapkan-semua")
    with session_scope(env.rt.engine) as s:
        rows = s.execute(select(Penilai360).where(
            Penilai360.ditetapkan, Penilai360.aktif)).scalars().all()
        of_staf1 = sorted(r.penilai_id for r in rows
                          if r.dinilai_id == staf1.id and r.peran != "diri")
        kabid_forms = [r.dinilai_id for r in rows if r.penilai_id == kabid.id]
    secrets: list[str] = []
    for n, rid in enumerate(of_staf1):  # everyone rating staf1 answers, with a comment
        secrets.append(f"JAWABAN-RAHASIA-{n}-ZV")
        assert _answer(env, people[rid], staf1.id, secrets[-1]) == 303
    finisher = next(rid for rid in of_staf1 if rid != kabid.id)
    for r in rows:  # another rater finishes every form of theirs: their 360 task is done
        if r.penilai_id == finisher and r.dinilai_id != staf1.id:
            secrets.append(f"JAWABAN-RAHASIA-F{r.dinilai_id}-ZV")
            assert _answer(env, people[finisher], r.dinilai_id, secrets[-1]) == 303
    for about in kabid_forms:  # kabid finishes every form (their own self-review too)...
        if about != staf1.id or kabid.id not in of_staf1:
            secrets.append(f"JAWABAN-RAHASIA-K{about}-ZV")
            assert _answer(env, kabid, about, secrets[-1]) == 303
    # ...then their PPK gives kabid one more form: the finished task reopens
    ppk = _link(env, case.org["kasi"], "tetapkan_penilai")
    extra = case.org["extra0"]
    r = env.client.post(f"{ppk}/bawahan/{extra.id}/penilai", data={"nip": kabid.nip},
                        follow_redirects=False)
    assert r.status_code == 303
    env.client.post(f"{ppk}/bawahan/{extra.id}/tetapkan")
    with session_scope(env.rt.engine) as s:
        forms_360 = {t.id: t.pegawai_id for t in s.execute(select(Task).where(
            Task.kind == TaskKind.ISI_360)).scalars()}
        units = list(s.execute(select(Unit.id)).scalars())
        everyone = list(s.execute(select(Pegawai)).scalars())
    with session_scope(env.rt.engine) as s:  # kabid had finished: the task reopened
        status = dict(s.execute(select(Task.pegawai_id, Task.status).where(
            Task.kind == TaskKind.ISI_360)).all())
    assert status[kabid.id] == "open" and status[finisher] == "done"
    during = _digests(env)
    env.clock.advance(days=1)
    _close(env, case.cycle_id)
    after = _digests(env)
    assert during and after, "nobody got a digest"
    env.login()
    outputs = _hr_outputs(env, case.cycle_id, units, everyone)

    # 1. HR never sees an answer, neither does anyone in a digest
    for where, body in outputs + [(f"ringkasan ke {pid}", text) for pid, text in during + after]:
        for secret in secrets:
            assert secret not in body, (where, secret)
    # 2. the audit log has no trace of a 360 form: nothing about the assignments or answers,
    #    nothing done through a rater's 360 link, no state of a rater's 360 task
    entries = json.loads(next(b for w, b in outputs if w.startswith("/api/v1/audit?")))["entries"]
    assert entries, "the audit log is empty"
    for e in entries:
        assert e["entity"] not in ("penilai360", "jawaban360"), e
        assert not (e["entity"] == "task" and e["entity_id"] in forms_360), e
        assert e["via"] not in {f"tautan:task:{tid}" for tid in forms_360}, e
    # 3. no output lists who answered: the drill-down and the person's tasks show no rater's
    #    360 task as done (they show who still has forms, to chase them)
    for where, body in outputs:
        if where.startswith("/api/v1/cycles/") and "/unit/" in where:
            rows = json.loads(body)["tugas"]
            assert not [x for x in rows if x["jenis"] == "isi_360" and x["status"] == "done"], \
                where
        if where.startswith("/api/v1/pegawai/"):
            done = [t for t in json.loads(body)["tugas"]
                    if t["kind"] == "isi_360" and t["status"] == "done"]
            assert not done, where
    # 4. and the block approach of test_umpan_balik on every page: where anything about the
    #    360 results shows, no rater's name or NIP next to it
    raters = [people[rid] for rid in set(of_staf1) | {kabid.id}]
    for where, body in outputs:
        for part in body.split('<div class="card'):
            if any(s in part for s in secrets):
                for p in raters:
                    assert p.nama not in part and p.nip not in part, where
    # the digest a rated person reads names none of their raters
    for pid, text in during + after:
        if pid == staf1.id:
            for rid in of_staf1:
                if rid != staf1.id:
                    assert people[rid].nama not in text, (pid, people[rid].nama)
    # the pages a rater's own link shows still work (nothing above broke the stage)
    assert env.client.get(path_of(_link(env, staf1, "undangan_umpan_balik"))).status_code == 200

