"""Prefect flows: one per stage transition, the cycle orchestrator, reminders, the outbox.

The chunk tasks carry `cache_policy=NO_CACHE`: they are idempotent and must run every time a
flow is run again, and Prefect's default policy (inputs and task source) hashed each call's
2,000 employee ids and read the task's source for a cache key nothing used."""

from flows import heartbeat as _heartbeat  # noqa: F401 - flow runs end without a 1 s wait
