"""SKP with its RHK, IKI and perilaku; tasks assigned to people; the SKP's event history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from models.rules.enums import (
    ArahIki,
    AspekIki,
    JenisIki,
    JenisRhk,
    NilaiBerakhlak,
    SkpStatus,
    TaskKind,
    TaskStatus,
)


class Skp(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("cycle_id", "pegawai_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    pegawai_id: int = Field(foreign_key="pegawai.id", index=True)
    status: SkpStatus = SkpStatus.DRAF
    submitted_at: datetime | None = None
    submissions: int = 0
    approved_at: datetime | None = None
    approved_by_id: int | None = Field(default=None, foreign_key="pegawai.id")
    return_comment: str | None = None
    escalated_submission: int = 0  # the submission number last escalated to the atasan PPK
    #: how many times the approved SKP was reopened for a revision during the year
    revisi: int = 0
    revisi_alasan: str | None = Field(default=None, max_length=2000)
    created_at: datetime
    updated_at: datetime
    version: int = 1


class Rhk(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    jenis: JenisRhk = JenisRhk.UTAMA
    uraian: str = Field(max_length=1000)
    #: the superior's RHK this one supports (the cascade); None for a JPT / top of the tree
    intervensi_rhk_id: int | None = Field(default=None, foreign_key="rhk.id", index=True)
    urutan: int = 0


class Iki(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    rhk_id: int = Field(foreign_key="rhk.id", index=True)
    indikator: str = Field(max_length=1000)
    aspek: AspekIki = AspekIki.KUANTITAS
    jenis: JenisIki = JenisIki.KUANTITATIF
    target: str = Field(max_length=200)
    satuan: str = Field(max_length=100)
    arah: ArahIki = ArahIki.NAIK


class Perilaku(SQLModel, table=True):
    """One BerAKHLAK value on an SKP, with the superior's specific expectation if any."""

    __table_args__ = (UniqueConstraint("skp_id", "nilai"),)
    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    nilai: NilaiBerakhlak
    ekspektasi_khusus: str | None = Field(default=None, max_length=1000)


class SkpEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    at: datetime
    actor_id: int | None = Field(default=None, foreign_key="pegawai.id")
    action: str = Field(max_length=40)
    comment: str | None = Field(default=None, max_length=4000)


class SkpVersi(SQLModel, table=True):
    """The SKP as it was approved, kept each time: revisions during the year keep their history."""

    __table_args__ = (UniqueConstraint("skp_id", "nomor"),)
    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    nomor: int
    approved_at: datetime
    approved_by_id: int | None = Field(default=None, foreign_key="pegawai.id")
    alasan: str | None = Field(default=None, max_length=2000)  # why the revision was opened
    data: dict = Field(sa_column=Column(JSON, nullable=False))


#: a person has at most one task of a kind per cycle and period
TASK_KEY = ["cycle_id", "kind", "pegawai_id", "periode"]


class Task(SQLModel, table=True):
    """Something one person must do by a date; task links point at one of these."""

    __table_args__ = (UniqueConstraint(*TASK_KEY, name="uq_task_cycle_kind_pegawai_periode"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    kind: TaskKind = Field(sa_type=AutoString(length=40))  # text: kinds grow with stages
    pegawai_id: int = Field(foreign_key="pegawai.id", index=True)
    #: the monitoring period a task belongs to (1..12); 0 for tasks of a yearly stage
    periode: int = 0
    status: TaskStatus = TaskStatus.OPEN
    due_at: datetime
    created_at: datetime
    done_at: datetime | None = None
    reminders_sent: int = 0
    #: when the reminder sweep must next look at this task (None: no reminder left); indexed so
    #: a sweep reads only the tasks that are due, not every open task
    next_reminder_at: datetime | None = Field(default=None, index=True)
    #: set when HR closed the task on the person's behalf ("hr:<username>") and why
    closed_by: str | None = Field(default=None, max_length=120)
    close_reason: str | None = Field(default=None, max_length=2000)
