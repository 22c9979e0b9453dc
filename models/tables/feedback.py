"""360 feedback, the public satisfaction survey (SKM) and competency self-assessment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel


class Penilai360(SQLModel, table=True):
    """Who gives 360 feedback on whom (the assignment). It never points at an answer, and an
    answer never points back: see Jawaban360."""

    __table_args__ = (UniqueConstraint("cycle_id", "dinilai_id", "penilai_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    dinilai_id: int = Field(foreign_key="pegawai.id", index=True)  # the person rated
    penilai_id: int = Field(foreign_key="pegawai.id", index=True)  # the rater
    #: ppk, rekan (peer), bawahan (subordinate), diri (self)
    peran: str = Field(max_length=20)
    #: aturan (the assignment rule), usulan (proposed by the pegawai), ppk (added by the PPK)
    sumber: str = Field(default="aturan", max_length=20)
    aktif: bool = True  # False: taken off the list by the PPK
    ditetapkan: bool = False  # confirmed (by the PPK, or at the confirmation deadline)
    selesai: bool = False  # answered; deliberately without a time (see the anonymity note)


class Jawaban360(SQLModel, table=True):
    """One judgement of one BerAKHLAK value about one person. No rater, no assignment, no time:
    the key is random, so neither the key nor a time can be matched to an assignment."""

    id: str = Field(primary_key=True, max_length=32)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    dinilai_id: int = Field(foreign_key="pegawai.id", index=True)
    diri: bool = False  # the person's own answer (shown apart, never in the aggregate)
    nilai: str = Field(sa_type=AutoString(length=40))  # the BerAKHLAK value
    penilaian: str = Field(max_length=20)  # di_bawah, sesuai, di_atas
    komentar: str | None = Field(default=None, max_length=1000)


class Survei(SQLModel, table=True):
    """A public satisfaction survey (SKM) of one service unit for one period."""

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    cycle_id: int | None = Field(default=None, foreign_key="cycle.id", index=True)
    periode: int = 0  # the monitoring period it covers (0: the whole year)
    judul: str = Field(max_length=200)
    #: the public URL's slug: random, unguessable, can be rotated by HR
    slug: str = Field(index=True, unique=True, max_length=64)
    dibuka_at: datetime
    ditutup_at: datetime | None = None
    #: the IKI whose realisasi is this survey's IKM (a service-unit head's IKI), if any
    iki_id: int | None = Field(default=None, foreign_key="iki.id")
    created_at: datetime


class JawabanSurvei(SQLModel, table=True):
    """One respondent's answers to the nine SKM elements (1 to 4). No login, no name."""

    id: int | None = Field(default=None, primary_key=True)
    survei_id: int = Field(foreign_key="survei.id", index=True)
    nilai: list[int] = Field(sa_column=Column(JSON, nullable=False))
    komentar: str | None = Field(default=None, max_length=1000)
    #: a keyed hash of the client (address and browser), for rate limits and duplicates only
    klien: str = Field(index=True, max_length=64)
    #: a keyed hash of client + answers, to refuse the same submission sent twice
    sidik: str = Field(index=True, max_length=64)
    created_at: datetime


class Kompetensi(SQLModel, table=True):
    """A competency on the agency's list: teknis, manajerial or sosial_kultural."""

    id: int | None = Field(default=None, primary_key=True)
    kode: str = Field(index=True, unique=True, max_length=40)
    nama: str = Field(max_length=200)
    jenis: str = Field(max_length=20)
    #: the level expected (1 to 5); a rating this far below it is a gap
    level_standar: int = 3
    urutan: int = 0
    aktif: bool = True


class PenilaianKompetensi(SQLModel, table=True):
    """One competency of one pegawai in a cycle: their own rating and the PPK's (1 to 5)."""

    __table_args__ = (UniqueConstraint("cycle_id", "pegawai_id", "kompetensi_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    pegawai_id: int = Field(foreign_key="pegawai.id", index=True)
    kompetensi_id: int = Field(foreign_key="kompetensi.id")
    nilai_diri: int | None = None
    nilai_ppk: int | None = None
    updated_at: datetime


class Pelatihan(SQLModel, table=True):
    """The training catalogue HR maintains, each entry for one competency."""

    id: int | None = Field(default=None, primary_key=True)
    kompetensi_id: int = Field(foreign_key="kompetensi.id", index=True)
    nama: str = Field(max_length=200)
    penyelenggara: str | None = Field(default=None, max_length=200)
    keterangan: str | None = Field(default=None, max_length=1000)
    aktif: bool = True


class RekomendasiPelatihan(SQLModel, table=True):
    """A training recommendation from a competency gap; the follow-up stage shows these."""

    __table_args__ = (UniqueConstraint("cycle_id", "pegawai_id", "kompetensi_id"),)
    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", index=True)
    pegawai_id: int = Field(foreign_key="pegawai.id", index=True)
    kompetensi_id: int = Field(foreign_key="kompetensi.id")
    pelatihan_ids: list[int] = Field(sa_column=Column(JSON, nullable=False))
    gap: int
    created_at: datetime


class Pengaturan360(SQLModel, table=True):
    """The cycle's 360 and competency settings (one row per cycle)."""

    cycle_id: int = Field(foreign_key="cycle.id", primary_key=True)
    ikut_ppk: bool = True  # the PPK rates too
    ikut_diri: bool = True  # self-review
    maks_rekan: int = 3  # peers per person
    maks_bawahan: int = 3  # subordinates per person
    maks_form: int = 8  # most forms one rater gets (the cap)
    ambang: int = 3  # fewest non-self answers before aggregates show
    ambang_gap: int = 1  # a competency this far below its standard is a gap
