"""Prefect flows: one per stage transition, the cycle orchestrator, reminders, the outbox."""

from flows import heartbeat as _heartbeat  # noqa: F401 - flow runs end without a 1 s wait
