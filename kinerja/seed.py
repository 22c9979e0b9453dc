"""A demo kabupaten (regional government) in the import format, the same for the same seed."""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from models.rules.enums import JenisJabatan as J

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.importer import ImportResult

HEADER = ("NIP", "Nama", "Email", "Jabatan", "Jenis Jabatan", "Unit Kerja", "NIP Atasan",
          "Status", "Jenjang")
REFERENCE_YEAR = 2025  # ages and appointment dates (TMT) are drawn relative to it

#: group -> (male given names, female given names, male family names, female family names)
NAMES = {
    "jawa": ("Agus Budi Bambang Joko Slamet Eko Heru Wahyu Hadi Teguh Bayu Aditya Rizky Dimas",
             "Sri Endang Dewi Rina Wulan Ayu Retno Dyah Putri Indah Yuli Ratna Tri Nanik",
             "Santoso Prasetyo Wibowo Susanto Nugroho Setiawan Purnomo Kurniawan Saputra Utomo",
             "Wahyuni Rahayu Lestari Susanti Handayani Kusumawati Rahmawati Puspitasari Utami"),
    "sunda": ("Asep Dedi Cecep Ujang Dadang Iwan Yayan Ade Rudi Dodi Engkos",
              "Euis Neneng Iis Yeni Lilis Tini Nining Rina Cucu Imas",
              "Saepudin Sukmana Hermawan Kusnadi Mulyana Supriatna Sopandi Ruhiyat Permana",
              "Nurhayati Komalasari Rosmawati Sumiati Herlina Maryati Kurniasih Rohaeti"),
    "batak": ("Rudolf Maruli Lamhot Parlindungan Togar Bonar Hotman Sahat Binsar Martua",
              "Tiurma Rosdiana Lasmaria Dearma Melva Hotnida Ruth Nurhaida Rospita",
              "Simanjuntak Siregar Nainggolan Sitompul Hutapea Lubis Nasution Sinaga Pardede",
              "Simanjuntak Siregar Nainggolan Sitompul Hutapea Lubis Harahap Tampubolon"),
    "minang": ("Rahmat Zulkifli Fauzan Irwan Yusrizal Hendri Afrizal Taufik Rizal Syafri",
               "Yusnita Rahmi Nurlela Fitri Yulia Desi Elfia Mardiah Rosna Syamsiar",
               "Hidayat Syahputra Efendi Rasyid Chaniago Piliang Tanjung Koto Sikumbang",
               "Yanti Oktaviani Syafitri Rahmadani Novita Zahara Chaniago Yusra Hasanah"),
    "bugis": ("Andi_Muhammad Muhammad Syamsul Arif Ilham Akbar Irfan Andi_Baso Hasanuddin",
              "Andi_Nurul Sitti Nurul Hasnah Rosmini Wahida Hartati Andi_Tenri Fatmawati",
              "Arsyad Rahman Bakri Mappiasse Amiruddin Basri Latif Haris Mappaseng",
              "Rahmawati Nurhayati Hasanah Sulfiani Mustika Ramlah Syamsiah Amelia"),
    "bali": ("I_Wayan I_Made I_Nyoman I_Ketut I_Gede I_Putu I_Komang",
             "Ni_Luh Ni_Made Ni_Kadek Ni_Putu Ni_Nyoman Ni_Komang Ni_Wayan",
             "Suarta Sudarma Arsana Wirawan Artawan Sudiarta Mahendra Astawa",
             "Sukerti Ariani Puspawati Widiastuti Suryani Yuliantari Sriasih Candrawati"),
    "melayu": ("Muhammad Rizal Fadli Syahrul Zainal Hamdan Firdaus Azhar Junaidi Ridwan",
               "Nur Siti Aisyah Zubaidah Halimah Nurhasanah Rahmah Yusnidar Marlina",
               "Hamzah Ismail Yusuf Abdullah Zulkarnain Harahap Daulay Ramadhan Saleh",
               "Hamzah Ismail Yusuf Abdullah Ramadhani Safitri Maharani Aulia Saleh"),
}
NAME_WEIGHTS = {"jawa": 38, "sunda": 14, "batak": 10, "minang": 10, "bugis": 10, "bali": 6,
                "melayu": 12}
JENJANG = {"T": "Terampil", "M": "Mahir", "P": "Penyelia", "AP": "Ahli Pertama",
           "AM": "Ahli Muda", "AMd": "Ahli Madya"}
#: functional post -> (jenjang codes, degree of skilled (T/M/P) levels, degree of expert levels)
FUNGSIONAL = {
    "Guru": ("AP AM AMd", "", "|S.Pd."),
    "Dokter": ("AP AM AMd", "", "dr.|"),
    "Dokter Gigi": ("AP AM", "", "drg.|"),
    "Perawat": ("T M P AP AM", "|A.Md.Kep.", "|S.Kep., Ns."),
    "Bidan": ("T M P AP", "|A.Md.Keb.", "|S.Tr.Keb."),
    "Apoteker": ("AP AM", "", "|S.Farm., Apt."),
    "Pranata Laboratorium Kesehatan": ("T M AP", "|A.Md.AK.", "|S.Tr.AK."),
    "Nutrisionis": ("T AP", "|A.Md.Gz.", "|S.Gz."),
    "Epidemiolog Kesehatan": ("AP AM", "", "|S.KM."),
    "Tenaga Sanitasi Lingkungan": ("T M AP", "|A.Md.KL.", "|S.KM."),
    "Penyuluh Kesehatan Masyarakat": ("AP AM", "", "|S.KM."),
    "Analis Kebijakan": ("AP AM AMd", "", "|S.IP., M.Si."),
    "Perencana": ("AP AM AMd", "", "|S.T."),
    "Pranata Komputer": ("T AP AM", "|A.Md.Kom.", "|S.Kom."),
    "Arsiparis": ("T AP", "|A.Md.", "|S.Hum."),
    "Pranata Hubungan Masyarakat": ("AP AM", "", "|S.I.Kom."),
    "Statistisi": ("AP AM", "", "|S.Stat."),
    "Analis Sumber Daya Manusia Aparatur": ("AP AM", "", "|S.Psi."),
    "Auditor": ("AP AM AMd", "", "|S.E., Ak."),
    "Pengawas Penyelenggaraan Urusan Pemerintahan di Daerah": ("AP AM", "", "|S.H."),
    "Teknik Jalan dan Jembatan": ("T AP AM", "|A.Md.T.", "|S.T."),
    "Teknik Pengairan": ("AP AM", "", "|S.T."),
    "Penata Ruang": ("AP AM", "", "|S.T., M.T."),
    "Pekerja Sosial": ("T AP AM", "|A.Md.", "|S.Sos."),
    "Penyuluh Sosial": ("AP AM", "", "|S.Sos."),
    "Administrator Database Kependudukan": ("AP AM", "", "|S.Kom."),
    "Penyuluh Pertanian": ("T M AP AM", "|A.Md.P.", "|S.P."),
}
PELAKSANA = ("Pengadministrasi Perkantoran", "Pengelola Data", "Pengolah Data dan Informasi",
             "Penata Layanan Operasional", "Pengelola Layanan Operasional",
             "Operator Layanan Operasional", "Pengelola Keuangan")
GELAR = {J.JPT: ("|S.H., M.H.", "|S.Sos., M.Si.", "|S.E., M.M.", "Dr.|M.Si.", "|S.STP., M.Si."),
         J.ADMINISTRATOR: ("|S.E., M.M.", "|S.Sos., M.Si.", "|S.H.", "|S.T., M.T.",
                           "|S.IP., M.AP."),
         J.PENGAWAS: ("|S.E.", "|S.Sos.", "|S.H.", "|S.AP.", "|S.Kom.", "|S.T.", "|S.IP."),
         J.PELAKSANA: ("", "", "", "|S.E.", "|A.Md.", "|S.Kom.", "|S.Sos.", "|S.AP.")}
HEAD_TITLE = {"Inspektorat Daerah": "Inspektur Daerah"}  # otherwise "Kepala <unit>"
SUBBAGIAN = ("Subbagian Umum dan Kepegawaian", "Subbagian Keuangan dan Aset")
KECAMATAN = ("Sukamaju Sukajaya Mekarsari Tanjungsari Karanganyar Sidomulyo Margamulya Wonorejo "
             "Sumberjaya Tegalsari Pasirjaya Harjamukti Mulyorejo Sindangsari Kertajaya").split()
KESEHATAN = ("Dokter", "Dokter Gigi", "Perawat", "Perawat", "Perawat", "Bidan", "Bidan",
             "Pranata Laboratorium Kesehatan", "Nutrisionis", "Tenaga Sanitasi Lingkungan",
             "Apoteker")
UnitSpec = tuple[str, int, str, tuple[str, ...], tuple[str, ...]]
#: unit, weight (its share of staff), head's degree, office functional posts, and its bidang
#: (or bagian) as "bidang|seksi under it" (nothing after "|": no seksi)
UNITS: tuple[UnitSpec, ...] = (
    ("Sekretariat Daerah", 1, "", ("Analis Kebijakan", "Perencana", "Arsiparis"), (
        "Bagian Umum|Subbagian Rumah Tangga",
        "Bagian Organisasi|Subbagian Kelembagaan dan Analisis Jabatan",
        "Bagian Hukum|Subbagian Peraturan Perundang-undangan",
        "Bagian Pemerintahan|Subbagian Otonomi Daerah")),
    ("Dinas Pendidikan", 5, "Dr.|M.Pd.", ("Analis Kebijakan", "Pranata Komputer"), (
        "Bidang Pembinaan Sekolah Dasar|Seksi Kurikulum dan Penilaian",
        "Bidang Pembinaan Sekolah Menengah Pertama|Seksi Peserta Didik",
        "Bidang Pendidikan Anak Usia Dini dan Nonformal|Seksi Kelembagaan",
        "Bidang Guru dan Tenaga Kependidikan|Seksi Pembinaan Ketenagaan")),
    ("Dinas Kesehatan", 3, "dr.|M.Kes.", ("Epidemiolog Kesehatan", "Apoteker",
                                           "Penyuluh Kesehatan Masyarakat", "Nutrisionis"), (
        "Bidang Kesehatan Masyarakat|Seksi Kesehatan Keluarga dan Gizi",
        "Bidang Pencegahan dan Pengendalian Penyakit|Seksi Surveilans dan Imunisasi",
        "Bidang Pelayanan dan Sumber Daya Kesehatan|Seksi Kefarmasian dan Alat Kesehatan")),
    ("Dinas Kependudukan dan Pencatatan Sipil", 1, "|S.Sos., M.Si.", (
        "Administrator Database Kependudukan", "Pranata Komputer", "Arsiparis"), (
        "Bidang Pelayanan Pendaftaran Penduduk|Seksi Identitas Penduduk",
        "Bidang Pelayanan Pencatatan Sipil|Seksi Kelahiran dan Kematian",
        "Bidang Pengelolaan Informasi Administrasi Kependudukan|Seksi Sistem Informasi")),
    ("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", 1, "|S.STP., M.Si.", (
        "Analis Sumber Daya Manusia Aparatur", "Pranata Komputer"), (
        "Bidang Pengadaan dan Informasi Kepegawaian|Seksi Data dan Informasi Kepegawaian",
        "Bidang Mutasi dan Promosi|Seksi Kepangkatan",
        "Bidang Pengembangan Kompetensi Aparatur|Seksi Pelatihan",
        "Bidang Penilaian Kinerja Aparatur dan Penghargaan|Seksi Penilaian Kinerja")),
    ("Dinas Pekerjaan Umum dan Penataan Ruang", 1, "Ir.|M.T.", (
        "Teknik Jalan dan Jembatan", "Teknik Pengairan", "Penata Ruang"), (
        "Bidang Bina Marga|Seksi Pembangunan Jalan dan Jembatan",
        "Bidang Sumber Daya Air|Seksi Irigasi dan Rawa",
        "Bidang Cipta Karya|Seksi Air Minum dan Sanitasi",
        "Bidang Penataan Ruang|Seksi Pemanfaatan Ruang")),
    ("Badan Perencanaan Pembangunan Daerah", 1, "|S.E., M.Si.", (
        "Perencana", "Statistisi", "Analis Kebijakan"), (
        "Bidang Pemerintahan dan Pembangunan Manusia|Seksi Pembangunan Manusia",
        "Bidang Perekonomian dan Sumber Daya Alam|Seksi Perekonomian",
        "Bidang Infrastruktur dan Kewilayahan|Seksi Infrastruktur")),
    ("Dinas Sosial", 1, "|S.Sos., M.AP.", ("Pekerja Sosial", "Penyuluh Sosial"), (
        "Bidang Rehabilitasi Sosial|Seksi Rehabilitasi Penyandang Disabilitas",
        "Bidang Perlindungan dan Jaminan Sosial|Seksi Perlindungan Sosial Korban Bencana",
        "Bidang Pemberdayaan Sosial dan Penanganan Fakir Miskin|Seksi Penanganan Fakir Miskin")),
    ("Inspektorat Daerah", 1, "|S.E., M.Ak.", (
        "Auditor", "Pengawas Penyelenggaraan Urusan Pemerintahan di Daerah"), (
        "Inspektur Pembantu Wilayah I|", "Inspektur Pembantu Wilayah II|",
        "Inspektur Pembantu Wilayah III|")),
    ("Dinas Pertanian dan Ketahanan Pangan", 1, "Ir.|M.P.", ("Penyuluh Pertanian",), (
        "Bidang Tanaman Pangan dan Hortikultura|Seksi Produksi Tanaman Pangan",
        "Bidang Penyuluhan|Seksi Kelembagaan Penyuluhan",
        "Bidang Ketahanan Pangan|Seksi Distribusi Pangan")),
    ("Dinas Komunikasi dan Informatika", 1, "|S.Kom., M.T.", (
        "Pranata Komputer", "Pranata Hubungan Masyarakat", "Statistisi"), (
        "Bidang Aplikasi Informatika|Seksi Layanan E-Government",
        "Bidang Informasi dan Komunikasi Publik|Seksi Pengelolaan Informasi Publik")),
)


def demo_rows(n: int = 300, seed: int = 7) -> list[dict[str, str]]:
    """Exactly n import rows (n >= 1): a Sekda on top, unit heads, structure, then staff."""
    if n < 1:
        raise ValueError("n must be at least 1")
    b = _Builder(seed)
    sekda = b.add("Sekretariat Daerah", "Sekretaris Daerah", J.JPT, None, gelar="|S.H., M.Si.")
    units = UNITS[:max(2, min(len(UNITS), n // 35))]
    streams = [(_unit(b, spec, sekda), spec[1]) for spec in units]
    while len(b.rows) < n:
        for stream, weight in streams:
            for _ in range(weight):
                if len(b.rows) < n:
                    next(stream)
    return b.rows


def demo_csv_bytes(n: int = 300, seed: int = 7) -> bytes:
    """demo_rows as UTF-8 CSV (comma separated, with the header row)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(demo_rows(n, seed))
    return out.getvalue().encode("utf-8")


def write_demo_csv(path: str | Path, n: int = 300, seed: int = 7) -> Path:
    """Write demo_rows to `path` as CSV; returns the path."""
    target = Path(path)
    target.write_bytes(demo_csv_bytes(n, seed))
    return target


def seed_demo_agency(*, session: Session, now: datetime, n: int = 300,
                     seed: int = 7) -> ImportResult:
    """Import the demo kabupaten through the organisation importer; flushes, never commits."""
    from models.importer import import_organisation

    return import_organisation(session=session, data=demo_csv_bytes(n, seed),
                               filename="demo-kabupaten.csv", now=now, actor="seed:demo")


class _Builder:
    """Adds one person at a time with a plausible name, NIP and email."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.rows: list[dict[str, str]] = []
        self.used: dict[str, int] = {}  # NIP without its sequence number -> last sequence used
        self.groups = list(NAME_WEIGHTS)
        self.weights = list(NAME_WEIGHTS.values())

    def add(self, unit: str, jabatan: str, jenis: J, atasan: int | None, *, jenjang: str = "",
            gelar: str = "", pppk: bool = False, female: bool = False) -> int:
        """Append one person; returns the index to use as someone's superior."""
        rng = self.rng
        gender = 2 if female or rng.random() < 0.5 else 1
        given, family = self._name(gender)
        front, _, back = (gelar or rng.choice(GELAR.get(jenis, ("",))) or "|").partition("|")
        nama = " ".join(x for x in (front, given, family) if x) + (f", {back}" if back else "")
        tokens = [t.lower() for t in f"{given} {family}".split() if t not in ("I", "Ni")]
        self.rows.append({
            "NIP": self._nip(jenis, gender, pppk), "Nama": nama,
            "Email": f"{tokens[0]}.{tokens[-1]}{len(self.rows) + 1}@contoh.go.id",
            "Jabatan": jabatan, "Jenis Jabatan": jenis.value, "Unit Kerja": unit,
            "NIP Atasan": self.rows[atasan]["NIP"] if atasan is not None else "",
            "Status": "PPPK" if pppk else "PNS", "Jenjang": jenjang})
        return len(self.rows) - 1

    def _name(self, gender: int) -> tuple[str, str]:
        group = self.rng.choices(self.groups, self.weights)[0]
        males, females, male_family, female_family = NAMES[group]
        given = (males if gender == 1 else females).split()
        family = (male_family if gender == 1 else female_family).split()
        return (self.rng.choice(given).replace("_", " "), self.rng.choice(family))

    def _nip(self, jenis: J, gender: int, pppk: bool) -> str:
        """Birth date, TMT (PPPK: year + '21'), gender, a sequence unique for that prefix."""
        rng = self.rng
        low, high = (25, 50) if pppk else AGES[jenis]
        born = date(REFERENCE_YEAR - rng.randint(low, high), 1, 1) + timedelta(rng.randrange(365))
        if pppk:
            tmt = f"{rng.randint(2019, REFERENCE_YEAR - 1)}21"
        else:
            start = min(born.year + 22, REFERENCE_YEAR - 1)
            year = rng.randint(start, min(REFERENCE_YEAR - 1, born.year + 35))
            tmt = f"{year}{rng.randint(1, 12):02d}"
        prefix = f"{born:%Y%m%d}{tmt}{gender}"
        sequence = self.used.get(prefix, 0) + 1
        if sequence > 999:
            return self._nip(jenis, gender, pppk)
        self.used[prefix] = sequence
        return f"{prefix}{sequence:03d}"


AGES = {J.JPT: (46, 58), J.ADMINISTRATOR: (40, 56), J.PENGAWAS: (33, 55),
        J.PELAKSANA: (22, 56), J.FUNGSIONAL: (24, 58)}
SKILLED = frozenset({"T", "M", "P"})  # jenjang keterampilan; the rest are keahlian
PPPK_SHARE = {"Guru": 0.4, "Pelaksana": 0.25, "Kesehatan": 0.3, "Lain": 0.15}


@dataclass
class _Office:
    """A unit's head office: its functional posts and the superiors its staff report to."""

    unit: str
    fungsional: tuple[str, ...]
    admins: list[int] = field(default_factory=list)  # sekretaris, kepala bidang / bagian
    pengawas: list[int] = field(default_factory=list)  # kepala subbagian / seksi


def _unit(b: _Builder, spec: UnitSpec, sekda: int) -> Iterator[None]:
    """Adds one person per step: head, sekretariat, bidang with seksi, then staff forever."""
    name, _, head_gelar, fungsional, bidang = spec
    office = _Office(name, fungsional)
    head = sekda
    if name != "Sekretariat Daerah":
        head = b.add(name, HEAD_TITLE.get(name, f"Kepala {name}"), J.JPT, sekda, gelar=head_gelar)
        yield
        office.admins.append(b.add(name, f"Sekretaris {name}", J.ADMINISTRATOR, head))
        yield
        for sub in SUBBAGIAN:
            office.pengawas.append(b.add(name, f"Kepala {sub}", J.PENGAWAS, office.admins[0]))
            yield
            yield from _staff(b, office, 1)
    for item in bidang:
        post, _, seksi = item.partition("|")
        prefix = "" if post.startswith("Inspektur") else "Kepala "
        office.admins.append(b.add(name, prefix + post, J.ADMINISTRATOR, head))
        yield
        if seksi:
            office.pengawas.append(b.add(name, f"Kepala {seksi}", J.PENGAWAS, office.admins[-1]))
            yield
        yield from _staff(b, office, 3)
    if name == "Dinas Pendidikan":
        yield from _schools(b, office)
    elif name == "Dinas Kesehatan":
        yield from _puskesmas(b, office, head)
    yield from _staff(b, office, None)


def _staff(b: _Builder, office: _Office, count: int | None) -> Iterator[None]:
    """`count` office staff (None: forever): functional posts under anyone structural,
    pelaksana under a seksi or subbagian."""
    for _ in range(count) if count is not None else itertools.count():
        if office.fungsional and b.rng.random() < 0.45:
            boss = b.rng.choice(office.admins + office.pengawas)
            _fungsional(b, office.unit, b.rng.choice(office.fungsional), boss)
        else:
            boss = b.rng.choice(office.pengawas or office.admins)
            b.add(office.unit, b.rng.choice(PELAKSANA), J.PELAKSANA, boss,
                  pppk=b.rng.random() < PPPK_SHARE["Pelaksana"])
        yield


def _fungsional(b: _Builder, unit: str, post: str, boss: int, *, jenjang: str = "",
                jabatan: str = "") -> int:
    codes, skilled, expert = FUNGSIONAL[post]
    options = codes.split()
    code = jenjang or b.rng.choices(options, range(len(options), 0, -1))[0]  # juniors commoner
    level = JENJANG[code]
    kind = "Guru" if post == "Guru" else "Kesehatan" if post in KESEHATAN else "Lain"
    return b.add(unit, jabatan or f"{post} {level}", J.FUNGSIONAL, boss, jenjang=level,
                 gelar=(skilled if code in SKILLED else expert) or "|",
                 pppk=not jabatan and b.rng.random() < PPPK_SHARE[kind], female=post == "Bidan")


def _schools(b: _Builder, office: _Office) -> Iterator[None]:
    """SD and SMP schools forever: a kepala sekolah (a senior guru), guru and one operator."""
    for s in itertools.count():
        kec, number = KECAMATAN[s % len(KECAMATAN)], s // len(KECAMATAN) + 1
        level, kabid = ("SMP", office.admins[2]) if s % 4 == 3 else ("SD", office.admins[1])
        school = f"{level} Negeri {number} {kec}"
        kepala = _fungsional(b, school, "Guru", kabid, jenjang="AMd", jabatan="Kepala Sekolah")
        yield
        for _ in range(b.rng.randint(6, 16)):
            _fungsional(b, school, "Guru", kepala)
            yield
        b.add(school, "Operator Layanan Operasional", J.PELAKSANA, kepala, pppk=True)
        yield
        yield from _staff(b, office, 1)


def _puskesmas(b: _Builder, office: _Office, head: int) -> Iterator[None]:
    """Puskesmas forever: a kepala (pengawas) over doctors, nurses, midwives and staff."""
    for s in itertools.count():
        kec, round_ = KECAMATAN[s % len(KECAMATAN)], s // len(KECAMATAN)
        puskesmas = f"UPTD Puskesmas {kec}" + (f" {round_ + 1}" if round_ else "")
        kepala = b.add(puskesmas, f"Kepala {puskesmas}", J.PENGAWAS, head,
                       gelar=b.rng.choice(("dr.|", "|S.KM., M.Kes.", "|S.Kep., Ns.")))
        yield
        for _ in range(b.rng.randint(8, 24)):
            _fungsional(b, puskesmas, b.rng.choice(KESEHATAN), kepala)
            yield
        for _ in range(2):
            b.add(puskesmas, b.rng.choice(PELAKSANA), J.PELAKSANA, kepala,
                  pppk=b.rng.random() < PPPK_SHARE["Pelaksana"])
            yield
        yield from _staff(b, office, 1)
