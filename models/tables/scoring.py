"""The year's end: annual ratings, unit grades and calibration, publication, keberatan,
and the follow-up (awards, coaching plans, the tunjangan table)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from models.rules.enums import OrgGrade, Predikat, Rating


class NilaiUnit(SQLModel, table=True):
    """HR's organisational grade (capaian kinerja organisasi) of one unit for the cycle."""

    __table_args__ = (UniqueConstraint("cycle_id", "unit_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    grade: OrgGrade = Field(sa_type=AutoString(length=40))
    ditetapkan_oleh: str = Field(max_length=120)
    ditetapkan_at: datetime
    #: HR accepted this unit's curve breaches with a written reason (kept in PerubahanNilai)
    override_alasan: str | None = Field(default=None, max_length=2000)


class PenilaianTahunan(SQLModel, table=True):
    """The annual ratings of one SKP and the predikat, from the PPK's page to publication."""

    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", unique=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    hasil_kerja: Rating | None = Field(default=None, sa_type=AutoString(length=40))
    perilaku: Rating | None = Field(default=None, sa_type=AutoString(length=40))
    predikat: Predikat | None = Field(default=None, sa_type=AutoString(length=40))
    #: 'ppk' (the PPK's judgement) or 'unit' (a unit head's hasil kerja is the unit's grade)
    sumber_hasil_kerja: str = Field(default="ppk", max_length=10)
    catatan: str | None = Field(default=None, max_length=2000)
    dinilai_at: datetime | None = None
    dinilai_oleh_id: int | None = Field(default=None, foreign_key="pegawai.id")
    #: draf -> dinilai -> dipublikasi -> final (after the appeal window or the keberatan)
    status: str = Field(default="draf", max_length=20)
    dipublikasi_at: datetime | None = None
    angka_kredit: float | None = None
    version: int = 1


class PerubahanNilai(SQLModel, table=True):
    """Every change of an annual rating: the PPK's, a calibration, an HR override, a keberatan."""

    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    at: datetime
    oleh: str = Field(max_length=120)  # 'pegawai:<id>' or 'hr:<username>'
    jenis: str = Field(max_length=20)  # ppk, kalibrasi, override, keberatan
    sebelum: dict = Field(sa_column=Column(JSON, nullable=False))
    sesudah: dict = Field(sa_column=Column(JSON, nullable=False))
    alasan: str | None = Field(default=None, max_length=2000)


class Keberatan(SQLModel, table=True):
    """An appeal against a published predikat, decided by the atasan PPK."""

    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", unique=True)
    diajukan_at: datetime
    alasan: str = Field(max_length=4000)
    #: diajukan, tetap (the predikat is kept), diubah (changed)
    status: str = Field(default="diajukan", max_length=20)
    pemutus_id: int | None = Field(default=None, foreign_key="pegawai.id")
    diputus_at: datetime | None = None
    alasan_putusan: str | None = Field(default=None, max_length=4000)
    predikat_sebelum: Predikat | None = Field(default=None, sa_type=AutoString(length=40))
    predikat_sesudah: Predikat | None = Field(default=None, sa_type=AutoString(length=40))


class KandidatPenghargaan(SQLModel, table=True):
    """A Sangat Baik pegawai on the award list; HR confirms or sets aside with a note."""

    __table_args__ = (UniqueConstraint("cycle_id", "pegawai_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    pegawai_id: int = Field(foreign_key="pegawai.id", index=True)
    status: str = Field(default="kandidat", max_length=20)  # kandidat, ditetapkan, tidak
    catatan: str | None = Field(default=None, max_length=1000)
    diputus_oleh: str | None = Field(default=None, max_length=120)
    diputus_at: datetime | None = None


class RencanaPembinaan(SQLModel, table=True):
    """A coaching plan for a pegawai rated Butuh Perbaikan, Kurang or Sangat Kurang."""

    __table_args__ = (UniqueConstraint("cycle_id", "pegawai_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    pegawai_id: int = Field(foreign_key="pegawai.id", index=True)
    pemilik_id: int | None = Field(default=None, foreign_key="pegawai.id")  # owner: the PPK
    predikat: Predikat = Field(sa_type=AutoString(length=40))
    status: str = Field(default="terbuka", max_length=20)  # terbuka, selesai
    created_at: datetime
    selesai_at: datetime | None = None


class AksiPembinaan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    rencana_id: int = Field(foreign_key="rencanapembinaan.id", index=True)
    uraian: str = Field(max_length=1000)
    batas_at: datetime
    selesai_at: datetime | None = None
    catatan: str | None = Field(default=None, max_length=1000)


class TunjanganKinerja(SQLModel, table=True):
    """The share of tunjangan kinerja paid per predikat (the agency's table, for payroll)."""

    __table_args__ = (UniqueConstraint("cycle_id", "predikat"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    predikat: Predikat = Field(sa_type=AutoString(length=40))
    persen: float
