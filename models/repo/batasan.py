"""Rate limits kept in the database, so that every API process counts together: a fixed
window per key, counted with one upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models.tables import Batasan


@dataclass(frozen=True)
class Limit:
    name: str
    per: int  # at most this many
    seconds: int  # in a window of this length


#: a username (any, existing or not: the answer never tells) and one client address
LOGIN_USER = Limit("login-u", 10, 15 * 60)
LOGIN_CLIENT = Limit("login-k", 50, 15 * 60)
#: fresh task links asked for from one client address
RENEW_CLIENT = Limit("renew-k", 20, 60 * 60)


class TooMany(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def key_of(limit: Limit, value: str, secret: str) -> str:
    """A keyed hash: the table never holds a raw address or username."""
    digest = hmac.new(secret.encode(), value.lower().encode(), hashlib.sha256).hexdigest()
    return f"{limit.name}:{digest[:48]}"


def hit(*, session: Session, limit: Limit, value: str, secret: str, now: datetime) -> None:
    """Count one attempt; TooMany (with the seconds to wait) once the window is full."""
    start = datetime.fromtimestamp(int(now.timestamp()) // limit.seconds * limit.seconds,
                                   tz=now.tzinfo)
    key = key_of(limit, value, secret)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Batasan).values(kunci=key, jendela=start, jumlah=1)
    stmt = stmt.on_conflict_do_update(index_elements=["kunci", "jendela"],
                                      set_={"jumlah": Batasan.jumlah + 1}).returning(Batasan.jumlah)
    count = int(session.execute(stmt).scalar_one())
    if count == 1:  # a new window: forget windows older than a day (cheap, indexed)
        session.execute(delete(Batasan).where(Batasan.jendela < now - timedelta(days=1)))
    if count > limit.per:
        raise TooMany(int((start + timedelta(seconds=limit.seconds) - now).total_seconds()) + 1)
