"""The SIASN skp22 mapping: every rating and predikat has one code, and the record's shape."""

from __future__ import annotations

import pytest

from models.rules import siasn
from models.rules.enums import Predikat, Rating
from models.rules.errors import InvalidInput
from models.rules.scoring import MATRIX


def test_every_rating_and_predikat_has_a_distinct_code() -> None:
    assert set(siasn.RATING_CODE) == set(Rating)
    assert sorted(siasn.RATING_CODE.values()) == [1, 2, 3]
    assert set(siasn.KUADRAN_CODE) == set(Predikat)
    assert sorted(siasn.KUADRAN_CODE.values()) == [1, 2, 3, 4, 5]


def test_codes() -> None:
    assert [siasn.rating_code(r) for r in (Rating.DI_ATAS, Rating.SESUAI, Rating.DI_BAWAH)] == [1, 2, 3]
    assert siasn.rating_code("Sesuai Ekspektasi") == 2
    assert [siasn.kuadran_code(p) for p in (Predikat.SANGAT_BAIK, Predikat.BAIK,
                                            Predikat.BUTUH_PERBAIKAN, Predikat.KURANG,
                                            Predikat.SANGAT_KURANG)] == [1, 2, 3, 4, 5]


def test_the_kuadran_follows_the_official_matrix() -> None:
    """Di Atas hasil with Di Bawah perilaku is Kurang (4), not the larger of the two codes."""
    got = {(siasn.rating_code(h), siasn.rating_code(p)): siasn.kuadran_code(k)
           for (h, p), k in MATRIX.items()}
    assert got == {(1, 1): 1, (1, 2): 2, (1, 3): 4, (2, 1): 2, (2, 2): 2, (2, 3): 4,
                   (3, 1): 3, (3, 2): 3, (3, 3): 5}


def test_unknown_values_are_refused() -> None:
    with pytest.raises(InvalidInput):
        siasn.rating_code("Luar Biasa")
    with pytest.raises(InvalidInput):
        siasn.kuadran_code("Istimewa")


@pytest.mark.parametrize(("golongan", "code"), [
    ("III/b", "32"), ("IV/e", "45"), ("i/a", "11"), (" II / d ", "24"), ("III/e", None),
    ("V/a", None), ("IX", None), ("", None), (None, None)])
def test_golongan_code(golongan: str | None, code: str | None) -> None:
    assert siasn.golongan_code(golongan) == code


def test_record_with_a_ppk() -> None:
    ppk = siasn.Penilai("198001012005011001", "Kepala Seksi", "Kepala Seksi Data", "Dinas Kominfo",
                        "III/d")
    rec = siasn.skp22_record(tahun=2027, nip="199001012015011002", nama="Siti", status="PNS",
                             hasil_kerja=Rating.DI_ATAS, perilaku=Rating.DI_BAWAH,
                             predikat=Predikat.KURANG, penilai=ppk)
    assert rec["nip"] == "199001012015011002" and rec["statusPegawai"] == "PNS"
    assert rec["skp22"] == {
        "tahun": 2027, "pnsDinilaiOrang": None, "hasilKinerjaNilai": 1, "perilakuKerjaNilai": 3,
        "kuadranKinerjaNilai": 4, "statusPenilai": "ASN", "penilaiNipNrp": "198001012005011001",
        "penilaiNama": "Kepala Seksi", "penilaiJabatan": "Kepala Seksi Data",
        "penilaiUnorNama": "Dinas Kominfo", "penilaiGolongan": "34"}


def test_record_without_a_ppk_in_the_data() -> None:
    rec = siasn.skp22_record(tahun=2027, nip="1" * 18, nama="Sekda", status="PPPK",
                             hasil_kerja="Sesuai Ekspektasi", perilaku="Sesuai Ekspektasi",
                             predikat="Baik", penilai=None)
    assert rec["statusPegawai"] == "PPPK"
    payload = rec["skp22"]
    assert payload["statusPenilai"] == "NON ASN"  # type: ignore[index]
    assert payload["penilaiNipNrp"] is None  # type: ignore[index]
    assert payload["kuadranKinerjaNilai"] == 2  # type: ignore[index]
