"""Rules of the HR console, free of the database and the web: what each task is called, what
a reason written for the audit log must be, where a login may send the browser back to."""

from __future__ import annotations

from models.rules.enums import TaskKind
from models.rules.errors import InvalidInput

#: what the person has to do, in their own words (Bahasa Indonesia, English)
TASK_LABELS = {TaskKind.SUSUN_SKP: ("Menyusun SKP", "Draft your SKP"),
               TaskKind.SETUJUI_SKP: ("Persetujuan SKP bawahan", "Approve subordinates' SKP"),
               TaskKind.ISI_REALISASI: ("Realisasi kinerja periodik", "Record the period's realisasi"),
               TaskKind.NILAI_PERIODIK: ("Penilaian periodik bawahan",
                                         "Rate your subordinates for the period"),
               TaskKind.USUL_PENILAI: ("Penilai umpan balik 360 Anda", "Your 360 raters"),
               TaskKind.TETAPKAN_PENILAI: ("Penetapan penilai 360 bawahan",
                                           "Confirm your subordinates' 360 raters"),
               TaskKind.ISI_360: ("Formulir umpan balik 360", "360 feedback forms"),
               TaskKind.KOMPETENSI: ("Penilaian kompetensi", "Competency self-assessment"),
               TaskKind.NILAI_TAHUNAN: ("Penilaian kinerja tahunan bawahan",
                                        "Rate your subordinates for the year"),
               TaskKind.PUTUS_KEBERATAN: ("Keputusan keberatan", "Decide a keberatan"),
               TaskKind.PEMBINAAN: ("Rencana pembinaan", "Coaching plan"),
               TaskKind.HASIL_KINERJA: ("Hasil kinerja tahunan", "Your annual result")}


def task_label(kind: str, lang: str = "id") -> str:
    pair = TASK_LABELS.get(kind)  # type: ignore[call-overload]
    return (pair[1] if lang == "en" else pair[0]) if pair else str(kind)


def reason(alasan: str) -> str:
    """A reason HR writes for an action on someone's behalf: 10..2000 characters, one line."""
    text = " ".join((alasan or "").split())
    if len(text) < 10:
        raise InvalidInput("Tuliskan alasannya (paling sedikit 10 karakter); alasan disimpan di "
                           "log audit.",
                           "Write the reason (at least 10 characters); it is kept in the audit "
                           "log.")
    if len(text) > 2000:
        raise InvalidInput("Alasan paling banyak 2000 karakter.",
                           "The reason can have at most 2000 characters.")
    return text


def safe_next(next: str) -> str:
    """Only a console path of this site (never //other.host or a scheme)."""
    return next if next.startswith("/hr") and not next.startswith("//") else "/hr"
