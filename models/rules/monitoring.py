"""Monitoring rules: reading a realisasi, capaian per IKI, the suggested rating hasil kerja."""

from __future__ import annotations

from dataclasses import dataclass

from models.rules.enums import ArahIki, JenisIki, Rating
from models.rules.errors import InvalidInput
from models.rules.scoring import capaian

#: an IKI counts as above expectation from this capaian (percent); below under 100 (target missed)
DI_ATAS_FROM = 110.0
DI_BAWAH_UNDER = 100.0
MAX_TEXT = 2000



def parse_number(text: str) -> float:
    """A number typed by a person: '12,5', '12.5', '1.234,5', '95%' (the same reading as the
    realisasi import: an ambiguous '1.234' is refused rather than guessed)."""
    from models.rules.realisasi_import import parse_angka

    return parse_angka(text)


@dataclass(frozen=True)
class RealisasiValue:
    nilai: float | None
    uraian: str | None


def parse_realisasi(jenis: JenisIki | str, text: str, indikator: str = "") -> RealisasiValue | None:
    """A typed realisasi for an IKI: a number for a quantitative IKI, a statement otherwise.
    Empty input is None (not recorded yet)."""
    text = (text or "").strip()
    if not text:
        return None
    where = f" untuk IKI '{indikator[:60]}'" if indikator else ""
    where_en = f" for IKI '{indikator[:60]}'" if indikator else ""
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"Realisasi{where} terlalu panjang (maks. {MAX_TEXT} karakter).",
                           f"Realisasi{where_en} is too long (max {MAX_TEXT} characters).")
    if JenisIki(jenis) == JenisIki.KUALITATIF:
        return RealisasiValue(None, text)
    try:
        return RealisasiValue(parse_number(text), None)
    except InvalidInput as exc:
        raise InvalidInput(exc.message("id").rstrip(".") + where + ".",
                           exc.message("en").rstrip(".") + where_en + ".") from None


def target_number(target: str) -> float | None:
    """The IKI's target as a number, or None when it is not one (a qualitative target)."""
    try:
        return parse_number(target)
    except InvalidInput:
        return None


def capaian_iki(target: str, arah: ArahIki | str, nilai: float | None) -> float | None:
    """Capaian of one IKI in percent, or None when it cannot be computed (qualitative IKI,
    a target that is not a number, or no realisasi yet)."""
    t = target_number(target)
    if t is None or nilai is None:
        return None
    return capaian(t, nilai, lower_is_better=ArahIki(arah) == ArahIki.TURUN)


def saran_hasil_kerja(items: list[tuple[float | None, bool]]) -> Rating | None:
    """The suggested rating hasil kerja from (capaian, is the RHK utama) per IKI.

    Domain rule, stated as counts: Di Atas when most IKI are above expectation (capaian at
    least DI_ATAS_FROM) and no IKI of an RHK utama is below; Di Bawah when most are below
    (capaian under DI_BAWAH_UNDER: the target was missed); otherwise Sesuai. IKI without a
    computable capaian do not count; with none at all there is no suggestion. It is shown to
    the PPK as a suggestion only: the PPK sets the rating.
    """
    known = [(c, utama) for c, utama in items if c is not None]
    if not known:
        return None
    above = sum(1 for c, _ in known if c >= DI_ATAS_FROM)
    below = sum(1 for c, _ in known if c < DI_BAWAH_UNDER)
    utama_below = any(c < DI_BAWAH_UNDER for c, utama in known if utama)
    if below * 2 > len(known):
        return Rating.DI_BAWAH
    if above * 2 > len(known) and not utama_below:
        return Rating.DI_ATAS
    return Rating.SESUAI


def clean_text(value: str, name_id: str, name_en: str, limit: int, *,
               required: bool = False) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput(f"{name_id} wajib diisi.", f"{name_en} is required.")
        return None
    if len(value) > limit:
        raise InvalidInput(f"{name_id} terlalu panjang (maks. {limit} karakter).",
                           f"{name_en} is too long (max {limit} characters).")
    return value


def ensure_both_ratings(hasil_kerja: str, perilaku: str, nama: str) -> None:
    """A row of the PPK's list is rated with both ratings or left blank, never half."""
    if not hasil_kerja or not perilaku:
        raise InvalidInput(f"{nama}: pilih kedua rating (hasil kerja dan perilaku).",
                           f"{nama}: choose both ratings (hasil kerja and perilaku).")
