"""Which reminder is due for a task, when a PPK's review is due, and when it escalates."""

from __future__ import annotations

from datetime import datetime, timedelta


def reminder_due(
    *, due_at: datetime, offsets_minutes: tuple[int, ...] | list[int], sent: int,
    created_at: datetime, now: datetime,
) -> int | None:
    """Index of the reminder to send now, or None.

    Only the latest reminder whose time has come is sent (a sweep that ran late does not send a
    burst of old ones), and none whose time was before the task existed.
    """
    due_idx = None
    for i, offset in enumerate(sorted(offsets_minutes)):
        at = due_at + timedelta(minutes=offset)
        if i >= sent and created_at <= at <= now:
            due_idx = i
    return due_idx


def next_reminder_at(*, due_at: datetime, offsets_minutes: tuple[int, ...] | list[int], sent: int,
                     created_at: datetime) -> datetime | None:
    """When the sweep must next look at this task (the next reminder not yet sent), or None."""
    for i, offset in enumerate(sorted(offsets_minutes)):
        at = due_at + timedelta(minutes=offset)
        if i >= sent and at >= created_at:
            return at
    return None


def review_due(*, submitted_at: datetime, approve_due_at: datetime, sla_minutes: int) -> datetime:
    """A submitted SKP must be decided by the stage's approval date, but never in less than the SLA."""
    return max(approve_due_at, submitted_at + timedelta(minutes=sla_minutes))


def escalation_due(*, submitted_at: datetime, approve_due_at: datetime, sla_minutes: int,
                   now: datetime) -> bool:
    """True when a submitted SKP has waited past its review due time: tell the atasan PPK."""
    return now > review_due(submitted_at=submitted_at, approve_due_at=approve_due_at,
                            sla_minutes=sla_minutes)
