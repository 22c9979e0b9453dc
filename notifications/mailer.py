"""Mailers: send a batch of built messages and say, per message, what the server made of it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import aiosmtplib
from aiosmtplib import (
    SMTPException,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from kinerja.settings import SmtpSettings

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    SENT = "sent"
    TEMPORARY = "temporary"  # connection refused, timeout, 4xx: try again later
    PERMANENT = "permanent"  # 5xx for this message or recipient: park it


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    key: str
    #: envelope sender (MAIL FROM), a bare address
    sender: str
    recipients: tuple[str, ...]
    mime: bytes


@dataclass(frozen=True, slots=True)
class SendOutcome:
    key: str
    outcome: Outcome
    #: the server's reply (or the connection error), for last_error and the HR console
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SENT


class Mailer(Protocol):
    async def send_batch(self, messages: list[OutgoingMessage]) -> list[SendOutcome]:
        """One outcome per message, in order; never raises for a delivery problem."""


def classify(code: int) -> Outcome:
    """A 5xx reply is permanent; anything else that is not success is worth retrying."""
    return Outcome.PERMANENT if 500 <= code < 600 else Outcome.TEMPORARY


def _refused(key: str, exc: SMTPRecipientsRefused) -> SendOutcome:
    codes = [r.code for r in exc.recipients]
    outcome = (Outcome.PERMANENT if codes and all(classify(c) is Outcome.PERMANENT
                                                   for c in codes) else Outcome.TEMPORARY)
    detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    return SendOutcome(key, outcome, detail)


class _Dropped(Exception):
    """The connection is gone; the message was not (known to be) accepted."""


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


class SmtpMailer:
    """Sends each batch over one SMTP connection (aiosmtplib), reconnecting once if dropped."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        # start_tls=False rather than aiosmtplib's "upgrade when offered": TLS is what the
        # settings say, not whatever a (development) server happens to advertise
        client = aiosmtplib.SMTP(hostname=s.host, port=s.port, timeout=s.timeout,
                                 use_tls=s.use_tls, start_tls=s.starttls and not s.use_tls,
                                 cert_bundle=s.ca_file or None)
        await client.connect()
        try:
            if s.username:
                await client.login(s.username, s.password)
        except BaseException:
            client.close()
            raise
        return client

    async def _send_one(self, client: aiosmtplib.SMTP, message: OutgoingMessage) -> SendOutcome:
        try:
            refused, reply = await client.sendmail(message.sender, list(message.recipients),
                                                   message.mime)
        except SMTPRecipientsRefused as exc:
            return _refused(message.key, exc)
        except SMTPServerDisconnected as exc:
            raise _Dropped(_describe(exc)) from exc
        except SMTPResponseException as exc:
            if exc.code == 421 or not client.is_connected:  # 421: the server is closing
                raise _Dropped(f"{exc.code} {exc.message}") from exc
            return SendOutcome(message.key, classify(exc.code), f"{exc.code} {exc.message}")
        except (SMTPException, OSError) as exc:  # timeouts and the like leave it closed
            raise _Dropped(_describe(exc)) from exc
        # some recipients were accepted: the message went out, so it must not be sent again
        detail = "; ".join(f"{rcpt}: {r.code} {r.message}" for rcpt, r in refused.items())
        return SendOutcome(message.key, Outcome.SENT, detail or reply)

    async def send_batch(self, messages: list[OutgoingMessage]) -> list[SendOutcome]:
        """Send over up to `settings.connections` connections at once (each waits on the
        server's replies, so a few in parallel keep the line busy); outcomes in input order."""
        n = max(1, min(self.settings.connections, len(messages) // 50))
        if n == 1:
            return await self._send_serial(messages)
        results = await asyncio.gather(*(self._send_serial(messages[i::n]) for i in range(n)))
        by_key = {o.key: o for outcomes in results for o in outcomes}
        return [by_key[m.key] for m in messages]

    async def _send_serial(self, messages: list[OutgoingMessage]) -> list[SendOutcome]:
        """Send in order over one connection; whatever cannot be sent is TEMPORARY."""
        outcomes: list[SendOutcome] = []
        if not messages:
            return outcomes
        client: aiosmtplib.SMTP | None = None
        reconnected = False
        try:
            client = await self._connect()
            while len(outcomes) < len(messages):
                try:
                    outcomes.append(await self._send_one(client, messages[len(outcomes)]))
                except _Dropped as exc:
                    if reconnected:
                        raise
                    log.info("SMTP connection dropped (%s); reconnecting once", exc)
                    reconnected = True
                    client.close()
                    client = await self._connect()
        except (SMTPException, OSError, _Dropped) as exc:
            detail = _describe(exc)
            outcomes.extend(SendOutcome(m.key, Outcome.TEMPORARY, detail)
                            for m in messages[len(outcomes):])
        finally:
            if client is not None:
                await _quit(client)
        return outcomes


async def _quit(client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    try:
        await client.quit()
    except (SMTPException, OSError):
        client.close()


@dataclass
class RecordingMailer:
    """A fake mailer for fast tests: records what it is given; fails the keys it is told to."""

    temporary: set[str] = field(default_factory=set)
    permanent: set[str] = field(default_factory=set)
    sent: list[OutgoingMessage] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)

    def fail(self, keys: Iterable[str], *, permanent: bool = False) -> None:
        """Make these keys fail from now on (temporarily unless permanent)."""
        (self.permanent if permanent else self.temporary).update(keys)

    def heal(self, keys: Sequence[str] | None = None) -> None:
        """Stop failing these keys (all keys when None)."""
        for failing in (self.temporary, self.permanent):
            failing.difference_update(keys if keys is not None else set(failing))

    async def send_batch(self, messages: list[OutgoingMessage]) -> list[SendOutcome]:
        """Accept every message except the failing keys; accepted ones land in `sent`."""
        self.batches.append([m.key for m in messages])
        outcomes = []
        for m in messages:
            if m.key in self.permanent:
                outcomes.append(SendOutcome(m.key, Outcome.PERMANENT, "550 5.1.1 refused (fake)"))
            elif m.key in self.temporary:
                outcomes.append(SendOutcome(m.key, Outcome.TEMPORARY, "451 4.3.0 later (fake)"))
            else:
                self.sent.append(m)
                outcomes.append(SendOutcome(m.key, Outcome.SENT, "250 OK (fake)"))
        return outcomes
