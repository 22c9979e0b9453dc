"""Outbox retry policy: when to try a failed message again, and when to give up on it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

#: no retry waits longer than this, however many attempts failed
MAX_BACKOFF_SECONDS = 6 * 60 * 60

Decision = Literal["retry", "park"]


def backoff_seconds(attempts: int, base_seconds: float,
                    cap_seconds: float = MAX_BACKOFF_SECONDS) -> float:
    """Wait after the `attempts`-th failure: base * 2^(attempts-1), at most cap_seconds."""
    if attempts < 1:
        return 0.0
    # past 2^40 the product only overflows; the cap has long been reached
    return min(base_seconds * 2.0 ** min(attempts - 1, 40), cap_seconds)


def next_attempt_at(attempts: int, base_seconds: float, now: datetime,
                    cap_seconds: float = MAX_BACKOFF_SECONDS) -> datetime:
    """When to try again after `attempts` failed attempts (exponential backoff with a cap)."""
    return now + timedelta(seconds=backoff_seconds(attempts, base_seconds, cap_seconds))


def after_failure(attempts: int, max_attempts: int, permanent: bool) -> Decision:
    """'park' a refused message or one that failed `max_attempts` times, else 'retry'."""
    if permanent or attempts >= max_attempts:
        return "park"
    return "retry"
