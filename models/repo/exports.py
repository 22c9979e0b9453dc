"""Exports for HR, payroll and BKN: results per unit or agency (CSV, XLSX), the printable SKP and
Dokumen Evaluasi Kinerja per employee (PDF), a ZIP per unit, and the SIASN `skp22` list.

Everything a person typed is data, never markup or a formula: spreadsheet cells that a
spreadsheet would run (starting with = + - @, a tab or a carriage return) get an apostrophe in
front; PDF text is drawn as it is (no markdown); the pages escape it (Jinja2 autoescape).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import select
from sqlmodel import Session

from models.repo.cycles import NotFound, get_cycle
from models.repo.kompetensi import Rekomendasi, recommendations_for
from models.rules import periods, siasn
from models.rules.enums import JenisJabatan, Predikat, SkpStatus
from models.rules.monitoring import capaian_iki
from models.rules.scoring import KOEFISIEN, angka_kredit
from models.rules.texts import format_date
from models.tables import (
    Cycle,
    Iki,
    Keberatan,
    NilaiUnit,
    Pegawai,
    PenilaianTahunan,
    Perilaku,
    Realisasi,
    Rhk,
    Skp,
    SkpPeriode,
    SkpVersi,
    TunjanganKinerja,
    Unit,
)

PUBLISHED = ("dipublikasi", "final")

# -- results rows ---------------------------------------------------------------------------------


@dataclass
class Baris:
    """One employee's line in the results export."""

    nip: str
    nama: str
    jabatan: str
    unit: str
    ppk_nip: str
    ppk_nama: str
    hasil_kerja: str
    perilaku: str
    predikat: str
    status: str
    angka_kredit: float | None
    tunjangan_persen: float | None

    def values(self) -> list[object]:
        return [self.nip, self.nama, self.jabatan, self.unit, self.ppk_nip, self.ppk_nama,
                self.hasil_kerja, self.perilaku, self.predikat, self.status, self.angka_kredit,
                self.tunjangan_persen]


#: (Bahasa Indonesia, English, XLSX column width)
COLUMNS = (("NIP", "NIP", 21), ("Nama", "Name", 32), ("Jabatan", "Position", 32),
           ("Unit", "Unit", 28), ("NIP PPK", "PPK NIP", 21), ("Nama PPK", "PPK name", 28),
           ("Hasil Kerja", "Work results", 20), ("Perilaku Kerja", "Work behaviour", 20),
           ("Predikat", "Predikat", 18), ("Status", "Status", 14),
           ("Angka Kredit (JF)", "Credit points (JF)", 16),
           ("Tunjangan Kinerja (%)", "Performance allowance (%)", 18))
NOT_RATED = "belum dinilai"


def _people(session: Session, ids: Iterable[int]) -> dict[int, Pegawai]:
    wanted = sorted({i for i in ids if i is not None})
    return {p.id: p for p in session.execute(select(Pegawai).where(
        Pegawai.id.in_(wanted or [-1]))).scalars()}


def _kredit(p: Pegawai, pt: PenilaianTahunan | None) -> float | None:
    if pt is None or p.jenis_jabatan != JenisJabatan.FUNGSIONAL:
        return None
    if pt.angka_kredit is not None:
        return pt.angka_kredit
    if pt.predikat and p.jenjang in KOEFISIEN:
        return angka_kredit(p.jenjang, Predikat(pt.predikat))
    return None


def result_rows(*, session: Session, cycle_id: int, unit_id: int | None = None) -> list[Baris]:
    """Every employee with an SKP in the cycle (optionally one unit), by unit and name."""
    get_cycle(session=session, cycle_id=cycle_id)
    query = (select(Skp, Pegawai, PenilaianTahunan).join(Pegawai, Pegawai.id == Skp.pegawai_id)
             .outerjoin(PenilaianTahunan, PenilaianTahunan.skp_id == Skp.id)
             .where(Skp.cycle_id == cycle_id))
    if unit_id is not None:
        query = query.where(Pegawai.unit_id == unit_id)
    found = session.execute(query).all()
    units = dict(session.execute(select(Unit.id, Unit.nama)).all())
    ppk_of = {p.id: (pt.dinilai_oleh_id if pt and pt.dinilai_oleh_id else p.atasan_id)
              for _, p, pt in found}
    ppk = _people(session, ppk_of.values())
    persen = dict(session.execute(select(TunjanganKinerja.predikat, TunjanganKinerja.persen)
                                  .where(TunjanganKinerja.cycle_id == cycle_id)).all())
    rows = []
    for _, p, pt in found:
        boss = ppk.get(ppk_of[p.id])
        rows.append(Baris(
            p.nip, p.nama, p.jabatan, units.get(p.unit_id, ""), boss.nip if boss else "",
            boss.nama if boss else "", (pt and pt.hasil_kerja) or "", (pt and pt.perilaku) or "",
            (pt and pt.predikat) or "", pt.status if pt else NOT_RATED, _kredit(p, pt),
            persen.get(pt.predikat) if pt and pt.predikat else None))
    return sorted(rows, key=lambda r: (r.unit.lower(), r.nama.lower(), r.nip))


# -- CSV and XLSX -------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Text a spreadsheet would run as a formula gets an apostrophe in front (OWASP)."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")  # semicolon CSV: the Indonesian decimal comma
    return neutralise(str(value))


def _headings(lang: str) -> list[str]:
    return [c[1] if lang == "en" else c[0] for c in COLUMNS]


def results_csv(rows: Sequence[Baris], lang: str = "id") -> bytes:
    """UTF-8 with a BOM, semicolon-separated (what Excel opens directly in an Indonesian locale)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(_headings(lang))
    writer.writerows([_csv_cell(v) for v in r.values()] for r in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def results_xlsx(rows: Sequence[Baris], lang: str = "id", title: str = "Hasil") -> bytes:
    """One sheet: a bold, frozen header row, column widths, text cells never formulas."""
    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Hasil"
    ws.append(_headings(lang))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([v if v is None or isinstance(v, float) else neutralise(str(v))
                   for v in r.values()])
    for i, (_, _, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = width
    for row in ws.iter_rows(min_row=2, max_col=5):
        for cell in (row[0], row[4]):
            cell.number_format = "@"  # NIP stays text
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- what one employee's documents print ------------------------------------------------------------


@dataclass
class Berkas:
    """Everything the SKP and the Dokumen Evaluasi Kinerja of one employee print."""

    cycle: Cycle
    pegawai: Pegawai
    unit: str
    skp: Skp
    people: dict[int, Pegawai]
    units: dict[int, str]
    rhk: list[dict[str, object]]  # the approved SKP's shape (SkpVersi.data["rhk"])
    perilaku: list[dict[str, object]]
    intervensi: dict[int, str]  # the superior's RHK id -> its text
    versi: SkpVersi | None
    iki: list[tuple[Rhk, Iki]]  # current IKI, for the realisasi over the year
    realisasi: dict[tuple[int, int], Realisasi]
    periode: list[SkpPeriode]
    penilaian: PenilaianTahunan | None
    keberatan: Keberatan | None
    nilai_unit: NilaiUnit | None
    rekomendasi: list[Rekomendasi] = field(default_factory=list)

    def person(self, pid: int | None) -> Pegawai | None:
        return self.people.get(pid) if pid is not None else None

    def unit_of(self, p: Pegawai | None) -> str:
        return self.units.get(p.unit_id, "") if p else ""

    @property
    def ppk_skp(self) -> Pegawai | None:
        """The PPK who approved the SKP, else the current superior."""
        return self.person(self.skp.approved_by_id or self.pegawai.atasan_id)

    @property
    def ppk(self) -> Pegawai | None:
        """The PPK who gave the annual rating, else the SKP's PPK."""
        pt = self.penilaian
        return self.person(pt.dinilai_oleh_id) if pt and pt.dinilai_oleh_id else self.ppk_skp


def _current_plan(rhk: list[Rhk], iki: list[Iki], perilaku: list[Perilaku]
                  ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    by_rhk: dict[int, list[Iki]] = {}
    for i in iki:
        by_rhk.setdefault(i.rhk_id, []).append(i)
    plan = [{"id": r.id, "jenis": str(r.jenis), "uraian": r.uraian,
             "intervensi_rhk_id": r.intervensi_rhk_id,
             "iki": [{"indikator": i.indikator, "aspek": str(i.aspek), "jenis": str(i.jenis),
                      "target": i.target, "satuan": i.satuan, "arah": str(i.arah)}
                     for i in by_rhk.get(r.id, [])]} for r in rhk]
    return plan, [{"nilai": str(p.nilai), "ekspektasi_khusus": p.ekspektasi_khusus}
                  for p in perilaku]


def _by_skp(session: Session, table: type, skp_ids: list[int]) -> dict[int, list]:  # type: ignore[type-arg]
    out: dict[int, list] = {}  # type: ignore[type-arg]
    for row in session.execute(select(table).where(table.skp_id.in_(skp_ids or [-1]))
                               .order_by(table.id)).scalars():
        out.setdefault(row.skp_id, []).append(row)
    return out


def load_berkas(*, session: Session, cycle_id: int, pegawai_ids: Sequence[int],
                with_rekomendasi: bool = True) -> list[Berkas]:
    """The documents' content for these employees, loaded in bulk (missing SKPs are skipped)."""
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    skps = list(session.execute(select(Skp).where(
        Skp.cycle_id == cycle_id, Skp.pegawai_id.in_(list(pegawai_ids) or [-1]))).scalars())
    ids = [s.id for s in skps]
    rhk, perilaku = _by_skp(session, Rhk, ids), _by_skp(session, Perilaku, ids)
    rhk_ids = [r.id for rows in rhk.values() for r in rows]
    iki = list(session.execute(select(Iki).where(Iki.rhk_id.in_(rhk_ids or [-1]))
                               .order_by(Iki.id)).scalars())
    versi: dict[int, SkpVersi] = {}
    for v in session.execute(select(SkpVersi).where(SkpVersi.skp_id.in_(ids or [-1]))
                             .order_by(SkpVersi.nomor)).scalars():
        versi[v.skp_id] = v
    realisasi = {(r.iki_id, r.periode): r for rows in _by_skp(session, Realisasi, ids).values()
                 for r in rows}
    periode, pt = _by_skp(session, SkpPeriode, ids), _by_skp(session, PenilaianTahunan, ids)
    keberatan = _by_skp(session, Keberatan, ids)
    nilai_unit = {n.unit_id: n for n in session.execute(select(NilaiUnit).where(
        NilaiUnit.cycle_id == cycle_id)).scalars()}
    units = dict(session.execute(select(Unit.id, Unit.nama)).all())
    owners = _people(session, [s.pegawai_id for s in skps])
    linked = [x for s in skps for x in (s.approved_by_id, owners[s.pegawai_id].atasan_id)]
    linked += [p.dinilai_oleh_id for rows in pt.values() for p in rows]
    linked += [k.pemutus_id for rows in keberatan.values() for k in rows]
    people = owners | _people(session, linked)
    people |= _people(session, [p.atasan_id for p in list(people.values())])  # the atasan PPK
    out = []
    for s in sorted(skps, key=lambda s: (owners[s.pegawai_id].nama.lower(), s.pegawai_id)):
        p = owners[s.pegawai_id]
        own_rhk = rhk.get(s.id, [])
        own_iki = [i for i in iki if i.rhk_id in {r.id for r in own_rhk}]
        plan, behaviour = _current_plan(own_rhk, own_iki, perilaku.get(s.id, []))
        v = versi.get(s.id)
        if s.status != SkpStatus.DISETUJUI and v is not None and v.data.get("rhk"):
            plan, behaviour = v.data["rhk"], v.data.get("perilaku", behaviour)  # last approved
        rhk_of = {r.id: r for r in own_rhk}
        out.append(Berkas(
            cycle, p, units.get(p.unit_id, ""), s, people, units, plan, behaviour, {}, v,
            [(rhk_of[i.rhk_id], i) for i in own_iki], realisasi,
            sorted(periode.get(s.id, []), key=lambda r: r.periode), (pt.get(s.id) or [None])[0],
            (keberatan.get(s.id) or [None])[0], nilai_unit.get(p.unit_id)))
    parents = {int(r["intervensi_rhk_id"]) for b in out for r in b.rhk  # type: ignore[call-overload]
               if r.get("intervensi_rhk_id")}
    texts = dict(session.execute(select(Rhk.id, Rhk.uraian).where(
        Rhk.id.in_(sorted(parents) or [-1]))).all())
    for b in out:
        b.intervensi = texts
        if with_rekomendasi:
            b.rekomendasi = recommendations_for(session=session, cycle_id=cycle_id,
                                                pegawai_id=b.pegawai.id)
    return out


def _one(session: Session, cycle_id: int, pegawai_id: int) -> Berkas:
    found = load_berkas(session=session, cycle_id=cycle_id, pegawai_ids=[pegawai_id])
    if not found:
        raise NotFound(f"Pegawai {pegawai_id} tidak punya SKP pada siklus {cycle_id}.",
                       f"Employee {pegawai_id} has no SKP in cycle {cycle_id}.")
    return found[0]


# -- PDF: fonts, text and layout --------------------------------------------------------------------

#: Debian's fonts-dejavu-core; when absent the PDFs use the core Helvetica and Latin-1 text
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
ASCII_FOR = {"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"',
             "\u201e": '"', "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2026": "...",
             "\u2022": "-", "\u2264": "<=", "\u2265": ">=", "\u20ac": "EUR", "\u2122": "TM"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def unicode_fonts(folder: Path = DEJAVU) -> tuple[Path, Path] | None:
    """(regular, bold) TrueType files to embed, or None to fall back to Latin-1."""
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    if not regular.is_file():
        return None
    return regular, bold if bold.is_file() else regular


def latin1(text: str) -> str:
    """Text a core PDF font can draw: Latin-1 as is, accents stripped from other letters
    (ş -> s), common punctuation spelled out, anything else '?'."""
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
        elif ch in ASCII_FOR:
            out.append(ASCII_FOR[ch])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                           if not unicodedata.combining(c))
            out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(size=7)
        self.cell(0, 5, f"{self.footer_text}  {self.page_no()}/{{nb}}", align="R")


class Doc:
    """An A4 document with headings, label/value blocks and tables; every string is text."""

    def __init__(self, title: str, footer: str, fonts: tuple[Path, Path] | None) -> None:
        self.unicode = fonts is not None
        self.pdf = pdf = _Pdf(format="A4")
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(True, 18)
        if fonts:
            pdf.add_font("DejaVu", "", str(fonts[0]))
            pdf.add_font("DejaVu", "B", str(fonts[1]))
        pdf.set_font("DejaVu" if fonts else "Helvetica", size=9)
        pdf.footer_text = self.t(footer)
        pdf.set_title(self.t(title))
        pdf.set_creator("Kinerja")
        pdf.add_page()

    def t(self, value: object) -> str:
        text = _CONTROL.sub(" ", "-" if value is None else str(value))
        return text if self.unicode else latin1(text)

    def title(self, text: str, sub: str = "") -> None:
        self.pdf.set_font(style="B", size=13)
        self.pdf.multi_cell(0, 7, self.t(text), align="C", new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(style="", size=9)
        for line in sub.splitlines():
            self.pdf.multi_cell(0, 5, self.t(line), align="C", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(3)

    def heading(self, text: str) -> None:
        self.pdf.ln(2)
        self.pdf.set_font(style="B", size=10)
        self.pdf.multi_cell(0, 6, self.t(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(style="", size=9)

    def para(self, text: str) -> None:
        self.pdf.multi_cell(0, 5, self.t(text), align="L", new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: Sequence[tuple[str, object]]) -> None:
        with self.pdf.table(col_widths=(55, 125), text_align="LEFT", line_height=5,
                            first_row_as_headings=False, borders_layout="NONE") as table:
            for label, value in rows:
                row = table.row()
                row.cell(self.t(label))
                row.cell(self.t(value))

    def table(self, headings: Sequence[str], rows: Sequence[Sequence[object]],
              widths: Sequence[int]) -> None:
        style = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
        with self.pdf.table(col_widths=tuple(widths), text_align="LEFT", line_height=5,
                            headings_style=style, repeat_headings=1) as table:
            head = table.row()
            for h in headings:
                head.cell(self.t(h))
            for values in rows:
                row = table.row()
                for v in values:
                    row.cell(self.t(v))

    def output(self) -> bytes:
        return bytes(self.pdf.output())


#: labels of both documents: (Bahasa Indonesia, English)
L = {
    "skp": ("SASARAN KINERJA PEGAWAI", "EMPLOYEE PERFORMANCE PLAN (SKP)"),
    "dek": ("DOKUMEN EVALUASI KINERJA PEGAWAI", "EMPLOYEE PERFORMANCE EVALUATION"),
    "periode": ("Periode penilaian", "Assessment period"),
    "dinilai": ("Pegawai yang dinilai", "Employee assessed"),
    "ppk": ("Pejabat Penilai Kinerja (PPK)", "Rater (PPK)"),
    "atasan_ppk": ("Atasan Pejabat Penilai Kinerja", "The rater's superior"),
    "nama": ("Nama", "Name"), "nip": ("NIP", "NIP"), "jabatan": ("Jabatan", "Position"),
    "jenis": ("Jenis jabatan", "Type of post"), "unit": ("Unit kerja", "Unit"),
    "status": ("Status kepegawaian", "Employment status"),
    "hasil": ("Hasil kerja", "Work results"), "perilaku": ("Perilaku kerja", "Work behaviour"),
    "no": ("No", "No"), "jenis_rhk": ("Jenis", "Type"),
    "rhk": ("Rencana hasil kerja (RHK)", "Planned result (RHK)"),
    "intervensi": ("Intervensi (RHK atasan)", "Supports (superior's RHK)"),
    "iki": ("Indikator (IKI) dan target", "Indicators (IKI) and targets"),
    "berakhlak": ("Nilai BerAKHLAK", "BerAKHLAK value"),
    "ekspektasi": ("Ekspektasi khusus pimpinan", "The superior's specific expectation"),
    "persetujuan": ("Persetujuan", "Approval"), "versi": ("Versi", "Version"),
    "disetujui": ("Disetujui", "Approved"), "status_skp": ("Status SKP", "SKP status"),
    "turun": ("makin kecil makin baik", "lower is better"),
    "realisasi": ("Realisasi dan capaian per IKI", "Realisasi and attainment per IKI"),
    "target": ("Target", "Target"), "realisasi_col": ("Realisasi", "Realisasi"),
    "capaian": ("Capaian", "Attainment"), "periode_col": ("Periode", "Period"),
    "periodik": ("Penilaian periodik", "Periodic ratings"), "predikat": ("Predikat", "Predikat"),
    "tahunan": ("Penilaian tahunan", "Annual rating"),
    "organisasi": ("Capaian kinerja organisasi", "The unit's grade"),
    "predikat_pegawai": ("Predikat kinerja pegawai", "Employee's predikat"),
    "angka_kredit": ("Angka kredit", "Credit points"), "catatan": ("Catatan", "Notes"),
    "status_nilai": ("Status penilaian", "Rating status"),
    "rekomendasi": ("Rekomendasi pengembangan kompetensi", "Competency development"),
    "keberatan": ("Keberatan", "Keberatan (appeal)"), "tanggal": ("Tanggal", "Date"),
    "belum": ("belum dinilai", "not rated yet"), "tidak_ada": ("tidak ada", "none"),
    "dicetak": ("Dicetak oleh Kinerja", "Printed by Kinerja"),
    "draf_skp": ("SKP belum disetujui: isi di bawah ini masih draf.",
                 "The SKP is not approved yet: the content below is a draft."),
    "revisi_skp": ("SKP sedang diubah; dicetak versi terakhir yang disetujui.",
                   "The SKP is being revised; the last approved version is printed."),
}


def _l(key: str, lang: str) -> str:
    return L[key][lang == "en"]


def _year(cycle: Cycle, lang: str) -> str:
    if lang == "en":
        return f"1 January - 31 December {cycle.tahun}"
    return f"1 Januari - 31 Desember {cycle.tahun}"


def _identity(doc: Doc, p: Pegawai | None, unit: str, lang: str, full: bool = False) -> None:
    if p is None:
        doc.para(_l("tidak_ada", lang) + " (" + ("outside Kinerja" if lang == "en"
                                                  else "di luar data Kinerja") + ")")
        return
    rows: list[tuple[str, object]] = [(_l("nama", lang), p.nama), (_l("nip", lang), p.nip),
                                      (_l("jabatan", lang), p.jabatan)]
    if full:
        rows.append((_l("jenis", lang), f"{p.jenis_jabatan} {p.jenjang or ''}".strip()))
        rows.append((_l("status", lang), str(p.status)))
    rows.append((_l("unit", lang), unit))
    doc.pairs(rows)


def _num(value: float, lang: str) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text if lang == "en" else text.replace(",", "_").replace(".", ",").replace("_", ".")


def _iki_line(i: dict[str, object], lang: str) -> str:
    line = f"- {i['indikator']} ({i['aspek']}): {i['target']} {i['satuan']}"
    return line + (f" [{_l('turun', lang)}]" if i.get("arah") == "turun" else "")


def _signatures(doc: Doc, place_date: str, left: tuple[str, Pegawai | None],
                right: tuple[str, Pegawai | None]) -> None:
    doc.pdf.ln(4)
    if doc.pdf.will_page_break(40):
        doc.pdf.add_page()  # the signature block stays in one piece
    doc.para(place_date)
    with doc.pdf.table(col_widths=(90, 90), text_align="LEFT", line_height=5,
                       first_row_as_headings=False, borders_layout="NONE") as table:
        for line in ((left[0], right[0]), ("", ""), ("", ""),
                     (left[1].nama if left[1] else "-", right[1].nama if right[1] else "-"),
                     (f"NIP {left[1].nip}" if left[1] else "", f"NIP {right[1].nip}" if right[1] else "")):
            row = table.row()
            row.cell(doc.t(line[0]) if line[0] else " ")
            row.cell(doc.t(line[1]) if line[1] else " ")


def render_skp(b: Berkas, lang: str = "id", instansi: str = "",
               fonts: tuple[Path, Path] | None = None) -> bytes:
    """The printable SKP: identity, PPK, RHK with intervensi and IKI targets, BerAKHLAK with the
    superior's expectations, approval date and version."""
    tz, p = b.cycle.timezone, b.pegawai
    doc = Doc(f"SKP {b.cycle.tahun} {p.nama}", f"{_l('dicetak', lang)} - SKP {p.nip}", fonts)
    doc.title(_l("skp", lang), f"{instansi}\n{_l('periode', lang)}: {_year(b.cycle, lang)}")
    if b.skp.status != SkpStatus.DISETUJUI:
        doc.para(_l("revisi_skp" if b.versi and b.versi.data.get("rhk") else "draf_skp", lang))
    doc.heading(_l("dinilai", lang))
    _identity(doc, p, b.unit, lang, full=True)
    doc.heading(_l("ppk", lang))
    ppk = b.ppk_skp
    _identity(doc, ppk, b.unit_of(ppk), lang)
    doc.heading(_l("hasil", lang))
    rows = []
    for n, r in enumerate(b.rhk, start=1):
        parent = r.get("intervensi_rhk_id")
        rows.append((n, r["jenis"], r["uraian"], b.intervensi.get(parent, "-") if parent else "-",
                     "\n".join(_iki_line(i, lang) for i in r["iki"]) or "-"))  # type: ignore[attr-defined]
    doc.table([_l(k, lang) for k in ("no", "jenis_rhk", "rhk", "intervensi", "iki")],
              rows or [("-", "", "", "", "")], (9, 17, 54, 45, 55))
    doc.heading(_l("perilaku", lang))
    doc.table([_l("no", lang), _l("berakhlak", lang), _l("ekspektasi", lang)],
              [(n, x["nilai"], x.get("ekspektasi_khusus") or "-")
               for n, x in enumerate(b.perilaku, start=1)], (9, 50, 121))
    doc.heading(_l("persetujuan", lang))
    approved = b.versi.approved_at if b.versi else b.skp.approved_at
    doc.pairs([(_l("status_skp", lang), str(b.skp.status)),
               (_l("versi", lang), b.versi.nomor if b.versi else "-"),
               (_l("disetujui", lang), format_date(approved, tz, lang) if approved else "-")])
    _signatures(doc, format_date(approved, tz, lang) if approved else "",
                (_l("ppk", lang), ppk), (_l("dinilai", lang), p))
    return doc.output()


def _realisasi_rows(b: Berkas, lang: str) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for _, iki in b.iki:
        found = [(k, b.realisasi[(iki.id, k)]) for k in range(1, periods.count(b.cycle.periodisasi) + 1)
                 if (iki.id, k) in b.realisasi]
        target = f"{iki.target} {iki.satuan}"
        if not found:
            rows.append((iki.indikator, target, "-", "-", "-"))
        for n, (k, r) in enumerate(found):
            value = r.uraian if r.nilai is None else f"{_num(r.nilai, lang)} {iki.satuan}"
            c = capaian_iki(iki.target, iki.arah, r.nilai)
            rows.append((iki.indikator if n == 0 else "", target if n == 0 else "",
                         periods.label(k, b.cycle.periodisasi, lang), value,
                         f"{_num(c, lang)}%" if c is not None else "-"))
    return rows


def _keberatan_text(b: Berkas, lang: str) -> list[tuple[str, object]]:
    k, tz = b.keberatan, b.cycle.timezone
    if k is None:
        return [(_l("keberatan", lang), _l("tidak_ada", lang))]
    outcome = {"diajukan": ("diajukan, belum diputus", "filed, not decided yet"),
               "tetap": ("predikat tetap", "predikat kept"),
               "diubah": (f"predikat diubah: {k.predikat_sebelum} menjadi {k.predikat_sesudah}",
                          f"predikat changed: {k.predikat_sebelum} to {k.predikat_sesudah}")}
    pemutus = b.person(k.pemutus_id)
    return [(_l("keberatan", lang), outcome.get(k.status, (k.status, k.status))[lang == "en"]),
            (_l("tanggal", lang), format_date(k.diajukan_at, tz, lang)),
            ("Alasan putusan" if lang != "en" else "Reason of the decision", k.alasan_putusan),
            ("Diputus oleh" if lang != "en" else "Decided by",
             f"{pemutus.nama} (NIP {pemutus.nip})" if pemutus else None),
            ("Tanggal putusan" if lang != "en" else "Decided on",
             format_date(k.diputus_at, tz, lang) if k.diputus_at else None)]


def render_dek(b: Berkas, lang: str = "id", instansi: str = "",
               fonts: tuple[Path, Path] | None = None) -> bytes:
    """The Dokumen Evaluasi Kinerja: identity, period, realisasi and capaian per IKI over the
    year, periodic predikat, the annual ratings and predikat, PPK and date, keberatan."""
    tz, p, pt = b.cycle.timezone, b.pegawai, b.penilaian
    doc = Doc(f"DEK {b.cycle.tahun} {p.nama}", f"{_l('dicetak', lang)} - DEK {p.nip}", fonts)
    doc.title(_l("dek", lang), f"{instansi}\n{_l('periode', lang)}: {_year(b.cycle, lang)}")
    doc.heading(_l("dinilai", lang))
    _identity(doc, p, b.unit, lang, full=True)
    doc.heading(_l("ppk", lang))
    ppk = b.ppk
    _identity(doc, ppk, b.unit_of(ppk), lang)
    doc.heading(_l("atasan_ppk", lang))
    atasan = b.person(ppk.atasan_id) if ppk else None
    _identity(doc, atasan, b.unit_of(atasan), lang)
    doc.heading(_l("realisasi", lang))
    doc.table([_l("iki", lang), _l("target", lang), _l("periode_col", lang),
               _l("realisasi_col", lang), _l("capaian", lang)],
              _realisasi_rows(b, lang) or [("-", "-", "-", "-", "-")], (58, 30, 27, 45, 20))
    doc.heading(_l("periodik", lang))
    doc.table([_l("periode_col", lang), _l("hasil", lang), _l("perilaku", lang),
               _l("predikat", lang), _l("tanggal", lang)],
              [(periods.label(r.periode, b.cycle.periodisasi, lang), r.hasil_kerja, r.perilaku,
                r.predikat, format_date(r.dinilai_at, tz, lang) if r.dinilai_at else None)
               for r in b.periode] or [("-", "-", "-", "-", "-")], (32, 40, 40, 38, 30))
    doc.heading(_l("tahunan", lang))
    rows: list[tuple[str, object]] = [
        (_l("organisasi", lang), str(b.nilai_unit.grade) if b.nilai_unit else None),
        (_l("hasil", lang), (pt and pt.hasil_kerja) or _l("belum", lang)),
        (_l("perilaku", lang), (pt and pt.perilaku) or _l("belum", lang)),
        (_l("predikat_pegawai", lang), (pt and pt.predikat) or _l("belum", lang))]
    kredit = _kredit(p, pt)
    if kredit is not None:
        rows.append((_l("angka_kredit", lang), _num(kredit, lang)))
    rows += [(_l("status_nilai", lang), pt.status if pt else _l("belum", lang)),
             (_l("catatan", lang), pt.catatan if pt else None)]
    doc.pairs(rows + _keberatan_text(b, lang))
    if b.rekomendasi:
        doc.heading(_l("rekomendasi", lang))
        doc.para("\n".join(f"- {r.kompetensi.nama} (gap {r.gap}): "
                           + (", ".join(x.nama for x in r.pelatihan) or "-") for r in b.rekomendasi))
    when = pt.dinilai_at if pt and pt.dinilai_at else None
    _signatures(doc, format_date(when, tz, lang) if when else "", (_l("ppk", lang), ppk),
                (_l("dinilai", lang), p))
    return doc.output()


# -- the functions other pages call ------------------------------------------------------------------


def skp_pdf(*, session: Session, cycle_id: int, pegawai_id: int, lang: str = "id",
            instansi: str = "") -> bytes:
    """One employee's printable SKP (404 when they have no SKP in the cycle)."""
    return render_skp(_one(session, cycle_id, pegawai_id), lang, instansi, unicode_fonts())


def dek_pdf(*, session: Session, cycle_id: int, pegawai_id: int, lang: str = "id",
            instansi: str = "") -> bytes:
    """One employee's Dokumen Evaluasi Kinerja (404 when they have no SKP in the cycle)."""
    return render_dek(_one(session, cycle_id, pegawai_id), lang, instansi, unicode_fonts())


def slug(text: str) -> str:
    """A safe ASCII file name part: letters, digits, '-' and '_' only."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", plain).strip("_")[:60] or "x"


def unit_zip(*, session: Session, cycle_id: int, unit_id: int, lang: str = "id",
             instansi: str = "") -> tuple[str, bytes]:
    """(file name, ZIP): every employee's SKP and DEK of one unit plus the unit's results CSV."""
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"Unit {unit_id} tidak ditemukan.", f"Unit {unit_id} not found.")
    ids = list(session.execute(select(Skp.pegawai_id).join(Pegawai, Pegawai.id == Skp.pegawai_id)
                               .where(Skp.cycle_id == cycle_id, Pegawai.unit_id == unit_id)
                               ).scalars())
    fonts, out = unicode_fonts(), io.BytesIO()
    name = f"kinerja_{cycle.tahun}_{slug(unit.nama)}"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}/hasil_{slug(unit.nama)}_{cycle.tahun}.csv",
                    results_csv(result_rows(session=session, cycle_id=cycle_id, unit_id=unit_id),
                                lang))
        for b in load_berkas(session=session, cycle_id=cycle_id, pegawai_ids=ids):
            stem = f"{name}/{b.pegawai.nip}_{slug(b.pegawai.nama)}"
            zf.writestr(f"{stem}_SKP.pdf", render_skp(b, lang, instansi, fonts))
            zf.writestr(f"{stem}_DEK.pdf", render_dek(b, lang, instansi, fonts))
    return f"{name}.zip", out.getvalue()


# -- SIASN ---------------------------------------------------------------------------------------


def siasn_records(*, session: Session, cycle_id: int, include_unpublished: bool = False
                  ) -> list[dict[str, object]]:
    """The `skp22` entries of every employee with both ratings and a predikat: published (or
    final) ones only unless `include_unpublished`; codes from models.rules.siasn."""
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    query = (select(PenilaianTahunan, Pegawai).join(Skp, Skp.id == PenilaianTahunan.skp_id)
             .join(Pegawai, Pegawai.id == Skp.pegawai_id)
             .where(PenilaianTahunan.cycle_id == cycle_id, PenilaianTahunan.predikat.is_not(None),
                    PenilaianTahunan.hasil_kerja.is_not(None), PenilaianTahunan.perilaku.is_not(None))
             .order_by(Pegawai.nip))
    if not include_unpublished:
        query = query.where(PenilaianTahunan.status.in_(PUBLISHED))
    found = session.execute(query).all()
    ppk = _people(session, [pt.dinilai_oleh_id or p.atasan_id for pt, p in found])
    units = dict(session.execute(select(Unit.id, Unit.nama)).all())
    out = []
    for pt, p in found:
        boss = ppk.get(pt.dinilai_oleh_id or p.atasan_id)
        penilai = siasn.Penilai(boss.nip, boss.nama, boss.jabatan, units.get(boss.unit_id, "")
                                ) if boss else None
        record = siasn.skp22_record(tahun=cycle.tahun, nip=p.nip, nama=p.nama, status=p.status,
                                    hasil_kerja=pt.hasil_kerja, perilaku=pt.perilaku,
                                    predikat=pt.predikat, penilai=penilai)
        out.append(record | {"unit": units.get(p.unit_id, ""), "statusPenilaian": pt.status})
    return out


# -- the console's list ----------------------------------------------------------------------------


@dataclass
class UnitEkspor:
    unit_id: int
    nama: str
    pegawai: list[Pegawai]
    dinilai: int  # with a predikat


def units_of_cycle(*, session: Session, cycle_id: int) -> list[UnitEkspor]:
    """The units that have SKPs in the cycle, their people and how many have a predikat."""
    get_cycle(session=session, cycle_id=cycle_id)
    found = session.execute(select(Pegawai, Unit, PenilaianTahunan.predikat)
                            .join(Skp, Skp.pegawai_id == Pegawai.id)
                            .join(Unit, Unit.id == Pegawai.unit_id)
                            .outerjoin(PenilaianTahunan, PenilaianTahunan.skp_id == Skp.id)
                            .where(Skp.cycle_id == cycle_id)
                            .order_by(Unit.nama, Pegawai.nama)).all()
    out: dict[int, UnitEkspor] = {}
    for p, unit, predikat in found:
        row = out.setdefault(unit.id, UnitEkspor(unit.id, unit.nama, [], 0))
        row.pegawai.append(p)
        row.dinilai += predikat is not None
    return list(out.values())
