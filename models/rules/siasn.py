"""The one place that maps Kinerja's values to the national SIASN `skp22` record (BKN).

Every code below comes from secondary sources (public integrations of the SIASN API, the
`perilakuDanKinerja`, `kuadranNilai` and `golonganPns` references), not from BKN's own
reference tables: check them against the agency's SIASN reference before the first upload.

| our value | SIASN field | code |
|---|---|---|
| Di Atas Ekspektasi | hasilKinerjaNilai / perilakuKerjaNilai | 1 (verify) |
| Sesuai Ekspektasi | hasilKinerjaNilai / perilakuKerjaNilai | 2 (verify) |
| Di Bawah Ekspektasi | hasilKinerjaNilai / perilakuKerjaNilai | 3 (verify) |
| Sangat Baik | kuadranKinerjaNilai | 1 (verify) |
| Baik | kuadranKinerjaNilai | 2 (verify) |
| Butuh Perbaikan | kuadranKinerjaNilai | 3 (verify) |
| Kurang/Misconduct | kuadranKinerjaNilai | 4 (verify) |
| Sangat Kurang | kuadranKinerjaNilai | 5 (verify) |
| PPK is an ASN in our data | statusPenilai | "ASN" (verify) |
| no PPK in our data (e.g. the regional head) | statusPenilai | "NON ASN" (verify) |
| golongan I/a .. IV/e | penilaiGolongan | "11".."45": ruang a..e as 1..5 after the roman digit (verify) |

`pnsDinilaiOrang` is SIASN's own id of the person (not the NIP): Kinerja does not hold it, so
the record carries the NIP beside the payload and leaves the id empty for the uploader to look
up (SIASN's data-utama by NIP). Only the mapping lives here; the builder takes plain values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from models.rules.enums import Predikat, Rating, StatusPegawai
from models.rules.errors import InvalidInput

#: (verify) referensi perilakuDanKinerja: the three-level ratings
RATING_CODE: Mapping[Rating, int] = {Rating.DI_ATAS: 1, Rating.SESUAI: 2, Rating.DI_BAWAH: 3}
#: (verify) referensi kuadranNilai: the predikat kinerja pegawai
KUADRAN_CODE: Mapping[Predikat, int] = {
    Predikat.SANGAT_BAIK: 1, Predikat.BAIK: 2, Predikat.BUTUH_PERBAIKAN: 3, Predikat.KURANG: 4,
    Predikat.SANGAT_KURANG: 5}
STATUS_PENILAI_ASN = "ASN"
STATUS_PENILAI_NON_ASN = "NON ASN"
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
_RUANG = "abcde"


def rating_code(rating: Rating | str) -> int:
    """hasilKinerjaNilai / perilakuKerjaNilai of a rating."""
    try:
        return RATING_CODE[Rating(rating)]
    except ValueError:
        raise InvalidInput(f"Rating '{rating}' tidak dikenal.", f"Unknown rating '{rating}'.") from None


def kuadran_code(predikat: Predikat | str) -> int:
    """kuadranKinerjaNilai of a predikat."""
    try:
        return KUADRAN_CODE[Predikat(predikat)]
    except ValueError:
        raise InvalidInput(f"Predikat '{predikat}' tidak dikenal.",
                           f"Unknown predikat '{predikat}'.") from None


def golongan_code(golongan: str | None) -> str | None:
    """A PNS golongan/ruang such as 'III/b' as SIASN's golongan id ('32'); None when empty or not
    a PNS golongan (PPPK golongan and unknown spellings are left for the uploader)."""
    text = (golongan or "").strip().replace(" ", "")
    if "/" not in text:
        return None
    roman, _, ruang = text.partition("/")
    if roman.upper() not in _ROMAN or len(ruang) != 1 or ruang.lower() not in _RUANG:
        return None
    if ruang.lower() == "e" and roman.upper() != "IV":
        return None
    return f"{_ROMAN[roman.upper()]}{_RUANG.index(ruang.lower()) + 1}"


@dataclass(frozen=True)
class Penilai:
    """The PPK as SIASN wants them; None fields are simply unknown to Kinerja."""

    nip: str
    nama: str
    jabatan: str
    unor: str
    golongan: str | None = None


def skp22_record(*, tahun: int, nip: str, nama: str, status: StatusPegawai | str,
                 hasil_kerja: Rating | str, perilaku: Rating | str, predikat: Predikat | str,
                 penilai: Penilai | None) -> dict[str, object]:
    """One employee's entry: who it is (NIP, name, PNS/PPPK) and the `skp22/save` payload."""
    payload: dict[str, object] = {
        "tahun": int(tahun),
        "pnsDinilaiOrang": None,
        "hasilKinerjaNilai": rating_code(hasil_kerja),
        "perilakuKerjaNilai": rating_code(perilaku),
        "kuadranKinerjaNilai": kuadran_code(predikat),
        "statusPenilai": STATUS_PENILAI_ASN if penilai else STATUS_PENILAI_NON_ASN,
        "penilaiNipNrp": penilai.nip if penilai else None,
        "penilaiNama": penilai.nama if penilai else None,
        "penilaiJabatan": penilai.jabatan if penilai else None,
        "penilaiUnorNama": penilai.unor if penilai else None,
        "penilaiGolongan": golongan_code(penilai.golongan) if penilai else None,
    }
    return {"nip": nip, "nama": nama, "statusPegawai": StatusPegawai(status).value,
            "hasilKerja": Rating(hasil_kerja).value, "perilakuKerja": Rating(perilaku).value,
            "predikat": Predikat(predikat).value, "skp22": payload}
