"""Realisasi import rows (HR's numbers from other systems): every problem in one pass.

A file names, per row, an employee (NIP), one IKI of their SKP in the cycle (its code `IKI-12`,
or its RHK and IKI text), a period and the realisasi. Nothing here touches the database: the
caller passes what it knows as a RealisasiLookup.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from models.rules.enums import JenisIki, Periodisasi
from models.rules.errors import InvalidInput
from models.rules.org import ImportProblem, ImportRejected, Row, _clean, _parse_nip

NIP, KODE, RHK, IKI, PERIODE, REALISASI = "NIP", "Kode IKI", "RHK", "IKI", "Periode", "Realisasi"
COLUMNS = (NIP, KODE, RHK, IKI, PERIODE, REALISASI)
REQUIRED = (NIP, PERIODE, REALISASI)
MAX_URAIAN = 2000  # Realisasi.uraian's limit

_KEY = {c.casefold(): c for c in COLUMNS}
_ORDER = {c: i for i, c in enumerate(COLUMNS)}  # a row's problems in the file's column order
_KODE_RE = re.compile(r"(?:IKI-?)?0*(\d{1,12})", re.IGNORECASE)
_QUARTER_RE = re.compile(r"(?:(?:tw|triwulan|q|quarter|kuartal)\s*-?\s*)?([0-9]+|iv|i{1,3})")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_MONTH_NAMES = (
    ("januari", "january", "jan"), ("februari", "february", "feb", "peb"),
    ("maret", "march", "mar"), ("april", "apr"), ("mei", "may"), ("juni", "june", "jun"),
    ("juli", "july", "jul"), ("agustus", "august", "agu", "ags", "agt", "aug"),
    ("september", "sep", "sept"), ("oktober", "october", "okt", "oct"),
    ("november", "nov", "nop"), ("desember", "december", "des", "dec"))
_MONTHS = {name: k for k, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_MONTH_RE = re.compile(r"([a-z]+)\.?(?:\s+(\d{4}))?")  # Januari, Jan., Mar 2027
_YEAR_MONTH_RE = re.compile(r"(\d{4})-(\d{1,2})")  # 2027-03
_MONTH_YEAR_RE = re.compile(r"(\d{1,2})/(\d{4})")  # 03/2027
_NUMBER_RE = re.compile(r"([+-]?)([0-9][0-9.,]*)")
_ProblemFn = Callable[[str, str, str], None]  # (column, message_id, message_en)
_HINT = {Periodisasi.TRIWULANAN: ("1-4, TW1, TW I, Triwulan I atau Q1",
                                  "1-4, TW1, TW I, Triwulan I or Q1"),
         Periodisasi.BULANAN: ("1-12, nama bulan (Januari, Jan, January), 2027-01 atau 01/2027",
                               "1-12, a month name (Januari, Jan, January), 2027-01 or 01/2027")}


@dataclass(frozen=True)
class IkiRef:
    """One IKI of an SKP, with its RHK's text (what a file may name it by)."""

    id: int
    rhk: str
    indikator: str
    jenis: JenisIki | str


@dataclass(frozen=True)
class SkpRef:
    id: int
    approved: bool  # approved at least once (an SKP under revision keeps its realisasi)
    iki: Sequence[IkiRef]


@dataclass(frozen=True)
class RealisasiLookup:
    """What the file is checked against: the cycle, its closed periods and the employees."""

    tahun: int
    periodisasi: Periodisasi | str
    closed: frozenset[int] = frozenset()  # periods whose stage is closed
    pegawai: frozenset[str] = frozenset()  # NIPs known to the system
    skp: Mapping[str, SkpRef] = field(default_factory=dict)  # NIP -> their SKP in the cycle


@dataclass(frozen=True)
class RealisasiRow:
    row: int
    nip: str
    skp_id: int
    iki_id: int
    periode: int
    nilai: float | None  # a kuantitatif IKI
    uraian: str | None  # a kualitatif IKI


def kode_iki(iki_id: int) -> str:
    """The code HR writes in a file to name an IKI (pages show it next to each IKI)."""
    return f"IKI-{iki_id}"


def parse_kode_iki(value: object) -> int | None:
    """The IKI id in `IKI-12`, `iki-12` or `12`; None when the value is no such code."""
    match = _KODE_RE.fullmatch("".join(_clean(value).split()))
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def parse_periode(value: object, periodisasi: Periodisasi | str, tahun: int) -> int:
    """The period number a cell names for this cycle; InvalidInput (id, en) when it names none."""
    kind = Periodisasi(periodisasi)
    count = 4 if kind == Periodisasi.TRIWULANAN else 12
    if isinstance(value, date):  # an XLSX cell Excel turned into a date
        if kind == Periodisasi.TRIWULANAN:
            raise _unknown_periode(value.strftime("%Y-%m-%d"), kind)
        return _in_year(value.month, value.year, tahun)
    text = _clean(value)
    folded = text.casefold()
    found = _quarter(folded) if kind == Periodisasi.TRIWULANAN else _month(folded, tahun)
    if found is None:
        raise _unknown_periode(text, kind)
    if not 1 <= found <= count:
        raise InvalidInput(f"periode {found} di luar periode siklus ini (1-{count}, {kind})",
                           f"period {found} is outside this cycle's periods (1-{count}, {kind})")
    return found


def parse_angka(value: object) -> float:
    """A number >= 0: an Excel number or text such as 12,5 / 12.5 / 1.234,5 / 95%."""
    if isinstance(value, bool):
        raise _not_a_number(str(value))
    if isinstance(value, int | float):
        text = _clean(value)
        try:
            number = float(value)
        except OverflowError:  # an Excel integer of hundreds of digits
            raise _not_a_number(text[:40]) from None
    else:
        text = _clean(value)
        number = _decimal("".join(text.split()).removesuffix("%"), text)
    if not math.isfinite(number):
        raise _not_a_number(text)
    if number < 0:
        raise InvalidInput(f"Realisasi tidak boleh negatif, tertulis '{text}'",
                           f"Realisasi must not be negative, got '{text}'")
    return number


def parse_realisasi(header: Sequence[object], rows: Iterable[Row],
                    lookup: RealisasiLookup) -> list[RealisasiRow]:
    """Every row as a RealisasiRow, or ImportRejected listing every problem of the file."""
    parsed, problems = check_realisasi(header, rows, lookup)
    if problems:
        raise ImportRejected(problems)
    return parsed


def check_realisasi(header: Sequence[object], rows: Iterable[Row], lookup: RealisasiLookup,
                    ) -> tuple[list[RealisasiRow], list[ImportProblem]]:
    """The valid rows and every problem, sorted by row (the header is row 1)."""
    columns, problems = _header(header)
    parsed: list[RealisasiRow] = []
    first: dict[tuple[int, int], int] = {}  # (IKI, periode) -> the row that named it first
    seen = 0
    for number, values in rows:
        if not any(_clean(values.get(written)) for written in columns.values()):
            continue  # only columns this import ignores are filled
        seen += 1
        found = _parse_row(number, values, columns, lookup, problems)
        if found is None:
            continue
        row, iki_column = found
        key = (row.iki_id, row.periode)
        if key in first:
            problems.append(ImportProblem(
                number, iki_column,
                f"{kode_iki(row.iki_id)} periode {row.periode} sudah ada di baris {first[key]}",
                f"{kode_iki(row.iki_id)} period {row.periode} is already on row {first[key]}"))
            continue
        first[key] = number
        parsed.append(row)
    if not seen:
        problems.append(ImportProblem(1, "", "berkas tidak berisi baris data",
                                      "the file has no data rows"))
    problems.sort(key=lambda p: (p.row, _ORDER.get(p.column, len(_ORDER))))
    return parsed, problems


def nips_in(header: Sequence[object], rows: Iterable[Row]) -> set[str]:
    """The well-formed NIPs of the file: what the lookup must cover."""
    written = _header(header)[0].get(NIP)
    if written is None:
        return set()
    return {nip for _, values in rows
            for nip, error in [_parse_nip(values.get(written))] if error is None}


def _header(header: Sequence[object]) -> tuple[dict[str, str], list[ImportProblem]]:
    """Official column -> header as written, and the header's problems (row 1)."""
    columns: dict[str, str] = {}
    problems: list[ImportProblem] = []
    for cell in header:
        written = str(cell).strip() if cell is not None else ""
        official = _KEY.get(_clean(written).casefold())
        if official is None:
            continue
        if official in columns:
            problems.append(ImportProblem(1, official, f"kolom '{official}' muncul lebih dari "
                                          "sekali", f"column '{official}' appears more than once"))
        columns.setdefault(official, written)
    for name in REQUIRED:
        if name not in columns:
            problems.append(ImportProblem(1, name, f"kolom '{name}' tidak ada di baris judul",
                                          f"column '{name}' is missing from the header row"))
    if KODE not in columns and not (RHK in columns and IKI in columns):
        problems.append(ImportProblem(
            1, KODE, "kolom 'Kode IKI' (atau kolom 'RHK' dan 'IKI') tidak ada di baris judul",
            "column 'Kode IKI' (or columns 'RHK' and 'IKI') missing from the header row"))
    return columns, problems


def _parse_row(number: int, values: Mapping[str, object], columns: Mapping[str, str],
               lookup: RealisasiLookup, problems: list[ImportProblem],
               ) -> tuple[RealisasiRow, str] | None:
    """The row and the column that named its IKI, or None (its problems appended)."""
    raw = {name: values.get(written) for name, written in columns.items()}
    before = len(problems)

    def problem(column: str, message_id: str, message_en: str) -> None:
        problems.append(ImportProblem(number, column, message_id, message_en))

    for name in REQUIRED:
        if name in columns and not _clean(raw[name]):
            problem(name, f"{name} wajib diisi", f"{name} is required")
    owner = _owner(raw, lookup, problem)
    periode = _periode(raw, lookup, problem)
    iki = _iki(raw, columns, owner, problem) if owner is not None else None
    if iki is None or not _clean(raw.get(REALISASI)):
        return None
    nilai, uraian = _value(raw[REALISASI], iki[1], problem)
    if len(problems) > before or owner is None or periode is None:
        return None
    return RealisasiRow(number, owner[0], owner[1].id, iki[1].id, periode, nilai, uraian), iki[0]


def _owner(raw: Mapping[str, object], lookup: RealisasiLookup,
           problem: _ProblemFn) -> tuple[str, SkpRef] | None:
    """The employee's NIP and their approved SKP in the cycle."""
    if not _clean(raw.get(NIP)):
        return None
    nip, error = _parse_nip(raw[NIP])
    if error is not None:
        problem(NIP, *error)
        return None
    skp = lookup.skp.get(nip)
    if nip not in lookup.pegawai:
        problem(NIP, f"NIP {nip} tidak terdaftar", f"NIP {nip} is not a known employee")
    elif skp is None:
        problem(NIP, f"pegawai NIP {nip} tidak punya SKP pada siklus ini",
                f"the employee with NIP {nip} has no SKP in this cycle")
    elif not skp.approved:
        problem(NIP, f"SKP pegawai NIP {nip} belum disetujui PPK",
                f"the SKP of NIP {nip} is not approved by the PPK yet")
    else:
        return nip, skp
    return None


def _periode(raw: Mapping[str, object], lookup: RealisasiLookup,
             problem: _ProblemFn) -> int | None:
    value = raw.get(PERIODE)
    if not _clean(value):
        return None
    try:
        periode = parse_periode(value, lookup.periodisasi, lookup.tahun)
    except InvalidInput as e:
        problem(PERIODE, e.id_text, e.en_text)
        return None
    if periode in lookup.closed:
        problem(PERIODE, f"periode {periode} sudah ditutup", f"period {periode} is already closed")
        return None
    return periode


def _iki(raw: Mapping[str, object], columns: Mapping[str, str], owner: tuple[str, SkpRef],
         problem: _ProblemFn) -> tuple[str, IkiRef] | None:
    """(the column that named it, the IKI) from Kode IKI, or else from RHK and IKI."""
    nip, skp = owner
    by_code, by_name = KODE in columns, RHK in columns and IKI in columns
    code = _clean(raw.get(KODE))
    if code:
        iki_id = parse_kode_iki(code)
        found = next((i for i in skp.iki if i.id == iki_id), None)
        if iki_id is None:
            problem(KODE, f"Kode IKI '{code}' tidak dikenal; tulis seperti IKI-12",
                    f"unknown Kode IKI '{code}'; write it like IKI-12")
        elif found is None:  # whose IKI it is, if anyone's, is not this file's business
            problem(KODE, f"{kode_iki(iki_id)} bukan IKI pada SKP pegawai NIP {nip} di siklus "
                    "ini", f"{kode_iki(iki_id)} is not an IKI of the SKP of NIP {nip} in this "
                    "cycle")
        return (KODE, found) if found is not None else None
    rhk, indikator = _clean(raw.get(RHK)), _clean(raw.get(IKI))
    if by_name and rhk and indikator:
        found = _match(rhk, indikator, owner, problem)
        return (IKI, found) if found is not None else None
    if by_code or by_name:
        column = KODE if by_code else (RHK if not rhk else IKI)
        problem(column, "isi Kode IKI, atau RHK dan IKI" if by_code and by_name
                else f"{column} wajib diisi",
                "fill in Kode IKI, or both RHK and IKI" if by_code and by_name
                else f"{column} is required")
    return None


def _match(rhk: str, indikator: str, owner: tuple[str, SkpRef],
           problem: _ProblemFn) -> IkiRef | None:
    """The one IKI of the SKP whose RHK and indicator read as written (case, spaces aside)."""
    nip, skp = owner
    same_rhk = [i for i in skp.iki if _fold(i.rhk) == _fold(rhk)]
    hits = [i for i in same_rhk if _fold(i.indikator) == _fold(indikator)]
    if not same_rhk:
        problem(RHK, f"RHK '{rhk}' tidak ada pada SKP pegawai NIP {nip}",
                f"no RHK '{rhk}' on the SKP of NIP {nip}")
    elif not hits:
        problem(IKI, f"IKI '{indikator}' tidak ada pada RHK '{rhk}' SKP pegawai NIP {nip}",
                f"no IKI '{indikator}' under RHK '{rhk}' on the SKP of NIP {nip}")
    elif len(hits) > 1:
        codes = ", ".join(kode_iki(i.id) for i in hits)
        problem(IKI, f"IKI '{indikator}' pada RHK '{rhk}' cocok dengan {len(hits)} IKI "
                f"({codes}); gunakan kolom Kode IKI",
                f"IKI '{indikator}' under RHK '{rhk}' matches {len(hits)} IKI ({codes}); "
                "use the Kode IKI column")
    else:
        return hits[0]
    return None


def _value(value: object, iki: IkiRef, problem: _ProblemFn) -> tuple[float | None, str | None]:
    """(nilai, uraian): a number for a kuantitatif IKI, a statement for a kualitatif one."""
    if JenisIki(iki.jenis) == JenisIki.KUALITATIF:
        text = value.strip().replace("\r\n", "\n") if isinstance(value, str) else _clean(value)
        if len(text) > MAX_URAIAN:
            problem(REALISASI, f"Realisasi lebih dari {MAX_URAIAN} karakter",
                    f"Realisasi is longer than {MAX_URAIAN} characters")
        return None, text
    try:
        return parse_angka(value), None
    except InvalidInput as e:
        problem(REALISASI, e.id_text, e.en_text)
        return None, None


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _quarter(text: str) -> int | None:
    match = _QUARTER_RE.fullmatch(text)
    if match is None:
        return None
    word = match.group(1)
    return int(word) if word.isdigit() else _ROMAN[word]


def _month(text: str, tahun: int) -> int | None:
    if text.isdigit():
        return int(text)
    if match := _YEAR_MONTH_RE.fullmatch(text):
        return _in_year(int(match.group(2)), int(match.group(1)), tahun)
    if match := _MONTH_YEAR_RE.fullmatch(text):
        return _in_year(int(match.group(1)), int(match.group(2)), tahun)
    match = _MONTH_RE.fullmatch(text)
    if match is None or match.group(1) not in _MONTHS:
        return None
    month = _MONTHS[match.group(1)]
    return _in_year(month, int(match.group(2)), tahun) if match.group(2) else month


def _in_year(month: int, year: int, tahun: int) -> int:
    if year != tahun:
        raise InvalidInput(f"tahun {year} bukan tahun siklus ({tahun})",
                           f"year {year} is not the cycle's year ({tahun})")
    return month


def _unknown_periode(text: str, kind: Periodisasi) -> InvalidInput:
    hint_id, hint_en = _HINT[kind]
    return InvalidInput(f"Periode '{text}' tidak dikenal untuk siklus {kind}; tulis {hint_id}",
                        f"unknown Periode '{text}' for a {kind} cycle; write {hint_en}")


def _decimal(body: str, text: str) -> float:
    """Digits with a decimal comma or point and optional thousands separators."""
    match = _NUMBER_RE.fullmatch(body)
    if match is None:
        raise _not_a_number(text)
    sign, digits = match.groups()
    seps = [c for c in digits if c in ".,"]
    point = seps[-1] if len(set(seps)) == 2 or len(seps) == 1 else ""
    thousands = ("," if point == "." else ".") if len(set(seps)) == 2 else (
        seps[0] if len(seps) > 1 else "")
    whole, _, frac = digits.rpartition(point) if point else (digits, "", "")
    if len(seps) == 1 and len(frac) == 3 and whole.lstrip("0"):
        raise InvalidInput(
            f"angka '{text}' ambigu (pemisah ribuan atau desimal?); tulis tanpa pemisah ribuan "
            "(1234), atau pecahan dengan jumlah desimal selain tiga (1,5 / 1,2345)",
            f"the number '{text}' is ambiguous (thousands or decimal separator?); write it "
            "without thousands separators (1234), or a fraction with other than three decimals")
    if not _grouped(whole, thousands) or (point and not frac.isdigit()):
        raise _not_a_number(text)
    value = float((whole.replace(thousands, "") if thousands else whole)
                  + ("." + frac if point else ""))
    return -value if sign == "-" else value


def _grouped(whole: str, thousands: str) -> bool:
    """Digits, grouped by three after the first group when there is a thousands separator."""
    if not thousands:
        return whole.isdigit()
    head, *rest = whole.split(thousands)
    return (head.isdigit() and len(head) <= 3
            and all(len(g) == 3 and g.isdigit() for g in rest))


def _not_a_number(text: str) -> InvalidInput:
    return InvalidInput(f"Realisasi harus berupa angka (mis. 12,5 atau 95%), tertulis '{text}'",
                        f"Realisasi must be a number (e.g. 12.5 or 95%), got '{text}'")
