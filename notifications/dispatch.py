"""The outbox dispatcher: claim due messages, render and send them in batches, record outcomes.

Concurrency: a chunk is claimed in one short statement that moves the rows' next_attempt_at
forward by CLAIM_SECONDS (a lease) and returns them; on PostgreSQL the rows are picked with
FOR UPDATE SKIP LOCKED, so several dispatchers never claim the same row. No transaction is
open while SMTP is spoken; outcomes are written afterwards in a second short transaction. If
a dispatcher dies mid-batch, its claimed rows become due again when the lease ends and are
sent again (at least once; the Message-ID derived from the key lets mail clients fold a
duplicate). A database that is only gone for a while (a restart) is waited for before the
outcomes are written, so a batch the SMTP server accepted is not sent again.
On SQLite the claim's UPDATE takes the database's write lock and sees every
committed lease, so helper processes of one dispatch (dispatch_parallel) never share a row.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from kinerja.settings import SmtpSettings
from models.db import in_memory, session_scope
from models.rules.enums import OutboxStatus
from models.rules.outbox import after_failure, backoff_seconds, next_attempt_at
from models.tables import OutboxMessage
from notifications.mailer import Mailer, Outcome, OutgoingMessage, SendOutcome
from notifications.mime import build_mime, split_address
from notifications.render import render

log = logging.getLogger(__name__)

#: how long a claimed row stays invisible to other dispatchers while its batch is sent
CLAIM_SECONDS = 15 * 60
_ERROR_MAX = 2000  # OutboxMessage.last_error's length
T = OutboxMessage.__table__  # type: ignore[attr-defined]


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    parked: int = 0
    #: still queued and due after this run (more than `limit`, or claimed by another dispatcher)
    remaining: int = 0


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    key: str
    kind: str
    to_email: str
    language: str
    context: dict[str, Any]
    attempts: int


def _claim(engine: Engine, *, now: datetime, size: int) -> list[_Claimed]:
    """Lease up to `size` due queued rows, oldest first, in one statement."""
    due = (select(T.c.id).where(T.c.status == OutboxStatus.QUEUED, T.c.next_attempt_at <= now)
           .order_by(T.c.id).limit(size))
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (update(T).where(T.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
            .returning(T.c.id, T.c.key, T.c.kind, T.c.to_email, T.c.language, T.c.context,
                       T.c.attempts))
    with session_scope(engine) as session:
        rows = session.execute(stmt).all()
    return sorted((_Claimed(*row) for row in rows), key=lambda c: c.id)


def _build(row: _Claimed, smtp: SmtpSettings, envelope_from: str,
           now: datetime) -> OutgoingMessage:
    email = render(row.kind, row.context, row.language)
    mime = build_mime(key=row.key, sender=smtp.sender,
                      to=(str(row.context.get("nama", "")), row.to_email),
                      subject=email.subject, text=email.text, html=email.html, date=now,
                      kind=row.kind)
    return OutgoingMessage(key=row.key, sender=envelope_from, recipients=(row.to_email,),
                           mime=mime)


def _prepare(rows: Sequence[_Claimed], smtp: SmtpSettings,
             now: datetime) -> tuple[list[OutgoingMessage], dict[str, str]]:
    """Messages ready to send, and {key: error} for those that cannot even be built."""
    envelope_from = split_address(smtp.sender)[1]
    ready: list[OutgoingMessage] = []
    broken: dict[str, str] = {}
    for row in rows:
        try:
            ready.append(_build(row, smtp, envelope_from, now))
        except Exception as exc:  # one bad message must not stop the batch
            broken[row.key] = f"cannot build message: {type(exc).__name__}: {exc}"
    return ready, broken


async def _send(mailer: Mailer, messages: list[OutgoingMessage]) -> dict[str, SendOutcome]:
    """Outcomes by key; a mailer that raises or skips a message counts as a temporary failure."""
    if not messages:
        return {}
    try:
        outcomes = {o.key: o for o in await mailer.send_batch(messages)}
    except Exception as exc:
        log.exception("mailer failed on a batch of %d", len(messages))
        outcomes = {}
        failure = f"mailer error: {type(exc).__name__}: {exc}"
    else:
        failure = "mailer returned no outcome"
    return {m.key: outcomes.get(m.key) or SendOutcome(m.key, Outcome.TEMPORARY, failure)
            for m in messages}


def _decide(rows: Sequence[_Claimed], outcomes: dict[str, SendOutcome], broken: dict[str, str],
            smtp: SmtpSettings, now: datetime) -> tuple[list[int], list[dict[str, Any]],
                                                         list[dict[str, Any]]]:
    """(sent ids, retry parameters, park parameters) for the rows of one batch."""
    sent: list[int] = []
    retry: list[dict[str, Any]] = []
    park: list[dict[str, Any]] = []
    for row in rows:
        attempts = row.attempts + 1
        result = outcomes.get(row.key)
        if result is not None and result.ok:
            sent.append(row.id)
            continue
        permanent = row.key in broken or (result is not None
                                          and result.outcome is Outcome.PERMANENT)
        error = (broken.get(row.key) or (result.detail if result else "") or "failed")
        params = {"b_id": row.id, "b_attempts": attempts, "b_error": error[:_ERROR_MAX]}
        if after_failure(attempts, smtp.max_attempts, permanent) == "park":
            park.append(params)
        else:
            retry.append({**params, "b_next": next_attempt_at(attempts, smtp.retry_base_seconds,
                                                              now)})
    return sent, retry, park


def _record(engine: Engine, *, sent: list[int], retry: list[dict[str, Any]],
            park: list[dict[str, Any]], now: datetime) -> None:
    """Write one batch's outcomes in bulk, in one short transaction."""
    queued = T.c.status == OutboxStatus.QUEUED
    by_id = T.c.id == bindparam("b_id")
    with session_scope(engine) as session:
        if sent:
            session.execute(update(T).where(T.c.id.in_(sent), queued).values(
                status=OutboxStatus.SENT, sent_at=now, attempts=T.c.attempts + 1))
        if retry:
            session.execute(update(T).where(by_id, queued).values(
                attempts=bindparam("b_attempts"), next_attempt_at=bindparam("b_next"),
                last_error=bindparam("b_error")), retry)
        if park:
            session.execute(update(T).where(by_id, queued).values(
                status=OutboxStatus.PARKED, attempts=bindparam("b_attempts"),
                last_error=bindparam("b_error")), park)


#: how long a sent batch's outcomes wait for the database to come back (a restart, a failover)
#: before the run gives up on recording them: well inside the lease, so no other dispatcher
#: can have claimed the rows meanwhile. Without the wait, a restart between the SMTP server's
#: acceptance and this write sent the whole batch again when its lease ended (seen in the soak
#: year: 500 invitations twice)
RECORD_PATIENCE_SECONDS = 300.0


async def _record_surely(engine: Engine, *, sent: list[int], retry: list[dict[str, Any]],
                         park: list[dict[str, Any]], now: datetime,
                         patience: float | None = None) -> None:
    """_record, retried while the database cannot be reached (OperationalError or
    InterfaceError: the pool reconnects by itself), with a growing pause up to 10 s, for up
    to `patience` seconds (RECORD_PATIENCE_SECONDS)."""
    patience = RECORD_PATIENCE_SECONDS if patience is None else patience
    waited, failures = 0.0, 0
    while True:
        try:
            _record(engine, sent=sent, retry=retry, park=park, now=now)
            return
        except (OperationalError, InterfaceError) as exc:
            if waited >= patience:
                raise
            log.warning("outbox: the outcomes of %d messages wait for the database (%.0f s): %s",
                        len(sent) + len(retry) + len(park), waited, exc)
            failures += 1
            pause = backoff_seconds(failures, 0.5, 10.0)
            await asyncio.sleep(pause)
            waited += pause


def _count_due(engine: Engine, now: datetime) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(T).where(
            T.c.status == OutboxStatus.QUEUED, T.c.next_attempt_at <= now)).scalar_one())


async def dispatch_due(*, engine: Engine, mailer: Mailer, smtp: SmtpSettings, now: datetime,
                       limit: int = 10_000) -> DispatchReport:
    """Send up to `limit` due queued messages in batches of smtp.batch_size; record outcomes."""
    report = DispatchReport()
    handled = 0
    while handled < limit:
        rows = _claim(engine, now=now, size=min(smtp.batch_size, limit - handled))
        if not rows:
            break
        handled += len(rows)
        ready, broken = _prepare(rows, smtp, now)
        outcomes = await _send(mailer, ready)
        sent, retry, park = _decide(rows, outcomes, broken, smtp, now)
        await _record_surely(engine, sent=sent, retry=retry, park=park, now=now)
        report.sent += len(sent)
        report.retried += len(retry)
        report.parked += len(park)
    report.remaining = _count_due(engine, now)
    log.info("outbox dispatch: %s", report)
    return report


def _dispatch_in_process(url: str, smtp: SmtpSettings, now: datetime,
                         limit: int) -> DispatchReport:
    """One helper process of dispatch_parallel: its own engine and SMTP connections."""
    from models.db import make_engine
    from notifications.mailer import SmtpMailer

    engine = make_engine(url)
    try:
        return asyncio.run(dispatch_due(engine=engine, mailer=SmtpMailer(smtp), smtp=smtp,
                                        now=now, limit=limit))
    finally:
        engine.dispose()


#: KINERJA_SMTP_PROCESSES=0 means one per CPU, up to this many (each holds ~150 MB and sends
#: ~1,600 messages/s: four already outrun most relays)
DEFAULT_PROCESSES_MAX = 4


def processes_for(smtp: SmtpSettings, url: str, due: int) -> int:
    """How many processes a dispatch of `due` messages uses: one unless there is enough to
    send to pay for starting the others, and never for a database only this process can see."""
    if due < smtp.parallel_from or in_memory(url):
        return 1
    return max(1, smtp.processes or min(DEFAULT_PROCESSES_MAX, len(os.sched_getaffinity(0))))


async def dispatch_parallel(*, engine: Engine, url: str, mailer: Mailer, smtp: SmtpSettings,
                            now: datetime, limit: int = 10_000) -> DispatchReport:
    """dispatch_due spread over several processes when much is due (a stage opening for a large
    agency): rendering and the SMTP dialogue are CPU work, and one process holds one core.
    Each process claims its own batches (the claim is one statement: no row goes to two of
    them) up to an equal share of `limit`; this process sends its share with `mailer`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    wanted = min(_count_due(engine, now), limit)
    n = processes_for(smtp, url, wanted)
    if n == 1:
        return await dispatch_due(engine=engine, mailer=mailer, smtp=smtp, now=now, limit=limit)
    share = -(-wanted // n)
    with ProcessPoolExecutor(n - 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        helpers = [pool.submit(_dispatch_in_process, url, smtp, now, share) for _ in range(n - 1)]
        own = await dispatch_due(engine=engine, mailer=mailer, smtp=smtp, now=now, limit=share)
        results = await asyncio.gather(*(asyncio.wrap_future(f) for f in helpers),
                                       return_exceptions=True)
    reports = [own] + [r for r in results if isinstance(r, DispatchReport)]
    total = DispatchReport(sent=sum(r.sent for r in reports),
                           retried=sum(r.retried for r in reports),
                           parked=sum(r.parked for r in reports),
                           remaining=_count_due(engine, now))
    failed = [r for r in results if not isinstance(r, DispatchReport)]
    log.info("outbox dispatch over %s processes: %s", n, total)
    if failed:  # what the others sent is recorded; the failed one's rows come due again when
        # their lease ends (at least once, as after any crash)
        raise RuntimeError(f"{len(failed)} of {n - 1} dispatch helper processes failed "
                           f"after {total.sent} messages were sent: {failed[0]!r}")
    return total


def requeue_parked(*, session: Session, ids: Iterable[int], now: datetime) -> int:
    """Queue parked messages again (HR re-send) with a fresh attempt count. Does not commit."""
    wanted = list(ids)
    if not wanted:
        return 0
    result = session.execute(update(T).where(T.c.id.in_(wanted),
                                             T.c.status == OutboxStatus.PARKED)
                             .values(status=OutboxStatus.QUEUED, attempts=0,
                                     next_attempt_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]
