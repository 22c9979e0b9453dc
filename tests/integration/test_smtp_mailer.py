"""SmtpMailer against a real aiosmtpd server on a free local port.

Also home of the scripted SMTP server the dispatch tests use.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller

from kinerja.settings import SmtpSettings
from notifications.mailer import Outcome, OutgoingMessage, SmtpMailer
from notifications.mime import build_mime


@dataclass
class ScriptedHandler:
    """An SMTP server's behaviour: refuse some recipients, answer DATA from a script."""

    #: recipient address -> reply to RCPT TO (e.g. "550 5.1.1 no such user")
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    #: replies for the next DATA commands, consumed in order; "drop" closes the connection
    data_script: list[str] = field(default_factory=list)
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    data_commands: int = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        reply = self.data_script.pop(0) if self.data_script else "250 OK"
        if reply == "drop":
            server.transport.close()
            return "451 4.3.0 connection dropped"
        if reply.startswith("250"):
            msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
            self.received.append(msg)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return reply

    def keys(self) -> list[str]:
        return [str(m["X-Kinerja-Key"]) for m in self.received]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(handler: Any, port: int | None = None) -> Iterator[int]:
    """Run an aiosmtpd server for `handler` on 127.0.0.1; yields its port."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def settings(port: int, **overrides: Any) -> SmtpSettings:
    values: dict[str, Any] = dict(host="127.0.0.1", port=port, timeout=5, starttls=False,
                                  use_tls=False, username="", password="")
    return SmtpSettings(**{**values, **overrides})


def message(key: str, to: str = "", subject: str = "SKP 2027") -> OutgoingMessage:
    to = to or f"{key}@contoh.go.id"
    mime = build_mime(key=key, sender="Kinerja <kinerja@contoh.go.id>", to=("Ni Luh Pramésti", to),
                      subject=subject, text=f"Halo {key}\n", html=f"<p>Halo {key}</p>\n",
                      date=datetime(2027, 1, 20, tzinfo=UTC))
    return OutgoingMessage(key=key, sender="kinerja@contoh.go.id", recipients=(to,), mime=mime)


async def test_a_batch_arrives_intact_over_one_connection() -> None:
    handler = ScriptedHandler()
    with smtp_server(handler) as port:
        batch = [message(f"k{i}", subject=f"Pengingat ke-{i}: SKP — Pramésti") for i in range(5)]
        outcomes = await SmtpMailer(settings(port)).send_batch(batch)
    assert [o.outcome for o in outcomes] == [Outcome.SENT] * 5
    assert handler.keys() == [f"k{i}" for i in range(5)]
    first = handler.received[0]
    assert first["Subject"] == "Pengingat ke-0: SKP — Pramésti"
    assert first["To"].addresses[0].display_name == "Ni Luh Pramésti"
    assert first.get_body(preferencelist=("plain",)).get_content().strip() == "Halo k0"
    assert handler.envelopes[0] == ("kinerja@contoh.go.id", ["k0@contoh.go.id"])


async def test_refused_recipient_is_permanent_and_the_rest_go_through() -> None:
    handler = ScriptedHandler(rcpt_replies={"bad@contoh.go.id": "550 5.1.1 mailbox unknown"})
    with smtp_server(handler) as port:
        outcomes = await SmtpMailer(settings(port)).send_batch(
            [message("a"), message("b", to="bad@contoh.go.id"), message("c")])
    assert [o.outcome for o in outcomes] == [Outcome.SENT, Outcome.PERMANENT, Outcome.SENT]
    assert "550 5.1.1 mailbox unknown" in outcomes[1].detail
    assert handler.keys() == ["a", "c"]


async def test_4xx_on_data_is_temporary_and_5xx_permanent() -> None:
    handler = ScriptedHandler(data_script=["451 4.3.0 try later", "554 5.6.0 rejected", "250 OK"])
    with smtp_server(handler) as port:
        outcomes = await SmtpMailer(settings(port)).send_batch([message(k) for k in "abc"])
    assert [o.outcome for o in outcomes] == [Outcome.TEMPORARY, Outcome.PERMANENT, Outcome.SENT]
    assert outcomes[0].detail == "451 4.3.0 try later"
    assert handler.keys() == ["c"]


async def test_reconnects_once_when_the_server_drops_the_connection() -> None:
    handler = ScriptedHandler(data_script=["250 OK", "drop"])
    with smtp_server(handler) as port:
        outcomes = await SmtpMailer(settings(port)).send_batch([message(k) for k in "abcd"])
    assert [o.outcome for o in outcomes] == [Outcome.SENT] * 4
    assert handler.keys() == ["a", "b", "c", "d"]


async def test_421_closing_counts_as_a_drop() -> None:
    handler = ScriptedHandler(data_script=["421 4.3.2 shutting down"])
    with smtp_server(handler) as port:
        outcomes = await SmtpMailer(settings(port)).send_batch([message(k) for k in "ab"])
    assert [o.outcome for o in outcomes] == [Outcome.SENT] * 2
    assert handler.keys() == ["a", "b"]


async def test_second_drop_leaves_the_rest_temporary() -> None:
    handler = ScriptedHandler(data_script=["250 OK", "drop", "drop"])
    with smtp_server(handler) as port:
        outcomes = await SmtpMailer(settings(port)).send_batch([message(k) for k in "abcd"])
    assert [o.outcome for o in outcomes] == [Outcome.SENT] + [Outcome.TEMPORARY] * 3
    assert handler.keys() == ["a"]


async def test_connection_refused_marks_the_whole_batch_temporary() -> None:
    outcomes = await SmtpMailer(settings(free_port())).send_batch([message(k) for k in "ab"])
    assert [o.outcome for o in outcomes] == [Outcome.TEMPORARY] * 2
    assert all(o.detail for o in outcomes)


async def test_empty_batch_does_not_connect() -> None:
    assert await SmtpMailer(settings(free_port())).send_batch([]) == []


async def test_logs_in_when_a_username_is_configured() -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"rahasia")

    handler = ScriptedHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        good = await SmtpMailer(settings(port, username="kinerja", password="rahasia")
                                ).send_batch([message("a")])
        # aiosmtplib then tries its next mechanism, which this aiosmtpd leaves unanswered
        bad = await SmtpMailer(settings(port, username="kinerja", password="salah", timeout=1)
                               ).send_batch([message("b")])
    finally:
        controller.stop()
    assert good[0].ok and handler.keys() == ["a"]
    assert bad[0].outcome is Outcome.TEMPORARY and bad[0].detail
    assert logins[0] == (b"kinerja", b"rahasia")
