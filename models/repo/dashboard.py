"""HR's dashboard of one cycle: the progress of every stage per unit, the people behind a number,
the predikat mix of each unit against its curve, 360 and survey response counts, and the
overdue tasks day by day.

Everything is counted by the database (GROUP BY), so a page costs a handful of queries whatever
the size of the agency; Python only walks the aggregated rows. Every query takes `unit_ids`:
None for the whole agency, or the units a unit operator may see (an empty set sees nothing).

Anonymity of 360 feedback: only counts of assignments leave this module, never anything that
could tie a rater to an answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, cast, extract, false, func, or_, select, text, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from models.repo.cycles import NotFound
from models.rules import scoring
from models.rules.enums import OrgGrade, Predikat, StageCode, TaskKind, TaskStatus
from models.rules.errors import InvalidInput
from models.tables import (
    Cycle,
    CycleStage,
    JawabanSurvei,
    NilaiUnit,
    Pegawai,
    Penilai360,
    PenilaianTahunan,
    Skp,
    Survei,
    Task,
    Unit,
)

#: the follow-up has no stage row of its own: its coaching plans are tasks after the appeals
TINDAK_LANJUT = "tindak_lanjut"

#: which stage a task belongs to. HASIL_KINERJA is left out on purpose: it tells a pegawai their
#: published predikat and closes by itself when the appeal window ends, so it is never work
#: that can be late (the appeals themselves are the atasan's PUTUS_KEBERATAN tasks).
STAGE_OF_KIND: dict[TaskKind, str] = {
    TaskKind.SUSUN_SKP: StageCode.PERENCANAAN, TaskKind.SETUJUI_SKP: StageCode.PERENCANAAN,
    TaskKind.ISI_REALISASI: StageCode.PEMANTAUAN, TaskKind.NILAI_PERIODIK: StageCode.PEMANTAUAN,
    TaskKind.USUL_PENILAI: StageCode.UMPAN_BALIK, TaskKind.TETAPKAN_PENILAI: StageCode.UMPAN_BALIK,
    TaskKind.ISI_360: StageCode.UMPAN_BALIK, TaskKind.KOMPETENSI: StageCode.UMPAN_BALIK,
    TaskKind.NILAI_TAHUNAN: StageCode.PENILAIAN, TaskKind.PUTUS_KEBERATAN: StageCode.KEBERATAN,
    TaskKind.PEMBINAAN: TINDAK_LANJUT,
}
STAGE_ORDER = (StageCode.PERENCANAAN, StageCode.PEMANTAUAN, StageCode.UMPAN_BALIK,
               StageCode.PENILAIAN, StageCode.KEBERATAN, TINDAK_LANJUT)
STATUSES = ("overdue", "pending", "done")
#: the overdue series covers at most this many days back from today
MAX_SERIES_DAYS = 2 * 366


def kinds_of(code: str) -> list[str]:
    return [k.value for k, c in STAGE_OF_KIND.items() if c == code]


def _scope(column: ColumnElement, unit_ids: frozenset[int] | None) -> ColumnElement:  # type: ignore[type-arg]
    if unit_ids is None:
        return true()
    return column.in_(sorted(unit_ids)) if unit_ids else false()


def _task_scope(unit_ids: frozenset[int] | None) -> ColumnElement:  # type: ignore[type-arg]
    """Tasks of the active people of these units, as a key lookup: the database then reads the
    task index by (cycle, kind, person) for those people instead of every task of the cycle."""
    if unit_ids is None:
        return true()
    return Task.pegawai_id.in_(select(Pegawai.id).where(Pegawai.active,
                                                        _scope(Pegawai.unit_id, unit_ids)))


def _int_sum(condition: ColumnElement) -> ColumnElement:  # type: ignore[type-arg]
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# -- the stages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tahap:
    """One column of the dashboard: a stage, or one monitoring period of it."""

    code: str
    periode: int = 0
    stage: CycleStage | None = None

    @property
    def key(self) -> str:
        return f"{self.code}-{self.periode}" if self.periode else str(self.code)

    def state(self, now: datetime) -> str:
        """'belum' (not open yet), 'dibuka' (open) or 'ditutup' (closed)."""
        if self.stage is None:
            return "dibuka"
        if self.stage.closed_at is not None:
            return "ditutup"
        return "dibuka" if self.stage.opened_at is not None else "belum"


def stages(*, session: Session, cycle_id: int, with_follow_up: bool = False) -> list[Tahap]:
    """The cycle's stages in their order (each monitoring period apart); the follow-up, which has
    no stage row, when asked for."""
    rows = session.execute(select(CycleStage).where(CycleStage.cycle_id == cycle_id)).scalars()
    order = {code: n for n, code in enumerate(STAGE_ORDER)}
    found = sorted((Tahap(str(s.code), s.periode, s) for s in rows),
                   key=lambda t: (order.get(t.code, len(order)), t.periode))
    if with_follow_up:
        found.append(Tahap(TINDAK_LANJUT))
    return found


def cycle_start(*, session: Session, cycle: Cycle) -> datetime:
    """When the cycle's first stage opens (its creation when no stage exists)."""
    first = session.execute(select(func.min(CycleStage.opens_at)).where(
        CycleStage.cycle_id == cycle.id)).scalar()
    return first or cycle.created_at


# -- progress per unit and stage -----------------------------------------------------------------


@dataclass
class Counts:
    done: int = 0
    pending: int = 0  # open, not past due
    overdue: int = 0  # open, past due

    @property
    def total(self) -> int:
        return self.done + self.pending + self.overdue

    @property
    def done_share(self) -> float:
        return self.done / self.total if self.total else 0.0

    def add(self, other: Counts) -> None:
        self.done += other.done
        self.pending += other.pending
        self.overdue += other.overdue

    def as_dict(self) -> dict[str, int]:
        return {"done": self.done, "pending": self.pending, "overdue": self.overdue,
                "total": self.total}


@dataclass
class UnitRow:
    unit_id: int
    unit: str
    pegawai: int  # active employees


@dataclass
class Progress:
    """Tasks counted per unit and stage; `cells[(unit_id, stage key)]`."""

    units: list[UnitRow]
    stages: list[Tahap]
    cells: dict[tuple[int, str], Counts]

    def cell(self, unit_id: int, key: str) -> Counts:
        return self.cells.get((unit_id, key), Counts())

    def stage_total(self, key: str) -> Counts:
        out = Counts()
        for (_, k), c in self.cells.items():
            if k == key:
                out.add(c)
        return out

    def unit_total(self, unit_id: int) -> Counts:
        out = Counts()
        for (u, _), c in self.cells.items():
            if u == unit_id:
                out.add(c)
        return out

    def total(self) -> Counts:
        out = Counts()
        for c in self.cells.values():
            out.add(c)
        return out

    def stage(self, key: str) -> Tahap | None:
        return next((s for s in self.stages if s.key == key), None)


def units_in_scope(*, session: Session, unit_ids: frozenset[int] | None) -> list[UnitRow]:
    """Units with active employees, by name, with their head count."""
    rows = session.execute(select(Unit.id, Unit.nama, func.count(Pegawai.id))
                           .join(Pegawai, Pegawai.unit_id == Unit.id)
                           .where(Pegawai.active, _scope(Unit.id, unit_ids))
                           .group_by(Unit.id, Unit.nama).order_by(Unit.nama)).all()
    return [UnitRow(int(u), str(n), int(c)) for u, n, c in rows]


def _stage_key(kind: str, periode: int) -> str:
    code = STAGE_OF_KIND[TaskKind(kind)]
    return f"{code}-{periode}" if code == StageCode.PEMANTAUAN else str(code)


def progress(*, session: Session, cycle_id: int, now: datetime,
             unit_ids: frozenset[int] | None = None) -> Progress:
    """Done / pending / overdue tasks of active employees per unit and stage (one GROUP BY)."""
    is_open = Task.status == TaskStatus.OPEN
    rows = session.execute(
        select(Pegawai.unit_id, Task.kind, Task.periode,
               _int_sum(Task.status == TaskStatus.DONE),
               _int_sum(and_(is_open, Task.due_at >= now)),
               _int_sum(and_(is_open, Task.due_at < now)))
        .join(Pegawai, Pegawai.id == Task.pegawai_id)
        .where(Task.cycle_id == cycle_id, Task.status != TaskStatus.CANCELLED, Pegawai.active,
               Task.kind.in_([k.value for k in STAGE_OF_KIND]), _scope(Pegawai.unit_id, unit_ids),
               _task_scope(unit_ids))
        .group_by(Pegawai.unit_id, Task.kind, Task.periode)).all()
    cells: dict[tuple[int, str], Counts] = {}
    for unit_id, kind, periode, done, pending, overdue in rows:
        cells.setdefault((int(unit_id), _stage_key(kind, periode)), Counts()).add(
            Counts(int(done), int(pending), int(overdue)))
    follow_up = any(k == TINDAK_LANJUT for _, k in cells)
    units = units_in_scope(session=session, unit_ids=unit_ids)
    known = {u.unit_id for u in units}
    missing = {u for u, _ in cells} - known  # tasks of people whose unit has no active head count
    if missing:
        units += [UnitRow(int(i), str(n), 0) for i, n in session.execute(
            select(Unit.id, Unit.nama).where(Unit.id.in_(sorted(missing)))).all()]
        units.sort(key=lambda u: u.unit)
    return Progress(units, stages(session=session, cycle_id=cycle_id, with_follow_up=follow_up),
                    cells)


def parse_filter(code: str | None, periode: int | None, status: str | None,
                 known: Iterable[Tahap]) -> tuple[str | None, int | None, str | None]:
    """Check a drill-down filter against the cycle's stages; InvalidInput names what is wrong."""
    code = (code or "").strip() or None
    status = (status or "").strip() or None
    tahap = list(known)
    if code is not None and code not in {str(c) for c in STAGE_ORDER}:
        names = ", ".join(str(c) for c in STAGE_ORDER)
        raise InvalidInput(f"Tahap '{code}' tidak dikenal; pilih salah satu: {names}.",
                           f"Unknown stage '{code}'; choose one of: {names}.")
    if periode:
        if code != StageCode.PEMANTAUAN:
            raise InvalidInput("Periode hanya berlaku untuk tahap pemantauan.",
                               "A period only applies to the monitoring stage.")
        if periode not in {t.periode for t in tahap if t.code == StageCode.PEMANTAUAN}:
            raise InvalidInput(f"Periode {periode} tidak ada di siklus ini.",
                               f"Period {periode} is not in this cycle.")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"Status '{status}' tidak dikenal; pilih overdue, pending atau done.",
                           f"Unknown status '{status}'; choose overdue, pending or done.")
    return code, periode or None, status


# -- drill-down: the people of one unit ----------------------------------------------------------


@dataclass
class PersonTask:
    pegawai_id: int
    nip: str
    nama: str
    jabatan: str
    task_id: int
    kind: str
    tahap: str  # the stage code
    periode: int
    status: str  # overdue, pending, done
    due_at: datetime
    done_at: datetime | None
    reminders_sent: int
    closed_by: str | None


def unit_people(*, session: Session, cycle_id: int, unit_id: int, now: datetime,
                code: str | None = None, periode: int | None = None, status: str | None = None,
                unit_ids: frozenset[int] | None = None, limit: int | None = None,
                offset: int = 0) -> tuple[list[PersonTask], int]:
    """The tasks of one unit's active employees (optionally one stage, period and state), the
    overdue first, then by due date and name; with the number of rows matching."""
    if unit_ids is not None and unit_id not in unit_ids:
        return [], 0
    is_open = Task.status == TaskStatus.OPEN
    state = case((Task.status == TaskStatus.DONE, "done"), (Task.due_at < now, "overdue"),
                 else_="pending")
    where = [Task.cycle_id == cycle_id, Task.status != TaskStatus.CANCELLED, Pegawai.active,
             Pegawai.unit_id == unit_id, _task_scope(frozenset({unit_id}))]
    where.append(Task.kind.in_(kinds_of(code) if code else [k.value for k in STAGE_OF_KIND]))
    # a rater's finished 360 task is counted, never listed: the list would say who answered
    # (and when); the open ones stay, so HR can chase who still has forms to fill in
    where.append(or_(Task.kind != TaskKind.ISI_360, Task.status != TaskStatus.DONE))
    if periode:
        where.append(Task.periode == periode)
    if status == "done":
        where.append(Task.status == TaskStatus.DONE)
    elif status == "overdue":
        where.append(and_(is_open, Task.due_at < now))
    elif status == "pending":
        where.append(and_(is_open, Task.due_at >= now))
    total = session.execute(select(func.count()).select_from(Task).join(
        Pegawai, Pegawai.id == Task.pegawai_id).where(*where)).scalar_one()
    rank = case((Task.status == TaskStatus.DONE, 2), (Task.due_at < now, 0), else_=1)
    q = (select(Pegawai.id, Pegawai.nip, Pegawai.nama, Pegawai.jabatan, Task.id, Task.kind,
                Task.periode, state, Task.due_at, Task.done_at, Task.reminders_sent,
                Task.closed_by)
         .join(Pegawai, Pegawai.id == Task.pegawai_id).where(*where)
         .order_by(rank, Task.due_at, Pegawai.nama, Task.id).offset(offset))
    if limit is not None:
        q = q.limit(limit)
    out = [PersonTask(pid, nip, nama, jabatan, tid, kind, str(STAGE_OF_KIND[TaskKind(kind)]), periode,
                      st, due, done, sent, closed)
           for pid, nip, nama, jabatan, tid, kind, periode, st, due, done, sent, closed
           in session.execute(q).all()]
    return out, int(total)


def unit_of(*, session: Session, unit_id: int) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"Unit {unit_id} tidak ditemukan.", f"Unit {unit_id} not found.")
    return unit


# -- the predikat mix against the curve ------------------------------------------------------------


@dataclass
class RuleCheck:
    """One curve rule of the unit's grade: the share found and the bound it states."""

    rule: scoring.CurveRule
    found: int
    rated: int
    breach: scoring.Breach | None  # as scoring.check_distribution judged it (with rounding)

    @property
    def found_share(self) -> float:
        return self.found / self.rated if self.rated else 0.0

    @property
    def ok(self) -> bool:
        return self.breach is None


@dataclass
class UnitPredikat:
    unit_id: int
    unit: str
    grade: str | None
    total: int  # annual records
    rated: int  # with a predikat
    published: int  # published or final
    counts: dict[str, int]
    override: str | None
    rules: list[RuleCheck] = field(default_factory=list)

    @property
    def breaches(self) -> list[scoring.Breach]:
        return [r.breach for r in self.rules if r.breach is not None]

    @property
    def ok(self) -> bool:
        return not self.breaches or bool(self.override)

    def share(self, predikat: Predikat | str) -> float:
        return self.counts.get(str(predikat), 0) / self.rated if self.rated else 0.0


def predikat_by_unit(*, session: Session, cycle_id: int, unit_ids: frozenset[int] | None = None,
                     rounding: scoring.Rounding = scoring.Rounding.NEAREST,
                     ) -> list[UnitPredikat]:
    """Each unit's predikat counts (the annual records, as the calibration page counts them) and
    the verdict of scoring.check_distribution on every rule of its grade's curve."""
    T = PenilaianTahunan
    published = T.status.in_(("dipublikasi", "final"))
    rows = session.execute(
        select(Pegawai.unit_id, T.predikat, func.count(), _int_sum(published))
        .select_from(T).join(Skp, Skp.id == T.skp_id).join(Pegawai, Pegawai.id == Skp.pegawai_id)
        .where(T.cycle_id == cycle_id, _scope(Pegawai.unit_id, unit_ids))
        .group_by(Pegawai.unit_id, T.predikat)).all()
    counts: dict[int, Counter[str]] = {}
    totals: Counter[int] = Counter()
    pub: Counter[int] = Counter()
    for unit_id, pred, n, n_pub in rows:
        totals[unit_id] += int(n)
        pub[unit_id] += int(n_pub)
        bucket = counts.setdefault(unit_id, Counter())
        if pred:
            bucket[str(pred)] += int(n)
    if not totals:
        return []
    grades = {g.unit_id: g for g in session.execute(select(NilaiUnit).where(
        NilaiUnit.cycle_id == cycle_id, NilaiUnit.unit_id.in_(sorted(totals)))).scalars()}
    names = dict(session.execute(select(Unit.id, Unit.nama).where(
        Unit.id.in_(sorted(totals)))).all())
    out = []
    for unit_id in sorted(totals, key=lambda u: names.get(u, "")):
        mix = counts.get(unit_id, Counter())
        rated = sum(mix.values())
        grade = grades.get(unit_id)
        row = UnitPredikat(unit_id, names.get(unit_id, "?"), grade.grade if grade else None,
                           totals[unit_id], rated, pub[unit_id], dict(mix),
                           grade.override_alasan if grade else None)
        if grade is not None and rated:
            org = OrgGrade(grade.grade)
            breaches = scoring.check_distribution(org, [Predikat(p) for p in mix.elements()],
                                                  rounding)
            for rule in scoring.CURVE[org]:
                found = sum(mix.get(p.value, 0) for p in rule.of)
                row.rules.append(RuleCheck(rule, found, rated,
                                           next((b for b in breaches if b.rule == rule), None)))
        out.append(row)
    return out


# -- 360 and the public survey: counts only ------------------------------------------------------


@dataclass
class UnitFeedback:
    unit_id: int
    unit: str
    assigned: int  # active 360 assignments of raters in this unit
    confirmed: int
    answered: int

    @property
    def rate(self) -> float:
        return self.answered / self.assigned if self.assigned else 0.0


def feedback_by_unit(*, session: Session, cycle_id: int,
                     unit_ids: frozenset[int] | None = None) -> list[UnitFeedback]:
    """360 forms per unit of the rater: assigned, confirmed, answered. Counts only: nothing
    here ties a rater to an answer (the answers themselves are never read)."""
    A = Penilai360
    rows = session.execute(
        select(Unit.id, Unit.nama, func.count(), _int_sum(A.ditetapkan == True),  # noqa: E712
               _int_sum(A.selesai == True))  # noqa: E712
        .select_from(A).join(Pegawai, Pegawai.id == A.penilai_id)
        .join(Unit, Unit.id == Pegawai.unit_id)
        .where(A.cycle_id == cycle_id, A.aktif == True, Pegawai.active,  # noqa: E712
               _scope(Unit.id, unit_ids))
        .group_by(Unit.id, Unit.nama).order_by(Unit.nama)).all()
    return [UnitFeedback(int(u), str(n), int(a), int(c), int(d)) for u, n, a, c, d in rows]


@dataclass
class UnitSurvey:
    unit_id: int
    unit: str
    surveys: int
    open: int
    responses: int


def survey_window(cycle: Cycle, tz: str) -> tuple[datetime, datetime]:
    """The cycle's year in the agency's zone: surveys opened in it without a cycle count too."""
    zone = ZoneInfo(tz)
    return (datetime(cycle.tahun, 1, 1, tzinfo=zone), datetime(cycle.tahun + 1, 1, 1, tzinfo=zone))


def surveys_by_unit(*, session: Session, cycle: Cycle, tz: str,
                    unit_ids: frozenset[int] | None = None) -> list[UnitSurvey]:
    """Public satisfaction surveys (SKM) per unit: surveys of this cycle, or opened in its year
    without a cycle; how many are open, and the responses received."""
    start, end = survey_window(cycle, tz)
    S = Survei
    of_cycle = or_(S.cycle_id == cycle.id,
                   and_(S.cycle_id.is_(None), S.dibuka_at >= start, S.dibuka_at < end))
    rows = session.execute(
        select(Unit.id, Unit.nama, func.count(func.distinct(S.id)),
               func.count(func.distinct(case((S.ditutup_at.is_(None), S.id)))),
               func.count(JawabanSurvei.id))
        .select_from(S).join(Unit, Unit.id == S.unit_id)
        .outerjoin(JawabanSurvei, JawabanSurvei.survei_id == S.id)
        .where(of_cycle, _scope(Unit.id, unit_ids))
        .group_by(Unit.id, Unit.nama).order_by(Unit.nama)).all()
    return [UnitSurvey(int(u), str(n), int(s), int(o), int(r)) for u, n, s, o, r in rows]


# -- overdue tasks over time ---------------------------------------------------------------------


def _local_day(column: ColumnElement, dialect: str, offset: timedelta) -> ColumnElement:  # type: ignore[type-arg]
    """Days since 1970-01-01 of a UTC timestamp, in a zone `offset` ahead of UTC."""
    if dialect == "postgresql":
        seconds = extract("epoch", column) + offset.total_seconds()
        return cast(func.floor(seconds / 86400), Integer)
    # SQLite keeps UTC text; julianday() reads it; days after 1970 are positive, so CAST floors
    return cast(func.julianday(column) - 2440587.5 + offset.total_seconds() / 86400, Integer)


@dataclass(frozen=True)
class Point:
    day: date
    overdue: int


def overdue_series(*, session: Session, cycle: Cycle, now: datetime, tz: str,
                   unit_ids: frozenset[int] | None = None) -> list[Point]:
    """Open-and-past-due tasks at the end of each day (in the agency's zone) from the cycle's
    first opening to today; today's point is now. One GROUP BY on (day it became overdue, day it
    was done) and one pass over the days: a task counts on day d when it became overdue on or
    before d (its due date, or its creation when created late) and was still open at the end
    of d. The last point equals the overdue count of the progress table."""
    zone = ZoneInfo(tz)
    offset = now.astimezone(zone).utcoffset() or timedelta(0)  # no DST in Indonesia
    dialect = session.get_bind().dialect.name
    start = case((Task.created_at > Task.due_at, Task.created_at), else_=Task.due_at)
    done = Task.status == TaskStatus.DONE
    start_day = _local_day(start, dialect, offset)
    end_day = case((done, _local_day(Task.done_at, dialect, offset)), else_=None)
    rows = session.execute(
        select(start_day, end_day, func.count())
        .join(Pegawai, Pegawai.id == Task.pegawai_id)
        .where(Task.cycle_id == cycle.id, Pegawai.active,
               Task.kind.in_([k.value for k in STAGE_OF_KIND]), Task.due_at < now,
               Task.created_at <= now,
               or_(Task.status == TaskStatus.OPEN, and_(done, Task.done_at > start)),
               _scope(Pegawai.unit_id, unit_ids), _task_scope(unit_ids))
        .group_by(text("1"), text("2"))).all()  # by position: the same expression twice
    epoch = date(1970, 1, 1)
    today = (now.astimezone(zone).date() - epoch).days
    first = (cycle_start(session=session, cycle=cycle).astimezone(zone).date() - epoch).days
    first = max(first, today - MAX_SERIES_DAYS + 1)
    if today < first:
        return []
    delta: Counter[int] = Counter()
    for s, e, n in rows:
        if e is not None and int(e) <= int(s):
            continue  # done the same day it fell due: never open at a day's end
        delta[int(s)] += int(n)
        if e is not None:
            delta[int(e)] -= int(n)
    running = sum(n for d, n in delta.items() if d < first)
    out = []
    for day in range(first, today + 1):
        running += delta.get(day, 0)
        out.append(Point(epoch + timedelta(days=day), running))
    return out
