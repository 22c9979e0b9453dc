"""The daily digest (ringkasan harian): which messages it replaces, who is in digest mode, and
when the day's digest is due.

A person chooses (`Pegawai.ringkasan`): `otomatis` (the default: one email per event while at
most AMBANG_OTOMATIS items wait for them, the daily digest once more wait), `harian` (always the
digest) or `setiap` (always one email per event). In digest mode a DIGESTIBLE message is held
(it is not emailed on its own) and the next daily digest lists every item that waits for the
person, from the database. Everything else always goes at once (IMMEDIATE, with the reason).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from models.rules.enums import Ringkasan, TaskKind
from models.rules.errors import InvalidInput

#: `otomatis` switches to the digest once more than this many items wait
AMBANG_OTOMATIS = 5

#: a held message's next attempt: never due, so the dispatcher leaves it to the digest run
HELD_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)

#: per-event messages that only tell the person that something waits for them to act on; the
#: digest lists the same work (with its link and due date) from the open tasks
DIGESTIBLE: frozenset[str] = frozenset({
    "undangan_skp", "pengingat_skp",  # own SKP to draft
    "skp_diajukan", "pengingat_persetujuan",  # subordinates' SKPs to approve
    "undangan_realisasi", "pengingat_realisasi",  # own realisasi for a period
    "undangan_penilaian_periodik", "pengingat_penilaian_periodik",  # subordinates to rate
    "ppk_baru",  # a subordinate taken over: their period rating now waits for the new PPK
    "undangan_umpan_balik",  # own 360 raters to see or propose
    "tetapkan_penilai", "pengingat_tetapkan_penilai",  # subordinates' rater lists to confirm
    "undangan_360", "pengingat_360",  # 360 forms to fill
    "undangan_kompetensi", "pengingat_kompetensi",  # competencies to rate
    "undangan_penilaian_tahunan", "pengingat_penilaian_tahunan",  # annual ratings to set
    "keberatan_diajukan", "pengingat_keberatan",  # keberatan to decide (as atasan PPK)
    "rencana_pembinaan", "pengingat_pembinaan",  # coaching plans to run
})

#: always sent at once, whatever the preference, and why
IMMEDIATE: dict[str, str] = {
    "skp_dikembalikan": "a decision on the person's own SKP: they must fix and resubmit",
    "skp_disetujui": "a decision on the person's own SKP",
    "skp_revisi_dibuka": "confirms the person's own action",
    "tautan_baru": "asked for by the person just now",
    "menunggu_rhk_atasan": "a subordinate is blocked until the superior drafts their RHK",
    "penilaian_periodik_diberikan": "a result for the person",
    "hasil_kinerja": "the published result; the keberatan window starts",
    "keberatan_diputus": "a decision for the person",
    "hasil_skm": "a result for the unit head",
    "kalibrasi": "HR's request with the curve breaches, needed before publication",
    "eskalasi_persetujuan": "an escalation: lateness the atasan must hear of the same day",
    "eskalasi_penilaian_periodik": "an escalation: lateness the atasan must hear of the same day",
    "eskalasi_penilaian_tahunan": "an escalation: lateness the atasan must hear of the same day",
    "laporan_perencanaan": "a report to HR",
    "laporan_periode": "a report to HR",
    "laporan_360": "a report to HR",
    "laporan_penilaian": "a report to HR",
    "ringkasan_harian": "the digest itself",
    "kegagalan_flow": "an operations alert to the operators",
}

#: the digest's groups, in the order they are shown (HASIL_KINERJA is a result, not work)
GROUPS: tuple[TaskKind, ...] = (
    TaskKind.SETUJUI_SKP, TaskKind.PUTUS_KEBERATAN, TaskKind.NILAI_TAHUNAN,
    TaskKind.NILAI_PERIODIK, TaskKind.TETAPKAN_PENILAI, TaskKind.ISI_360, TaskKind.PEMBINAAN,
    TaskKind.KOMPETENSI, TaskKind.SUSUN_SKP, TaskKind.ISI_REALISASI, TaskKind.USUL_PENILAI,
)

PILIHAN = ", ".join(r.value for r in Ringkasan)


def parse_ringkasan(value: object) -> Ringkasan:
    """The preference named by `value`; InvalidInput naming the three choices otherwise."""
    text = str(value if value is not None else "").strip().lower()
    try:
        return Ringkasan(text)
    except ValueError:
        raise InvalidInput(f"Pilihan ringkasan '{value}' tidak dikenal; pilih salah satu dari: "
                           f"{PILIHAN}.",
                           f"Unknown digest choice '{value}'; choose one of: {PILIHAN}.") from None


def in_digest_mode(preference: Ringkasan | str | None, waiting: int) -> bool:
    """Whether the person gets the digest instead of one email per event, `waiting` items
    waiting for them (the one a new message is about included)."""
    if preference == Ringkasan.HARIAN:
        return True
    if preference == Ringkasan.OTOMATIS:
        return waiting > AMBANG_OTOMATIS
    return False  # setiap, or not an employee


def holds(kind: str, preference: Ringkasan | str | None, waiting: int) -> bool:
    """Hold this message for the digest instead of emailing it now."""
    return kind in DIGESTIBLE and in_digest_mode(preference, waiting)


def digest_due(preference: Ringkasan | str | None, waiting: int, held: int) -> bool:
    """At the daily run: send a digest of `waiting` items? Held messages are always answered
    (a person whose items dropped to AMBANG_OTOMATIS or below, or who chose `setiap` after
    something was held, still learns of them); nothing waiting means no digest."""
    if waiting <= 0:
        return False
    return held > 0 or in_digest_mode(preference, waiting)


def local_day(at: datetime, tz: str) -> date:
    """The agency's calendar day of an instant."""
    return at.astimezone(ZoneInfo(tz)).date()


def sent_today(last: datetime | None, now: datetime, tz: str) -> bool:
    """A digest already went out on this local day (at most one a day)."""
    return last is not None and local_day(last, tz) == local_day(now, tz)


def digest_key(pegawai_id: int, day: date) -> str:
    """The outbox idempotency key of a person's digest for one local day."""
    return f"ringkasan:{pegawai_id}:{day.isoformat()}"


def is_new(since: datetime, last_digest: datetime | None) -> bool:
    """An item is marked new when it began waiting after the previous digest."""
    return last_digest is None or since > last_digest
