"""The annual rating (penilaian): the PPK's ratings with suggestions, unit grades, the curve
check per unit and calibration. Publication and keberatan live in models/repo/keberatan.py."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from models.repo.audit import close_open_tasks, record, record_changes
from models.repo.cycles import get_cycle
from models.repo.locking import bump_version
from models.repo.outbox import enqueue_messages
from models.repo.people import hr_admin_emails, pegawai_by_id, unit_names
from models.repo.skp import Mail, SkpView, load_view
from models.rules import annual, scoring
from models.rules import monitoring as mrules
from models.rules.enums import JenisRhk, OrgGrade, Predikat, Rating, StageCode, TaskKind, TaskStatus
from models.rules.errors import InvalidInput, InvalidTransition
from models.rules.reminders import next_reminder_at
from models.rules.texts import format_datetime
from models.tables import (
    Cycle,
    CycleStage,
    Iki,
    NilaiUnit,
    Pegawai,
    PenilaianTahunan,
    PerubahanNilai,
    Realisasi,
    Skp,
    SkpPeriode,
    StageReport,
    Task,
)

REPORT = "penilaian.skor"


def get_stage(*, session: Session, cycle_id: int) -> CycleStage:
    from models.repo.cycles import get_stage as stage_of

    return stage_of(session=session, cycle_id=cycle_id, code=StageCode.PENILAIAN)


def unit_heads(*, session: Session, unit_ids: set[int] | None = None) -> dict[int, int]:
    """unit id -> the active pegawai heading it (their superior is outside the unit or none);
    with several, the one highest in the tree (fewest superiors inside the agency)."""
    people = {p.id: p for p in session.execute(select(Pegawai).where(Pegawai.active)).scalars()}

    def depth(p: Pegawai) -> int:
        n, seen = 0, set()
        while p.atasan_id in people and p.id not in seen:
            seen.add(p.id)
            p, n = people[p.atasan_id], n + 1
        return n
    heads: dict[int, tuple[int, int]] = {}
    for p in people.values():
        if unit_ids is not None and p.unit_id not in unit_ids:
            continue
        boss = people.get(p.atasan_id) if p.atasan_id else None
        if boss is None or boss.unit_id != p.unit_id:
            key = (depth(p), p.id)
            if p.unit_id not in heads or key < heads[p.unit_id]:
                heads[p.unit_id] = key
    return {unit: pid for unit, (_, pid) in heads.items()}


# -- opening: records, the PPKs' tasks ----------------------------------------------------------


def open_chunk(*, session: Session, cycle: Cycle, stage: CycleStage, pegawai_ids: list[int],
               now: datetime, mail: Mail) -> int:
    """The annual record of every approved SKP among these people and a task (and invitation)
    for each of their PPKs; idempotent. Returns messages queued."""
    rows = list(session.execute(select(Skp.id, Pegawai.id, Pegawai.atasan_id, Pegawai.unit_id)
                                .join(Pegawai, Pegawai.id == Skp.pegawai_id).where(
        Skp.cycle_id == cycle.id, Skp.approved_at.is_not(None), Pegawai.active,
        Pegawai.id.in_(pegawai_ids or [-1]))))
    if not rows:
        return 0
    have = set(session.execute(select(PenilaianTahunan.skp_id).where(
        PenilaianTahunan.skp_id.in_([r[0] for r in rows]))).scalars())
    heads = set(unit_heads(session=session, unit_ids={r[3] for r in rows}).values())
    fresh = [{"skp_id": sid, "cycle_id": cycle.id, "status": "draf", "version": 1,
              "sumber_hasil_kerja": "unit" if pid in heads else "ppk"}
             for sid, pid, _, _ in rows if sid not in have]
    if fresh:
        session.execute(insert(PenilaianTahunan), fresh)
    ppk_ids = {a for _, _, a, _ in rows if a is not None}
    existing = set(session.execute(select(Task.pegawai_id).where(
        Task.cycle_id == cycle.id, Task.kind == TaskKind.NILAI_TAHUNAN,
        Task.pegawai_id.in_(ppk_ids or [-1]))).scalars())
    ppks = {p.id: p for p in pegawai_by_id(session=session, ids=ppk_ids - existing).values()
            if p.active}
    if not ppks:
        return 0
    due = stage.approve_due_at
    new = [{"cycle_id": cycle.id, "kind": TaskKind.NILAI_TAHUNAN, "pegawai_id": pid, "periode": 0,
            "status": TaskStatus.OPEN, "due_at": due, "created_at": now, "reminders_sent": 0,
            "next_reminder_at": next_reminder_at(due_at=due, offsets_minutes=cycle.reminder_offsets,
                                                 sent=0, created_at=now)} for pid in ppks]
    ids = session.execute(insert(Task).returning(Task.id, Task.pegawai_id,
                                                 sort_by_parameter_order=True), new).all()
    pending = _unrated_by_ppk(session, cycle.id, list(ppks))
    return enqueue_messages(session=session, now=now, messages=[{
        "key": f"invite:{cycle.id}:penilaian:{pid}", "kind": "undangan_penilaian_tahunan",
        "to_email": ppks[pid].email, "pegawai_id": pid, "language": mail.language,
        "context": {"agency_name": mail.agency, "nama": ppks[pid].nama, "tahun": cycle.tahun,
                    "link": mail.links.task(tid, pid, now), "pending": pending.get(pid, 0),
                    "due": format_datetime(due, cycle.timezone, mail.language)}}
        for tid, pid in ids])


def _unrated_by_ppk(session: Session, cycle_id: int, ppk_ids: list[int] | None) -> dict[int, int]:
    q = (select(Pegawai.atasan_id, func.count()).select_from(PenilaianTahunan)
         .join(Skp, Skp.id == PenilaianTahunan.skp_id).join(Pegawai, Pegawai.id == Skp.pegawai_id)
         .where(PenilaianTahunan.cycle_id == cycle_id, PenilaianTahunan.predikat.is_(None),
                PenilaianTahunan.perilaku.is_(None), Pegawai.active,
                Pegawai.atasan_id.is_not(None)).group_by(Pegawai.atasan_id))
    if ppk_ids is not None:
        q = q.where(Pegawai.atasan_id.in_(ppk_ids or [-1]))
    return dict(session.execute(q).all())


# -- the PPK's annual page -------------------------------------------------------------------------


@dataclass
class IkiYear:
    iki: Iki
    utama: bool
    by_period: dict[int, Realisasi]
    latest: Realisasi | None
    capaian: float | None


@dataclass
class AnnualView:
    skp_view: SkpView
    cycle: Cycle
    stage: CycleStage
    record: PenilaianTahunan
    lines: dict[int, list[IkiYear]]
    periodic: list[SkpPeriode]
    unit_grade: NilaiUnit | None
    aggregate: object = None
    kompetensi: list = field(default_factory=list)

    @property
    def is_unit_head(self) -> bool:
        return self.record.sumber_hasil_kerja == "unit"

    @property
    def saran_hasil_kerja(self) -> str | None:
        if self.is_unit_head:
            return annual.hasil_kerja_of_unit(self.unit_grade.grade) if self.unit_grade else None
        rating = mrules.saran_hasil_kerja([(x.capaian, x.utama) for xs in self.lines.values()
                                           for x in xs])
        return rating.value if rating else None

    @property
    def saran_perilaku(self) -> str | None:
        agg = self.aggregate
        counts = ([(v.di_bawah, v.sesuai, v.di_atas) for v in agg.values]
                  if agg is not None and getattr(agg, "enough", False) else None)
        return annual.saran_perilaku(counts, [p.perilaku for p in self.periodic if p.perilaku])


def record_of(*, session: Session, skp_id: int) -> PenilaianTahunan | None:
    return session.execute(select(PenilaianTahunan).where(
        PenilaianTahunan.skp_id == skp_id)).scalar_one_or_none()


def load_annual(*, session: Session, skp: Skp) -> AnnualView:
    rec = record_of(session=session, skp_id=skp.id)
    if rec is None:
        raise InvalidTransition("penilaian", "absent", "view",
                                "SKP ini belum disetujui saat penilaian tahunan dibuka, sehingga "
                                "tidak ikut penilaian tahunan. Hubungi Pengelola Kinerja.",
                                "This SKP was not approved when the annual rating opened, so it "
                                "is not in it. Contact the performance admin.")
    sv = load_view(session=session, skp=skp)
    cycle = session.get(Cycle, skp.cycle_id)
    real: dict[int, dict[int, Realisasi]] = {}
    for r in session.execute(select(Realisasi).where(Realisasi.skp_id == skp.id)).scalars():
        real.setdefault(r.iki_id, {})[r.periode] = r
    lines: dict[int, list[IkiYear]] = {}
    for rhk in sv.rhk:
        for i in sv.iki.get(rhk.id, []):
            per = real.get(i.id, {})
            latest = per[max(per)] if per else None
            lines.setdefault(rhk.id, []).append(IkiYear(
                i, rhk.jenis == JenisRhk.UTAMA, per, latest,
                mrules.capaian_iki(i.target, i.arah, latest.nilai if latest else None)))
    periodic = list(session.execute(select(SkpPeriode).where(
        SkpPeriode.skp_id == skp.id).order_by(SkpPeriode.periode)).scalars())
    grade = session.execute(select(NilaiUnit).where(
        NilaiUnit.cycle_id == cycle.id, NilaiUnit.unit_id == sv.pegawai.unit_id)).scalar()
    from models.repo.umpan_balik import aggregate

    view = AnnualView(sv, cycle, get_stage(session=session, cycle_id=cycle.id), rec, lines,
                      periodic, grade)
    view.aggregate = aggregate(session=session, cycle_id=cycle.id, dinilai_id=sv.pegawai.id)
    from models.repo.kompetensi import rows_of

    view.kompetensi = rows_of(session=session, cycle_id=cycle.id, pegawai_id=sv.pegawai.id)
    return view


@dataclass
class SubordinateRow:
    pegawai: Pegawai
    skp: Skp
    record: PenilaianTahunan


def subordinates(*, session: Session, cycle_id: int, ppk_id: int) -> list[SubordinateRow]:
    rows = session.execute(select(Pegawai, Skp, PenilaianTahunan).join(
        Skp, Skp.pegawai_id == Pegawai.id).join(PenilaianTahunan,
                                                 PenilaianTahunan.skp_id == Skp.id).where(
        Skp.cycle_id == cycle_id, Pegawai.atasan_id == ppk_id, Pegawai.active)
        .order_by(Pegawai.nama))
    return [SubordinateRow(p, s, r) for p, s, r in rows]


def calibrating(session: Session, cycle_id: int) -> bool:
    """The final scoring ran: from now on a PPK's change needs a written reason."""
    return session.execute(select(StageReport.id).where(
        StageReport.cycle_id == cycle_id, StageReport.code == REPORT)).first() is not None


def _stale(rec: PenilaianTahunan) -> InvalidTransition:
    return InvalidTransition("penilaian", str(rec.version), "edit",
                             "Penilaian ini baru saja diubah di tempat lain. Muat ulang halaman "
                             "lalu ulangi.", "This rating was just changed elsewhere. Reload and "
                             "retry.")


def _snapshot(rec: PenilaianTahunan) -> dict[str, object]:
    return {"hasil_kerja": rec.hasil_kerja, "perilaku": rec.perilaku, "predikat": rec.predikat,
            "status": rec.status}


def rate(*, session: Session, view: AnnualView, hasil_kerja: str, perilaku: str, catatan: str,
         alasan: str, rater_id: int | None, actor: str, now: datetime,
         expected_version: int | None = None) -> None:
    """The PPK's annual ratings. A unit head's hasil kerja is the unit's grade and cannot be
    set here. During calibration (after the final scoring) a change needs a written reason;
    once published only a keberatan changes it. Every change is kept."""
    rec = view.record
    if rec.status in ("dipublikasi", "final"):
        raise InvalidTransition("penilaian", rec.status, "edit",
                                "Predikat sudah dipublikasikan; perubahan hanya melalui keberatan.",
                                "The predikat is published; only a keberatan can change it now.")
    if view.stage.closed_at is not None and not calibrating(session, view.cycle.id):
        raise InvalidTransition("penilaian", "closed", "edit",
                                "Tahap penilaian sudah ditutup.", "The rating stage is closed.")
    from models.repo.monitoring import parse_rating

    pk = parse_rating(perilaku, "perilaku kerja", "perilaku kerja (behaviour)")
    if view.is_unit_head:
        if view.unit_grade is None:
            hk = None
        else:
            hk = Rating(annual.hasil_kerja_of_unit(view.unit_grade.grade))
    else:
        hk = parse_rating(hasil_kerja, "hasil kerja", "hasil kerja (results)")
    note = mrules.clean_text(catatan, "Catatan", "Note", 2000)
    reason = mrules.clean_text(alasan, "Alasan perubahan", "Reason for the change", 2000)
    in_calibration = calibrating(session, view.cycle.id) and rec.predikat is not None
    if in_calibration and (rec.hasil_kerja, rec.perilaku) != (hk, pk) and not reason:
        raise InvalidInput("Masa kalibrasi: tuliskan alasan perubahan rating.",
                           "Calibration: write the reason for changing the rating.")
    if expected_version is not None and expected_version != rec.version:
        raise _stale(rec)
    before = _snapshot(rec)
    bump_version(session, rec, _stale(rec))
    rec.hasil_kerja, rec.perilaku, rec.catatan = hk, pk, note
    rec.predikat = scoring.predikat(hk, pk) if hk is not None else None
    rec.dinilai_at, rec.dinilai_oleh_id = now, rater_id
    rec.status = "dinilai" if rec.predikat else "draf"
    session.add(rec)
    if before != _snapshot(rec):
        session.add(PerubahanNilai(skp_id=rec.skp_id, at=now, oleh=actor,
                                   jenis="kalibrasi" if in_calibration else "ppk",
                                   sebelum=before, sesudah=_snapshot(rec), alasan=reason))
    if rater_id is not None and _unrated_by_ppk(session, view.cycle.id, [rater_id]).get(
            rater_id, 0) == 0:
        close_open_tasks(session=session, now=now, cycle_id=view.cycle.id, done=True, where=[
            Task.kind == TaskKind.NILAI_TAHUNAN, Task.pegawai_id == rater_id])


# -- unit grades, the curve, calibration ---------------------------------------------------------


def set_unit_grade(*, session: Session, cycle_id: int, unit_id: int, grade: str, now: datetime,
                   actor: str) -> NilaiUnit:
    """HR records a unit's grade; the unit head's hasil kerja follows it."""
    try:
        value = OrgGrade(grade)
    except ValueError:
        raise InvalidInput(f"Nilai unit '{grade}' tidak dikenal; pilih salah satu: "
                           f"{', '.join(g.value for g in OrgGrade)}.",
                           f"Unknown unit grade '{grade}'; choose one of: "
                           f"{', '.join(g.value for g in OrgGrade)}.") from None
    row = session.execute(select(NilaiUnit).where(NilaiUnit.cycle_id == cycle_id,
                                                  NilaiUnit.unit_id == unit_id)).scalar()
    before = row.grade if row else None
    if row is None:
        row = NilaiUnit(cycle_id=cycle_id, unit_id=unit_id, grade=value, ditetapkan_oleh=actor,
                        ditetapkan_at=now)
    row.grade, row.ditetapkan_oleh, row.ditetapkan_at = value, actor, now
    session.add(row)
    record(session=session, now=now, actor=actor, action="nilai_unit.tetapkan", entity="unit",
           entity_id=unit_id, before={"grade": before}, after={"grade": value.value})
    head = unit_heads(session=session, unit_ids={unit_id}).get(unit_id)
    skp = session.execute(select(Skp).where(Skp.cycle_id == cycle_id,
                                            Skp.pegawai_id == head)).scalar() if head else None
    rec = record_of(session=session, skp_id=skp.id) if skp else None
    if rec is not None and rec.status not in ("dipublikasi", "final"):
        old = _snapshot(rec)
        rec.sumber_hasil_kerja = "unit"
        rec.hasil_kerja = Rating(annual.hasil_kerja_of_unit(value))
        rec.predikat = scoring.predikat(rec.hasil_kerja, rec.perilaku) if rec.perilaku else None
        rec.status = "dinilai" if rec.predikat else "draf"
        rec.version += 1
        session.add(rec)
        if old != _snapshot(rec):
            session.add(PerubahanNilai(skp_id=rec.skp_id, at=now, oleh=actor, jenis="ppk",
                                       sebelum=old, sesudah=_snapshot(rec),
                                       alasan=f"Nilai unit: {value.value}"))
    return row


@dataclass
class UnitResult:
    unit_id: int
    unit: str
    grade: str | None
    total: int
    rated: int
    counts: dict[str, int]
    breaches: list[scoring.Breach]
    override: str | None

    @property
    def ok(self) -> bool:
        return not self.breaches or bool(self.override)


def check_units(*, session: Session, cycle_id: int,
                rounding: scoring.Rounding = scoring.Rounding.NEAREST) -> list[UnitResult]:
    """Every unit's predikat mix against the curve of its grade (units without a grade are
    listed with no check: HR must set one)."""
    rows = session.execute(select(Pegawai.unit_id, PenilaianTahunan.predikat).join(
        Skp, Skp.pegawai_id == Pegawai.id).join(PenilaianTahunan,
                                                 PenilaianTahunan.skp_id == Skp.id).where(
        PenilaianTahunan.cycle_id == cycle_id)).all()
    by_unit: dict[int, list[str | None]] = {}
    for unit_id, pred in rows:
        by_unit.setdefault(unit_id, []).append(pred)
    grades = {g.unit_id: g for g in session.execute(select(NilaiUnit).where(
        NilaiUnit.cycle_id == cycle_id)).scalars()}
    names = unit_names(session=session)
    out = []
    for unit_id, preds in sorted(by_unit.items(), key=lambda kv: names.get(kv[0], "")):
        rated = [Predikat(p) for p in preds if p]
        grade = grades.get(unit_id)
        breaches = (scoring.check_distribution(OrgGrade(grade.grade), rated, rounding)
                    if grade and rated else [])
        out.append(UnitResult(unit_id, names.get(unit_id, "?"), grade.grade if grade else None,
                              len(preds), len(rated), dict(Counter(p.value for p in rated)),
                              breaches, grade.override_alasan if grade else None))
    return out


def final_scoring(*, session: Session, cycle: Cycle, now: datetime, console_link: str,
                  mail: Mail) -> StageReport:
    """Compute every predikat from the ratings (unit heads from their unit's grade), check every
    unit against its curve, keep the result and tell HR. Safe to run again (calibration): the
    report is replaced by the latest run."""
    T = PenilaianTahunan
    rows = session.execute(select(T.id, T.hasil_kerja, T.perilaku, T.predikat, T.status,
                                  Skp.pegawai_id).join(Skp, Skp.id == T.skp_id).where(
        T.cycle_id == cycle.id)).all()
    changes, logged, rated = [], [], 0
    for rid, hk, pk, old, status, pegawai_id in rows:  # plain tuples: 100k in well under 1 s
        pred = old
        if status not in ("dipublikasi", "final"):
            pred = scoring.predikat(hk, pk).value if hk and pk else None
            if pred != old:
                new_status = "dinilai" if pred else "draf"
                changes.append({"id": rid, "predikat": pred, "status": new_status})
                logged.append((rid, pegawai_id, {"predikat": old, "status": status},
                               {"predikat": pred, "status": new_status}))
        rated += pred is not None
    if changes:  # one executemany by primary key, and the audit lines the ORM would write
        session.execute(update(T), changes)
        record_changes(session=session, now=now, entity="penilaian_tahunan", cycle_id=cycle.id,
                       changes=logged)
    session.flush()
    units = check_units(session=session, cycle_id=cycle.id)
    data = {"total": len(rows), "dinilai": rated,
            "units": [{"unit_id": u.unit_id, "unit": u.unit, "grade": u.grade, "total": u.total,
                       "dinilai": u.rated, "predikat": u.counts, "override": u.override,
                       "pelanggaran": [b.message("id") for b in u.breaches]} for u in units]}
    report = session.execute(select(StageReport).where(
        StageReport.cycle_id == cycle.id, StageReport.code == REPORT)).scalar()
    if report is None:
        report = StageReport(cycle_id=cycle.id, code=REPORT, created_at=now, data=data)
    report.data, report.created_at = data, now
    session.add(report)
    breaking = sum(1 for u in units if u.breaches and not u.override)
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"report:{cycle.id}:penilaian:{now:%Y%m%d%H%M%S}:{email}",
        "kind": "laporan_penilaian", "to_email": email, "language": mail.language,
        "context": {"agency_name": mail.agency, "nama": nama, "tahun": cycle.tahun,
                    "console_link": console_link, "total": data["total"],
                    "dinilai": data["dinilai"], "pelanggaran_count": breaking}}
        for nama, email in hr_admin_emails(session=session)])
    return report


def override_unit(*, session: Session, cycle_id: int, unit_id: int, alasan: str, now: datetime,
                  actor: str) -> NilaiUnit:
    """HR accepts a unit's curve breaches with a written reason (kept)."""
    row = session.execute(select(NilaiUnit).where(NilaiUnit.cycle_id == cycle_id,
                                                  NilaiUnit.unit_id == unit_id)).scalar()
    if row is None:
        raise InvalidInput("Tetapkan nilai unit dahulu.", "Set the unit's grade first.")
    reason = mrules.clean_text(alasan, "Alasan", "Reason", 2000, required=True)
    row.override_alasan = reason
    session.add(row)
    record(session=session, now=now, actor=actor, action="kurva.override", entity="unit",
           entity_id=unit_id, after={"alasan": reason})
    return row


def ask_calibration(*, session: Session, cycle: Cycle, unit_id: int, now: datetime,
                    mail: Mail) -> int:
    """Email the unit's PPKs the breaches with a link to their annual rating list."""
    unit = next((u for u in check_units(session=session, cycle_id=cycle.id)
                 if u.unit_id == unit_id), None)
    if unit is None or not unit.breaches:
        raise InvalidInput("Unit ini tidak melanggar kurva.", "This unit does not break its curve.")
    ppk_ids = set(session.execute(select(Pegawai.atasan_id).join(
        Skp, Skp.pegawai_id == Pegawai.id).where(
        Skp.cycle_id == cycle.id, Pegawai.unit_id == unit_id,
        Pegawai.atasan_id.is_not(None))).scalars())
    tasks = {t.pegawai_id: t for t in session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.kind == TaskKind.NILAI_TAHUNAN,
        Task.pegawai_id.in_(ppk_ids or [-1]))).scalars()}
    people = pegawai_by_id(session=session, ids=list(tasks))
    return enqueue_messages(session=session, now=now, messages=[{
        "key": f"calibrate:{cycle.id}:{unit_id}:{pid}:{now:%Y%m%d%H%M}", "kind": "kalibrasi",
        "to_email": people[pid].email, "pegawai_id": pid, "language": mail.language,
        "context": {"agency_name": mail.agency, "nama": people[pid].nama, "tahun": cycle.tahun,
                    "link": mail.links.task(task.id, pid, now), "unit": unit.unit,
                    "pelanggaran": [b.message(mail.language) for b in unit.breaches]}}
        for pid, task in tasks.items() if pid in people])


# -- the sweep -------------------------------------------------------------------------------------


def sweep(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime, mail: Mail) -> int:
    """Reminders to PPKs with subordinates not rated; after their date, one escalation each."""

    if stage.opened_at is None or stage.closed_at is not None:
        return 0
    tasks = list(session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.kind == TaskKind.NILAI_TAHUNAN,
        Task.status == TaskStatus.OPEN, Task.next_reminder_at <= now)).scalars())
    pending = _unrated_by_ppk(session, cycle.id, [t.pegawai_id for t in tasks])
    people = pegawai_by_id(session=session, ids=[t.pegawai_id for t in tasks])
    from models.repo.reminders import remind

    out = remind(session=session, cycle=cycle, tasks=tasks, people=people, now=now, mail=mail,
                 prefix="remind-annual", message=lambda task, p: (
                     ("pengingat_penilaian_tahunan", {"pending": pending[p.id]})
                     if pending.get(p.id) else None))
    queued = enqueue_messages(session=session, messages=out, now=now)
    if now >= stage.approve_due_at:
        late = _unrated_by_ppk(session, cycle.id, None)
        ppks = pegawai_by_id(session=session, ids=list(late))
        bosses = pegawai_by_id(session=session, ids=[q.atasan_id for q in ppks.values()
                                                     if q.atasan_id])
        msgs = []
        for pid, count in late.items():
            ppk = ppks[pid]
            boss = bosses.get(ppk.atasan_id) if ppk.atasan_id else None
            targets = ([(boss.nama, boss.email, boss.id)] if boss else
                       [(n, e, None) for n, e in hr_admin_emails(session=session)])
            msgs += [{"key": f"escalate-annual:{cycle.id}:{pid}:{email}",
                      "kind": "eskalasi_penilaian_tahunan", "to_email": email,
                      "pegawai_id": target, "language": mail.language,
                      "context": {"agency_name": mail.agency, "nama": nama, "tahun": cycle.tahun,
                                  "ppk_nama": ppk.nama, "ppk_nip": ppk.nip, "pending": count,
                                  "due": format_datetime(stage.approve_due_at, cycle.timezone,
                                                         mail.language)}}
                     for nama, email, target in targets]
        queued += enqueue_messages(session=session, messages=msgs, now=now)
    return queued


def close(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime, console_link: str,
          mail: Mail) -> StageReport:
    """The rating stage closes: open tasks end; the final scoring runs (and can run again
    during calibration)."""
    if stage.closed_at is None:
        stage.closed_at = now
        session.add(stage)
        session.execute(Task.__table__.update().where(
            Task.cycle_id == cycle.id, Task.kind == TaskKind.NILAI_TAHUNAN,
            Task.status == TaskStatus.OPEN).values(next_reminder_at=None))
    return final_scoring(session=session, cycle=cycle, now=now, console_link=console_link,
                         mail=mail)




def without_ppk(*, session: Session, cycle_id: int) -> list[SubordinateRow]:
    """Annual records of people with no superior in the system (the Sekda, whose PPK is the
    regional head): HR records the ratings on the PPK's behalf."""
    rows = session.execute(select(Pegawai, Skp, PenilaianTahunan).join(
        Skp, Skp.pegawai_id == Pegawai.id).join(PenilaianTahunan,
                                                 PenilaianTahunan.skp_id == Skp.id).where(
        Skp.cycle_id == cycle_id, Pegawai.atasan_id.is_(None), Pegawai.active)
        .order_by(Pegawai.nama))
    return [SubordinateRow(p, s, r) for p, s, r in rows]


def rate_by_hr(*, session: Session, cycle_id: int, skp_id: int, hasil_kerja: str, perilaku: str,
               catatan: str, alasan: str, actor: str, now: datetime) -> None:
    """HR records the ratings of someone with no PPK in the system (kept like any change)."""
    row = next((r for r in without_ppk(session=session, cycle_id=cycle_id) if r.skp.id == skp_id),
               None)
    if row is None:
        raise InvalidInput("Penilaian ini bukan milik pegawai tanpa PPK di sistem; PPK-nya yang "
                           "menilai.", "This person has a PPK in the system, who rates them.")
    rate(session=session, view=load_annual(session=session, skp=row.skp), hasil_kerja=hasil_kerja,
         perilaku=perilaku, catatan=catatan, alasan=alasan, rater_id=None, actor=actor, now=now)


def set_appeal_window(*, session: Session, cycle_id: int, hari: float, now: datetime,
                      actor: str) -> Cycle:
    """How long a pegawai may file a keberatan after publication (days; fractions allowed for
    a compressed demo); fixed once results are published."""
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    if not 0 < hari <= 60:
        raise InvalidInput("Masa keberatan harus lebih dari 0 dan paling lama 60 hari.",
                           "The appeal window must be more than 0 and at most 60 days.")
    published = session.execute(select(PenilaianTahunan.id).where(
        PenilaianTahunan.cycle_id == cycle_id,
        PenilaianTahunan.dipublikasi_at.is_not(None))).first()
    if published:
        raise InvalidTransition("keberatan", "published", "window",
                                "Hasil sudah dipublikasikan; masa keberatan tidak dapat diubah.",
                                "Results are published; the appeal window can no longer change.")
    before = cycle.keberatan_hari
    cycle.keberatan_hari = hari
    session.add(cycle)
    record(session=session, now=now, actor=actor, action="keberatan.masa", entity="cycle",
           entity_id=cycle_id, before={"hari": before}, after={"hari": hari})
    return cycle
