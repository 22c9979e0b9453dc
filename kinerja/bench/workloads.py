"""The workloads: launch, dispatch, reminder sweep, orchestration overhead (one process each)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
from sqlalchemy import func, insert, select

from kinerja.bench.common import Figure, peak_rss_children_mb, peak_rss_mb
from kinerja.runtime import Runtime
from models.db import refresh_statistics, session_scope
from models.repo import planning
from models.repo.cycles import create_cycle, get_cycle, get_stage
from models.repo.people import active_pegawai_ids
from models.rules import calendar
from models.rules.enums import NilaiBerakhlak, OutboxStatus, SkpStatus, StageCode, TaskKind, TaskStatus
from models.tables import OutboxMessage, Perilaku, Skp, Task
from notifications.mime import build_mime


def new_cycle(rt: Runtime, year: int) -> int:
    with session_scope(rt.engine) as s:
        cycle = create_cycle(session=s, tahun=year, now=rt.clock.now(), actor="bench",
                             planning=calendar.compressed_planning(rt.clock.now(), 1000))
        cycle.status = "launched"
        return cycle.id


def open_direct(rt: Runtime, cycle_id: int) -> float:
    """Open planning by calling the chunk function directly (no Prefect); seconds."""
    start = time.perf_counter()
    with session_scope(rt.engine) as s:
        ids = active_pegawai_ids(session=s)
    for i in range(0, len(ids), rt.prefect.chunk_size):
        with session_scope(rt.engine) as s:
            planning.open_planning_chunk(
                session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
                stage=get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN),
                pegawai_ids=ids[i:i + rt.prefect.chunk_size], now=rt.clock.now(),
                links=rt.links, agency=rt.api.agency_name)
    refresh_statistics(rt.engine)  # as the flow does at its end
    return time.perf_counter() - start


def push_prebuilt(port: int, n: int) -> float:
    """Baseline (a), the limit: n pre-built messages over one aiosmtplib connection; msgs/s."""
    mime = build_mime(key="bench", sender="Kinerja <kinerja@localhost>",
                      to=("Pegawai", "pegawai@contoh.go.id"), subject="Undangan",
                      text="x" * 900, html="<p>" + "x" * 2500 + "</p>", date=datetime.now(UTC))

    async def run() -> float:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        start = time.perf_counter()
        for _ in range(n):
            await client.sendmail("kinerja@localhost", ["pegawai@contoh.go.id"], mime)
        elapsed = time.perf_counter() - start
        await client.quit()
        return n / elapsed
    return asyncio.run(run())


def bulk_insert_rows(rt: Runtime, year: int) -> float:
    """Baseline (a): the rows a launch writes, inserted with one statement per table; seconds."""
    cycle_id = new_cycle(rt, year)
    now = rt.clock.now()
    with session_scope(rt.engine) as s:
        ids = active_pegawai_ids(session=s)
    start = time.perf_counter()
    with session_scope(rt.engine) as s:
        skp_ids = list(s.execute(insert(Skp).returning(Skp.id, sort_by_parameter_order=True), [
            {"cycle_id": cycle_id, "pegawai_id": p, "status": SkpStatus.DRAF, "submissions": 0,
             "escalated_submission": 0, "created_at": now, "updated_at": now, "version": 1}
            for p in ids]).scalars())
        s.execute(insert(Perilaku), [{"skp_id": k, "nilai": v, "ekspektasi_khusus": None}
                                     for k in skp_ids for v in NilaiBerakhlak])
        s.execute(insert(Task), [{"cycle_id": cycle_id, "kind": TaskKind.SUSUN_SKP, "pegawai_id": p,
                                  "status": TaskStatus.OPEN, "due_at": now, "created_at": now,
                                  "reminders_sent": 0, "next_reminder_at": None} for p in ids])
        s.execute(insert(OutboxMessage), [{
            "key": f"bulk:{cycle_id}:{p}", "kind": "undangan_skp", "to_email": "x@contoh.go.id",
            "pegawai_id": p, "language": "id", "context": {}, "status": OutboxStatus.SENT,
            "attempts": 0, "next_attempt_at": now, "last_error": None, "created_at": now,
            "sent_at": now} for p in ids])
    return time.perf_counter() - start


def dispatch(rt: Runtime) -> tuple[float, int]:
    """The dispatcher as the kirim-email flow runs it (over several processes when much is due)."""
    from notifications.dispatch import dispatch_parallel
    from notifications.mailer import SmtpMailer

    start = time.perf_counter()
    report = asyncio.run(dispatch_parallel(engine=rt.engine, url=rt.db.url,
                                           mailer=SmtpMailer(rt.smtp), smtp=rt.smtp,
                                           now=rt.clock.now(), limit=10**8))
    return time.perf_counter() - start, report.sent


def launch(rt: Runtime, n: int, port: int) -> list[Figure]:
    """Open planning and deliver every invitation, through the real Prefect flows."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.common import use_runtime
    from flows.outbox import dispatch_outbox
    from flows.planning import open_planning

    cycle_id = new_cycle(rt, 2031)
    with prefect_test_harness(server_startup_timeout=60), use_runtime(rt):
        start = time.perf_counter()
        open_planning(cycle_id)
        opened = time.perf_counter() - start
        sent = dispatch_outbox(limit=10**8)["sent"]
        total = time.perf_counter() - start
        rss = peak_rss_mb()  # before the baselines, which hold their rows in memory
        helpers = peak_rss_children_mb()  # the dispatch's helper processes, ended by now
        obvious = obvious_launch(rt, min(n, 200), port)
    rows = bulk_insert_rows(rt, 2032)
    limit = push_prebuilt(port, n)
    return [
        Figure("launch.total", n, total, "s", rows + n / limit, "bulk insert + pre-built push"),
        Figure("launch.open_planning", n, opened, "s", rows, "bulk insert, one statement a table"),
        Figure("launch.delivered_rate", n, sent / total, "msg/s", limit,
               "pre-built messages, one aiosmtplib connection"),
        Figure("launch.per_employee", n, 1000 * total / n, "ms", 1000 * obvious,
               f"one Prefect task per employee + EmailMessage (n={min(n, 200)})"),
        Figure("launch.peak_rss", n, rss, "MB"),
        Figure("launch.peak_rss_dispatch_helpers", n, helpers, "MB", None,
               "largest helper process of the dispatch (0: it ran in one process)"),
    ]


def obvious_launch(rt: Runtime, n: int, port: int) -> float:
    """Baseline (b): one Prefect task per employee building a stdlib EmailMessage; s/employee."""
    from prefect import flow, task

    @task
    def one(i: int) -> None:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "kinerja@localhost", f"p{i}@contoh.go.id", "SKP"
        msg.set_content("x" * 900)
        msg.add_alternative("<p>" + "x" * 2500 + "</p>", subtype="html")
        asyncio.run(aiosmtplib.send(msg, hostname="127.0.0.1", port=port, start_tls=False))

    @flow
    def obvious(count: int) -> None:
        for i in range(count):
            one(i)

    start = time.perf_counter()
    obvious(n)
    return (time.perf_counter() - start) / n


def dispatch_only(rt: Runtime, n: int, port: int) -> list[Figure]:
    cycle_id = new_cycle(rt, 2031)
    open_direct(rt, cycle_id)
    elapsed, sent = dispatch(rt)
    limit = push_prebuilt(port, n)
    return [Figure("dispatch.rate", n, sent / elapsed, "msg/s", limit,
                   "pre-built messages, one aiosmtplib connection"),
            Figure("dispatch.peak_rss", n, peak_rss_mb(), "MB")]


def warm_up_server() -> None:
    """One trivial flow run, from another process, against the temporary Prefect server just
    started: a production server has served runs before. A fresh server answered the first
    run's two creating calls (POST /flows/, /flow_runs/) in 0.36 s more than later ones (0.5 s
    in all, 2026-11-24 profile at 10,000), which was most of the difference between the first
    and the second run through Prefect. This process stays cold (its client, the flows'
    imports), as a worker's is."""
    from prefect.settings import PREFECT_API_URL

    code = ("from prefect import flow\n"
            "@flow(name='pemanasan-server')\n"
            "def warm() -> None:\n    pass\n"
            "warm()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120,
                          env=dict(os.environ, PREFECT_API_URL=str(PREFECT_API_URL.value())))
    if done.returncode != 0:
        raise RuntimeError(f"warming the Prefect server failed: {done.stderr[-2000:]}")


def overhead(rt: Runtime, n: int, port: int) -> list[Figure]:
    """Opening planning through Prefect against the same functions called directly.

    Each cycle opened adds its rows (SKPs, tasks, outbox, audit) to the same tables, and the
    next opening is slower for it: at 10,000, directly, 1.45 s on empty tables and 2.78 s on
    the fourth cycle. So the two are measured in the order direct, Prefect, Prefect, direct and
    each averaged: both then ran on the same table sizes on average."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.common import use_runtime
    from flows.planning import open_planning

    def through(cycle_id: int) -> float:
        start = time.perf_counter()
        open_planning(cycle_id)
        return time.perf_counter() - start

    first = open_direct(rt, new_cycle(rt, 2031))
    with prefect_test_harness(server_startup_timeout=60), use_runtime(rt):
        warm_up_server()
        flows = [through(new_cycle(rt, year)) for year in (2032, 2033)]
    last = open_direct(rt, new_cycle(rt, 2034))
    direct = (first + last) / 2
    return [Figure("overhead.open_planning", n, sum(flows) / 2, "s", direct,
                   f"same functions, no Prefect (direct {first:.2f} / {last:.2f} s, through "
                   f"Prefect {flows[0]:.2f} / {flows[1]:.2f} s, in that order)")]


#: the other open tasks each employee holds in the sweep workload (with their SKP task: 10)
OTHER_OPEN = ([(TaskKind.ISI_REALISASI, p) for p in range(1, 7)]
              + [(TaskKind.USUL_PENILAI, 0), (TaskKind.ISI_360, 0), (TaskKind.KOMPETENSI, 0)])


def _other_open_tasks(rt: Runtime, cycle_id: int) -> None:
    """Nine more open tasks per employee, of later stages: due months later, their first
    reminder not come yet (rows as the stages write them, inserted in bulk)."""
    now = rt.clock.now()
    with session_scope(rt.engine) as s:
        ids = active_pegawai_ids(session=s)
    for n, (kind, periode) in enumerate(OTHER_OPEN, start=1):  # a slice at a time: the
        due = now + timedelta(days=30 * n)  # workload's peak RSS is the sweep's, not this
        for i in range(0, len(ids), 20000):
            with session_scope(rt.engine) as s:
                s.execute(insert(Task), [
                    {"cycle_id": cycle_id, "kind": kind, "pegawai_id": pid, "periode": periode,
                     "status": TaskStatus.OPEN, "due_at": due, "created_at": now,
                     "reminders_sent": 0, "next_reminder_at": due - timedelta(days=3)}
                    for pid in ids[i:i + 20000]])


def sweep(rt: Runtime, n: int, port: int) -> list[Figure]:
    """The hourly reminder sweep (the kirim-pengingat flow) over 10 open tasks per employee:
    when nothing is due, and at the planning deadline's reminder (one per employee due, the
    PPKs' too)."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.common import use_runtime
    from flows.reminders import send_reminders
    from models.rules.calendar import StageDates

    start = rt.clock.now()
    with session_scope(rt.engine) as s:
        cycle = create_cycle(session=s, tahun=2031, now=start, actor="bench", planning=StageDates(
            StageCode.PERENCANAAN, start, start + timedelta(days=10), start + timedelta(days=14),
            start + timedelta(days=20)))
        cycle.status = "launched"
        cycle_id = cycle.id
    open_direct(rt, cycle_id)
    _other_open_tasks(rt, cycle_id)
    with session_scope(rt.engine) as s:
        stage = get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
        stage.opened_at = start
        due = stage.due_at
        open_tasks = s.execute(select(func.count()).select_from(Task).where(
            Task.status == TaskStatus.OPEN)).scalar_one()

    def run(at: datetime) -> tuple[float, int]:
        began = time.perf_counter()
        totals = send_reminders(now=at.isoformat())
        return time.perf_counter() - began, totals["reminders"]

    with prefect_test_harness(server_startup_timeout=60), use_runtime(rt):
        run(start + timedelta(minutes=30))  # the process's first flow run imports and connects
        idle, quiet = run(start + timedelta(hours=1))
        # a day before the deadline: the second reminder, for everyone who has not submitted
        busy, sent = run(due - timedelta(days=1) + timedelta(minutes=1))
    return [Figure("sweep.nothing_due", open_tasks, idle, "s", None,
                   f"kirim-pengingat flow, {quiet} reminders"),
            Figure("sweep.deadline_reminders", open_tasks, busy, "s", None,
                   f"kirim-pengingat flow, {sent} reminders queued"),
            Figure("sweep.deadline_reminder_rate", open_tasks, sent / busy, "reminders/s"),
            Figure("sweep.peak_rss", open_tasks, peak_rss_mb(), "MB")]


def scoring(rt: Runtime, n: int, port: int) -> list[Figure]:
    """Final scoring of everyone with the curve check per unit, database read and write
    included; baseline: the same predikat and curve computation over in-memory lists."""
    import random

    from models.repo import penilaian
    from models.rules import scoring as rules
    from models.rules.enums import OrgGrade, Predikat, Rating
    from models.tables import NilaiUnit, Pegawai, PenilaianTahunan, Unit

    cycle_id = new_cycle(rt, 2032)
    rng = random.Random(7)
    ratings = list(Rating)
    now = rt.clock.now()
    with session_scope(rt.engine) as s:
        people = s.execute(select(Pegawai.id, Pegawai.unit_id).where(Pegawai.active)).all()
        skp_ids = planning._insert_returning(s, Skp, [
            {"cycle_id": cycle_id, "pegawai_id": pid, "status": SkpStatus.DISETUJUI,
             "submissions": 1, "escalated_submission": 0, "approved_at": now, "created_at": now,
             "updated_at": now, "version": 1, "revisi": 0} for pid, _ in people])
        s.execute(insert(PenilaianTahunan), [
            {"skp_id": sid, "cycle_id": cycle_id, "hasil_kerja": rng.choice(ratings),
             "perilaku": rng.choice(ratings), "status": "draf", "version": 1,
             "sumber_hasil_kerja": "ppk"} for sid in skp_ids])
        units = s.execute(select(Unit.id)).scalars().all()
        s.execute(insert(NilaiUnit), [{"cycle_id": cycle_id, "unit_id": u,
                                       "grade": rng.choice(list(OrgGrade)),
                                       "ditetapkan_oleh": "bench", "ditetapkan_at": now}
                                      for u in units])
        pairs = s.execute(select(PenilaianTahunan.hasil_kerja, PenilaianTahunan.perilaku)).all()
        grades = dict(s.execute(select(NilaiUnit.unit_id, NilaiUnit.grade)).all())
    by_unit: dict[int, list[tuple[str, str]]] = {}
    for (uid, (hk, pk)) in zip((u for _, u in people), pairs, strict=True):
        by_unit.setdefault(uid, []).append((hk, pk))
    start = time.perf_counter()  # the limit: the same rules over lists already in memory
    for uid, items in by_unit.items():
        preds = [rules.predikat(Rating(hk), Rating(pk)) for hk, pk in items]
        rules.check_distribution(OrgGrade(grades[uid]), [Predikat(p) for p in preds])
    in_memory = time.perf_counter() - start
    start = time.perf_counter()
    with session_scope(rt.engine) as s:
        report = penilaian.final_scoring(session=s, cycle=get_cycle(session=s, cycle_id=cycle_id),
                                         now=now, console_link="bench", mail=rt.mail)
        breaking = sum(1 for u in report.data["units"] if u["pelanggaran"])
    full = time.perf_counter() - start
    return [Figure("scoring.final", len(people), full, "s", in_memory,
                   f"baseline: rules in memory; {breaking}/{len(units)} units break their curve"),
            Figure("scoring.peak_rss", len(people), peak_rss_mb(), "MB")]


WORKLOADS = {"launch": launch, "dispatch": dispatch_only, "overhead": overhead, "sweep": sweep,
             "scoring": scoring}
