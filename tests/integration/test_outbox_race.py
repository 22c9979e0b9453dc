"""Two writers queue the same message at the same moment (two subordinates open their task
pages at once and both tell their superior that they wait for the superior's RHK; the sweep
and a page view; two API processes): one row, one email, and no error for either writer."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from models.db import session_scope
from models.repo.outbox import enqueue_messages
from models.tables import OutboxMessage

NOW = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)


def _message(key: str) -> dict[str, object]:
    return {"key": key, "kind": "menunggu_rhk_atasan", "to_email": "kasi@contoh.go.id",
            "context": {"nama": "Kasi"}}


def test_the_same_key_queued_by_two_writers_at_once(db: Engine) -> None:
    results: list[object] = []

    def second_writer() -> None:
        try:  # its look-up finds nothing (the first is not committed); its insert then waits
            with session_scope(db) as s:
                results.append(enqueue_messages(session=s, now=NOW, messages=[
                    _message("cascade-wait:1:3"), _message("cascade-wait:1:4")]))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results.append(exc)

    with session_scope(db) as first:
        assert enqueue_messages(session=first, now=NOW, messages=[_message("cascade-wait:1:3")]) == 1
        thread = threading.Thread(target=second_writer)
        thread.start()
        time.sleep(0.5)  # the second writer is now blocked behind this uncommitted insert
    thread.join(30)
    assert results == [1]  # only the key that was new to it
    with session_scope(db) as s:
        keys = s.execute(select(OutboxMessage.key, func.count()).group_by(OutboxMessage.key)).all()
    assert sorted(keys) == [("cascade-wait:1:3", 1), ("cascade-wait:1:4", 1)]
