"""The organisation: units (unor) and employees (pegawai) with their superior."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.rules.enums import JenisJabatan, StatusPegawai


class Unit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    nama: str = Field(index=True, unique=True, max_length=200)
    active: bool = True


class Pegawai(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    nip: str = Field(index=True, unique=True, min_length=18, max_length=18)
    nama: str = Field(max_length=200)
    email: str = Field(max_length=254)
    jabatan: str = Field(max_length=300)
    jenis_jabatan: JenisJabatan
    status: StatusPegawai = StatusPegawai.PNS
    jenjang: str | None = Field(default=None, max_length=60)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    atasan_id: int | None = Field(default=None, foreign_key="pegawai.id", index=True)
    active: bool = True
    updated_at: datetime
