"""The organisation: units (unor) and employees (pegawai) with their superior."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import AutoString, Field, SQLModel

from models.rules.enums import JenisJabatan, Ringkasan, StatusPegawai


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
    #: one email per event, or one daily digest of what waits (default: digest above 5 items)
    ringkasan: Ringkasan = Field(default=Ringkasan.OTOMATIS, sa_type=AutoString(length=10))
    #: when the last daily digest went out (so that a day gets at most one)
    ringkasan_terakhir: datetime | None = None
