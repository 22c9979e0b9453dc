"""Privacy of what Prefect keeps: a small organisation goes through its year on the real flows
(planning, the monitoring periods, 360 feedback, the annual rating, the paused publication
decision, the appeal window, the daily digest, reminders, the outbox), then every flow run,
task run, log line and artifact the Prefect server holds for those runs is read back and
searched for each person's name, email and NIP, the HR admin's identity and every 360 answer,
note and appeal text written during the year. Artifacts hold counts per unit only."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from flows.common import use_runtime
from flows.digest import send_digests
from flows.keberatan import close_appeals_flow
from flows.orchestrator import orchestrate_once
from flows.outbox import dispatch_outbox
from flows.penilaian import publication_decision
from flows.planning import close_planning, open_planning
from flows.reminders import send_reminders
from kinerja.clock import FixedClock
from models.db import session_scope
from models.repo import keberatan, umpan_balik
from models.repo.hr import create_hr_user
from models.rules.enums import JenisIki, JenisRhk, NilaiBerakhlak, Ringkasan, SkpStatus
from models.tables import (
    AuditLog,
    CycleStage,
    Iki,
    Jawaban360,
    Pegawai,
    PenilaianTahunan,
    Rhk,
    Skp,
    SkpVersi,
    Unit,
)
from tests.api.period_setup import approved_cycle
from tests.factories import T0, make_pegawai, runtime_for
from tests.production.invariants import audit_complete, tasks_valid

# what it reads is Prefect's own store, the same whichever database the app uses
pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.sqlite_only]

#: names nobody else in the test suite uses, so any hit is one of these people
PEOPLE = {
    "kadis": ("Wirasena Pramudyawardhani", "197001012000031901"),
    "kabid": ("Gumilang Sastrokusumo", "197202022001032902"),
    "kasi": ("Retnaningtyas Purbasari", "197503032002042903"),
    "staf1": ("Yohanes Manuputty Lessil", "198004042005011904"),
    "staf2": ("Ni Komang Ayu Saraswati", "198505052010012905"),
}
EXTRA = [("Theresia Kolibonso Dapa", "199006062015032906"),
         ("Bonifasius Hutagalung", "199107072016031907"),
         ("Anggraeni Cahyaningrum", "199208082017022908")]
HR_USER = ("adm.sukmawijaya", "Sukmawijaya Adinegoro", "sukmawijaya.adinegoro@bkpsdm.test")
KEBERATAN_TEXT = "Alasan keberatan privasi QZ-ALASAN-3141 mohon ditinjau ulang"
CATATAN_TAHUNAN = "Catatan tahunan privasi QZ-CATATAN-2718"


def _email(nama: str) -> str:
    return ".".join(nama.lower().split()[:2]) + "@privasi.test"


def _complete_skp(s, cycle_id: int, p: Pegawai, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """An approved SKP with one RHK and one IKI, like period_setup.approved_cycle's."""
    skp = Skp(cycle_id=cycle_id, pegawai_id=p.id, status=SkpStatus.DISETUJUI, approved_at=now,
              approved_by_id=p.atasan_id, created_at=now, updated_at=now, submissions=1)
    s.add(skp)
    s.flush()
    rhk = Rhk(skp_id=skp.id, jenis=JenisRhk.UTAMA, uraian="Layanan administrasi")
    s.add(rhk)
    s.flush()
    s.add(Iki(rhk_id=rhk.id, indikator="Kualitas layanan", target="Sesuai standar",
              satuan="layanan", jenis=JenisIki.KUALITATIF))
    s.add(SkpVersi(skp_id=skp.id, nomor=1, approved_at=now, data={"rhk": []}))


@pytest.fixture
def year(db: Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FixedClock(T0)
    rt = runtime_for(db, tmp_path, clock)
    with session_scope(db) as s:
        create_hr_user(session=s, username=HR_USER[0], password="x" * 12, nama=HR_USER[1],
                       email=HR_USER[2], now=T0)
    case = approved_cycle(rt, open_first=False)
    with session_scope(db) as s:
        for key, (nama, nip) in PEOPLE.items():
            p = s.get(Pegawai, case.org[key].id)
            p.nama, p.nip, p.email = nama, nip, _email(nama)
        kasi = s.get(Pegawai, case.org["kasi"].id)
        for nama, nip in EXTRA:
            p = make_pegawai(s, s.get(Unit, kasi.unit_id), nama=nama, nip=nip,
                             email=_email(nama), atasan_id=kasi.id)
            _complete_skp(s, case.cycle_id, p, T0)
        # someone in digest mode, so the daily digest has something to say
        for key in ("staf1", "kasi"):
            s.get(Pegawai, case.org[key].id).ringkasan = Ringkasan.HARIAN
        late = Unit(nama="Dinas Pertanian")  # a late joiner with no SKP: named in no report
        s.add(late)
        s.flush()
        make_pegawai(s, late, nama="Fransiska Wulandari Lamuri", nip="199309092018012909",
                     email=_email("Fransiska Wulandari Lamuri"), atasan_id=case.org["kadis"].id)
    with use_runtime(rt):
        yield rt, clock, case


def _answer_all_forms(rt, cycle_id: int, at: datetime, comments: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Every PPK confirms, then every rater answers every form with a distinctive comment."""
    values = ["sesuai", "di_atas", "sesuai", "di_bawah", "sesuai", "di_atas", "sesuai"]
    with session_scope(rt.engine) as s:
        from models.tables import Cycle

        cycle = s.get(Cycle, cycle_id)
        stage = umpan_balik.get_stage(session=s, cycle_id=cycle_id)
        umpan_balik.confirm(session=s, cycle=cycle, stage=stage, now=at, mail=rt.mail,
                            dinilai_ids=umpan_balik.participants(session=s, cycle_id=cycle_id))
        raters = sorted(set(s.execute(select(Pegawai.id)).scalars()))
        for rater in raters:
            for form in umpan_balik.forms_of(session=s, cycle_id=cycle_id, penilai_id=rater):
                text = f"Komentar rahasia QZ-360-{len(comments):03d} sangat teliti"
                comments.append(text)
                umpan_balik.answer(
                    session=s, stage=stage, form=form, now=at,
                    values={v.value: values[n] for n, v in enumerate(NilaiBerakhlak)},
                    comments={NilaiBerakhlak.AKUNTABEL.value: text})
            umpan_balik.finish_if_done(session=s, cycle_id=cycle_id, penilai_id=rater, now=at)


def _rate_the_year(rt) -> None:  # type: ignore[no-untyped-def]
    with session_scope(rt.engine) as s:
        for n, rec in enumerate(s.execute(select(PenilaianTahunan)).scalars()):
            rec.hasil_kerja = "Di Atas Ekspektasi" if n == 0 else "Sesuai Ekspektasi"
            rec.perilaku = "Sesuai Ekspektasi"
            rec.catatan = CATATAN_TAHUNAN


def _publish_through_the_paused_run(cycle_id: int) -> None:
    """The console's path: the decision run pauses, HR resumes it with the decision."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    from api.launcher import PrefectLauncher

    outcome: list[str] = []
    runner = threading.Thread(target=lambda: outcome.append(publication_decision(cycle_id)),
                              daemon=True)
    runner.start()
    name = f"keputusan-publikasi-siklus-{cycle_id}"
    for _ in range(120):
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=[name])), limit=1, sort=FlowRunSort.ID_DESC)
        if runs and runs[0].state and runs[0].state.is_paused():
            break
        time.sleep(0.25)
    assert asyncio.run(PrefectLauncher().resume_publication(cycle_id, f"hr:{HR_USER[0]}"))
    runner.join(120)
    assert outcome == ["dipublikasikan"]


def _run_the_year(rt, clock, case) -> list[str]:  # type: ignore[no-untyped-def]
    """Drive the year through the flows; returns the 360 comments written."""
    cid = case.cycle_id
    comments: list[str] = []
    open_planning(cid, now=T0.isoformat())  # the late joiner gets a draft SKP
    close_planning(cid, now=T0.isoformat())  # ...and is reported (by name, to HR, by email)
    at, answered, rated, swept = T0, False, False, False
    while (nxt := orchestrate_once(cid, at)) is not None:
        with session_scope(rt.engine) as s:
            stages = {(st.code, st.periode): st for st in s.execute(
                select(CycleStage).where(CycleStage.cycle_id == cid)).scalars()}
        feedback, annual = stages[("umpan_balik", 0)], stages[("penilaian", 0)]
        if not swept and stages[("pemantauan", 1)].opened_at is not None:
            swept = True
            send_reminders(now=(at + timedelta(minutes=1)).isoformat())
            send_digests(now=(at + timedelta(minutes=2)).isoformat())
        if not answered and feedback.opened_at is not None and feedback.closed_at is None:
            answered = True
            _answer_all_forms(rt, cid, at, comments)
        if not rated and annual.opened_at is not None and annual.closed_at is None:
            rated = True
            _rate_the_year(rt)
        at = nxt
    assert swept and answered and rated
    clock.at = at
    _publish_through_the_paused_run(cid)
    with session_scope(rt.engine) as s:  # one pegawai objects, with reasons
        hasil = keberatan.hasil_of(session=s, cycle_id=cid, pegawai_id=case.org["staf2"].id)
        keberatan.file_keberatan(session=s, hasil=hasil, alasan=KEBERATAN_TEXT, now=at,
                                 mail=rt.mail)
        window = keberatan.keberatan_stage(session=s, cycle_id=cid)
        closes = window.closes_at
    send_reminders(now=(at + timedelta(hours=1)).isoformat())
    close_appeals_flow(cid, now=(closes + timedelta(minutes=1)).isoformat())
    dispatch_outbox(now=(closes + timedelta(minutes=2)).isoformat())
    with session_scope(rt.engine) as s:  # the answers are there, with their comments
        stored = set(s.execute(select(Jawaban360.komentar).where(
            Jawaban360.komentar.is_not(None))).scalars())
    assert comments and stored == set(comments)
    return comments


def _needles(rt) -> list[str]:  # type: ignore[no-untyped-def]
    """Every person's name, email and NIP (and the parts of a name), the HR admin's."""
    with session_scope(rt.engine) as s:
        people = list(s.execute(select(Pegawai.nama, Pegawai.email, Pegawai.nip)).all())
    out = {HR_USER[0], HR_USER[1], HR_USER[2]}
    for nama, email, nip in people:
        out |= {nama, email, nip, email.split("@")[0]}
        out |= {part for part in nama.split() if len(part) >= 6}  # a surname alone
    return sorted(out)


def _collect(since: datetime) -> tuple[list[tuple[str, str]], list[dict]]:  # type: ignore[type-arg]
    """(where, text) of every flow run, task run, log and artifact since `since`, and the
    table artifacts' rows."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterStartTime,
        LogFilter,
        LogFilterFlowRunId,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
    )
    from prefect.client.schemas.sorting import FlowRunSort, LogSort, TaskRunSort

    texts: list[tuple[str, str]] = []
    tables: list[dict] = []  # type: ignore[type-arg]
    with get_client(sync_client=True) as client:
        runs, offset = [], 0
        while batch := client.read_flow_runs(flow_run_filter=FlowRunFilter(
                start_time=FlowRunFilterStartTime(after_=since)), sort=FlowRunSort.ID_DESC,
                limit=200, offset=offset):
            runs += batch
            offset += len(batch)
        ids: list[UUID] = [r.id for r in runs]
        assert ids, "no flow runs were recorded"
        for r in runs:
            texts.append((f"flow run {r.name}", r.model_dump_json()))
            texts.append((f"flow run input {r.name}", json.dumps(r.parameters, default=str)))
        offset = 0
        while batch := client.read_task_runs(task_run_filter=TaskRunFilter(
                flow_run_id=TaskRunFilterFlowRunId(any_=ids)), sort=TaskRunSort.ID_DESC,
                limit=200, offset=offset):
            texts += [(f"task run {t.name}", t.model_dump_json()) for t in batch]
            offset += len(batch)
        offset = 0
        while batch := client.read_logs(log_filter=LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=ids)), sort=LogSort.TIMESTAMP_ASC,
                limit=200, offset=offset):
            texts += [(f"log of {lg.flow_run_id}", lg.message) for lg in batch]
            offset += len(batch)
        offset = 0  # raw: this client sends null for the filters it was not given
        while batch := client._client.post("/artifacts/filter", json={
                "artifacts": {"flow_run_id": {"any_": [str(i) for i in ids]}},
                "sort": "ID_DESC", "limit": 200, "offset": offset}).raise_for_status().json():
            for a in batch:
                texts.append((f"artifact {a['key'] or a['id']} ({a['type']})", json.dumps(a)))
                if a["type"] == "table":
                    data = json.loads(a["data"]) if isinstance(a["data"], str) else a["data"]
                    tables.append({"key": a["key"], "rows": data})
            offset += len(batch)
    return texts, tables


def test_a_year_on_the_flows_leaves_no_personal_data_in_prefect(year) -> None:  # type: ignore[no-untyped-def]
    rt, clock, case = year
    # this test's runs only: the previous test's last run may have started a moment ago (the
    # Prefect server stamps start times from this machine's clock)
    since = datetime.now(UTC)
    comments = _run_the_year(rt, clock, case)
    texts, tables = _collect(since)
    for kind in ("flow run ", "task run ", "log of ", "artifact "):
        assert any(where.startswith(kind) for where, _ in texts), f"nothing read: {kind}"
    needles = _needles(rt) + comments + [KEBERATAN_TEXT, CATATAN_TAHUNAN]
    flat = [(where, text.lower(), re.sub(r"\s+", "", text)) for where, text in texts]
    hits = [(needle, where) for needle in needles for where, low, packed in flat
            if needle.lower() in low or (needle.isdigit() and needle in packed)]
    assert not hits, f"personal data in Prefect: {hits[:10]}"
    # the flows ran and published: every stage's table, the digest's, the appeals'
    keys = {t["key"] for t in tables}
    for prefix in ("perencanaan-siklus-", "pemantauan-1-siklus-", "umpan-balik-siklus-",
                   "penilaian-dibuka-siklus-", "penilaian-siklus-", "keberatan-siklus-",
                   "predikat-unit-siklus-", "ringkasan-harian"):
        assert any(k and k.startswith(prefix) for k in keys), (prefix, keys)
    # counts per unit only: a cell is a number, a unit's name, or a fixed label
    with session_scope(rt.engine) as s:
        units = set(s.execute(select(Unit.nama)).scalars())
    for table in tables:
        for row in table["rows"]:
            for column, value in row.items():
                if isinstance(value, int | float) or value is None:
                    continue
                assert isinstance(value, str), (table["key"], column, value)
                assert value in units or column in _LABEL_COLUMNS, (table["key"], column, value)
                assert not re.search(r"\d{8,}|@", value), (table["key"], column, value)
    # the same year, seen from the app's database: every task in a valid state, and every state
    # a task, SKP, annual result or keberatan reached has its audit line, including what the
    # stage flows change in bulk (tasks cancelled at a stage's close, results published and
    # made final); a rater's 360 task is the designed exception (tests/production/invariants.py)
    assert tasks_valid(rt.engine) == []
    # (the fixture writes the SKPs approved, without the path that would log it)
    assert audit_complete(rt.engine, ("task", "penilaian_tahunan", "keberatan")) == []
    with session_scope(rt.engine) as s:
        bulk = s.execute(select(func.count()).select_from(AuditLog).where(
            AuditLog.entity == "task", AuditLog.actor.like("flow:%"))).scalar_one()
    assert bulk > 0


#: columns of the table artifacts that hold a label, not a person (a grade, a curve breach)
_LABEL_COLUMNS = {"nilai unit", "pelanggaran", "diterima HR"}

