"""Monitoring through the year, per SKP and period: rencana aksi, realisasi, bukti dukung,
the self-note and the PPK's feedback, dialogs and periodic ratings."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from models.rules.enums import JenisBukti, JenisDialog, Predikat, Rating


class SkpPeriode(SQLModel, table=True):
    """One SKP in one period: the pegawai's self-note and report, the PPK's periodic rating."""

    __table_args__ = (UniqueConstraint("skp_id", "periode"),)
    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    periode: int
    catatan_pegawai: str | None = Field(default=None, max_length=2000)
    #: the pegawai said the period's realisasi is complete (it stays editable until closing)
    dilaporkan_at: datetime | None = None
    hasil_kerja: Rating | None = Field(default=None, sa_type=AutoString(length=40))
    perilaku: Rating | None = Field(default=None, sa_type=AutoString(length=40))
    predikat: Predikat | None = Field(default=None, sa_type=AutoString(length=40))
    catatan_ppk: str | None = Field(default=None, max_length=2000)
    dinilai_at: datetime | None = None
    dinilai_oleh_id: int | None = Field(default=None, foreign_key="pegawai.id")
    updated_at: datetime
    version: int = 1


class RencanaAksi(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("rhk_id", "periode"),)
    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    rhk_id: int = Field(foreign_key="rhk.id", index=True)
    periode: int
    uraian: str = Field(max_length=2000)
    updated_at: datetime


class Realisasi(SQLModel, table=True):
    """The realisasi of one IKI in one period: a number (in the IKI's unit) or a statement."""

    __table_args__ = (UniqueConstraint("iki_id", "periode"),)
    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    iki_id: int = Field(foreign_key="iki.id", index=True)
    periode: int
    nilai: float | None = None
    uraian: str | None = Field(default=None, max_length=2000)
    #: 'pegawai' (typed on the page) or 'impor' (HR's bulk import from another system)
    sumber: str = Field(default="pegawai", max_length=20)
    updated_at: datetime


class Bukti(SQLModel, table=True):
    """Bukti dukung: a link, or a file stored by content hash (never at a guessable URL)."""

    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    periode: int
    iki_id: int | None = Field(default=None, foreign_key="iki.id")
    jenis: JenisBukti = Field(sa_type=AutoString(length=20))
    url: str | None = Field(default=None, max_length=2000)
    sha256: str | None = Field(default=None, max_length=64)
    nama_berkas: str | None = Field(default=None, max_length=200)
    content_type: str | None = Field(default=None, max_length=100)
    size: int | None = None
    keterangan: str | None = Field(default=None, max_length=500)
    created_at: datetime


class UmpanBalik(SQLModel, table=True):
    """The PPK's feedback on one RHK in one period."""

    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    rhk_id: int = Field(foreign_key="rhk.id", index=True)
    periode: int
    ppk_id: int = Field(foreign_key="pegawai.id")
    isi: str = Field(max_length=2000)
    created_at: datetime


class Dialog(SQLModel, table=True):
    """A dialog kinerja, coaching or counselling session held by the PPK."""

    id: int | None = Field(default=None, primary_key=True)
    skp_id: int = Field(foreign_key="skp.id", index=True)
    periode: int
    jenis: JenisDialog = Field(sa_type=AutoString(length=20))
    tanggal: date
    catatan: str = Field(max_length=4000)
    tindak_lanjut: str | None = Field(default=None, max_length=2000)  # agreed actions
    ppk_id: int = Field(foreign_key="pegawai.id")
    created_at: datetime
