"""The transactional outbox: written with the state change that causes it, sent by a flow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.rules.enums import OutboxStatus


class OutboxMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    #: idempotency key, e.g. invite:{cycle}:perencanaan:{pegawai}; unique so nothing is sent twice
    key: str = Field(max_length=200, unique=True, index=True)
    kind: str = Field(max_length=60)
    to_email: str = Field(max_length=254)
    pegawai_id: int | None = Field(default=None, foreign_key="pegawai.id", index=True)
    language: str = "id"
    context: dict = Field(sa_column=Column(JSON, nullable=False))
    status: OutboxStatus = Field(default=OutboxStatus.QUEUED, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(index=True)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime
    sent_at: datetime | None = None
