"""Fault: the SMTP server refuses connections for a while, then answers 4xx, then comes back.

The real dispatcher (dispatch_due, the body of the `kirim-email` flow) against a real aiosmtpd
server on a local port, with hundreds of messages sent over parallel connections: every message
is delivered exactly once after the server is back; a 4xx for one mailbox is retried until it
is accepted; a 5xx for one address is parked, listed on HR's cycle page (with the server's
reply) and re-sent from there, without holding back anyone else.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api.app import create_app
from models.db import session_scope
from models.repo.cycles import create_cycle
from models.repo.hr import create_hr_user
from models.rules import calendar
from models.rules.enums import OutboxStatus
from notifications.dispatch import DispatchReport, dispatch_due
from notifications.mailer import SmtpMailer
from tests.integration.test_dispatch import T0, outbox, queue, smtp
from tests.integration.test_smtp_mailer import ScriptedHandler, free_port, smtp_server

GHOST = "ghost@contoh.go.id"  # the mailbox does not exist: 550, whatever the phase
FULL = "penuh@contoh.go.id"  # the mailbox is full for its first two tries: 452, then accepted


@dataclass
class OutageHandler(ScriptedHandler):
    """'busy': the server is up but takes no mail (451 on MAIL FROM, as while its spool is
    full); 'up': it takes mail, except for GHOST (550) and, at first, FULL (452)."""

    phase: str = "busy"
    full_refusals: int = 2
    mail_commands: Counter[str] = field(default_factory=Counter)

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        self.mail_commands[self.phase] += 1
        if self.phase == "busy":
            return "451 4.3.1 insufficient system storage, try later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address == FULL and self.full_refusals > 0:
            self.full_refusals -= 1
            return "452 4.2.2 mailbox full"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def _run(db: Engine, cfg: Any, at: Any) -> DispatchReport:
    import asyncio

    return asyncio.run(dispatch_due(engine=db, mailer=SmtpMailer(cfg), smtp=cfg, now=at))


def _tally(r: DispatchReport) -> tuple[int, int, int]:
    return r.sent, r.retried, r.parked


def test_outage_then_recovery_delivers_each_message_once(db: Engine, tmp_path: Path) -> None:
    names = [f"p{i:03d}" for i in range(298)] + ["ghost", "penuh"]
    keys = queue(db, names)
    n = len(keys)
    # batches of 100 go out over two connections at once (SmtpMailer: one per 50 messages)
    port = free_port()
    cfg = smtp(port, batch_size=100, connections=4, max_attempts=12, timeout=5)

    # 1. nothing listens: connection refused, twice; every message waits with backoff
    assert _tally(_run(db, cfg, T0)) == (0, n, 0)
    assert {m.next_attempt_at for m in outbox(db).values()} == {T0 + timedelta(seconds=60)}
    assert _tally(_run(db, cfg, T0 + timedelta(seconds=30))) == (0, 0, 0)  # not due yet
    assert _tally(_run(db, cfg, T0 + timedelta(seconds=60))) == (0, n, 0)
    rows = outbox(db)
    assert all(m.attempts == 2 and m.status is OutboxStatus.QUEUED for m in rows.values())
    assert all("Connect" in (m.last_error or "") or "refused" in (m.last_error or "").lower()
               for m in rows.values()), {m.last_error for m in rows.values()}

    handler = OutageHandler(rcpt_replies={GHOST: "550 5.1.1 no such user"})
    with smtp_server(handler, port=port):
        # 2. the server is back but refuses mail with 451: still retried, nothing parked
        at = T0 + timedelta(seconds=60 + 120)
        assert _tally(_run(db, cfg, at)) == (0, n, 0)
        assert handler.received == [] and handler.mail_commands["busy"] == n
        assert all("451 4.3.1" in (m.last_error or "") for m in outbox(db).values())

        # 3. it takes mail again: all but two delivered in one run; the 550 is parked alone
        handler.phase = "up"
        at += timedelta(seconds=240)
        assert _tally(_run(db, cfg, at)) == (n - 2, 1, 1)
        rows = outbox(db)
        ghost, full = rows["invite:1:ghost"], rows["invite:1:penuh"]
        assert ghost.status is OutboxStatus.PARKED and "550" in (ghost.last_error or "")
        assert full.status is OutboxStatus.QUEUED and "452 4.2.2" in (full.last_error or "")
        assert full.next_attempt_at == at + timedelta(seconds=480)  # fourth failure: 60 * 2**3

        # 4. the full mailbox: refused once more, then accepted; nothing else is sent again
        at = full.next_attempt_at
        assert _tally(_run(db, cfg, at)) == (0, 1, 0)
        at = outbox(db)["invite:1:penuh"].next_attempt_at
        assert _tally(_run(db, cfg, at)) == (1, 0, 0)
        assert _tally(_run(db, cfg, at + timedelta(days=1))) == (0, 0, 0)

        delivered = Counter(handler.keys())
        assert set(delivered) == set(keys) - {"invite:1:ghost"}
        assert set(delivered.values()) == {1}  # exactly once each
        rows = outbox(db)
        assert Counter(m.status for m in rows.values()) == {OutboxStatus.SENT: n - 1,
                                                            OutboxStatus.PARKED: 1}
        assert rows["invite:1:penuh"].attempts == 6

        # 5. HR sees the parked message on the cycle page, with the server's reply, and
        # re-sends it once the mailbox exists
        page, resend = _hr_cycle_page(db, tmp_path, at)
        assert "Gagal terkirim (diparkir): 1" in page
        assert GHOST in page and "550 5.1.1 no such user" in page
        handler.rcpt_replies.pop(GHOST, None)
        assert resend(ghost.id) == 303
        assert outbox(db)["invite:1:ghost"].status is OutboxStatus.QUEUED
        assert _tally(_run(db, cfg, at + timedelta(days=1))) == (1, 0, 0)
    assert Counter(handler.keys())["invite:1:ghost"] == 1
    assert Counter(handler.keys()).most_common(1)[0][1] == 1


def _hr_cycle_page(db: Engine, home: Path, now: Any) -> tuple[str, Any]:
    """The HR console's cycle page (as text) and a function that re-sends a parked message."""
    from kinerja.clock import FixedClock
    from tests.factories import runtime_for

    rt = runtime_for(db, home, FixedClock(now))
    with session_scope(db) as s:
        create_hr_user(session=s, username="admin", password="rahasia-hr", nama="Admin",
                       email="hr@contoh.go.id", now=now)
        cycle = create_cycle(session=s, tahun=2027, now=now, actor="test",
                             planning=calendar.compressed_planning(now, 100))
    client = TestClient(create_app(rt), base_url="http://testserver")
    r = client.post("/hr/login", data={"username": "admin", "password": "rahasia-hr"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/hr/cycles/{cycle.id}")
    assert page.status_code == 200

    # the page's re-send form, as a browser would submit it (with its CSRF field, if any)
    csrf = re.findall(r'name="csrf" value="([^"]+)"', page.text)

    def resend(message_id: int) -> int:
        return client.post("/hr/outbox/resend", data={
            "ids": [str(message_id)], "back": f"/hr/cycles/{cycle.id}", "csrf": csrf[:1]},
            follow_redirects=False).status_code

    return page.text, resend
