"""dispatch_due against the test database, with a real SMTP server or the recording mailer."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.db import session_scope
from models.repo.outbox import enqueue_messages
from models.rules.enums import OutboxStatus
from models.tables import OutboxMessage
from notifications.dispatch import CLAIM_SECONDS, dispatch_due, requeue_parked
from notifications.mailer import OutgoingMessage, RecordingMailer, SendOutcome, SmtpMailer
from tests.integration.test_smtp_mailer import ScriptedHandler, free_port, settings, smtp_server
from tests.unit.test_notifications_render import context_for

T0 = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)


def queue(engine: Engine, names: list[str], *, now: datetime = T0, kind: str = "undangan_skp",
          **context: Any) -> list[str]:
    """Queue one message per name (to name@contoh.go.id); returns their keys."""
    rows = [{"key": f"invite:1:{name}", "kind": kind, "to_email": f"{name}@contoh.go.id",
             "language": "en" if name.startswith("en") else "id",
             "context": context_for(kind, nama=name.title(), link=f"https://k.example/t/{name}",
                                    **context)} for name in names]
    with session_scope(engine) as session:
        enqueue_messages(session=session, messages=rows, now=now)
    return [r["key"] for r in rows]


def outbox(engine: Engine) -> dict[str, OutboxMessage]:
    with session_scope(engine) as session:
        return {m.key: m for m in session.execute(select(OutboxMessage)).scalars()}


def smtp(port: int = 0, **overrides: Any) -> Any:
    return settings(port or free_port(), **{"batch_size": 3, "retry_base_seconds": 60,
                                            "max_attempts": 6, **overrides})


async def test_queued_messages_are_delivered_exactly_once(db: Engine) -> None:
    keys = queue(db, ["budi", "siti", "andi", "dewi", "enrico", "rina", "yani"])
    handler = ScriptedHandler()
    with smtp_server(handler) as port:
        cfg = smtp(port)
        first = await dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg, now=T0)
        again = await dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg,
                                   now=T0 + timedelta(days=1))
    assert (first.sent, first.retried, first.parked, first.remaining) == (7, 0, 0, 0)
    assert (again.sent, again.retried, again.parked) == (0, 0, 0)
    assert sorted(handler.keys()) == sorted(keys)
    rows = outbox(db)
    assert {m.status for m in rows.values()} == {OutboxStatus.SENT}
    assert {m.sent_at for m in rows.values()} == {T0} and {m.attempts for m in rows.values()} == {1}
    enrico = next(m for m in handler.received if m["X-Kinerja-Key"] == "invite:1:enrico")
    assert enrico["To"].addresses[0].display_name == "Enrico"
    assert str(enrico["Subject"]).startswith("2027 SKP planning")


async def test_451_for_a_while_then_accepted(db: Engine) -> None:
    keys = queue(db, ["budi", "siti", "andi"])
    handler = ScriptedHandler(data_script=["451 4.3.0 mailbox busy, try later"] * 4)
    with smtp_server(handler) as port:
        cfg = smtp(port)

        async def run(at: datetime) -> tuple[int, int, int, int]:
            r = await dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg, now=at)
            return r.sent, r.retried, r.parked, r.remaining

        assert await run(T0) == (0, 3, 0, 0)
        rows = outbox(db)
        assert {m.status for m in rows.values()} == {OutboxStatus.QUEUED}
        assert {m.next_attempt_at for m in rows.values()} == {T0 + timedelta(seconds=60)}
        assert all("451 4.3.0" in (m.last_error or "") for m in rows.values())
        assert await run(T0 + timedelta(seconds=30)) == (0, 0, 0, 0)  # not due yet
        assert await run(T0 + timedelta(seconds=60)) == (2, 1, 0, 0)  # one more 451
        assert outbox(db)[keys[0]].next_attempt_at == T0 + timedelta(seconds=60 + 120)
        assert await run(T0 + timedelta(seconds=180)) == (1, 0, 0, 0)
        assert await run(T0 + timedelta(hours=7)) == (0, 0, 0, 0)
    assert sorted(handler.keys()) == sorted(keys)
    assert outbox(db)[keys[0]].attempts == 3


async def test_550_for_one_recipient_parks_only_that_one(db: Engine) -> None:
    keys = queue(db, ["budi", "ghost", "siti"])
    handler = ScriptedHandler(rcpt_replies={"ghost@contoh.go.id": "550 5.1.1 no such user"})
    with smtp_server(handler) as port:
        cfg = smtp(port)
        report = await dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg, now=T0)
        again = await dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg,
                                   now=T0 + timedelta(hours=1))
    assert (report.sent, report.retried, report.parked) == (2, 0, 1)
    assert again.sent + again.retried + again.parked == 0
    ghost = outbox(db)["invite:1:ghost"]
    assert ghost.status is OutboxStatus.PARKED and ghost.sent_at is None
    assert "550 5.1.1 no such user" in (ghost.last_error or "")
    assert sorted(handler.keys()) == sorted([keys[0], keys[2]])


async def test_connection_refused_retries_everything_later(db: Engine) -> None:
    keys = queue(db, ["budi", "siti", "andi", "dewi"])
    cfg = smtp()  # nothing listens on this port yet
    report = await dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg, now=T0)
    assert (report.sent, report.retried, report.parked, report.remaining) == (0, 4, 0, 0)
    rows = outbox(db)
    assert {m.status for m in rows.values()} == {OutboxStatus.QUEUED}
    assert {m.next_attempt_at for m in rows.values()} == {T0 + timedelta(seconds=60)}
    assert all(m.last_error for m in rows.values())

    handler = ScriptedHandler()
    with smtp_server(handler, port=cfg.port):
        later = await dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg,
                                   now=T0 + timedelta(minutes=1))
    assert (later.sent, later.retried, later.parked) == (4, 0, 0)
    assert sorted(handler.keys()) == sorted(keys)


async def test_a_message_that_cannot_be_rendered_is_parked_alone(db: Engine) -> None:
    queue(db, ["budi", "siti"])
    with session_scope(db) as session:
        enqueue_messages(session=session, now=T0, messages=[{
            "key": "broken:1", "kind": "skp_diajukan", "to_email": "x@contoh.go.id",
            "context": {"nama": "X"}}])
    mailer = RecordingMailer()
    report = await dispatch_due(engine=db, mailer=mailer, smtp=smtp(), now=T0)
    assert (report.sent, report.parked) == (2, 1)
    broken = outbox(db)["broken:1"]
    assert broken.status is OutboxStatus.PARKED
    assert "missing: agency_name, tahun, link, pegawai_nama" in (broken.last_error or "")
    assert sorted(m.key for m in mailer.sent) == ["invite:1:budi", "invite:1:siti"]


async def test_parked_after_max_attempts_then_requeued_by_hr(db: Engine) -> None:
    (key,) = queue(db, ["budi"])
    mailer = RecordingMailer()
    mailer.fail([key])
    cfg, at = smtp(max_attempts=3), T0
    decisions = []
    for _ in range(3):
        r = await dispatch_due(engine=db, mailer=mailer, smtp=cfg, now=at)
        decisions.append((r.retried, r.parked))
        at = outbox(db)[key].next_attempt_at
    assert decisions == [(1, 0), (1, 0), (0, 1)]
    parked = outbox(db)[key]
    assert parked.status is OutboxStatus.PARKED and parked.attempts == 3

    mailer.heal()
    later = T0 + timedelta(days=2)
    with session_scope(db) as session:
        assert requeue_parked(session=session, ids=[parked.id, 999_999], now=later) == 1
    with session_scope(db) as session:
        assert requeue_parked(session=session, ids=[parked.id], now=later) == 0  # queued now
    report = await dispatch_due(engine=db, mailer=mailer, smtp=cfg, now=later)
    assert report.sent == 1 and outbox(db)[key].status is OutboxStatus.SENT
    assert [m.key for m in mailer.sent] == [key]


async def test_limit_batches_and_remaining(db: Engine) -> None:
    queue(db, [f"p{i:02d}" for i in range(8)])
    queue(db, ["later"], now=T0 + timedelta(hours=1))
    mailer = RecordingMailer()
    report = await dispatch_due(engine=db, mailer=mailer, smtp=smtp(batch_size=3), now=T0,
                                limit=5)
    assert (report.sent, report.remaining) == (5, 3)
    assert mailer.batches == [["invite:1:p00", "invite:1:p01", "invite:1:p02"],
                              ["invite:1:p03", "invite:1:p04"]]
    rest = await dispatch_due(engine=db, mailer=mailer, smtp=smtp(batch_size=3), now=T0)
    assert (rest.sent, rest.remaining) == (3, 0)
    assert outbox(db)["invite:1:later"].status is OutboxStatus.QUEUED


async def test_a_failing_mailer_loses_nothing(db: Engine) -> None:
    queue(db, ["budi", "siti"])

    class Broken:
        async def send_batch(self, messages: list[OutgoingMessage]) -> list[SendOutcome]:
            raise RuntimeError("bug in the mailer")

    report = await dispatch_due(engine=db, mailer=Broken(), smtp=smtp(), now=T0)
    assert (report.sent, report.retried) == (0, 2)
    assert all("bug in the mailer" in (m.last_error or "") for m in outbox(db).values())


async def test_rows_in_flight_are_not_claimed_twice(db: Engine) -> None:
    """While one dispatcher waits on SMTP, another finds nothing to do (and is not blocked)."""
    keys = queue(db, ["budi", "siti"])
    release = asyncio.Event()
    entered = asyncio.Event()

    class Slow(RecordingMailer):
        async def send_batch(self, messages: list[OutgoingMessage]) -> list[SendOutcome]:
            entered.set()
            await release.wait()
            return await super().send_batch(messages)

    slow, quick = Slow(), RecordingMailer()
    first = asyncio.create_task(dispatch_due(engine=db, mailer=slow, smtp=smtp(), now=T0))
    await entered.wait()
    second = await dispatch_due(engine=db, mailer=quick, smtp=smtp(), now=T0)
    assert (second.sent, second.remaining) == (0, 0) and quick.batches == []
    claimed = outbox(db)
    assert {m.next_attempt_at for m in claimed.values()} == {T0 + timedelta(seconds=CLAIM_SECONDS)}
    release.set()
    assert (await first).sent == 2
    assert sorted(m.key for m in slow.sent) == sorted(keys)


def test_concurrent_dispatchers_send_each_message_once(db: Engine) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("several dispatchers at once are supported on PostgreSQL only")
    keys = queue(db, [f"p{i:03d}" for i in range(120)])
    mailers = [RecordingMailer() for _ in range(4)]
    barrier = threading.Barrier(len(mailers))
    errors: list[BaseException] = []

    def run(mailer: RecordingMailer) -> None:
        barrier.wait()
        try:
            asyncio.run(dispatch_due(engine=db, mailer=mailer, smtp=smtp(batch_size=7), now=T0))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,)) for m in mailers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sent = [m.key for mailer in mailers for m in mailer.sent]
    assert sorted(sent) == sorted(keys)
    assert {m.status for m in outbox(db).values()} == {OutboxStatus.SENT}


async def test_a_large_dispatch_spread_over_processes_sends_each_message_once(
        db: Engine, db_url: str) -> None:
    """dispatch_parallel: helper processes claim their own batches from the same outbox (on
    SQLite and PostgreSQL); every message goes out once and is recorded sent."""
    from notifications.dispatch import dispatch_parallel, processes_for

    keys = queue(db, [f"pegawai{i}" for i in range(60)])
    handler = ScriptedHandler()
    with smtp_server(handler) as port:
        cfg = smtp(port, processes=3, parallel_from=10, batch_size=4, connections=1)
        assert processes_for(cfg, db_url, 60) == 3
        report = await dispatch_parallel(engine=db, url=db_url, mailer=SmtpMailer(cfg), smtp=cfg,
                                         now=T0, limit=1000)
    assert (report.sent, report.retried, report.parked, report.remaining) == (60, 0, 0, 0)
    assert sorted(handler.keys()) == sorted(keys)  # once each: no key twice
    assert {m.status for m in outbox(db).values()} == {OutboxStatus.SENT}


def test_a_small_dispatch_or_a_private_database_stays_in_one_process() -> None:
    from notifications.dispatch import processes_for

    cfg = smtp(processes=4, parallel_from=5000)
    assert processes_for(cfg, "postgresql://x/kinerja", 4999) == 1
    assert processes_for(cfg, "postgresql://x/kinerja", 5000) == 4
    assert processes_for(cfg, "sqlite:///:memory:", 10**6) == 1
    assert processes_for(cfg, "sqlite://", 10**6) == 1
    assert processes_for(smtp(processes=0, parallel_from=1), "sqlite:///k.db", 10) >= 1


async def test_the_database_gone_after_the_smtp_server_accepted_sends_nothing_twice(
        db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restart between the SMTP server's acceptance and the write of the outcomes (seen in
    the soak year): the write waits for the database, so the batch is not sent again when its
    lease ends."""
    from sqlalchemy.exc import OperationalError

    import notifications.dispatch as dispatch

    keys = queue(db, ["budi", "siti", "andi", "dewi", "rina"])
    real, failures = dispatch._record, [2]

    def record_after_a_restart(engine: Engine, **kwargs: Any) -> None:
        if failures[0]:
            failures[0] -= 1
            raise OperationalError("UPDATE outboxmessage", {}, Exception(
                "terminating connection due to administrator command"))
        real(engine, **kwargs)

    monkeypatch.setattr(dispatch, "_record", record_after_a_restart)
    handler = ScriptedHandler()
    with smtp_server(handler) as port:
        cfg = smtp(port, batch_size=10)
        first = await dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg, now=T0)
        later = await dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg,
                                   now=T0 + timedelta(seconds=CLAIM_SECONDS + 60))
    assert failures == [0]  # the write did fail twice
    assert (first.sent, later.sent) == (5, 0)
    assert sorted(handler.keys()) == sorted(keys)  # once each
    assert {m.status for m in outbox(db).values()} == {OutboxStatus.SENT}


async def test_a_database_gone_for_longer_than_the_patience_fails_the_run(
        db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past RECORD_PATIENCE_SECONDS the run fails (Prefect shows it); the batch goes out again
    when its lease ends: at least once, never lost."""
    from sqlalchemy.exc import OperationalError

    import notifications.dispatch as dispatch

    queue(db, ["budi"])
    real = dispatch._record

    def down(engine: Engine, **kwargs: Any) -> None:
        raise OperationalError("UPDATE outboxmessage", {}, Exception("connection refused"))

    monkeypatch.setattr(dispatch, "RECORD_PATIENCE_SECONDS", 0.0)
    monkeypatch.setattr(dispatch, "_record", down)
    mailer = RecordingMailer()
    with pytest.raises(OperationalError):
        await dispatch_due(engine=db, mailer=mailer, smtp=smtp(), now=T0)
    monkeypatch.setattr(dispatch, "_record", real)
    again = await dispatch_due(engine=db, mailer=mailer, smtp=smtp(),
                               now=T0 + timedelta(seconds=CLAIM_SECONDS + 1))
    assert again.sent == 1 and [m.key for m in mailer.sent] == ["invite:1:budi"] * 2
