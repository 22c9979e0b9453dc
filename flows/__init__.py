"""Prefect flows: one per stage transition, the cycle orchestrator, reminders, the outbox."""
