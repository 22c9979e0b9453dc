"""SKP state machine and the completeness check before submission."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.rules.enums import JenisRhk, SkpStatus
from models.rules.errors import IncompleteSkp, InvalidTransition

S = SkpStatus

#: (current, action) -> next status
TRANSITIONS: dict[tuple[SkpStatus, str], SkpStatus] = {
    (S.DRAF, "ajukan"): S.DIAJUKAN,
    (S.DIKEMBALIKAN, "ajukan"): S.DIAJUKAN,
    (S.DIAJUKAN, "setujui"): S.DISETUJUI,
    (S.DIAJUKAN, "kembalikan"): S.DIKEMBALIKAN,
    (S.DISETUJUI, "revisi"): S.DRAF,  # a change during the year goes back through approval
}

EDITABLE = frozenset({S.DRAF, S.DIKEMBALIKAN})

STATUS_LABEL_ID = {
    S.DRAF: "draf",
    S.DIAJUKAN: "diajukan, menunggu persetujuan PPK",
    S.DIKEMBALIKAN: "dikembalikan oleh PPK",
    S.DISETUJUI: "disetujui",
}
STATUS_LABEL_EN = {
    S.DRAF: "draft",
    S.DIAJUKAN: "submitted, awaiting the PPK",
    S.DIKEMBALIKAN: "returned by the PPK",
    S.DISETUJUI: "approved",
}
ACTION_LABEL = {"ajukan": ("mengajukan", "submit"), "setujui": ("menyetujui", "approve"),
                "kembalikan": ("mengembalikan", "return"), "ubah": ("mengubah", "edit"),
                "revisi": ("membuka perubahan", "open a revision of")}


def next_status(current: SkpStatus, action: str) -> SkpStatus:
    """The status after `action`, or InvalidTransition naming the current status."""
    target = TRANSITIONS.get((current, action))
    if target is None:
        raise _wrong_state(current, action)
    return target


def ensure_editable(current: SkpStatus) -> None:
    if current not in EDITABLE:
        raise _wrong_state(current, "ubah")


def ensure_stage_open(closed: bool, in_revision: bool = False) -> None:
    """Nothing about an SKP changes once its stage has closed, except through a revision that
    was opened during the year (it goes back through the PPK's approval)."""
    if closed and not in_revision:
        raise InvalidTransition("stage", "closed", "edit",
                                "Tahap perencanaan sudah ditutup; perubahan tidak dapat disimpan. "
                                "Hubungi Pengelola Kinerja bila perlu.",
                                "The planning stage is closed; changes cannot be saved. "
                                "Contact the performance admin if needed.")


def _wrong_state(current: SkpStatus, action: str) -> InvalidTransition:
    verb_id, verb_en = ACTION_LABEL[action]
    return InvalidTransition(
        "skp", current.value, action,
        f"Tidak dapat {verb_id} SKP: status SKP saat ini '{STATUS_LABEL_ID[current]}'.",
        f"Cannot {verb_en} the SKP: it is currently '{STATUS_LABEL_EN[current]}'.",
    )


@dataclass(frozen=True)
class IkiDraft:
    indikator: str
    target: str
    satuan: str


@dataclass(frozen=True)
class RhkDraft:
    jenis: JenisRhk
    uraian: str
    intervensi_rhk_id: int | None
    iki: tuple[IkiDraft, ...] = ()


@dataclass(frozen=True)
class CascadeContext:
    """What the cascade needs to know about the pegawai's superior."""

    needs_intervensi: bool  # False for a JPT or someone without a superior
    atasan_nama: str = ""
    atasan_rhk_ids: frozenset[int] = field(default_factory=frozenset)


def missing_for_submit(rhk: list[RhkDraft], cascade: CascadeContext) -> list[tuple[str, str]]:
    """Every reason the SKP cannot be submitted yet, as (id, en) texts; empty when complete."""
    problems: list[tuple[str, str]] = []
    if not any(r.jenis == JenisRhk.UTAMA for r in rhk):
        problems.append(("belum ada RHK utama", "no main (utama) RHK yet"))
    if cascade.needs_intervensi and not cascade.atasan_rhk_ids:
        problems.append((
            f"atasan Anda ({cascade.atasan_nama}) belum menyusun RHK, sehingga RHK Anda belum "
            "dapat dikaitkan (intervensi); atasan sudah diberi tahu lewat email",
            f"your superior ({cascade.atasan_nama}) has no RHK yet, so yours cannot be linked "
            "(intervensi); the superior has been told by email",
        ))
    for n, r in enumerate(rhk, start=1):
        label = f"RHK {n} ({r.uraian[:40]})"
        if not r.uraian.strip():
            problems.append((f"RHK {n} belum diisi uraiannya", f"RHK {n} has no description"))
        if not r.iki:
            problems.append((f"{label} belum memiliki IKI", f"{label} has no IKI"))
        for m, iki in enumerate(r.iki, start=1):
            if not iki.target.strip() or not iki.satuan.strip():
                problems.append((f"{label}, IKI {m}: target dan satuan wajib diisi",
                                 f"{label}, IKI {m}: target and unit are required"))
        if cascade.needs_intervensi and cascade.atasan_rhk_ids:
            if r.intervensi_rhk_id is None:
                problems.append((f"{label} belum dikaitkan ke RHK atasan (intervensi)",
                                 f"{label} is not linked to a superior's RHK (intervensi)"))
            elif r.intervensi_rhk_id not in cascade.atasan_rhk_ids:
                problems.append((f"{label} dikaitkan ke RHK yang bukan milik atasan Anda saat ini",
                                 f"{label} is linked to an RHK that is not your current "
                                 "superior's"))
    return problems


def check_submit(rhk: list[RhkDraft], cascade: CascadeContext) -> None:
    problems = missing_for_submit(rhk, cascade)
    if problems:
        raise IncompleteSkp(problems)
