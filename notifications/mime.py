"""Fast MIME building: a multipart/alternative (text + HTML) message assembled as strings.

The standard library's EmailMessage costs about 2 ms a message (header registry, policy
folding, content managers); sending pushes ~1,300 messages/s, so building must be cheaper.
This builder writes the few headers it needs directly; a body goes out as 7bit when it is
plain ASCII (most Indonesian text) and as quoted-printable via binascii (C) otherwise.
tests/unit/test_notifications_mime.py checks that the standard library parses the result back
to the same subject, addresses and bodies. Timing: `python -m notifications.bench_mime`.
"""

from __future__ import annotations

import binascii
import hashlib
from datetime import datetime
from email.utils import format_datetime, parseaddr
from functools import lru_cache

CRLF = "\r\n"
#: RFC 5322 "specials": a display name containing one must be a quoted string
_SPECIALS = frozenset('()<>[]:;@\\,."')
#: UTF-8 bytes per encoded word: 42 bytes -> 56 base64 chars, so "Subject: " + word < 78
_WORD_BYTES = 42

Address = str | tuple[str, str]


def _clean(value: str) -> str:
    """One header line: CR, LF and other control characters become spaces (no injection)."""
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else " " for c in value)


def _encoded_words(value: str) -> list[str]:
    """RFC 2047 base64 encoded words, each within the line limit, never splitting a character."""
    data = value.encode("utf-8")
    words, start, size = [], 0, len(data)
    while start < size:
        end = min(start + _WORD_BYTES, size)
        while end < size and (data[end] & 0xC0) == 0x80:
            end -= 1
        chunk = binascii.b2a_base64(data[start:end], newline=False).decode("ascii")
        words.append(f"=?utf-8?b?{chunk}?=")
        start = end
    return words


def _needs_encoding(value: str) -> bool:
    return not value.isascii() or "=?" in value


def _fold_ascii(name: str, value: str) -> str:
    """'Name: value' folded at spaces so lines stay within 78 characters where possible."""
    if len(name) + 2 + len(value) <= 78:
        return f"{name}: {value}"
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > 78 and line != f"{name}:":
            lines.append(line)
            line = ""
        line = f"{line} {word}"
    lines.append(line)
    return CRLF.join(lines)


def unstructured(name: str, value: str) -> str:
    """One unstructured header (Subject...), RFC 2047-encoded when it is not plain ASCII."""
    value = _clean(value)
    if _needs_encoding(value):
        return f"{name}: " + (CRLF + " ").join(_encoded_words(value))
    return _fold_ascii(name, value)


def _plain_phrase(text: str) -> str:
    """ASCII words as they are, or as one quoted string when they hold a special character."""
    if not any(c in _SPECIALS for c in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _encoded_phrase(text: str) -> list[str]:
    """Encoded words for non-ASCII words, split between words where they must be split.

    A space that separates two encoded words is carried inside the first one: RFC 2047 readers
    drop whitespace between encoded words (Python's own parser keeps it, so it then shows two).
    """
    chunks: list[str] = []
    for word in text.split(" "):
        # one byte kept free for the separating space a chunk may end with
        if chunks and len(f"{chunks[-1]} {word}".encode()) < _WORD_BYTES:
            chunks[-1] = f"{chunks[-1]} {word}"
        else:
            if chunks:
                chunks[-1] += " "
            chunks.append(word)
    return [w for chunk in chunks for w in _encoded_words(chunk)]


def _phrase(name: str) -> list[str]:
    """Display-name tokens: runs of ASCII words stay readable, runs of others are encoded."""
    runs: list[tuple[bool, list[str]]] = []
    for word in name.split(" "):
        plain = word.isascii() and "=?" not in word
        if runs and runs[-1][0] == plain:
            runs[-1][1].append(word)
        else:
            runs.append((plain, [word]))
    tokens: list[str] = []
    for plain, words in runs:
        text = " ".join(words)
        tokens.extend([_plain_phrase(text)] if plain else _encoded_phrase(text))
    return tokens


@lru_cache(maxsize=4096)
def format_address(name: str, addr: str) -> str:
    """'Name <addr>' with the name quoted or RFC 2047-encoded as needed; bare addr if no name."""
    name, addr = " ".join(_clean(name).split()), _clean(addr).strip()
    if not addr.isascii():
        raise ValueError(f"address {addr!r} is not ASCII; internationalised addresses are "
                         "not supported")
    if not name:
        return addr
    tokens = [*_phrase(name), f"<{addr}>"]
    joined = " ".join(tokens)
    # fold between tokens (never inside one) when the line would be long
    return joined if len(joined) <= 70 else (CRLF + " ").join(tokens)


@lru_cache(maxsize=256)
def split_address(value: str) -> tuple[str, str]:
    """(name, addr) of 'Name <addr>' or a bare address."""
    if "<" not in value:
        return "", value.strip()
    return parseaddr(value)


def _address(value: Address) -> str:
    name, addr = split_address(value) if isinstance(value, str) else value
    return format_address(name, addr)


def encode_body(text: str, boundary: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, body with CRLF line ends): 7bit when it can be, else QP."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if (text.isascii() and boundary not in text
            and max(map(len, text.split("\n"))) <= 998 and "\0" not in text):
        # plain ASCII needs no encoding: the common case, and ten times cheaper than QP
        return "7bit", text.replace("\n", "\r\n").encode("ascii")
    encoded = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return "quoted-printable", encoded.replace(b"\n", b"\r\n")


def message_id(key: str, domain: str) -> str:
    """A Message-ID derived from the outbox key: a re-send can be recognised as the same mail."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}@{domain}>"


def _part(subtype: str, text: str, boundary: str) -> bytes:
    cte, body = encode_body(text, boundary)
    head = (f"--{boundary}{CRLF}Content-Type: text/{subtype}; charset=\"utf-8\"{CRLF}"
            f"Content-Transfer-Encoding: {cte}{CRLF}{CRLF}")
    # the CRLF before the next boundary line belongs to the boundary, not to the body
    return head.encode("ascii") + body + b"\r\n"


def build_mime(*, key: str, sender: Address, to: Address, subject: str, text: str, html: str,
               date: datetime, domain: str = "", kind: str = "") -> bytes:
    """The complete message (headers and a text + HTML multipart/alternative body) as bytes."""
    from_header = _address(sender)
    domain = domain or (split_address(sender)[1] if isinstance(sender, str) else sender[1])
    domain = domain.rpartition("@")[2] or "kinerja.local"
    mid = message_id(key, domain)
    # "=_" never occurs in quoted-printable output; a 7bit body is checked for it
    boundary = f"=_kinerja_{mid[1:17]}"
    clean_key = _clean(key)
    key_header = (unstructured("X-Kinerja-Key", clean_key) if _needs_encoding(clean_key)
                  else f"X-Kinerja-Key: {clean_key}")
    head = CRLF.join((
        f"From: {from_header}",
        f"To: {_address(to)}",
        unstructured("Subject", subject),
        f"Date: {format_datetime(date)}",
        f"Message-ID: {mid}",
        "MIME-Version: 1.0",
        key_header,
        *([f"X-Kinerja-Kind: {_clean(kind)}"] if kind and kind.isascii() else []),
        "Auto-Submitted: auto-generated",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "", "",
    ))
    return b"".join((head.encode("ascii"), _part("plain", text, boundary),
                     _part("html", html, boundary), f"--{boundary}--{CRLF}".encode("ascii")))


def build_mime_stdlib(*, key: str, sender: Address, to: Address, subject: str, text: str,
                      html: str, date: datetime, domain: str = "", kind: str = "") -> bytes:
    """The same message built with email.message.EmailMessage: the reference for tests/bench."""
    from email.headerregistry import Address as HeaderAddress
    from email.message import EmailMessage
    from email.policy import SMTP

    def header_address(value: Address) -> HeaderAddress:
        name, addr = split_address(value) if isinstance(value, str) else value
        return HeaderAddress(display_name=name, addr_spec=addr)

    msg = EmailMessage(policy=SMTP)
    msg["From"] = header_address(sender)
    msg["To"] = header_address(to)
    msg["Subject"] = subject
    msg["Date"] = date
    domain = domain or header_address(sender).domain or "kinerja.local"
    msg["Message-ID"] = message_id(key, domain)
    msg["X-Kinerja-Key"] = key
    if kind and kind.isascii():
        msg["X-Kinerja-Kind"] = kind
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg.as_bytes()
