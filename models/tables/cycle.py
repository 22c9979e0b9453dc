"""The yearly cycle, its stage calendar and the reports stage flows leave behind."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from models.rules.enums import CycleStatus, Periodisasi, StageCode


class Cycle(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tahun: int = Field(index=True, unique=True)
    nama: str = Field(max_length=200)
    status: CycleStatus = CycleStatus.DRAFT
    timezone: str = "Asia/Jakarta"
    #: reminder times relative to a task's due date, in minutes (negative: before)
    reminder_offsets: list[int] = Field(sa_column=Column(JSON, nullable=False))
    #: a submitted SKP gets at least this long before its PPK is escalated
    review_sla_minutes: int = 3 * 1440
    #: monitoring periods: triwulanan (quarterly, the default) or bulanan (monthly)
    periodisasi: Periodisasi = Field(default=Periodisasi.TRIWULANAN, sa_type=AutoString(length=20))
    #: days a pegawai has to file a keberatan after the predikat is published
    keberatan_hari: float = 14.0
    launched_at: datetime | None = None
    launch_flow_run_id: str | None = None
    created_at: datetime
    version: int = 1


class CycleStage(SQLModel, table=True):
    """One stage of the cycle; monitoring has one row per period (periode 1..4 or 1..12).

    Dates: opens_at (tasks and invitations), due_at (the pegawai's deadline), approve_due_at
    (the PPK's), closes_at (read-only afterwards). A period also covers period_start..period_end.
    """

    __table_args__ = (UniqueConstraint("cycle_id", "code", "periode",
                                       name="uq_cyclestage_cycle_code_periode"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    # plain text, not a database enum: later stages add codes without an ALTER TYPE
    code: StageCode = Field(sa_type=AutoString(length=40))
    periode: int = 0
    period_start: datetime | None = None
    period_end: datetime | None = None
    opens_at: datetime
    due_at: datetime
    approve_due_at: datetime
    closes_at: datetime
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1


class StageReport(SQLModel, table=True):
    """What a stage flow found, e.g. who had no approved SKP when planning closed."""

    __table_args__ = (UniqueConstraint("cycle_id", "code", name="uq_stagereport_cycle_code"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    code: str = Field(max_length=60)
    created_at: datetime
    data: dict = Field(sa_column=Column(JSON, nullable=False))
