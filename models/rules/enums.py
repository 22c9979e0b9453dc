"""Domain vocabularies; values are the official spellings so exports match."""

from __future__ import annotations

from enum import StrEnum


class JenisJabatan(StrEnum):
    JPT = "JPT"
    ADMINISTRATOR = "Administrator"
    PENGAWAS = "Pengawas"
    PELAKSANA = "Pelaksana"
    FUNGSIONAL = "Fungsional"


class StatusPegawai(StrEnum):
    PNS = "PNS"
    PPPK = "PPPK"


class CycleStatus(StrEnum):
    DRAFT = "draft"
    LAUNCHED = "launched"
    CLOSED = "closed"


class StageCode(StrEnum):
    PERENCANAAN = "perencanaan"
    PEMANTAUAN = "pemantauan"  # one stage row per monitoring period
    UMPAN_BALIK = "umpan_balik"  # 360 feedback and the competency self-assessment
    PENILAIAN = "penilaian"  # the PPK's annual rating, then calibration and publication
    KEBERATAN = "keberatan"  # the appeal window after publication


class Periodisasi(StrEnum):
    TRIWULANAN = "triwulanan"  # quarterly: 4 periods, the 2nd is the mid-year review
    BULANAN = "bulanan"  # monthly: 12 periods, June's is the mid-year review


class SkpStatus(StrEnum):
    DRAF = "draf"
    DIAJUKAN = "diajukan"
    DIKEMBALIKAN = "dikembalikan"
    DISETUJUI = "disetujui"


class JenisRhk(StrEnum):
    UTAMA = "utama"
    TAMBAHAN = "tambahan"


class AspekIki(StrEnum):
    KUANTITAS = "kuantitas"
    KUALITAS = "kualitas"
    WAKTU = "waktu"
    BIAYA = "biaya"


class ArahIki(StrEnum):
    """Direction of an IKI: higher is better, or lower is better (e.g. cost, complaints)."""

    NAIK = "naik"
    TURUN = "turun"


class JenisIki(StrEnum):
    KUANTITATIF = "kuantitatif"
    KUALITATIF = "kualitatif"


class NilaiBerakhlak(StrEnum):
    """The seven BerAKHLAK core values, in their official order."""

    BERORIENTASI_PELAYANAN = "Berorientasi Pelayanan"
    AKUNTABEL = "Akuntabel"
    KOMPETEN = "Kompeten"
    HARMONIS = "Harmonis"
    LOYAL = "Loyal"
    ADAPTIF = "Adaptif"
    KOLABORATIF = "Kolaboratif"


class TaskKind(StrEnum):
    SUSUN_SKP = "susun_skp"  # pegawai drafts and submits the SKP
    SETUJUI_SKP = "setujui_skp"  # PPK approves or returns subordinates' SKPs
    ISI_REALISASI = "isi_realisasi"  # pegawai records a period's rencana aksi and realisasi
    NILAI_PERIODIK = "nilai_periodik"  # PPK gives feedback, dialog and the periodic ratings
    USUL_PENILAI = "usul_penilai"  # pegawai sees and may propose their 360 raters
    TETAPKAN_PENILAI = "tetapkan_penilai"  # PPK confirms or changes subordinates' raters
    ISI_360 = "isi_360"  # rater fills every 360 form assigned to them (one link)
    KOMPETENSI = "kompetensi"  # pegawai rates own competencies; a PPK also rates subordinates'
    NILAI_TAHUNAN = "nilai_tahunan"  # PPK sets the annual ratings of subordinates
    PUTUS_KEBERATAN = "putus_keberatan"  # atasan PPK decides the keberatan filed to them
    PEMBINAAN = "pembinaan"  # PPK runs a coaching plan to completion
    HASIL_KINERJA = "hasil_kinerja"  # pegawai sees the published predikat, may file keberatan


class JenisDialog(StrEnum):
    DIALOG = "dialog"  # dialog kinerja (check-in)
    COACHING = "coaching"
    KONSELING = "konseling"


class JenisBukti(StrEnum):
    TAUTAN = "tautan"  # a link
    BERKAS = "berkas"  # an uploaded file


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    PARKED = "parked"  # kept failing or refused permanently: HR sees and can re-send


class HrRole(StrEnum):
    """Who may do what in the console: the whole agency, some units, or read only."""

    ADMIN = "admin"  # Pengelola Kinerja of the whole agency
    OPERATOR = "operator"  # unit HR operator: acts on the people of their units only
    AUDITOR = "auditor"  # reads everything, changes nothing


class Ringkasan(StrEnum):
    """How a person wants the messages about work waiting for them."""

    OTOMATIS = "otomatis"  # one daily digest once more than 5 items wait, else one per event
    HARIAN = "harian"  # always the daily digest
    SETIAP = "setiap"  # always one email per event


class Rating(StrEnum):
    """Rating hasil kerja or perilaku kerja."""

    DI_ATAS = "Di Atas Ekspektasi"
    SESUAI = "Sesuai Ekspektasi"
    DI_BAWAH = "Di Bawah Ekspektasi"


class Predikat(StrEnum):
    SANGAT_BAIK = "Sangat Baik"
    BAIK = "Baik"
    BUTUH_PERBAIKAN = "Butuh Perbaikan"
    KURANG = "Kurang/Misconduct"
    SANGAT_KURANG = "Sangat Kurang"


class OrgGrade(StrEnum):
    """Capaian kinerja organisasi, the unit's grade."""

    ISTIMEWA = "Istimewa"
    BAIK = "Baik"
    BUTUH_PERBAIKAN = "Butuh Perbaikan"
    KURANG = "Kurang"
    SANGAT_KURANG = "Sangat Kurang"
