"""Competency self-assessment: the default competency list and training catalogue (data), the
1..5 rating scale, and the gap rule that turns a low rating into a training recommendation.

The default list follows the national ASN competency standard (PermenPANRB 38/2017): the eight
managerial competencies, the socio-cultural one (Perekat Bangsa) and a few technical examples
an agency replaces with its own. HR edits all of it; these are only the first rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.rules.errors import InvalidInput

LEVEL_MIN, LEVEL_MAX = 1, 5

#: jenis -> (Bahasa Indonesia, English)
JENIS = {"teknis": ("Teknis", "Technical"), "manajerial": ("Manajerial", "Managerial"),
         "sosial_kultural": ("Sosial Kultural", "Socio-cultural")}

#: the 1..5 scale people choose from (level descriptions of the standard, shortened)
LEVEL_LABEL = {1: ("1 – Awareness (mengenal)", "1 – Awareness"),
               2: ("2 – Basic (dasar)", "2 – Basic"),
               3: ("3 – Intermediate (menengah)", "3 – Intermediate"),
               4: ("4 – Advanced (mahir)", "4 – Advanced"),
               5: ("5 – Expert (ahli)", "5 – Expert")}


@dataclass(frozen=True)
class KompetensiDefault:
    kode: str
    nama: str
    jenis: str
    level_standar: int = 3


@dataclass(frozen=True)
class PelatihanDefault:
    kode_kompetensi: str
    nama: str
    keterangan: str


DEFAULT_KOMPETENSI = (
    KompetensiDefault("MNJ-01", "Integritas", "manajerial"),
    KompetensiDefault("MNJ-02", "Kerja Sama", "manajerial"),
    KompetensiDefault("MNJ-03", "Komunikasi", "manajerial"),
    KompetensiDefault("MNJ-04", "Orientasi pada Hasil", "manajerial"),
    KompetensiDefault("MNJ-05", "Pelayanan Publik", "manajerial"),
    KompetensiDefault("MNJ-06", "Pengembangan Diri dan Orang Lain", "manajerial"),
    KompetensiDefault("MNJ-07", "Mengelola Perubahan", "manajerial"),
    KompetensiDefault("MNJ-08", "Pengambilan Keputusan", "manajerial"),
    KompetensiDefault("SK-01", "Perekat Bangsa", "sosial_kultural"),
    KompetensiDefault("TEK-01", "Literasi Digital dan Aplikasi Perkantoran", "teknis"),
    KompetensiDefault("TEK-02", "Pengelolaan Data dan Informasi", "teknis"),
    KompetensiDefault("TEK-03", "Penyusunan Naskah Dinas dan Laporan", "teknis"),
)

DEFAULT_PELATIHAN = (
    PelatihanDefault("MNJ-01", "Integritas dan budaya antikorupsi",
                     "Nilai integritas, konflik kepentingan, gratifikasi."),
    PelatihanDefault("MNJ-02", "Membangun kerja sama tim",
                     "Kolaborasi lintas unit dan penyelesaian konflik."),
    PelatihanDefault("MNJ-03", "Komunikasi efektif",
                     "Menyampaikan informasi lisan dan tertulis dengan jelas; mendengar aktif."),
    PelatihanDefault("MNJ-03", "Teknik presentasi", "Menyusun dan menyampaikan paparan."),
    PelatihanDefault("MNJ-04", "Manajemen waktu", "Prioritas, perencanaan kerja dan tenggat."),
    PelatihanDefault("MNJ-04", "Penetapan target dan pengukuran kinerja",
                     "Menyusun RHK dan IKI yang terukur."),
    PelatihanDefault("MNJ-05", "Pelayanan prima", "Standar pelayanan, sikap melayani, pengaduan."),
    PelatihanDefault("MNJ-06", "Coaching dan mentoring", "Membimbing rekan dan bawahan."),
    PelatihanDefault("MNJ-07", "Manajemen perubahan", "Mengelola dan mengomunikasikan perubahan."),
    PelatihanDefault("MNJ-08", "Pemecahan masalah dan pengambilan keputusan",
                     "Analisis masalah, alternatif dan risiko."),
    PelatihanDefault("SK-01", "Wawasan kebangsaan dan moderasi",
                     "Kemajemukan, toleransi dan perekat bangsa."),
    PelatihanDefault("TEK-01", "Literasi digital untuk ASN",
                     "Aplikasi perkantoran, keamanan informasi, layanan digital."),
    PelatihanDefault("TEK-02", "Analisis dan visualisasi data",
                     "Mengolah, menganalisis dan menyajikan data."),
    PelatihanDefault("TEK-03", "Penulisan naskah dinas dan laporan",
                     "Tata naskah dinas dan laporan yang ringkas."),
)


# -- ratings ---------------------------------------------------------------------------------------


def parse_nilai(value: str | int | None, nama: str) -> int | None:
    """A rating of competency `nama` from a form: 1..5, or None when left empty."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[0-9]{1,2}", text) or not LEVEL_MIN <= int(text) <= LEVEL_MAX:
        shown = text[:20]
        raise InvalidInput(f"Nilai {nama} harus bilangan bulat 1 sampai 5 (diisi: {shown}).",
                           f"The rating of {nama} must be a whole number from 1 to 5 "
                           f"(given: {shown}).")
    return int(text)


def basis(nilai_diri: int | None, nilai_ppk: int | None) -> int | None:
    """The rating a gap is measured from: the PPK's when given, else the pegawai's own."""
    return nilai_ppk if nilai_ppk is not None else nilai_diri


def gap(level_standar: int, nilai_diri: int | None, nilai_ppk: int | None) -> int | None:
    """How far the rating falls below the standard level (negative: above it); None unrated."""
    rated = basis(nilai_diri, nilai_ppk)
    return None if rated is None else level_standar - rated


def is_gap(value: int | None, ambang_gap: int) -> bool:
    """A gap of at least `ambang_gap` (never less than 1: meeting the standard is no gap)."""
    return value is not None and value >= max(1, ambang_gap)


@dataclass(frozen=True)
class Rated:
    pegawai_id: int
    kompetensi_id: int
    level_standar: int
    nilai_diri: int | None
    nilai_ppk: int | None


def gaps(rows: list[Rated], ambang_gap: int) -> list[tuple[int, int, int]]:
    """(pegawai_id, kompetensi_id, gap) for every rating far enough below its standard."""
    out = []
    for r in rows:
        g = gap(r.level_standar, r.nilai_diri, r.nilai_ppk)
        if g is not None and is_gap(g, ambang_gap):
            out.append((r.pegawai_id, r.kompetensi_id, g))
    return out


# -- HR's list and catalogue -----------------------------------------------------------------------


def clean_kode(value: str) -> str:
    kode = (value or "").strip().upper()
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9._-]{0,39}", kode):
        raise InvalidInput("Kode kompetensi wajib diisi: huruf, angka, titik, garis bawah atau "
                           "tanda hubung, maks. 40 karakter (mis. MNJ-01).",
                           "The competency code is required: letters, digits, dot, underscore or "
                           "hyphen, at most 40 characters (e.g. MNJ-01).")
    return kode


def clean_nama(value: str, what_id: str, what_en: str, limit: int = 200) -> str:
    nama = " ".join((value or "").split())
    if not nama:
        raise InvalidInput(f"{what_id} wajib diisi.", f"{what_en} is required.")
    if len(nama) > limit:
        raise InvalidInput(f"{what_id} terlalu panjang (maks. {limit} karakter).",
                           f"{what_en} is too long (max {limit} characters).")
    return nama


def clean_optional(value: str | None, what_id: str, what_en: str, limit: int) -> str | None:
    text = (value or "").strip()
    return clean_nama(text, what_id, what_en, limit) if text else None


def parse_jenis(value: str) -> str:
    jenis = (value or "").strip().lower().replace(" ", "_").replace("-", "_")
    if jenis not in JENIS:
        raise InvalidInput("Jenis kompetensi harus teknis, manajerial atau sosial_kultural.",
                           "The competency type must be teknis, manajerial or sosial_kultural.")
    return jenis


def parse_level(value: str | int) -> int:
    """The standard level HR sets: 1..5, required."""
    level = parse_nilai(value, "level standar")
    if level is None:
        raise InvalidInput("Level standar wajib diisi (1 sampai 5).",
                           "The standard level is required (1 to 5).")
    return level


def jenis_label(jenis: str, lang: str) -> str:
    pair = JENIS.get(jenis, (jenis, jenis))
    return pair[1] if lang == "en" else pair[0]
