"""The development SMTP server (every message kept in a Maildir) and its reader for /dev/mailbox."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

#: http(s) URLs in a plain-text body; trailing punctuation is trimmed afterwards
_URL = re.compile(r"https?://[^\s<>\"'\]\)]+")
#: mailbox.Maildir names new messages "<seconds>.M<micros>P<pid>Q<count>.<host>"
_MAILDIR_NAME = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)")


class MaildirHandler:
    """aiosmtpd handler: stores each message, with its envelope in headers, in a Maildir."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = Path(maildir)
        self.box = mailbox.Maildir(self.maildir, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        head = (f"Return-Path: <{envelope.mail_from}>\r\n"
                f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        self.box.add(head + content)
        return "250 Message accepted for delivery"


def start_dev_smtp(maildir: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    """Start the development SMTP server in a thread; call .stop() on the result to end it."""
    controller = Controller(MaildirHandler(maildir), hostname=host, port=port)
    controller.start()
    return controller


@dataclass(frozen=True, slots=True)
class MailSummary:
    key: str
    date: datetime | None
    to: str
    subject: str
    #: the X-Kinerja-Key header: the outbox key this message was sent for
    outbox_key: str = ""


@dataclass(frozen=True, slots=True)
class MailView:
    key: str
    to: str
    from_: str
    subject: str
    date: datetime | None
    text: str
    html: str
    links: list[str]
    outbox_key: str = ""
    #: envelope recipients as the server received them
    envelope_to: tuple[str, ...] = ()


def _order(key: str) -> tuple[int, int, int, str]:
    m = _MAILDIR_NAME.match(key)
    return (int(m[1]), int(m[2]), int(m[3]), key) if m else (0, 0, 0, key)


def _newest_first(box: mailbox.Maildir) -> list[str]:
    return sorted(box.iterkeys(), key=_order, reverse=True)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _headers(box: mailbox.Maildir, key: str) -> EmailMessage:
    with box.get_file(key) as f:
        return BytesHeaderParser(policy=policy.default).parse(f)  # type: ignore[return-value]


def _summary(key: str, msg: EmailMessage) -> MailSummary:
    return MailSummary(key=key, date=_date(msg["Date"]), to=str(msg["To"] or ""),
                       subject=str(msg["Subject"] or ""),
                       outbox_key=str(msg["X-Kinerja-Key"] or ""))


def list_messages(maildir: Path, limit: int = 200) -> list[MailSummary]:
    """The newest `limit` messages, newest first, from their headers only."""
    box = mailbox.Maildir(maildir, create=True)
    return [_summary(key, _headers(box, key)) for key in _newest_first(box)[:limit]]


def links_in(text: str) -> list[str]:
    """Every http(s) URL in a text, in order, without duplicates or trailing punctuation."""
    found = (url.rstrip(".,;:!?") for url in _URL.findall(text))
    return list(dict.fromkeys(found))


def _body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != f"text/{subtype}":
        return ""
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


def read_message(maildir: Path, key: str) -> MailView:
    """One stored message, decoded; raises KeyError for an unknown key."""
    box = mailbox.Maildir(maildir, create=True)
    with box.get_file(key) as f:
        msg: EmailMessage = BytesParser(policy=policy.default).parse(f)  # type: ignore[assignment]
    text = _body(msg, "plain")
    envelope = str(msg["X-Envelope-To"] or "")
    return MailView(key=key, to=str(msg["To"] or ""), from_=str(msg["From"] or ""),
                    subject=str(msg["Subject"] or ""), date=_date(msg["Date"]), text=text,
                    html=_body(msg, "html"), links=links_in(text),
                    outbox_key=str(msg["X-Kinerja-Key"] or ""),
                    envelope_to=tuple(a.strip() for a in envelope.split(",") if a.strip()))


def _addressed_to(msg: EmailMessage, email: str) -> bool:
    wanted = email.strip().lower()
    envelope = str(msg["X-Envelope-To"] or "").lower()
    if wanted in (a.strip() for a in envelope.split(",")):
        return True
    to = msg["To"]
    addresses = getattr(to, "addresses", ())
    return any(a.addr_spec.lower() == wanted for a in addresses)


def messages_to(maildir: Path, to_email: str, key_prefix: str = "") -> Iterator[str]:
    """Keys of the messages sent to an address, newest first; optionally by outbox key prefix."""
    box = mailbox.Maildir(maildir, create=True)
    for key in _newest_first(box):
        msg = _headers(box, key)
        if _addressed_to(msg, to_email) and str(msg["X-Kinerja-Key"] or "").startswith(
                key_prefix):
            yield key


def find_links(maildir: Path, to_email: str, key_prefix: str = "") -> list[str]:
    """Links in the messages sent to an address, newest message first (in-message order)."""
    links: list[str] = []
    for key in messages_to(maildir, to_email, key_prefix):
        links.extend(read_message(maildir, key).links)
    return links


def latest_link(maildir: Path, to_email: str, key_prefix: str = "",
                contains: str = "") -> str | None:
    """The first link containing `contains` in the newest matching message that has one."""
    for key in messages_to(maildir, to_email, key_prefix):
        for link in read_message(maildir, key).links:
            if contains in link:
                return link
    return None
