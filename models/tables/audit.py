"""Append-only record of changes made by people and flows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class AuditLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=200)  # "hr:admin", "pegawai:12", "flow:open_planning"
    action: str = Field(max_length=60)
    entity: str = Field(max_length=60)
    entity_id: int | None = Field(default=None, index=True)
    before: dict | None = Field(default=None, sa_column=Column(JSON))
    after: dict | None = Field(default=None, sa_column=Column(JSON))
