"""Monitoring periods: opening and closing them, the pegawai's realisasi and bukti dukung, the
PPK's feedback, dialogs and periodic ratings, and what the pegawai sees of them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, literal, select, union_all
from sqlmodel import Session

from models.repo.audit import close_open_tasks
from models.repo.locking import bump_version
from models.repo.outbox import enqueue_messages
from models.repo.people import hr_admin_emails, pegawai_by_id, unit_names
from models.repo.skp import Mail, SkpView, insert_tasks, load_view, task_of
from models.rules import monitoring as rules
from models.rules import periods
from models.rules.enums import (
    JenisBukti,
    JenisDialog,
    JenisRhk,
    Rating,
    StageCode,
    TaskKind,
    TaskStatus,
)
from models.rules.errors import InvalidInput, InvalidTransition
from models.rules.reminders import next_reminder_at
from models.rules.scoring import predikat
from models.rules.texts import format_date, format_datetime
from models.tables import (
    Bukti,
    Cycle,
    CycleStage,
    Dialog,
    Iki,
    Pegawai,
    Realisasi,
    RencanaAksi,
    Skp,
    SkpPeriode,
    StageReport,
    Task,
    UmpanBalik,
)

# -- opening and closing a period ---------------------------------------------------------------


@dataclass(frozen=True)
class ChunkResult:
    participants: int
    tasks_created: int
    emails_queued: int


def period_label(cycle: Cycle, periode: int, lang: str) -> str:
    return periods.label(periode, cycle.periodisasi, lang)


def _base(cycle: Cycle, nama: str, mail: Mail) -> dict[str, object]:
    return {"agency_name": mail.agency, "nama": nama, "tahun": cycle.tahun}


def _period_ctx(cycle: Cycle, stage: CycleStage, mail: Mail, due: datetime) -> dict[str, object]:
    return {"periode_label": period_label(cycle, stage.periode, mail.language),
            "midyear": periods.is_midyear(stage.periode, cycle.periodisasi),
            "due": format_datetime(due, cycle.timezone, mail.language)}


def open_period_chunk(*, session: Session, cycle: Cycle, stage: CycleStage, pegawai_ids: list[int],
                      now: datetime, mail: Mail) -> ChunkResult:
    """For these employees with an approved SKP: the period's record, their task and their PPK's
    task, and the invitations. Idempotent: only what is missing is created or sent."""
    rows = list(session.execute(select(Pegawai.id, Pegawai.nama, Pegawai.email, Pegawai.atasan_id,
                                       Skp.id).join(Skp, Skp.pegawai_id == Pegawai.id).where(
        Pegawai.id.in_(pegawai_ids), Pegawai.active, Skp.cycle_id == cycle.id,
        Skp.approved_at.is_not(None))))
    if not rows:
        return ChunkResult(0, 0, 0)
    skp_ids = [r[4] for r in rows]
    have = set(session.execute(select(SkpPeriode.skp_id).where(
        SkpPeriode.skp_id.in_(skp_ids), SkpPeriode.periode == stage.periode)).scalars())
    fresh = [sid for sid in skp_ids if sid not in have]
    if fresh:
        session.execute(insert(SkpPeriode), [{"skp_id": sid, "periode": stage.periode,
                                              "updated_at": now, "version": 1} for sid in fresh])
    people = {r[0]: r for r in rows}
    ppk_ids = {r[3] for r in rows if r[3] is not None}
    ppks = {p.id: p for p in pegawai_by_id(session=session, ids=ppk_ids).values() if p.active}
    created = _ensure_tasks(session, cycle, stage, list(people), list(ppks), now)
    pending = unrated_by_ppk(session, cycle.id, stage.periode,
                              [pid for _, kind, pid in created if kind == TaskKind.NILAI_PERIODIK])
    messages = []
    for task_id, kind, pid in created:
        if kind == TaskKind.ISI_REALISASI:
            _, nama, email, _, _ = people[pid]
            messages.append({
                "key": f"invite:{cycle.id}:periode{stage.periode}:{pid}", "kind": "undangan_realisasi",
                "to_email": email, "pegawai_id": pid, "language": mail.language,
                "context": _base(cycle, nama, mail) | _period_ctx(cycle, stage, mail, stage.due_at)
                | {"link": mail.links.task(task_id, pid, now)}})
        else:
            ppk = ppks[pid]
            messages.append({
                "key": f"invite:{cycle.id}:periode{stage.periode}:ppk:{pid}",
                "kind": "undangan_penilaian_periodik", "to_email": ppk.email, "pegawai_id": pid,
                "language": mail.language,
                "context": _base(cycle, ppk.nama, mail)
                | _period_ctx(cycle, stage, mail, stage.approve_due_at)
                | {"link": mail.links.task(task_id, pid, now),
                   "pending": pending.get(pid, 0)}})
    queued = enqueue_messages(session=session, messages=messages, now=now)
    return ChunkResult(len(rows), len(created), queued)


def _ensure_tasks(session: Session, cycle: Cycle, stage: CycleStage, pegawai_ids: list[int],
                  ppk_ids: list[int], now: datetime) -> list[tuple[int, str, int]]:
    wanted = [(TaskKind.ISI_REALISASI, pid, stage.periode, stage.due_at) for pid in pegawai_ids]
    wanted += [(TaskKind.NILAI_PERIODIK, pid, stage.periode, stage.approve_due_at)
               for pid in ppk_ids]
    return insert_tasks(session=session, cycle=cycle, now=now, wanted=wanted)


def unrated_by_ppk(session: Session, cycle_id: int, periode: int,
                   ppk_ids: list[int] | None) -> dict[int, int]:
    """Subordinates not yet rated in the period, per PPK (grouped queries); every PPK when
    `ppk_ids` is None."""
    base = (select(Pegawai.atasan_id, func.count()).select_from(SkpPeriode)
            .join(Skp, Skp.id == SkpPeriode.skp_id).join(Pegawai, Pegawai.id == Skp.pegawai_id)
            .where(Skp.cycle_id == cycle_id, SkpPeriode.periode == periode, Pegawai.active,
                   SkpPeriode.predikat.is_(None), Pegawai.atasan_id.is_not(None))
            .group_by(Pegawai.atasan_id))
    if ppk_ids is None:
        return dict(session.execute(base).all())
    out: dict[int, int] = {}
    for i in range(0, len(ppk_ids), 900):
        out.update(session.execute(base.where(Pegawai.atasan_id.in_(ppk_ids[i:i + 900]))).all())
    return out


def open_stages(*, session: Session, cycle_id: int) -> list[CycleStage]:
    """The periods open now (opened and not closed)."""
    return list(session.execute(select(CycleStage).where(
        CycleStage.cycle_id == cycle_id, CycleStage.code == StageCode.PEMANTAUAN,
        CycleStage.opened_at.is_not(None), CycleStage.closed_at.is_(None))
        .order_by(CycleStage.periode)).scalars())


def join_open_periods(*, session: Session, skp: Skp, now: datetime, mail: Mail) -> int:
    """An SKP approved late (or an employee who joined) enters every period already open."""
    cycle = session.get(Cycle, skp.cycle_id)
    n = 0
    for stage in open_stages(session=session, cycle_id=skp.cycle_id):
        n += open_period_chunk(session=session, cycle=cycle, stage=stage,
                               pegawai_ids=[skp.pegawai_id], now=now, mail=mail).participants
    return n


def period_counts(*, session: Session, cycle_id: int, periode: int) -> list[dict[str, object]]:
    """Per unit: participants, realisasi reported, rated (counts only, no names)."""
    rows = session.execute(select(Pegawai.unit_id, SkpPeriode.dilaporkan_at.is_not(None),
                                  SkpPeriode.predikat.is_not(None), func.count())
                           .select_from(SkpPeriode).join(Skp, Skp.id == SkpPeriode.skp_id)
                           .join(Pegawai, Pegawai.id == Skp.pegawai_id)
                           .where(Skp.cycle_id == cycle_id, SkpPeriode.periode == periode)
                           .group_by(Pegawai.unit_id, SkpPeriode.dilaporkan_at.is_not(None),
                                     SkpPeriode.predikat.is_not(None)))
    counts: dict[int, Counter[str]] = {}
    for unit_id, reported, rated, n in rows:
        c = counts.setdefault(unit_id, Counter())
        c["peserta"] += n
        c["dilaporkan"] += n if reported else 0
        c["dinilai"] += n if rated else 0
    names = unit_names(session=session)
    return [{"unit_id": uid, "unit": names.get(uid, "?"), "peserta": c["peserta"],
             "dilaporkan": c["dilaporkan"], "dinilai": c["dinilai"],
             "belum_dinilai": c["peserta"] - c["dinilai"]}
            for uid, c in sorted(counts.items(), key=lambda kv: names.get(kv[0], ""))]


def report_code(periode: int) -> str:
    return f"pemantauan.{periode}.tutup"


def close_period(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                 console_link: str, mail: Mail) -> StageReport:
    """Close the period: its records become read-only, open tasks end, HR gets the counts and
    who was not rated. Idempotent: a second run returns the first report."""
    done = session.execute(select(StageReport).where(
        StageReport.cycle_id == cycle.id, StageReport.code == report_code(stage.periode))).scalar()
    if done is not None:
        if stage.closed_at is None:
            stage.closed_at = done.created_at
            session.add(stage)
        return done
    missing = list(session.execute(select(Pegawai, SkpPeriode).join(
        Skp, Skp.pegawai_id == Pegawai.id).join(SkpPeriode, SkpPeriode.skp_id == Skp.id).where(
        Skp.cycle_id == cycle.id, SkpPeriode.periode == stage.periode,
        SkpPeriode.predikat.is_(None)).order_by(Pegawai.unit_id, Pegawai.nama)))
    per_unit = period_counts(session=session, cycle_id=cycle.id, periode=stage.periode)
    total = sum(int(u["peserta"]) for u in per_unit)
    data = {"periode": stage.periode, "total": total,
            "dilaporkan": sum(int(u["dilaporkan"]) for u in per_unit),
            "dinilai": sum(int(u["dinilai"]) for u in per_unit),
            "belum_dinilai": [{"pegawai_id": p.id, "dilaporkan": sp.dilaporkan_at is not None}
                              for p, sp in missing],
            "per_unit": per_unit}
    report = StageReport(cycle_id=cycle.id, code=report_code(stage.periode), created_at=now,
                         data=data)
    session.add(report)
    stage.closed_at = now
    session.add(stage)
    close_open_tasks(session=session, now=now, cycle_id=cycle.id,
                      where=[Task.periode == stage.periode])
    units = unit_names(session=session)
    lines = [f"{p.nip} {p.nama} ({units.get(p.unit_id, '')})" for p, _ in missing[:50]]
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"report:{cycle.id}:periode{stage.periode}:{email}", "kind": "laporan_periode",
        "to_email": email, "language": mail.language,
        "context": _base(cycle, nama, mail) | {
            "console_link": console_link,
            "periode_label": period_label(cycle, stage.periode, mail.language),
            "total": total, "dilaporkan": data["dilaporkan"], "dinilai": data["dinilai"],
            "missing_count": len(missing), "missing": lines}}
        for nama, email in hr_admin_emails(session=session)])
    return report


# -- what one SKP looks like in a period ---------------------------------------------------------


@dataclass
class IkiLine:
    iki: Iki
    utama: bool
    realisasi: Realisasi | None
    capaian: float | None
    bukti: list[Bukti]


@dataclass
class PeriodView:
    """One SKP in one period, with everything its pages show."""

    skp_view: SkpView
    cycle: Cycle
    stage: CycleStage
    record: SkpPeriode
    rencana: dict[int, RencanaAksi]
    lines: dict[int, list[IkiLine]]  # by rhk id
    bukti_umum: list[Bukti]  # evidence not tied to one IKI
    umpan_balik: list[UmpanBalik] = field(default_factory=list)  # every period, newest first
    dialogs: list[Dialog] = field(default_factory=list)
    ratings: list[SkpPeriode] = field(default_factory=list)  # every rated period

    @property
    def closed(self) -> bool:
        return self.stage.closed_at is not None

    @property
    def midyear(self) -> bool:
        return periods.is_midyear(self.stage.periode, self.cycle.periodisasi)

    def label(self, lang: str) -> str:
        return period_label(self.cycle, self.stage.periode, lang)

    def all_lines(self) -> list[IkiLine]:
        return [line for rhk in self.skp_view.rhk for line in self.lines.get(rhk.id, [])]

    @property
    def saran(self) -> Rating | None:
        return rules.saran_hasil_kerja([(x.capaian, x.utama) for x in self.all_lines()])

    def missing(self) -> list[str]:
        """IKI without a realisasi yet (their indikator)."""
        return [x.iki.indikator for x in self.all_lines() if x.realisasi is None]


def get_period_stage(*, session: Session, cycle_id: int, periode: int) -> CycleStage:
    from models.repo.cycles import get_stage

    return get_stage(session=session, cycle_id=cycle_id, code=StageCode.PEMANTAUAN,
                     periode=periode)


def record_of(*, session: Session, skp_id: int, periode: int) -> SkpPeriode | None:
    return session.execute(select(SkpPeriode).where(
        SkpPeriode.skp_id == skp_id, SkpPeriode.periode == periode)).scalar_one_or_none()


NOT_IN_PERIOD = ("SKP ini belum disetujui saat periode dibuka, sehingga belum ikut periode ini. "
                 "Hubungi PPK atau Pengelola Kinerja.",
                 "This SKP was not approved when the period opened, so it is not in this period. "
                 "Contact your PPK or the performance admin.")


def load_period(*, session: Session, skp: Skp, stage: CycleStage, history: bool = True) -> PeriodView:
    record = record_of(session=session, skp_id=skp.id, periode=stage.periode)
    if record is None:
        raise InvalidTransition("periode", "absent", "view", *NOT_IN_PERIOD)
    sv = load_view(session=session, skp=skp)
    cycle = session.get(Cycle, skp.cycle_id)
    iki_ids = [i.id for lst in sv.iki.values() for i in lst]
    real = {r.iki_id: r for r in session.execute(select(Realisasi).where(
        Realisasi.skp_id == skp.id, Realisasi.periode == stage.periode)).scalars()}
    bukti = list(session.execute(select(Bukti).where(
        Bukti.skp_id == skp.id, Bukti.periode == stage.periode).order_by(Bukti.id)).scalars())
    by_iki: dict[int | None, list[Bukti]] = {}
    for b in bukti:
        by_iki.setdefault(b.iki_id if b.iki_id in iki_ids else None, []).append(b)
    lines: dict[int, list[IkiLine]] = {}
    for rhk in sv.rhk:
        for i in sv.iki.get(rhk.id, []):
            r = real.get(i.id)
            lines.setdefault(rhk.id, []).append(IkiLine(
                i, rhk.jenis == JenisRhk.UTAMA, r,
                rules.capaian_iki(i.target, i.arah, r.nilai if r else None), by_iki.get(i.id, [])))
    rencana = {r.rhk_id: r for r in session.execute(select(RencanaAksi).where(
        RencanaAksi.skp_id == skp.id, RencanaAksi.periode == stage.periode)).scalars()}
    view = PeriodView(sv, cycle, stage, record, rencana, lines, by_iki.get(None, []))
    if history:
        view.umpan_balik = list(session.execute(select(UmpanBalik).where(
            UmpanBalik.skp_id == skp.id).order_by(UmpanBalik.created_at.desc(),
                                                  UmpanBalik.id.desc())).scalars())
        view.dialogs = list(session.execute(select(Dialog).where(Dialog.skp_id == skp.id)
                                            .order_by(Dialog.tanggal.desc(), Dialog.id.desc()))
                            .scalars())
        view.ratings = list(session.execute(select(SkpPeriode).where(
            SkpPeriode.skp_id == skp.id, SkpPeriode.predikat.is_not(None))
            .order_by(SkpPeriode.periode)).scalars())
    return view


def _stale(record: SkpPeriode | Any) -> InvalidTransition:
    """The period's record changed since this request read it: say what it holds now (the
    pegawai's report, the PPK's rating), `record` being the row as it is now."""
    if record.hasil_kerja and record.perilaku:
        rated = (f"penilaian PPK: hasil kerja {record.hasil_kerja}, perilaku {record.perilaku}",
                 f"the PPK's rating: hasil kerja {record.hasil_kerja}, perilaku {record.perilaku}")
    else:
        rated = ("belum dinilai PPK", "not rated by the PPK yet")
    reported = (("realisasi sudah dilaporkan", "realisasi reported") if record.dilaporkan_at
                else ("realisasi belum dilaporkan", "realisasi not reported yet"))
    return InvalidTransition("periode", str(record.version), "edit",
                             "Data periode ini baru saja diubah di tempat lain; sekarang: "
                             f"{reported[0]}, {rated[0]}. Muat ulang halaman lalu ulangi.",
                             "This period's record was just changed elsewhere; now: "
                             f"{reported[1]}, {rated[1]}. Reload and retry.")


def ensure_period_open(view: PeriodView) -> None:
    ensure_stage_open(view.stage, view.cycle)


def ensure_stage_open(stage: CycleStage, cycle: Cycle) -> None:
    if stage.closed_at is not None:
        raise InvalidTransition("periode", "closed", "edit",
                                f"Periode {period_label(cycle, stage.periode, 'id')} sudah "
                                "ditutup; data tidak dapat diubah lagi. Hubungi Pengelola Kinerja "
                                "bila perlu.",
                                f"Period {period_label(cycle, stage.periode, 'en')} is closed; "
                                "its records cannot change. Contact the performance admin if "
                                "needed.")


def _touch(session: Session, record: SkpPeriode, now: datetime,
           expected_version: int | None = None) -> None:
    if expected_version is not None and expected_version != record.version:
        raise _stale(record)
    bump_version(session, record, _stale)
    record.updated_at = now
    session.add(record)


# -- the pegawai ----------------------------------------------------------------------------------


def save_realisasi(*, session: Session, view: PeriodView, rencana: dict[int, str],
                   realisasi: dict[int, str], catatan: str, now: datetime, report: bool,
                   expected_version: int | None = None) -> None:
    """Save the pegawai's rencana aksi, realisasi and self-note; `report` also tells the PPK the
    period is complete (every IKI needs a realisasi). Everything is checked before anything is
    written: one bad value changes nothing."""
    ensure_period_open(view)
    rhk_ids = {r.id for r in view.skp_view.rhk}
    lines = {x.iki.id: x for x in view.all_lines()}
    plans = {}
    for rhk_id, text in rencana.items():
        if rhk_id not in rhk_ids:
            raise InvalidInput("RHK tidak ditemukan pada SKP ini.", "RHK not found on this SKP.")
        plans[rhk_id] = rules.clean_text(text, "Rencana aksi", "Action plan", 2000)
    values = {}
    for iki_id, text in realisasi.items():
        line = lines.get(iki_id)
        if line is None:
            raise InvalidInput("IKI tidak ditemukan pada SKP ini.", "IKI not found on this SKP.")
        values[iki_id] = rules.parse_realisasi(line.iki.jenis, text, line.iki.indikator)
    note = rules.clean_text(catatan, "Catatan", "Note", 2000)
    if report:
        empty = [x.iki.indikator for x in lines.values()
                 if (values[x.iki.id] if x.iki.id in values else x.realisasi) is None]
        if empty:
            shown = "; ".join(e[:60] for e in empty[:5])
            raise InvalidInput(f"Realisasi belum diisi untuk {len(empty)} IKI: {shown}.",
                               f"Realisasi is missing for {len(empty)} IKI: {shown}.")
    _touch(session, view.record, now, expected_version)
    for rhk_id, text in plans.items():
        row = view.rencana.get(rhk_id)
        if text is None:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = RencanaAksi(skp_id=view.skp_view.skp.id, rhk_id=rhk_id,
                              periode=view.stage.periode, uraian=text, updated_at=now)
        elif row.uraian != text:
            row.uraian, row.updated_at = text, now
        session.add(row)
    for iki_id, value in values.items():
        row = lines[iki_id].realisasi
        if value is None:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = Realisasi(skp_id=view.skp_view.skp.id, iki_id=iki_id, periode=view.stage.periode,
                            updated_at=now)
        if (row.nilai, row.uraian) != (value.nilai, value.uraian):
            row.nilai, row.uraian, row.sumber, row.updated_at = (value.nilai, value.uraian,
                                                                 "pegawai", now)
        session.add(row)
    view.record.catatan_pegawai = note
    if report:
        view.record.dilaporkan_at = now
        _finish_task(session, view, TaskKind.ISI_REALISASI, view.skp_view.skp.pegawai_id, now)


def _finish_task(session: Session, view: PeriodView, kind: TaskKind, pegawai_id: int,
                 now: datetime) -> None:
    # HR may have closed the task on the person's behalf since this request loaded it: their
    # closing stays as it is
    task = task_of(session=session, cycle_id=view.cycle.id, kind=kind, pegawai_id=pegawai_id,
                   periode=view.stage.periode, for_update=True)
    if task is not None and task.status == TaskStatus.OPEN:
        task.status, task.done_at, task.next_reminder_at = TaskStatus.DONE, now, None
        session.add(task)


@dataclass(frozen=True)
class Upload:
    """A checked file: what the store keeps (by hash) and what the page shows."""

    sha256: str
    display_name: str
    content_type: str
    size: int


def add_bukti(*, session: Session, view: PeriodView, iki_id: int | None, now: datetime,
              url: str | None = None, upload: Upload | None = None, keterangan: str = "") -> Bukti:
    """Evidence as a link or an already stored file, for one IKI or the whole period."""
    ensure_period_open(view)
    if iki_id is not None and iki_id not in {x.iki.id for x in view.all_lines()}:
        raise InvalidInput("IKI tidak ditemukan pada SKP ini.", "IKI not found on this SKP.")
    note = rules.clean_text(keterangan, "Keterangan", "Description", 500)
    if upload is not None:
        row = Bukti(skp_id=view.skp_view.skp.id, periode=view.stage.periode, iki_id=iki_id,
                    jenis=JenisBukti.BERKAS, sha256=upload.sha256,
                    nama_berkas=upload.display_name, content_type=upload.content_type,
                    size=upload.size, keterangan=note, created_at=now)
    elif url:
        from models.rules.evidence import check_link

        row = Bukti(skp_id=view.skp_view.skp.id, periode=view.stage.periode, iki_id=iki_id,
                    jenis=JenisBukti.TAUTAN, url=check_link(url), keterangan=note, created_at=now)
    else:
        raise InvalidInput("Isi tautan bukti atau pilih berkas untuk diunggah.",
                           "Give an evidence link or choose a file to upload.")
    session.add(row)
    _touch(session, view.record, now)
    return row


def bukti_of(view: PeriodView, bukti_id: int) -> Bukti:
    """Evidence of this SKP and period, or an error (never another person's file)."""
    for b in [b for x in view.all_lines() for b in x.bukti] + view.bukti_umum:
        if b.id == bukti_id:
            return b
    raise InvalidInput("Bukti tidak ditemukan pada SKP dan periode ini.",
                       "Evidence not found on this SKP and period.")


def bukti_for_skp(*, session: Session, skp_id: int, bukti_id: int) -> Bukti:
    """Evidence of this SKP in any period (the pegawai's history, the PPK's view)."""
    row = session.get(Bukti, bukti_id)
    if row is None or row.skp_id != skp_id:
        raise InvalidInput("Bukti tidak ditemukan pada SKP ini.", "Evidence not found on this SKP.")
    return row


def delete_bukti(*, session: Session, view: PeriodView, bukti_id: int, now: datetime) -> None:
    ensure_period_open(view)
    session.delete(bukti_of(view, bukti_id))
    _touch(session, view.record, now)


# -- the PPK --------------------------------------------------------------------------------------


@dataclass
class SubordinateRow:
    pegawai: Pegawai
    skp: Skp
    record: SkpPeriode
    filled: int
    total: int


def subordinates(*, session: Session, cycle_id: int, periode: int, ppk_id: int) -> list[SubordinateRow]:
    """The PPK's current direct subordinates in this period, with how much realisasi is in."""
    rows = list(session.execute(select(Pegawai, Skp, SkpPeriode).join(
        Skp, Skp.pegawai_id == Pegawai.id).join(SkpPeriode, SkpPeriode.skp_id == Skp.id).where(
        Skp.cycle_id == cycle_id, SkpPeriode.periode == periode, Pegawai.atasan_id == ppk_id,
        Pegawai.active).order_by(Pegawai.nama)))
    skp_ids = [s.id for _, s, _ in rows]
    from models.tables import Rhk

    totals = dict(session.execute(select(Rhk.skp_id, func.count(Iki.id)).join(
        Iki, Iki.rhk_id == Rhk.id).where(Rhk.skp_id.in_(skp_ids or [-1])).group_by(Rhk.skp_id)).all())
    filled = dict(session.execute(select(Realisasi.skp_id, func.count()).where(
        Realisasi.skp_id.in_(skp_ids or [-1]), Realisasi.periode == periode)
        .group_by(Realisasi.skp_id)).all())
    return [SubordinateRow(p, s, r, filled.get(s.id, 0), totals.get(s.id, 0)) for p, s, r in rows]


def add_umpan_balik(*, session: Session, view: PeriodView, rhk_id: int, isi: str, ppk_id: int,
                    now: datetime) -> UmpanBalik:
    ensure_period_open(view)
    if rhk_id not in {r.id for r in view.skp_view.rhk}:
        raise InvalidInput("RHK tidak ditemukan pada SKP ini.", "RHK not found on this SKP.")
    text = rules.clean_text(isi, "Umpan balik", "Feedback", 2000, required=True)
    row = UmpanBalik(skp_id=view.skp_view.skp.id, rhk_id=rhk_id, periode=view.stage.periode,
                     ppk_id=ppk_id, isi=text, created_at=now)
    session.add(row)
    _touch(session, view.record, now)
    return row


def parse_tanggal(value: str, tz: str, now: datetime) -> date:
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput("Tanggal dialog tidak valid (format: TTTT-BB-HH).",
                           "The dialog date is not valid (format: YYYY-MM-DD).") from None
    from models.rules.calendar import to_local

    if day > to_local(now, tz).date() + timedelta(days=1):
        raise InvalidInput("Tanggal dialog tidak boleh di masa depan.",
                           "The dialog date must not be in the future.")
    return day


def add_dialog(*, session: Session, view: PeriodView, jenis: str, tanggal: str, catatan: str,
               tindak_lanjut: str, ppk_id: int, now: datetime) -> Dialog:
    """Record a dialog kinerja, coaching or counselling session held with the pegawai."""
    ensure_period_open(view)
    try:
        kind = JenisDialog(jenis)
    except ValueError:
        raise InvalidInput("Jenis sesi harus dialog, coaching atau konseling.",
                           "Session type must be dialog, coaching or konseling.") from None
    row = Dialog(skp_id=view.skp_view.skp.id, periode=view.stage.periode, jenis=kind,
                 tanggal=parse_tanggal(tanggal, view.cycle.timezone, now),
                 catatan=rules.clean_text(catatan, "Catatan dialog", "Dialog notes", 4000,
                                          required=True),
                 tindak_lanjut=rules.clean_text(tindak_lanjut, "Tindak lanjut", "Agreed actions",
                                                2000),
                 ppk_id=ppk_id, created_at=now)
    session.add(row)
    _touch(session, view.record, now)
    return row


def parse_rating(value: str, name_id: str, name_en: str) -> Rating:
    try:
        return Rating(value)
    except ValueError:
        raise InvalidInput(f"Pilih rating {name_id}.", f"Choose the {name_en} rating.") from None


def rate(*, session: Session, view: PeriodView, hasil_kerja: str, perilaku: str, catatan: str,
         ppk: Pegawai, now: datetime, mail: Mail, task_link: str,
         expected_version: int | None = None) -> SkpPeriode:
    """The PPK's periodic ratings; the predikat follows from the official matrix. The pegawai
    is told by email; the PPK's task is done once every subordinate is rated."""
    ensure_period_open(view)
    hk = parse_rating(hasil_kerja, "hasil kerja", "hasil kerja (results)")
    pk = parse_rating(perilaku, "perilaku kerja", "perilaku kerja (behaviour)")
    note = rules.clean_text(catatan, "Catatan", "Note", 2000)
    record = view.record
    changed = (record.hasil_kerja, record.perilaku) != (hk, pk)
    _touch(session, record, now, expected_version)
    record.hasil_kerja, record.perilaku, record.predikat = hk, pk, predikat(hk, pk)
    record.catatan_ppk, record.dinilai_at, record.dinilai_oleh_id = note, now, ppk.id
    session.flush()
    owner = view.skp_view.pegawai
    if changed:
        enqueue_messages(session=session, now=now, messages=[{
            "key": f"rated:{record.skp_id}:{record.periode}:{record.version}",
            "kind": "penilaian_periodik_diberikan", "to_email": owner.email,
            "pegawai_id": owner.id, "language": mail.language,
            "context": _base(view.cycle, owner.nama, mail) | {
                "link": task_link, "periode_label": view.label(mail.language),
                "ppk_nama": ppk.nama, "hasil_kerja": hk.value, "perilaku": pk.value,
                "predikat": record.predikat.value}}])
    if not unrated_by_ppk(session, view.cycle.id, view.stage.periode, [ppk.id]):
        _finish_task(session, view, TaskKind.NILAI_PERIODIK, ppk.id, now)
    return record


def own_task(*, session: Session, cycle_id: int, periode: int, pegawai_id: int) -> Task | None:
    return session.execute(select(Task).where(
        Task.cycle_id == cycle_id, Task.kind == TaskKind.ISI_REALISASI,
        Task.pegawai_id == pegawai_id, Task.periode == periode)).scalar_one_or_none()


def own_link(*, session: Session, view: PeriodView, mail: Mail, now: datetime) -> str:
    task = own_task(session=session, cycle_id=view.cycle.id, periode=view.stage.periode,
                    pegawai_id=view.skp_view.pegawai.id)
    if task is None:
        return mail.links.base_url
    return mail.links.task(task.id, view.skp_view.pegawai.id, now)


def stage_due_text(view: PeriodView, lang: str, ppk: bool = False) -> str:
    due = view.stage.approve_due_at if ppk else view.stage.due_at
    return format_datetime(due, view.cycle.timezone, lang)


def period_range_text(stage: CycleStage, cycle: Cycle, lang: str) -> str:
    if stage.period_start is None or stage.period_end is None:
        return ""
    last = stage.period_end - timedelta(seconds=1)
    return (f"{format_date(stage.period_start, cycle.timezone, lang)} – "
            f"{format_date(last, cycle.timezone, lang)}")


# -- a new superior mid-year ----------------------------------------------------------------------


def _ppk_snapshot(session: Session, cycle_id: int, periode: int) -> list[Any]:
    """Per PPK of the period (ppk, peserta, belum, task_id, status): subordinates taking part,
    those not rated yet, and the PPK's task, read in one statement so that all of it is one moment's state.

    Read in separate statements (PostgreSQL's read committed gives each statement its own
    snapshot), a period's opening or a late SKP approval committing in between showed a PPK's
    new task without the subordinates committed with it: the task was cancelled as a PPK's
    with no one to rate, reopened by the next sweep, and the PPK invited twice (seen once in a
    2,000-employee year, when period 1 opened as the last SKPs were approved)."""
    subs = (select(Pegawai.atasan_id.label("ppk"), func.count().label("peserta"),
                   func.count(case((SkpPeriode.predikat.is_(None), 1))).label("belum"))
            .select_from(SkpPeriode).join(Skp, Skp.id == SkpPeriode.skp_id)
            .join(Pegawai, Pegawai.id == Skp.pegawai_id)
            .where(Skp.cycle_id == cycle_id, SkpPeriode.periode == periode, Pegawai.active,
                   Pegawai.atasan_id.is_not(None))
            .group_by(Pegawai.atasan_id).subquery())
    tasks = (select(Task.id, Task.pegawai_id, Task.status).where(
        Task.cycle_id == cycle_id, Task.kind == TaskKind.NILAI_PERIODIK,
        Task.periode == periode).subquery())
    with_subs = select(subs.c.ppk, subs.c.peserta, subs.c.belum, tasks.c.id.label("task_id"),
                       tasks.c.status) \
        .select_from(subs.outerjoin(tasks, tasks.c.pegawai_id == subs.c.ppk))
    without = select(tasks.c.pegawai_id, literal(0), literal(0), tasks.c.id, tasks.c.status) \
        .select_from(tasks.outerjoin(subs, subs.c.ppk == tasks.c.pegawai_id)) \
        .where(subs.c.ppk.is_(None))
    return list(session.execute(union_all(with_subs, without)))


def sync_ppk_tasks(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                   mail: Mail) -> tuple[int, int]:
    """Make the period's PPK tasks follow the current org tree: a superior who took over
    someone (HR's change, a re-import) gets a task and an invitation, a finished task reopens
    when a newly arrived subordinate waits, and a PPK left with no one loses theirs.
    Returns (created or reopened, cancelled). Decided on one snapshot (_ppk_snapshot); a task
    whose state moved on since is left for the next sweep."""
    rows = _ppk_snapshot(session, cycle.id, stage.periode)
    pending = {r.ppk: r.belum for r in rows if r.belum}
    ppks = {p.id: p for p in pegawai_by_id(session=session, ids=pending).values() if p.active}
    to_open = {r.task_id: r.status for r in rows if r.belum and r.ppk in ppks
               and r.task_id is not None and r.status != TaskStatus.OPEN}
    to_cancel = [r.task_id for r in rows if not r.peserta and r.status == TaskStatus.OPEN]
    current = {t.id: t for t in session.execute(select(Task).where(
        Task.id.in_(list(to_open) + list(to_cancel)))
        .execution_options(populate_existing=True)).scalars()} if to_open or to_cancel else {}
    fixed: list[Task] = []
    missing = [r.ppk for r in rows if r.ppk in ppks and r.task_id is None]
    if missing:  # new tasks; one a racing writer made meanwhile is skipped, not an error
        due = max(stage.approve_due_at, now)
        made = insert_tasks(session=session, cycle=cycle, now=now, wanted=[
            (TaskKind.NILAI_PERIODIK, pid, stage.periode, due) for pid in missing])
        fixed += session.execute(select(Task).where(
            Task.id.in_([tid for tid, _, _ in made]))).scalars()
    for task_id, seen in to_open.items():
        task = current.get(task_id)
        if task is None or task.status != seen:
            continue  # moved on since the snapshot: the next sweep looks again
        task.status, task.done_at, task.reminders_sent = TaskStatus.OPEN, None, 0
        task.next_reminder_at = next_reminder_at(
            due_at=task.due_at, offsets_minutes=cycle.reminder_offsets, sent=0, created_at=now)
        session.add(task)
        fixed.append(task)
    cancelled = 0
    for task_id in to_cancel:
        task = current.get(task_id)
        if task is not None and task.status == TaskStatus.OPEN:
            task.status, task.next_reminder_at = TaskStatus.CANCELLED, None
            session.add(task)
            cancelled += 1
    session.flush()
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"invite:{cycle.id}:periode{stage.periode}:ppk:{t.pegawai_id}:{t.id}",
        "kind": "undangan_penilaian_periodik", "to_email": ppks[t.pegawai_id].email,
        "pegawai_id": t.pegawai_id, "language": mail.language,
        "context": _base(cycle, ppks[t.pegawai_id].nama, mail)
        | _period_ctx(cycle, stage, mail, t.due_at)
        | {"link": mail.links.task(t.id, t.pegawai_id, now), "pending": pending[t.pegawai_id]}}
        for t in fixed])
    return len(fixed), cancelled
