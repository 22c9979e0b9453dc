"""Queue messages in the same transaction as the change that causes them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from models.db import insert_new
from models.rules.digest import HELD_UNTIL
from models.rules.enums import OutboxStatus
from models.tables import OutboxMessage


def enqueue_messages(*, session: Session, messages: Iterable[dict[str, Any]],
                     now: datetime) -> int:
    """Add messages whose key is new; returns how many were added. Does not commit.

    Each dict has key, kind, to_email, context and optionally pegawai_id (the recipient, when
    the recipient is an employee) and language. A per-event message for someone in digest mode
    is added held for their daily digest instead of due now (models.repo.digest).
    """
    batch = {m["key"]: m for m in messages}
    if not batch:
        return 0
    existing: set[str] = set()
    keys = list(batch)
    for i in range(0, len(keys), 900):
        existing.update(session.execute(
            select(OutboxMessage.key).where(OutboxMessage.key.in_(keys[i:i + 900]))
        ).scalars())
    fresh = [m for k, m in batch.items() if k not in existing]
    if fresh:
        from models.repo.digest import hold_for_digest

        held = hold_for_digest(session=session, messages=fresh, now=now)
        # one multi-row statement; a key a racing writer added meanwhile (two subordinates
        # opening their pages at once, the sweep and a page) is skipped, not an error
        added = session.execute(insert_new(session, OutboxMessage, ["key"], OutboxMessage.key), [{
            "key": m["key"], "kind": m["kind"], "to_email": m["to_email"],
            "pegawai_id": m.get("pegawai_id"), "language": m.get("language", "id"),
            "context": m["context"], "status": OutboxStatus.QUEUED, "attempts": 0,
            "next_attempt_at": HELD_UNTIL if m["key"] in held else now, "last_error": None,
            "created_at": now, "sent_at": None}
            for m in fresh]).scalars().all()
        return len(added)
    return 0
