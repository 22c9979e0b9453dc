"""The development SMTP server keeps every message in a Maildir; the reader shows them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifications.devsmtp import (
    find_links,
    latest_link,
    links_in,
    list_messages,
    read_message,
    start_dev_smtp,
)
from notifications.mailer import OutgoingMessage, SmtpMailer
from notifications.mime import build_mime
from notifications.render import render
from tests.integration.test_smtp_mailer import free_port, settings
from tests.unit.test_notifications_render import context_for

T0 = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    maildir, port = tmp_path / "mail", free_port()
    controller = start_dev_smtp(maildir, "127.0.0.1", port)
    try:
        yield maildir, port
    finally:
        controller.stop()


def outgoing(key: str, to: str, nama: str, link: str, minutes: int) -> OutgoingMessage:
    email = render("undangan_skp", context_for("undangan_skp", nama=nama, link=link))
    mime = build_mime(key=key, sender="Kinerja BKPSDM <kinerja@contoh.go.id>", to=(nama, to),
                      subject=email.subject, text=email.text, html=email.html,
                      date=T0 + timedelta(minutes=minutes))
    return OutgoingMessage(key=key, sender="kinerja@contoh.go.id", recipients=(to,), mime=mime)


async def test_messages_are_kept_and_listed_newest_first(dev_server: tuple[Path, int]) -> None:
    maildir, port = dev_server
    batch = [outgoing("invite:1:budi", "budi@contoh.go.id", "Budi Santoso",
                      "https://k.example/t/budi-1", 0),
             outgoing("invite:1:siti", "siti@contoh.go.id", "Ni Luh Pramésti, S.E.",
                      "https://k.example/t/siti-1", 1),
             outgoing("tautan:1:budi", "budi@contoh.go.id", "Budi Santoso",
                      "https://k.example/t/budi-2", 2)]
    outcomes = await SmtpMailer(settings(port)).send_batch(batch)
    assert all(o.ok for o in outcomes)

    listed = list_messages(maildir)
    assert [m.outbox_key for m in listed] == ["tautan:1:budi", "invite:1:siti", "invite:1:budi"]
    assert listed[1].to == "\"Ni Luh Pramésti, S.E.\" <siti@contoh.go.id>"
    assert listed[1].subject.startswith("Penyusunan SKP Tahun 2027")
    assert listed[0].date == T0 + timedelta(minutes=2)
    assert [m.outbox_key for m in list_messages(maildir, limit=1)] == ["tautan:1:budi"]

    view = read_message(maildir, listed[1].key)
    assert view.from_ == "Kinerja BKPSDM <kinerja@contoh.go.id>"
    assert view.envelope_to == ("siti@contoh.go.id",)
    assert view.text.startswith("Yth. Bapak/Ibu Ni Luh Pramésti, S.E.,\n")
    assert 'href="https://k.example/t/siti-1"' in view.html
    assert view.links == ["https://k.example/t/siti-1"]


async def test_links_for_an_address(dev_server: tuple[Path, int]) -> None:
    maildir, port = dev_server
    await SmtpMailer(settings(port)).send_batch([
        outgoing("invite:1:budi", "budi@contoh.go.id", "Budi", "https://k.example/t/b1", 0),
        outgoing("invite:1:siti", "siti@contoh.go.id", "Siti", "https://k.example/t/s1", 1),
        outgoing("tautan:1:budi", "Budi@Contoh.go.id", "Budi", "https://k.example/t/b2", 2),
    ])
    assert find_links(maildir, "budi@contoh.go.id") == ["https://k.example/t/b2",
                                                        "https://k.example/t/b1"]
    assert find_links(maildir, "budi@contoh.go.id", key_prefix="invite:") == [
        "https://k.example/t/b1"]
    assert latest_link(maildir, "siti@contoh.go.id") == "https://k.example/t/s1"
    assert latest_link(maildir, "nobody@contoh.go.id") is None


def test_an_empty_or_missing_maildir_lists_nothing(tmp_path: Path) -> None:
    assert list_messages(tmp_path / "none") == []
    with pytest.raises(KeyError):
        read_message(tmp_path / "none", "no-such-key")


def test_links_in_text() -> None:
    text = ("Buka https://k.example/t/a?x=1&y=2. Atau (https://k.example/t/b), "
            "lagi https://k.example/t/a?x=1&y=2 dan http://localhost:8000/x;")
    assert links_in(text) == ["https://k.example/t/a?x=1&y=2", "https://k.example/t/b",
                              "http://localhost:8000/x"]
