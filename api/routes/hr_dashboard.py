"""HR's dashboard of a cycle: each stage's progress per unit (done, pending, overdue) with a
drill-down to the people, the predikat mix of each unit against its curve, 360 and survey
response counts, and the overdue tasks day by day; server-rendered SVG charts, no JavaScript.

Console pages under /hr/cycles/{id}/dasbor, the same figures as JSON under
/api/v1/cycles/{id}/dasbor, and CSV of every table under both. Unit operators see their own
units only (the policy checks the path's unit; every query gets their units).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from api import charts
from api.access import Principal, UnitReader
from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import CSV_RESPONSE, ERRORS, GUARD
from kinerja.runtime import Runtime
from models.repo import dashboard as repo
from models.repo.audit import record
from models.repo.cycles import get_cycle
from models.repo.exports import neutralise, slug
from models.rules import periods
from models.rules.enums import StageCode
from models.rules.errors import InvalidInput
from models.rules.scoring import PREDIKAT_ORDER
from models.tables import Cycle

router = APIRouter(dependencies=GUARD)
PAGE = "/hr/cycles/{cycle_id}/dasbor"
API = "/api/v1/cycles/{cycle_id}/dasbor"
PAGE_SIZE = 200
CSV = "text/csv; charset=utf-8"
TABLES = ("kemajuan", "predikat", "umpan_balik", "skm", "terlambat")

STAGE_LABELS = {StageCode.PERENCANAAN: ("Perencanaan", "Planning"),
                StageCode.PEMANTAUAN: ("Pemantauan", "Monitoring"),
                StageCode.UMPAN_BALIK: ("Umpan balik 360 dan kompetensi",
                                        "360 feedback and competencies"),
                StageCode.PENILAIAN: ("Penilaian tahunan", "Annual rating"),
                StageCode.KEBERATAN: ("Keberatan", "Appeals"),
                repo.TINDAK_LANJUT: ("Tindak lanjut (pembinaan)", "Follow-up (coaching)")}
#: what the person has to do, as HR reads it
KIND_LABELS = {"susun_skp": ("Menyusun SKP", "Drafting the SKP"),
               "setujui_skp": ("Menyetujui SKP bawahan", "Approving subordinates' SKPs"),
               "isi_realisasi": ("Mengisi realisasi", "Reporting realisasi"),
               "nilai_periodik": ("Menilai bawahan (periodik)", "Rating subordinates (period)"),
               "usul_penilai": ("Mengusulkan penilai 360", "Proposing 360 raters"),
               "tetapkan_penilai": ("Menetapkan penilai 360 bawahan",
                                    "Confirming subordinates' 360 raters"),
               "isi_360": ("Mengisi umpan balik 360", "Answering 360 forms"),
               "kompetensi": ("Penilaian kompetensi", "Competency assessment"),
               "nilai_tahunan": ("Menilai bawahan (tahunan)", "Rating subordinates (annual)"),
               "putus_keberatan": ("Memutus keberatan", "Deciding appeals"),
               "pembinaan": ("Menjalankan rencana pembinaan", "Running a coaching plan")}
STATUS_LABELS = {"done": ("selesai", "done"), "pending": ("menunggu", "pending"),
                 "overdue": ("terlambat", "overdue")}
STATE_LABELS = {"belum": ("belum dibuka", "not open yet"), "dibuka": ("dibuka", "open"),
                "ditutup": ("ditutup", "closed")}


def _t(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def stage_label(tahap: repo.Tahap, cycle: Cycle, lang: str) -> str:
    base = _t(STAGE_LABELS.get(tahap.code, (tahap.code, tahap.code)), lang)
    return f"{base} · {periods.label(tahap.periode, cycle.periodisasi, lang)}" if tahap.periode \
        else base


def _query(tahap: repo.Tahap | None = None, status: str | None = None) -> str:
    parts = []
    if tahap is not None:
        parts.append(f"tahap={tahap.code}")
        if tahap.periode:
            parts.append(f"periode={tahap.periode}")
    if status:
        parts.append(f"status={status}")
    return "?" + "&".join(parts) if parts else ""


def unit_href(cycle_id: int, unit_id: int, tahap: repo.Tahap | None = None,
              status: str | None = None, suffix: str = "") -> str:
    """The drill-down of one unit (suffix '.csv': its CSV) with the stage and state chosen."""
    return f"/hr/cycles/{cycle_id}/dasbor/unit/{unit_id}{suffix}{_query(tahap, status)}"


def _iso(at: datetime | None, tz: str) -> str | None:
    return at.astimezone(ZoneInfo(tz)).isoformat() if at else None


# -- the figures, once for the page, the JSON and the CSV --------------------------------------


@dataclass
class Dasbor:
    cycle: Cycle
    now: datetime
    tz: str
    progress: repo.Progress
    selected: repo.Tahap | None
    predikat: list[repo.UnitPredikat]
    feedback: list[repo.UnitFeedback]
    surveys: list[repo.UnitSurvey]
    series: list[repo.Point]

    @property
    def active_stages(self) -> list[repo.Tahap]:
        """Stages with tasks so far, in order (a stage not open yet has none)."""
        return [s for s in self.progress.stages if self.progress.stage_total(s.key).total]


def _selected(progress: repo.Progress, now: datetime, code: str | None,
              periode: int | None) -> repo.Tahap | None:
    if code:
        key = f"{code}-{periode}" if code == StageCode.PEMANTAUAN and periode else code
        found = progress.stage(key)
        if found is None and code not in {c.value for c in StageCode}:
            raise InvalidInput("Tahap ini tidak ada di siklus ini.", "No such stage in this cycle.")
        return found  # a known stage not created yet (e.g. keberatan before publication): none
    busy = [s for s in progress.stages if progress.stage_total(s.key).total]
    running = [s for s in busy if s.state(now) == "dibuka"]
    return (running or busy or progress.stages or [None])[-1]


def load(session: Session, rt: Runtime, user: Principal, cycle_id: int, code: str | None = None,
         periode: int | None = None) -> Dasbor:
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    now, tz, scope = rt.clock.now(), rt.api.timezone, user.unit_ids
    prog = repo.progress(session=session, cycle_id=cycle_id, now=now, unit_ids=scope)
    if code or periode:
        code, periode, _ = repo.parse_filter(code, periode, None, prog.stages)
    return Dasbor(cycle, now, tz, prog, _selected(prog, now, code, periode),
                  repo.predikat_by_unit(session=session, cycle_id=cycle_id, unit_ids=scope),
                  repo.feedback_by_unit(session=session, cycle_id=cycle_id, unit_ids=scope),
                  repo.surveys_by_unit(session=session, cycle=cycle, tz=tz, unit_ids=scope),
                  repo.overdue_series(session=session, cycle=cycle, now=now, tz=tz,
                                      unit_ids=scope))


def _bound_label(rule, lang: str) -> str:  # type: ignore[no-untyped-def]
    if rule.min_count and not rule.share:
        return f"≥ {rule.min_count} {'orang' if lang == 'id' else 'person'}"
    return ("≤ " if rule.kind == "at_most" else "≥ ") + charts.pct(rule.share, lang)


def _charts(d: Dasbor, lang: str) -> dict[str, object]:
    """Every chart of the page as inline SVG."""
    c, p = d.cycle, d.progress
    t = lambda a, b: b if lang == "en" else a  # noqa: E731
    state = [charts.Series(t("Selesai", "Done"), charts.DONE),
             charts.Series(t("Menunggu", "Pending"), charts.PENDING),
             charts.Series(t("Terlambat", "Overdue"), charts.OVERDUE)]

    def vals(x: repo.Counts) -> tuple[int, int, int]:
        return x.done, x.pending, x.overdue
    stages = charts.stacked_bars(
        chart_id="grafik-tahap", title=t("Kemajuan per tahap", "Progress per stage"),
        desc=t("Tugas selesai, menunggu dan terlambat pada setiap tahap.",
               "Tasks done, pending and overdue in each stage."), series=state, lang=lang,
        bars=[charts.Bar(stage_label(s, c, lang), vals(p.stage_total(s.key)),
                         f"/hr/cycles/{c.id}/dasbor{_query(s)}#per-unit") for s in d.active_stages],
        empty=t("Belum ada tugas.", "No tasks yet."))
    units = None
    if d.selected is not None:
        sel = d.selected
        units = charts.stacked_bars(
            chart_id="grafik-unit", title=t("Kemajuan per unit: ", "Progress per unit: ")
            + stage_label(sel, c, lang),
            desc=t("Tugas selesai, menunggu dan terlambat per unit kerja; pilih unit untuk melihat "
                   "pegawainya.", "Tasks done, pending and overdue per unit; choose a unit to "
                   "see its people."), series=state, lang=lang,
            bars=[charts.Bar(u.unit, vals(p.cell(u.unit_id, sel.key)),
                             unit_href(c.id, u.unit_id, sel))
                  for u in p.units if p.cell(u.unit_id, sel.key).total],
            empty=t("Belum ada tugas pada tahap ini.", "No tasks in this stage yet."))
    mix = charts.stacked_bars(
        chart_id="grafik-predikat", title=t("Sebaran predikat per unit", "Predikat mix per unit"),
        desc=t("Bagian tiap predikat di antara pegawai yang sudah dinilai.",
               "The share of each predikat among the people rated."), normalise=True, lang=lang,
        series=[charts.Series(str(x.value), col) for x, col in
                zip(reversed(PREDIKAT_ORDER), charts.PREDIKAT_COLORS, strict=True)],
        bars=[charts.Bar(u.unit, [u.counts.get(x.value, 0) for x in reversed(PREDIKAT_ORDER)],
                         note=f"{charts.num(u.rated, lang)} {t('dinilai', 'rated')}")
              for u in d.predikat if u.rated],
        empty=t("Belum ada predikat.", "No predikat yet."))
    curves = [(u, charts.bound_bars(
        chart_id=f"grafik-kurva-{u.unit_id}", title=t("Kurva ", "Curve of ") + u.unit,
        desc=t(f"Nilai unit {u.grade}: bagian yang ditemukan terhadap batas kurva.",
               f"Unit grade {u.grade}: the shares found against the curve's bounds."),
        ok_label=t("sesuai", "fits"), bad_label=t("melanggar", "breached"),
        bars=[charts.BoundBar(r.rule.label(lang), r.found_share,
                              f"{r.found}/{r.rated} ({charts.pct(r.found_share, lang)})",
                              r.rule.share if r.rule.share else None,
                              _bound_label(r.rule, lang), r.ok) for r in u.rules]))
              for u in d.predikat if u.rules]
    rates = charts.value_bars(
        chart_id="grafik-360", title=t("Tingkat respons umpan balik 360", "360 response rates"),
        desc=t("Formulir 360 terjawab dari semua penugasan, per unit penilai.",
               "360 forms answered of all assignments, per unit of the rater."),
        bars=[charts.ValueBar(f.unit, f.rate, f"{charts.pct(f.rate, lang)} ({f.answered}/{f.assigned})")
              for f in d.feedback], empty=t("Belum ada penugasan 360.", "No 360 assignments yet."))
    top = max((s.responses for s in d.surveys), default=0) or 1
    skm = charts.value_bars(
        chart_id="grafik-skm",
        title=t("Respons survei kepuasan (SKM)", "Satisfaction survey (SKM) responses"),
        desc=t("Jumlah responden survei per unit layanan.", "Survey respondents per service unit."),
        bars=[charts.ValueBar(s.unit, s.responses / top, charts.num(s.responses, lang))
              for s in d.surveys], empty=t("Belum ada survei.", "No surveys yet."))
    series = charts.line_chart(
        chart_id="grafik-terlambat", title=t("Tugas terlambat dari hari ke hari", "Overdue tasks over time"),
        desc=t("Tugas terbuka yang melewati batas waktu pada akhir setiap hari.",
               "Open tasks past their due date at the end of each day."), lang=lang,
        points=[(x.day, x.overdue) for x in d.series],
        empty=t("Siklus belum dimulai.", "The cycle has not started yet."))
    return {"stages": stages, "units": units, "mix": mix, "curves": curves, "rates": rates,
            "skm": skm, "series": series}


# -- the pages --------------------------------------------------------------------------------


@router.get(PAGE, include_in_schema=False)
def dashboard_page(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
                   cycle_id: int, tahap: str | None = None, periode: int | None = None) -> Response:
    lang = lang_of(request)
    d = load(session, rt, user, cycle_id, tahap, periode)
    return render(request, "hr/dasbor.html", user=user, v=d, c=d.cycle, charts=_charts(d, lang),
                  label=lambda s: stage_label(s, d.cycle, lang), href=unit_href, q=_query,
                  state_label=lambda s: _t(STATE_LABELS[s.state(d.now)], lang),
                  pct=lambda x: charts.pct(x, lang), predikat=[x.value for x in
                                                               reversed(PREDIKAT_ORDER)],
                  colors=charts.PREDIKAT_COLORS)


@dataclass
class Drill:
    dasbor: Dasbor
    unit_id: int
    unit: str
    code: str | None
    periode: int | None
    status: str | None
    rows: list[repo.PersonTask]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def tahap(self) -> repo.Tahap | None:
        if not self.code:
            return None
        key = f"{self.code}-{self.periode}" if self.periode else self.code
        return self.dasbor.progress.stage(key) or repo.Tahap(self.code, self.periode or 0)

    def counts(self) -> repo.Counts:
        p = self.dasbor.progress
        if self.tahap is None or self.code == StageCode.PEMANTAUAN and not self.periode:
            out = repo.Counts()
            for s in p.stages:
                if self.code is None or s.code == self.code:
                    out.add(p.cell(self.unit_id, s.key))
            return out
        return p.cell(self.unit_id, self.tahap.key)


def load_unit(session: Session, rt: Runtime, user: Principal, cycle_id: int, unit_id: int,
              tahap: str | None, periode: int | None, status: str | None, page: int = 1,
              everything: bool = False) -> Drill:
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    unit = repo.unit_of(session=session, unit_id=unit_id)
    now, scope = rt.clock.now(), frozenset({unit_id})
    if user.unit_ids is not None:
        scope &= user.unit_ids  # the policy refused other units already; kept for the queries
    prog = repo.progress(session=session, cycle_id=cycle_id, now=now, unit_ids=scope)
    code, periode, status = repo.parse_filter(tahap, periode, status, prog.stages)
    page = max(1, page)
    rows, total = repo.unit_people(
        session=session, cycle_id=cycle_id, unit_id=unit_id, now=now, code=code, periode=periode,
        status=status, unit_ids=scope, limit=None if everything else PAGE_SIZE,
        offset=0 if everything else (page - 1) * PAGE_SIZE)
    d = Dasbor(cycle, now, rt.api.timezone, prog, None, [], [], [], [])
    return Drill(d, unit_id, unit.nama, code, periode, status, rows, total, page)


def person_href(nip: str, cycle_id: int) -> str:
    """HR's page of one person in this cycle: their tasks, a fresh link, closing a task."""
    return f"/hr/pegawai/{nip}?cycle_id={cycle_id}"


@router.get(PAGE + "/unit/{unit_id}.csv", include_in_schema=False)
@router.get(API + "/unit/{unit_id}.csv", tags=["dasbor"], response_class=Response,
            responses=CSV_RESPONSE)
def unit_csv(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
             cycle_id: int, unit_id: int, tahap: str | None = None, periode: int | None = None,
             status: str | None = None) -> Response:
    """The drill-down's people and tasks as CSV (every row, not one page)."""
    lang = lang_of(request)
    x = load_unit(session, rt, user, cycle_id, unit_id, tahap, periode, status, everything=True)
    rows = [[r.nip, r.nama, r.jabatan, stage_label(repo.Tahap(r.tahap, r.periode), x.dasbor.cycle,
                                                      lang),
             _t(KIND_LABELS.get(r.kind, (r.kind, r.kind)), lang), _t(STATUS_LABELS[r.status], lang),
             _local(r.due_at, x.dasbor.tz), _local(r.done_at, x.dasbor.tz), r.reminders_sent,
             r.closed_by] for r in x.rows]
    heads = [("NIP", "NIP"), ("Nama", "Name"), ("Jabatan", "Position"), ("Tahap", "Stage"),
             ("Tugas", "Task"), ("Status", "Status"), ("Batas waktu", "Due"),
             ("Selesai", "Done at"), ("Pengingat", "Reminders"), ("Ditutup oleh", "Closed by")]
    _audit(request, rt, session, cycle_id, "dasbor_unit_csv", unit_id=unit_id, jumlah=len(rows))
    return _csv([_t(h, lang) for h in heads], rows,
                f"dasbor_{slug(x.unit)}_{x.dasbor.cycle.tahun}.csv")


@router.get(PAGE + "/unit/{unit_id}", include_in_schema=False)
def unit_page(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
              cycle_id: int, unit_id: int, tahap: str | None = None, periode: int | None = None,
              status: str | None = None, halaman: Annotated[int, Query(ge=1)] = 1) -> Response:
    lang = lang_of(request)
    x = load_unit(session, rt, user, cycle_id, unit_id, tahap, periode, status, halaman)
    c, p = x.dasbor.cycle, x.dasbor.progress
    t = lambda a, b: b if lang == "en" else a  # noqa: E731
    busy = [s for s in p.stages if p.cell(unit_id, s.key).total]
    chart = charts.stacked_bars(
        chart_id="grafik-unit-tahap", title=t("Kemajuan ", "Progress of ") + x.unit,
        desc=t("Tugas selesai, menunggu dan terlambat unit ini pada setiap tahap.",
               "This unit's tasks done, pending and overdue in each stage."), lang=lang,
        series=[charts.Series(t("Selesai", "Done"), charts.DONE),
                charts.Series(t("Menunggu", "Pending"), charts.PENDING),
                charts.Series(t("Terlambat", "Overdue"), charts.OVERDUE)],
        bars=[charts.Bar(stage_label(s, c, lang), (p.cell(unit_id, s.key).done,
                                                   p.cell(unit_id, s.key).pending,
                                                   p.cell(unit_id, s.key).overdue),
                         unit_href(c.id, unit_id, s)) for s in busy],
        empty=t("Belum ada tugas di unit ini.", "No tasks in this unit yet."))
    return render(request, "hr/dasbor_unit.html", user=user, x=x, c=c, chart=chart, busy=busy,
                  label=lambda s: stage_label(s, c, lang), href=unit_href, q=_query,
                  kind=lambda k: _t(KIND_LABELS.get(k, (k, k)), lang),
                  status_label=lambda s: _t(STATUS_LABELS[s], lang), statuses=repo.STATUSES,
                  person=lambda nip: person_href(nip, cycle_id),
                  tahap_of=lambda r: repo.Tahap(r.tahap, r.periode))


# -- JSON and CSV -----------------------------------------------------------------------------


def _json(d: Dasbor, lang: str) -> dict[str, object]:
    c, p, tz = d.cycle, d.progress, d.tz
    return {
        "siklus": {"id": c.id, "tahun": c.tahun, "nama": c.nama}, "per": _iso(d.now, tz),
        "zona_waktu": tz,
        "tahap": [{"kode": s.code, "periode": s.periode, "kunci": s.key,
                   "label": stage_label(s, c, lang), "status": s.state(d.now),
                   "dibuka": _iso(s.stage.opens_at if s.stage else None, tz),
                   "batas": _iso(s.stage.due_at if s.stage else None, tz),
                   "ditutup": _iso(s.stage.closes_at if s.stage else None, tz),
                   "jumlah": p.stage_total(s.key).as_dict()} for s in p.stages],
        "unit": [{"unit_id": u.unit_id, "unit": u.unit, "pegawai": u.pegawai,
                  "jumlah": p.unit_total(u.unit_id).as_dict(),
                  "tahap": {s.key: p.cell(u.unit_id, s.key).as_dict() for s in p.stages
                            if p.cell(u.unit_id, s.key).total}} for u in p.units],
        "predikat": [{"unit_id": u.unit_id, "unit": u.unit, "nilai_unit": u.grade,
                      "total": u.total, "dinilai": u.rated, "dipublikasi": u.published,
                      "sebaran": u.counts, "sesuai_kurva": u.ok, "override": u.override,
                      "kurva": [{"aturan": r.rule.label("id"), "rule": r.rule.label("en"),
                                 "jenis": r.rule.kind, "batas_bagian": r.rule.share,
                                 "minimal_orang": r.rule.min_count, "ditemukan": r.found,
                                 "bagian": round(r.found_share, 4), "sesuai": r.ok,
                                 "pesan": r.breach.message(lang) if r.breach else None}
                                for r in u.rules]} for u in d.predikat],
        "umpan_balik_360": [{"unit_id": f.unit_id, "unit": f.unit, "penugasan": f.assigned,
                             "ditetapkan": f.confirmed, "terjawab": f.answered,
                             "tingkat_respons": round(f.rate, 4)} for f in d.feedback],
        "skm": [{"unit_id": s.unit_id, "unit": s.unit, "survei": s.surveys, "dibuka": s.open,
                 "respons": s.responses} for s in d.surveys],
        "terlambat_harian": [{"tanggal": x.day.isoformat(), "terlambat": x.overdue}
                             for x in d.series]}


@router.get(API, tags=["dasbor"], response_model=None, responses=ERRORS)
def dashboard_json(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
                   cycle_id: int) -> dict[str, object]:
    """The dashboard's figures: progress per stage and unit (done/pending/overdue), predikat
    per unit against its curve, 360 and survey response counts, overdue tasks per day."""
    return _json(load(session, rt, user, cycle_id), lang_of(request))


@router.get(API + "/unit/{unit_id}", tags=["dasbor"], response_model=None, responses=ERRORS)
def unit_json(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
              cycle_id: int, unit_id: int, tahap: str | None = None, periode: int | None = None,
              status: str | None = None) -> dict[str, object]:
    """The people of one unit with their tasks' state (optionally one stage, period, state)."""
    x = load_unit(session, rt, user, cycle_id, unit_id, tahap, periode, status, everything=True)
    tz = x.dasbor.tz
    return {"unit_id": unit_id, "unit": x.unit, "tahap": x.code, "periode": x.periode,
            "status": x.status, "jumlah": x.counts().as_dict(),
            "tugas": [{"pegawai_id": r.pegawai_id, "nip": r.nip, "nama": r.nama,
                       "jabatan": r.jabatan, "task_id": r.task_id, "jenis": r.kind,
                       "tahap": r.tahap, "periode": r.periode, "status": r.status,
                       "batas": _iso(r.due_at, tz), "selesai": _iso(r.done_at, tz),
                       "pengingat": r.reminders_sent,
                       "tautan": person_href(r.nip, cycle_id)}
                      for r in x.rows]}


def _local(at: datetime | None, tz: str) -> str:
    return at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") if at else ""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")  # semicolon CSV: the Indonesian decimal comma
    return neutralise(str(value))


def _csv(headings: Sequence[str], rows: Sequence[Sequence[object]], filename: str) -> Response:
    """UTF-8 with a BOM, semicolons, formulas neutralised (as the results export)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in headings])
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), media_type=CSV, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _audit(request: Request, rt: Runtime, session: Session, cycle_id: int, jenis: str,
           **detail: object) -> None:
    user: Principal = request.state.principal
    record(session=session, now=rt.clock.now(), actor=user.actor, action="ekspor",
           entity="cycle", entity_id=cycle_id, after={"jenis": jenis} | detail)


def table_rows(d: Dasbor, tabel: str, lang: str) -> tuple[list[str], list[list[object]]]:
    """One table of the dashboard: its headings and rows."""
    t = lambda a, b: b if lang == "en" else a  # noqa: E731
    p, c = d.progress, d.cycle
    if tabel == "kemajuan":
        return ([t("Unit", "Unit"), t("Tahap", "Stage"), t("Pegawai", "Employees"),
                 t("Selesai", "Done"), t("Menunggu", "Pending"), t("Terlambat", "Overdue"),
                 t("Jumlah", "Total")],
                [[u.unit, stage_label(s, c, lang), u.pegawai, x.done, x.pending, x.overdue, x.total]
                 for u in p.units for s in p.stages
                 if (x := p.cell(u.unit_id, s.key)).total])
    if tabel == "predikat":
        order = [x.value for x in reversed(PREDIKAT_ORDER)]
        return ([t("Unit", "Unit"), t("Nilai unit", "Unit grade"), t("Pegawai", "People"),
                 t("Dinilai", "Rated"), t("Dipublikasi", "Published"), *order,
                 t("Kurva", "Curve"), t("Alasan HR", "HR's reason")],
                [[u.unit, u.grade, u.total, u.rated, u.published,
                  *[u.counts.get(k, 0) for k in order],
                  ("; ".join(b.message(lang) for b in u.breaches) or t("sesuai", "fits"))
                  if u.rules else "", u.override] for u in d.predikat])
    if tabel == "umpan_balik":
        return ([t("Unit penilai", "Rater unit"), t("Penugasan", "Assigned"),
                 t("Ditetapkan", "Confirmed"), t("Terjawab", "Answered"),
                 t("Tingkat respons (%)", "Response rate (%)")],
                [[f.unit, f.assigned, f.confirmed, f.answered, round(f.rate * 100, 1)]
                 for f in d.feedback])
    if tabel == "skm":
        return ([t("Unit", "Unit"), t("Survei", "Surveys"), t("Dibuka", "Open"),
                 t("Respons", "Responses")],
                [[s.unit, s.surveys, s.open, s.responses] for s in d.surveys])
    return ([t("Tanggal", "Date"), t("Tugas terlambat", "Overdue tasks")],
            [[x.day.isoformat(), x.overdue] for x in d.series])


@router.get(PAGE + ".csv", include_in_schema=False)
@router.get(API + ".csv", tags=["dasbor"], response_class=Response, responses=CSV_RESPONSE)
def dashboard_csv(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
                  cycle_id: int, tabel: str = "kemajuan") -> Response:
    """One table of the dashboard as CSV: kemajuan (progress), predikat, umpan_balik (360),
    skm or terlambat (overdue per day)."""
    if tabel not in TABLES:
        raise InvalidInput(f"Tabel '{tabel}' tidak dikenal; pilih: {', '.join(TABLES)}.",
                           f"Unknown table '{tabel}'; choose: {', '.join(TABLES)}.")
    lang = lang_of(request)
    d = load(session, rt, user, cycle_id)
    heads, rows = table_rows(d, tabel, lang)
    _audit(request, rt, session, cycle_id, f"dasbor_{tabel}_csv", jumlah=len(rows))
    return _csv(heads, rows, f"dasbor_{tabel}_{d.cycle.tahun}.csv")

