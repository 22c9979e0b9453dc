"""Organisation import rows: find every problem in one pass, then turn rows into PegawaiRow."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from models.rules.enums import JenisJabatan, StatusPegawai
from models.rules.errors import InvalidInput

NIP, NAMA, EMAIL, JABATAN, JENIS, UNIT, ATASAN = (
    "NIP", "Nama", "Email", "Jabatan", "Jenis Jabatan", "Unit Kerja", "NIP Atasan")
STATUS, JENJANG = "Status", "Jenjang"
COLUMNS = (NIP, NAMA, EMAIL, JABATAN, JENIS, UNIT, ATASAN)  # required in the header
OPTIONAL_COLUMNS = (STATUS, JENJANG)
REQUIRED_VALUES = (NIP, NAMA, EMAIL, JABATAN, JENIS, UNIT)
JENJANG_FUNGSIONAL = ("Pemula", "Terampil", "Mahir", "Penyelia",
                      "Ahli Pertama", "Ahli Muda", "Ahli Madya", "Ahli Utama")
MAX_LENGTH = {NAMA: 200, EMAIL: 254, JABATAN: 300, UNIT: 200, JENJANG: 60}  # the table's limits

E = TypeVar("E", JenisJabatan, StatusPegawai)
_KEY = {c.casefold(): c for c in COLUMNS + OPTIONAL_COLUMNS}
_JENIS = {j.value.casefold(): j for j in JenisJabatan}
_STATUS = {s.value.casefold(): s for s in StatusPegawai}
_JENJANG = {j.casefold(): j for j in JENJANG_FUNGSIONAL}
_NIP_RE = re.compile(r"\d{18}")
_NIP_DOT_ZERO_RE = re.compile(r"\d{18}\.0+")
_SCI_RE = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
_EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

#: (spreadsheet row number, values keyed by the header cell as written, stripped)
Row = tuple[int, Mapping[str, object]]


@dataclass(frozen=True)
class ImportProblem:
    row: int  # spreadsheet row number; the header is row 1
    column: str  # the official header name
    message_id: str
    message_en: str


@dataclass(frozen=True)
class PegawaiRow:
    row: int
    nip: str
    nama: str
    email: str
    jabatan: str
    jenis_jabatan: JenisJabatan
    status: StatusPegawai
    jenjang: str | None
    unit: str
    atasan_nip: str | None


class ImportRejected(InvalidInput):
    """An import file with problems (HTTP 422): nothing was written; `.problems` lists them."""

    def __init__(self, problems: Sequence[ImportProblem], shown: int = 20) -> None:
        self.problems = list(problems)
        more = len(self.problems) - shown
        head_id = f"Impor ditolak, {len(self.problems)} masalah: "
        head_en = f"Import rejected, {len(self.problems)} problem(s): "
        lines = self.problems[:shown]
        super().__init__(
            head_id + "; ".join(f"baris {p.row} kolom {p.column}: {p.message_id}" for p in lines)
            + (f"; dan {more} masalah lainnya" if more > 0 else ""),
            head_en + "; ".join(f"row {p.row} column {p.column}: {p.message_en}" for p in lines)
            + (f"; and {more} more" if more > 0 else ""),
        )


def check_rows(header: Sequence[object], rows: Iterable[Row], *,
               existing: Mapping[str, str | None], inactive_units: Collection[str] = (),
               ) -> tuple[list[PegawaiRow], list[ImportProblem]]:
    """Parsed rows and every problem; `existing` maps active employees' NIP to their superior's."""
    people, nodes, problems = _parse_all(header, rows, inactive_units)
    if nodes is not None:
        problems.extend(_superior_problems(nodes, existing))
    problems.sort(key=lambda p: p.row)
    return people, problems


def validate_rows(header: Sequence[object], rows: Iterable[Row], *,
                  existing: Mapping[str, str | None],
                  inactive_units: Collection[str] = ()) -> list[ImportProblem]:
    """Every problem of the file, sorted by row; empty when the file can be imported."""
    return check_rows(header, rows, existing=existing, inactive_units=inactive_units)[1]


def to_pegawai_rows(header: Sequence[object], rows: Iterable[Row]) -> list[PegawaiRow]:
    """Validated rows as PegawaiRow; ImportRejected if a row itself is invalid."""
    people, _, problems = _parse_all(header, rows, ())
    if problems:
        raise ImportRejected(problems)
    return people


Node = tuple[int, str | None]  # (row, superior's NIP) of a NIP in the file


def _parse_all(header: Sequence[object], rows: Iterable[Row], inactive_units: Collection[str],
               ) -> tuple[list[PegawaiRow], dict[str, Node] | None, list[ImportProblem]]:
    """Valid rows, the superior graph of every well-formed NIP (None without the column)."""
    columns, problems = _header(header)
    closed = {u.casefold() for u in inactive_units}
    people: list[PegawaiRow] = []
    nodes: dict[str, Node] = {}
    for number, values in rows:
        nip, atasan, person = _parse_row(number, values, columns, closed, problems)
        if nip is None:
            continue
        if nip in nodes:
            problems.append(_p(number, NIP, f"NIP {nip} ganda: ada di baris {nodes[nip][0]} "
                               f"dan {number}",
                               f"duplicate NIP {nip}: on rows {nodes[nip][0]} and {number}"))
            continue
        nodes[nip] = (number, atasan)
        if person is not None:
            people.append(person)
    return people, (nodes if ATASAN in columns else None), problems


def _p(row: int, column: str, message_id: str, message_en: str) -> ImportProblem:
    return ImportProblem(row, column, message_id, message_en)


def _clean(value: object) -> str:
    """Text with runs of whitespace made single spaces; integral floats without '.0'."""
    if type(value) is str:
        return " ".join(value.split())
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


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
            problems.append(_p(1, official, f"kolom '{official}' muncul lebih dari sekali",
                               f"column '{official}' appears more than once"))
        columns.setdefault(official, written)
    for name in COLUMNS:
        if name not in columns:
            problems.append(_p(1, name, f"kolom '{name}' tidak ada di baris judul",
                               f"column '{name}' is missing from the header row"))
    return columns, problems


def _parse_nip(value: object) -> tuple[str, tuple[str, str] | None]:
    """A NIP as 18 digits, or the reason it is not one (id, en)."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            value = int(value)
        else:
            return repr(value), _MANGLED
    text = "".join(str(value).split()).lstrip("'") if value is not None else ""
    if _SCI_RE.fullmatch(text):
        return text, _MANGLED
    if _NIP_DOT_ZERO_RE.fullmatch(text):  # "199001012015011001.0" from a numeric export
        text = text.split(".", 1)[0]
    if not _NIP_RE.fullmatch(text):
        return text, (f"NIP harus 18 angka, tertulis '{text}'",
                      f"a NIP must be 18 digits, got '{text}'")
    return text, None


_MANGLED = ("NIP terbaca sebagai angka eksponen/pecahan (mis. 1,99E+17) sehingga digit "
            "terakhirnya hilang; format kolom sebagai Teks lalu isi ulang NIP",
            "the NIP was read as a scientific/floating number (e.g. 1.99E+17), so its last "
            "digits are lost; format the column as Text and re-enter the NIPs")


def _parse_row(number: int, values: Mapping[str, object], columns: Mapping[str, str],
               closed: set[str], problems: list[ImportProblem],
               ) -> tuple[str | None, str | None, PegawaiRow | None]:
    """(NIP, superior's NIP, the row) with None where malformed; appends the row's problems."""
    raw = {name: values.get(written) for name, written in columns.items()}
    text = {name: _clean(v) for name, v in raw.items()}
    if not any(text.values()):
        return None, None, None
    before = len(problems)
    for name in REQUIRED_VALUES:
        if name in columns and not text[name]:
            problems.append(_p(number, name, f"{name} wajib diisi", f"{name} is required"))
    for name, limit in MAX_LENGTH.items():
        if len(text.get(name, "")) > limit:
            problems.append(_p(number, name, f"{name} lebih dari {limit} karakter",
                               f"{name} is longer than {limit} characters"))
    nip = _nip_field(number, NIP, raw[NIP], problems) if text.get(NIP) else None
    atasan = _nip_field(number, ATASAN, raw[ATASAN], problems) if text.get(ATASAN) else None
    email = text.get(EMAIL, "").lower()
    if email and not _EMAIL_RE.fullmatch(email):
        problems.append(_p(number, EMAIL, f"alamat email tidak valid: '{email}'",
                           f"not a valid email address: '{email}'"))
    jenis = _choice(number, JENIS, text.get(JENIS, ""), _JENIS, problems)
    status = _choice(number, STATUS, text.get(STATUS, ""), _STATUS, problems)
    jenjang = _jenjang(number, jenis, text.get(JENJANG, ""), problems)
    unit = text.get(UNIT, "")
    if unit.casefold() in closed:
        problems.append(_p(number, UNIT, f"Unit Kerja '{unit}' berstatus tidak aktif",
                           f"unit '{unit}' is inactive"))
    complete = all(text.get(n) for n in REQUIRED_VALUES)
    if len(problems) > before or nip is None or jenis is None or not complete:
        return nip, atasan, None
    return nip, atasan, PegawaiRow(number, nip, text[NAMA], email, text[JABATAN], jenis,
                                   status or StatusPegawai.PNS, jenjang, unit, atasan)


def _nip_field(number: int, column: str, value: object,
               problems: list[ImportProblem]) -> str | None:
    nip, error = _parse_nip(value)
    if error is None:
        return nip
    problems.append(_p(number, column, *error))
    return None


def _choice(number: int, column: str, value: str, allowed: Mapping[str, E],
            problems: list[ImportProblem]) -> E | None:
    if not value:
        return None
    found = allowed.get(value.casefold())
    if found is None:
        names = ", ".join(allowed.values())
        problems.append(_p(number, column, f"{column} '{value}' tidak dikenal; pilihan: {names}",
                           f"unknown {column} '{value}'; allowed: {names}"))
    return found


def _jenjang(number: int, jenis: JenisJabatan | None, value: str,
             problems: list[ImportProblem]) -> str | None:
    official = _JENJANG.get(value.casefold())
    if jenis != JenisJabatan.FUNGSIONAL:
        return official or value or None
    if not value:
        problems.append(_p(number, JENJANG, "Jenjang wajib diisi untuk jabatan Fungsional",
                           "Jenjang is required for a Fungsional post"))
    elif official is None:
        names = ", ".join(JENJANG_FUNGSIONAL)
        problems.append(_p(number, JENJANG, f"Jenjang '{value}' tidak dikenal; pilihan: {names}",
                           f"unknown Jenjang '{value}'; allowed: {names}"))
    return official


def _superior_problems(nodes: Mapping[str, Node],
                       existing: Mapping[str, str | None]) -> list[ImportProblem]:
    """Unknown superiors, self-superiors and cycles through the file and the existing tree."""
    problems: list[ImportProblem] = []
    for nip, (row, atasan) in nodes.items():
        if atasan is None:
            continue
        if atasan == nip:
            problems.append(_p(row, ATASAN, f"NIP Atasan sama dengan NIP sendiri ({nip})",
                               f"the superior is the person themself ({nip})"))
        elif atasan not in nodes and atasan not in existing:
            problems.append(_p(
                row, ATASAN,
                f"atasan {atasan} tidak ada di berkas maupun di antara pegawai aktif",
                f"unknown superior {atasan}: not in the file nor among active employees"))
    problems.extend(_cycle_problem(c, nodes) for c in _cycles(nodes, existing))
    return problems


def _cycles(nodes: Mapping[str, Node], existing: Mapping[str, str | None]) -> list[list[str]]:
    """Superior cycles of two or more people that include someone from the file."""
    def superior(nip: str) -> str | None:
        return nodes[nip][1] if nip in nodes else existing.get(nip)

    done: set[str] = set()
    found: list[list[str]] = []
    for start in nodes:
        path: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in path:
            path[node] = len(path)
            node = superior(node)
        if node is not None and node in path:
            cycle = list(path)[path[node]:]
            if len(cycle) > 1 and any(n in nodes for n in cycle):
                found.append(cycle)
        done.update(path)
    return found


def _cycle_problem(cycle: list[str], nodes: Mapping[str, Node]) -> ImportProblem:
    """One problem per cycle, on its first row in the file, naming every NIP in order."""
    first = min((n for n in cycle if n in nodes), key=lambda n: nodes[n][0])
    start = cycle.index(first)
    ordered = cycle[start:] + cycle[:start] + [first]

    def label(nip: str, row_word: str, old_word: str) -> str:
        return f"{nip} ({row_word} {nodes[nip][0]})" if nip in nodes else f"{nip} ({old_word})"

    return _p(nodes[first][0], ATASAN,
              "atasan melingkar: " + " → ".join(label(n, "baris", "data lama") for n in ordered),
              "superior cycle: " + " → ".join(label(n, "row", "existing") for n in ordered))
