"""Append-only record of changes made by people and flows (database triggers refuse UPDATE and
DELETE on this table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class AuditLog(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=200, index=True)  # "hr:admin", "pegawai:12", "flow:open_planning"
    action: str = Field(max_length=60)
    entity: str = Field(max_length=60)
    entity_id: int | None = Field(default=None, index=True)
    before: dict | None = Field(default=None, sa_column=Column(JSON))
    after: dict | None = Field(default=None, sa_column=Column(JSON))
    #: where the change came from: "sesi:12" (a console session), "token:3" (an API token),
    #: "tautan:task:881" (a task link), "flow-run:<uuid>", "cli", "sistem"
    via: str = Field(default="sistem", max_length=120)
    #: the person the change is about, when there is one (search by person)
    pegawai_id: int | None = Field(default=None, index=True)
    cycle_id: int | None = Field(default=None, index=True)
