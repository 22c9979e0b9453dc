"""Signed task links: one person, one task, an expiry; HMAC-SHA256 over a compact payload."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models.rules.errors import LinkRejected


@dataclass(frozen=True)
class LinkClaims:
    task_id: int
    pegawai_id: int
    expires_at: datetime  # aware UTC

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def sign(claims: LinkClaims, secret: str) -> str:
    exp = int(claims.expires_at.timestamp())
    body = _b64(json.dumps([claims.task_id, claims.pegawai_id, exp], separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, body)}"


TAMPERED = ("Tautan ini tidak sah atau sudah diubah. Gunakan tautan dari email terbaru Anda, atau "
            "hubungi Pengelola Kinerja.",
            "This link is not valid or has been altered. Use the link in your latest email, or "
            "contact the performance admin.")
EXPIRED = ("Tautan ini sudah kedaluwarsa. Kami dapat mengirim tautan baru ke email Anda.",
           "This link has expired. We can email you a fresh one.")


def verify(token: str, secret: str, now: datetime, *, allow_expired: bool = False) -> LinkClaims:
    """The claims of a genuine token; LinkRejected('tampered'|'expired') otherwise."""
    try:
        body, mac = token.split(".", 1)
        if not hmac.compare_digest(mac, _mac(secret, body)):
            raise ValueError
        task_id, pegawai_id, exp = json.loads(_unb64(body))
        claims = LinkClaims(int(task_id), int(pegawai_id),
                            datetime.fromtimestamp(int(exp), UTC))
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise LinkRejected("tampered", *TAMPERED) from None
    if claims.expired(now) and not allow_expired:
        raise LinkRejected("expired", *EXPIRED)
    return claims


@dataclass(frozen=True)
class Links:
    """Makes the signed URL of a task for its person."""

    base_url: str
    secret: str
    ttl_hours: int = 24 * 21

    def task(self, task_id: int, pegawai_id: int, now: datetime) -> str:
        claims = LinkClaims(task_id, pegawai_id, now + timedelta(hours=self.ttl_hours))
        return f"{self.base_url.rstrip('/')}/t/{sign(claims, self.secret)}"
