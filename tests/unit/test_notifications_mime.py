"""The fast MIME builder parses back, with the standard library, to what went in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest

from notifications.mime import build_mime, build_mime_stdlib, format_address, message_id
from notifications.render import render
from tests.unit.test_notifications_render import context_for

WHEN = datetime(2027, 1, 20, 9, 30, 5, tzinfo=UTC)
SENDER = "Kinerja BKPSDM <kinerja@bkpsdm.contoh.go.id>"
NAMES = [
    "Budi Santoso",
    "Siti Nurhaliza, S.E., M.Si.",
    'Ahmad "Andi" Yani',
    "Ni Luh Ayu Dewi Pramésti",
    'Dr. Ir. Wayan Sudarsana, M.T. (Kepala "Bidang"), \\ backslash',
    "Ñoño Çağlar 日本語 " * 6,
]
SUBJECTS = [
    "SKP 2027 Bapak/Ibu telah disetujui",
    "Pengingat ke-2: SKP 2027 mohon diajukan paling lambat 20 Januari 2027 16.00 WIB " * 3,
    "Pengajuan SKP — «Ibu Pramésti» ✔",
    "Subject with =?utf-8?q?lookalike?= encoded word",
]


def parse(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def same_name(parsed: str, expected: str) -> bool:
    """Python's parser keeps the space between two encoded words that RFC 2047 readers drop;
    the builder only splits names longer than one encoded word, so compare those loosely."""
    if len(expected.encode()) < 40:
        return parsed == expected
    return parsed.split() == expected.split()


def body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    assert part.get_content_charset() == "utf-8"
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


def build(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        key="invite:7:perencanaan:1234", sender=SENDER, to=("Budi Santoso", "budi@contoh.go.id"),
        subject="SKP 2027", text="Yth. Bapak/Ibu,\n\nSilakan.\n", html="<p>Silakan.</p>\n",
        date=WHEN)
    return {**args, **overrides}


def assert_same_message(raw: bytes, args: dict[str, Any]) -> EmailMessage:
    msg = parse(raw)
    assert msg.defects == [] and all(p.defects == [] for p in msg.walk())
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == args["subject"]
    to = msg["To"].addresses[0]
    assert same_name(to.display_name, args["to"][0]) and to.addr_spec == args["to"][1]
    sender = msg["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Kinerja BKPSDM",
                                                       "kinerja@bkpsdm.contoh.go.id")
    assert msg["X-Kinerja-Key"] == args["key"]
    assert msg["MIME-Version"] == "1.0"
    assert msg["Date"].datetime == args["date"]
    assert msg["Message-ID"] == message_id(args["key"], "bkpsdm.contoh.go.id")
    assert body(msg, "plain") == args["text"].replace("\r\n", "\n")
    assert body(msg, "html") == args["html"].replace("\r\n", "\n")
    return msg


@pytest.mark.parametrize("name", NAMES)
def test_names_round_trip(name: str) -> None:
    args = build(to=(name, "pegawai@contoh.go.id"))
    assert_same_message(build_mime(**args), args)


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subjects_round_trip(subject: str) -> None:
    args = build(subject=subject)
    raw = build_mime(**args)
    assert_same_message(raw, args)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998


@pytest.mark.parametrize(("kind", "language"), [("skp_dikembalikan", "id"),
                                                ("laporan_perencanaan", "en"),
                                                ("undangan_skp", "id")])
def test_rendered_emails_round_trip(kind: str, language: str) -> None:
    email = render(kind, context_for(kind, nama="Ni Luh Ayu Dewi Pramésti",
                                     comment="Perbaiki RHK 2 — target “kuantitas”.\n" * 40),
                   language)
    args = build(subject=email.subject, text=email.text, html=email.html,
                 to=("Ni Luh Ayu Dewi Pramésti", "niluh@contoh.go.id"))
    assert_same_message(build_mime(**args), args)


def test_ascii_bodies_stay_readable_and_others_are_quoted_printable() -> None:
    raw = build_mime(**build(text="Halo Budi,\nsilakan.\n", html="<p>Halo Pramésti</p>\n"))
    assert b"Content-Transfer-Encoding: 7bit\r\n\r\nHalo Budi,\r\nsilakan.\r\n" in raw
    assert b"Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>Halo Pram=C3=A9sti</p>" in raw


def test_awkward_bodies_round_trip() -> None:
    text = ("line with trailing spaces   \n.\n.leading dot\nFrom the start\n"
            + "x" * 1500 + "\n\ttab\r\nold mac\rend without newline")
    args = build(text=text, html="<p>" + "é" * 400 + "</p>")
    raw = build_mime(**args)
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    msg = parse(raw)
    assert body(msg, "plain") == text.replace("\r\n", "\n").replace("\r", "\n")
    assert body(msg, "html") == args["html"]


def test_a_body_cannot_forge_the_boundary() -> None:
    args = build(text="x")
    boundary = parse(build_mime(**args)).get_boundary()
    assert boundary
    forged = f"--{boundary}\nContent-Type: text/html\n\n<b>forged</b>\n"
    msg = parse(build_mime(**build(text=forged)))
    assert body(msg, "plain") == forged
    assert len(list(msg.iter_parts())) == 2


def test_header_injection_is_neutralised() -> None:
    args = build(subject="SKP\r\nBcc: victim@example.com", to=("Budi\nBcc: x@y", "b@c.id"))
    msg = parse(build_mime(**args))
    assert msg["Bcc"] is None
    assert msg["Subject"] == "SKP  Bcc: victim@example.com"


def test_other_time_zones_keep_the_instant() -> None:
    jakarta = WHEN.astimezone(timezone(timedelta(hours=7)))
    msg = parse(build_mime(**build(date=jakarta)))
    assert msg["Date"].datetime == WHEN


def test_format_address() -> None:
    assert format_address("", "a@b.id") == "a@b.id"
    assert format_address("Budi Santoso", "a@b.id") == "Budi Santoso <a@b.id>"
    assert format_address('Siti, S.E. "Ade"', "a@b.id") == '"Siti, S.E. \\"Ade\\"" <a@b.id>'
    with pytest.raises(ValueError, match="not ASCII"):
        format_address("Budi", "búdi@b.id")


@pytest.mark.parametrize("name", NAMES)
def test_same_meaning_as_the_standard_library(name: str) -> None:
    email = render("skp_diajukan", context_for("skp_diajukan", nama=name, pegawai_nama=name))
    args = build(to=(name, "pegawai@contoh.go.id"), subject=email.subject, text=email.text,
                 html=email.html)
    ours, theirs = parse(build_mime(**args)), parse(build_mime_stdlib(**args))
    assert theirs.defects == []
    for header in ("Subject", "From", "Date", "Message-ID", "X-Kinerja-Key", "MIME-Version",
                   "Auto-Submitted"):
        assert str(ours[header]) == str(theirs[header]), header
    assert ours["From"].addresses == theirs["From"].addresses
    (to,), (their_to,) = ours["To"].addresses, theirs["To"].addresses
    assert to.addr_spec == their_to.addr_spec
    assert same_name(to.display_name, name)
    # the standard library splits long names mid-word, and its parser then adds spaces there
    assert "".join(their_to.display_name.split()) == "".join(name.split())
    assert ours.get_content_type() == theirs.get_content_type()
    assert [p.get_content_type() for p in ours.iter_parts()] == \
        [p.get_content_type() for p in theirs.iter_parts()]
    for subtype in ("plain", "html"):
        assert body(ours, subtype) == body(theirs, subtype)


def test_the_message_kind_travels_in_a_header_like_the_stdlib_builds_it() -> None:
    from email import message_from_bytes
    from email.policy import default

    from notifications.mime import build_mime, build_mime_stdlib

    kwargs = dict(key="invite:1:periode2:7", sender="Kinerja <k@contoh.go.id>",
                  to=("Staf", "staf@contoh.go.id"), subject="Undangan", text="teks",
                  html="<p>teks</p>", date=__import__("datetime").datetime(2027, 1, 1),
                  kind="undangan_realisasi")
    ours = message_from_bytes(build_mime(**kwargs), policy=default)
    theirs = message_from_bytes(build_mime_stdlib(**kwargs), policy=default)
    assert ours["X-Kinerja-Kind"] == theirs["X-Kinerja-Kind"] == "undangan_realisasi"
    assert "X-Kinerja-Kind" not in message_from_bytes(build_mime(**kwargs | {"kind": ""}))
