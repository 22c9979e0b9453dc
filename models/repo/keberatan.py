"""The year's end after calibration: publication of the predikat, keberatan (appeals) decided by
the atasan PPK, and the follow-up (award candidates, coaching plans, angka kredit, the tunjangan
kinerja table for payroll)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from models.repo.audit import close_open_tasks, record, record_many
from models.repo.locking import bump_version
from models.repo.outbox import enqueue_messages
from models.repo.people import hr_admin_emails, pegawai_by_id, unit_names
from models.repo.reminders import SweepResult
from models.repo.skp import Mail, reschedule
from models.repo.skp import task_of as skp_task_of
from models.rules import scoring
from models.rules.annual import keberatan_due
from models.rules.calendar import to_local, to_utc
from models.rules.enums import JenisJabatan, JenisRhk, Predikat, Rating, StageCode, TaskKind, TaskStatus
from models.rules.errors import InvalidInput, InvalidTransition, LinkRejected
from models.rules.monitoring import capaian_iki, clean_text
from models.rules.reminders import next_reminder_at, reminder_due
from models.rules.texts import format_datetime
from models.tables import (
    AksiPembinaan,
    Cycle,
    CycleStage,
    Iki,
    KandidatPenghargaan,
    Keberatan,
    Pegawai,
    PenilaianTahunan,
    PerubahanNilai,
    Realisasi,
    RencanaPembinaan,
    Rhk,
    Skp,
    SkpPeriode,
    StageReport,
    Task,
    TunjanganKinerja,
)

REPORT = "keberatan.tutup"
#: the atasan PPK decides a keberatan within this many days of its filing
PUTUS_HARI = 14
ALASAN_MIN, ALASAN_MAX = 20, 4000
#: the PPK writes a coaching plan's actions within this many days
RENCANA_HARI = 14
#: a coaching plan with overdue actions is reminded about this often
PENGINGAT_PEMBINAAN_HARI = 7
PEMBINAAN = (Predikat.BUTUH_PERBAIKAN, Predikat.KURANG, Predikat.SANGAT_KURANG)
#: (verify: the agency's own regulation) the share of tunjangan kinerja paid per predikat;
#: HR edits the table per cycle, these are only the starting values
TUNJANGAN_DEFAULT: Mapping[Predikat, float] = {
    Predikat.SANGAT_BAIK: 100.0, Predikat.BAIK: 100.0, Predikat.BUTUH_PERBAIKAN: 80.0,
    Predikat.KURANG: 60.0, Predikat.SANGAT_KURANG: 40.0}
HIGH_TO_LOW = tuple(reversed(scoring.PREDIKAT_ORDER))

NOT_DECIDER = ("Anda bukan atasan PPK pegawai ini saat ini, sehingga tidak dapat memutus "
               "keberatannya. Hubungi Pengelola Kinerja bila ini keliru.",
               "You are not this employee's atasan PPK now, so you cannot decide the keberatan. "
               "Contact the performance admin if this is wrong.")


def _ctx(cycle: Cycle, nama: str, mail: Mail) -> dict[str, object]:
    return {"agency_name": mail.agency, "nama": nama, "tahun": cycle.tahun}


def _when(at: datetime, cycle: Cycle, mail: Mail) -> str:
    return format_datetime(at, cycle.timezone, mail.language)


def console_link(mail: Mail, cycle_id: int, anchor: str = "") -> str:
    return f"{mail.links.base_url.rstrip('/')}/hr/cycles/{cycle_id}/tindak-lanjut" + (
        f"#{anchor}" if anchor else "")


def snapshot(rec: PenilaianTahunan) -> dict[str, object]:
    return {"hasil_kerja": rec.hasil_kerja, "perilaku": rec.perilaku, "predikat": rec.predikat,
            "status": rec.status}


def batas_of(rec: PenilaianTahunan, cycle: Cycle) -> datetime | None:
    """The last moment a keberatan can be filed against this result (None: not published)."""
    return keberatan_due(rec.dipublikasi_at, cycle.keberatan_hari) if rec.dipublikasi_at else None


def _task_row(cycle: Cycle, kind: TaskKind, pegawai_id: int, due: datetime, now: datetime,
              reminders: bool) -> dict[str, object]:
    return {"cycle_id": cycle.id, "kind": kind, "pegawai_id": pegawai_id, "periode": 0,
            "status": TaskStatus.OPEN, "due_at": due, "created_at": now, "reminders_sent": 0,
            "next_reminder_at": next_reminder_at(due_at=due, offsets_minutes=cycle.reminder_offsets,
                                                 sent=0, created_at=now) if reminders else None}


def task_of(*, session: Session, cycle_id: int, kind: TaskKind, pegawai_id: int,
            for_update: bool = False) -> Task | None:
    """The person's yearly task of this kind (models.repo.skp.task_of, period 0)."""
    return skp_task_of(session=session, cycle_id=cycle_id, kind=kind, pegawai_id=pegawai_id,
                       periode=0, for_update=for_update)


def _open_task(session: Session, cycle: Cycle, kind: TaskKind, pegawai_id: int, due: datetime,
               now: datetime) -> Task:
    """The person's open task of this kind: created, or reopened from done with a new due date."""
    task = task_of(session=session, cycle_id=cycle.id, kind=kind, pegawai_id=pegawai_id)
    if task is None:
        task = Task(**_task_row(cycle, kind, pegawai_id, due, now, reminders=True))
    elif task.status != TaskStatus.OPEN:
        task.status, task.done_at, task.reminders_sent = TaskStatus.OPEN, None, 0
        task.due_at, task.created_at = due, now
        reschedule(task, cycle.reminder_offsets)
    session.add(task)
    session.flush()
    return task


def _finish(task: Task | None, now: datetime) -> None:
    if task is not None and task.status == TaskStatus.OPEN:
        task.status, task.done_at, task.next_reminder_at = TaskStatus.DONE, now, None


# -- publication ---------------------------------------------------------------------------------


def keberatan_stage(*, session: Session, cycle_id: int) -> CycleStage | None:
    return session.execute(select(CycleStage).where(
        CycleStage.cycle_id == cycle_id, CycleStage.code == StageCode.KEBERATAN,
        CycleStage.periode == 0)).scalar_one_or_none()


def publish(*, session: Session, cycle: Cycle, now: datetime, mail: Mail) -> int:
    """Publish every rated result of the cycle ('dinilai' with a predikat): each pegawai gets
    the HASIL_KINERJA task and the `hasil_kinerja` email; the appeal window becomes the
    'keberatan' stage so the orchestrator closes it on time. Idempotent: returns how many
    results were published by this call."""
    rows = list(session.execute(select(PenilaianTahunan, Pegawai).join(
        Skp, Skp.id == PenilaianTahunan.skp_id).join(Pegawai, Pegawai.id == Skp.pegawai_id).where(
        PenilaianTahunan.cycle_id == cycle.id, PenilaianTahunan.status == "dinilai",
        PenilaianTahunan.predikat.is_not(None))).all())
    if not rows:
        return 0
    batas = keberatan_due(now, cycle.keberatan_hari)
    session.execute(update(PenilaianTahunan).where(
        PenilaianTahunan.id.in_([r.id for r, _ in rows]), PenilaianTahunan.status == "dinilai")
        .values(status="dipublikasi", dipublikasi_at=now, version=PenilaianTahunan.version + 1)
        .execution_options(synchronize_session="fetch"))
    record_many(session=session, now=now, entity="penilaian_tahunan", cycle_id=cycle.id,
                before={"status": "dinilai"}, after={"status": "dipublikasi"},
                rows=[(r.id, p.id) for r, p in rows])
    _ensure_window(session, cycle, batas, now)
    have = set(session.execute(select(Task.pegawai_id).where(
        Task.cycle_id == cycle.id, Task.kind == TaskKind.HASIL_KINERJA)).scalars())
    fresh = [_task_row(cycle, TaskKind.HASIL_KINERJA, p.id, batas, now, reminders=False)
             for _, p in rows if p.id not in have]
    if fresh:
        session.execute(insert(Task), fresh)
    tasks = dict(session.execute(select(Task.pegawai_id, Task.id).where(
        Task.cycle_id == cycle.id, Task.kind == TaskKind.HASIL_KINERJA,
        Task.pegawai_id.in_([p.id for _, p in rows]))).all())
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"hasil:{cycle.id}:{p.id}", "kind": "hasil_kinerja", "to_email": p.email,
        "pegawai_id": p.id, "language": mail.language,
        "context": _ctx(cycle, p.nama, mail) | {
            "link": mail.links.task(tasks[p.id], p.id, now), "predikat": Predikat(r.predikat).value,
            "hasil_kerja": Rating(r.hasil_kerja).value, "perilaku": Rating(r.perilaku).value,
            "batas_keberatan": _when(batas, cycle, mail)}} for r, p in rows])
    record(session=session, now=now, actor="sistem", action="penilaian.publikasi", entity="cycle",
           entity_id=cycle.id, after={"dipublikasi": len(rows)})
    return len(rows)


def _ensure_window(session: Session, cycle: Cycle, batas: datetime, now: datetime) -> None:
    """The 'keberatan' stage runs until the last published result's window ends."""
    stage = keberatan_stage(session=session, cycle_id=cycle.id)
    if stage is None:
        session.add(CycleStage(cycle_id=cycle.id, code=StageCode.KEBERATAN, periode=0,
                               opens_at=now, opened_at=now, due_at=batas, approve_due_at=batas,
                               closes_at=batas))
        return
    if batas > stage.closes_at:  # a result published late: its own window, the stage waits
        stage.due_at = stage.approve_due_at = stage.closes_at = batas
        stage.closed_at = None
        stage.version += 1
        session.add(stage)


# -- what the pages show -------------------------------------------------------------------------


@dataclass
class DekLine:
    """One IKI in the Dokumen Evaluasi Kinerja: the latest realisasi of the year and capaian."""

    rhk: Rhk
    iki: Iki
    realisasi: Realisasi | None
    capaian: float | None

    @property
    def utama(self) -> bool:
        return self.rhk.jenis == JenisRhk.UTAMA


@dataclass
class Hasil:
    """One published annual result with everything the Dokumen Evaluasi Kinerja shows."""

    cycle: Cycle
    skp: Skp
    record: PenilaianTahunan
    pegawai: Pegawai
    unit: str
    ppk: Pegawai | None  # who rated (else the current superior)
    atasan_ppk: Pegawai | None  # who decides a keberatan now (None: HR)
    lines: list[DekLine] = field(default_factory=list)
    periodic: list[SkpPeriode] = field(default_factory=list)
    keberatan: Keberatan | None = None
    pemutus: Pegawai | None = None

    @property
    def batas(self) -> datetime | None:
        return batas_of(self.record, self.cycle)

    def window_open(self, now: datetime) -> bool:
        return (self.record.status == "dipublikasi" and self.keberatan is None
                and self.batas is not None and now <= self.batas)


def decider_of(*, session: Session, pegawai: Pegawai) -> Pegawai | None:
    """The atasan PPK from the current org tree: the PPK's own superior (None: HR decides)."""
    ppk = session.get(Pegawai, pegawai.atasan_id) if pegawai.atasan_id else None
    boss = session.get(Pegawai, ppk.atasan_id) if ppk is not None and ppk.atasan_id else None
    return boss if boss is not None and boss.active else None


def load_hasil(*, session: Session, skp: Skp, lines: bool = True) -> Hasil:
    rec = session.execute(select(PenilaianTahunan).where(
        PenilaianTahunan.skp_id == skp.id)).scalar_one_or_none()
    if rec is None or rec.status not in ("dipublikasi", "final"):
        raise InvalidTransition("penilaian", rec.status if rec else "absent", "view",
                                "Hasil penilaian tahunan Anda belum dipublikasikan.",
                                "Your annual result has not been published yet.")
    pegawai = session.get(Pegawai, skp.pegawai_id)
    ppk_id = rec.dinilai_oleh_id or pegawai.atasan_id
    keberatan = session.execute(select(Keberatan).where(Keberatan.skp_id == skp.id)).scalar()
    out = Hasil(session.get(Cycle, skp.cycle_id), skp, rec, pegawai,
                unit_names(session=session).get(pegawai.unit_id, ""),
                session.get(Pegawai, ppk_id) if ppk_id else None,
                decider_of(session=session, pegawai=pegawai), keberatan=keberatan)
    if keberatan is not None and keberatan.pemutus_id:
        out.pemutus = session.get(Pegawai, keberatan.pemutus_id)
    if lines:
        out.lines = _dek_lines(session, skp.id)
        out.periodic = list(session.execute(select(SkpPeriode).where(
            SkpPeriode.skp_id == skp.id, SkpPeriode.predikat.is_not(None))
            .order_by(SkpPeriode.periode)).scalars())
    return out


def _dek_lines(session: Session, skp_id: int) -> list[DekLine]:
    """Per IKI, the realisasi of the latest period that has one (realisasi are reported to
    date against the yearly target, so the latest one is the year's)."""
    latest: dict[int, Realisasi] = {}
    for r in session.execute(select(Realisasi).where(Realisasi.skp_id == skp_id)
                             .order_by(Realisasi.periode)).scalars():
        latest[r.iki_id] = r
    rows = session.execute(select(Rhk, Iki).join(Iki, Iki.rhk_id == Rhk.id).where(
        Rhk.skp_id == skp_id).order_by(Rhk.jenis, Rhk.urutan, Rhk.id, Iki.id)).all()
    return [DekLine(rhk, iki, latest.get(iki.id), capaian_iki(
        iki.target, iki.arah, latest[iki.id].nilai if iki.id in latest else None))
        for rhk, iki in rows]


def hasil_of(*, session: Session, cycle_id: int, pegawai_id: int) -> Hasil:
    skp = session.execute(select(Skp).where(Skp.cycle_id == cycle_id,
                                            Skp.pegawai_id == pegawai_id)).scalar_one_or_none()
    if skp is None:
        raise InvalidTransition("skp", "absent", "view", "Anda tidak memiliki SKP pada siklus ini.",
                                "You have no SKP in this cycle.")
    return load_hasil(session=session, skp=skp)


# -- keberatan -----------------------------------------------------------------------------------


def _alasan(text: str) -> str:
    value = (text or "").strip()
    if len(value) < ALASAN_MIN:
        raise InvalidInput(f"Tuliskan alasan keberatan (minimal {ALASAN_MIN} karakter).",
                           f"Write the reasons for the keberatan (at least {ALASAN_MIN} "
                           "characters).")
    if len(value) > ALASAN_MAX:
        raise InvalidInput(f"Alasan keberatan terlalu panjang (maks. {ALASAN_MAX} karakter).",
                           f"The reasons are too long (max {ALASAN_MAX} characters).")
    return value


def file_keberatan(*, session: Session, hasil: Hasil, alasan: str, now: datetime,
                   mail: Mail) -> Keberatan:
    """The pegawai objects to the published predikat, once, within the window, with reasons.
    The atasan PPK gets a PUTUS_KEBERATAN task and an email (HR when there is none)."""
    cycle, rec = hasil.cycle, hasil.record
    if hasil.keberatan is not None:
        raise InvalidTransition("keberatan", hasil.keberatan.status, "ajukan",
                                "Keberatan sudah diajukan pada "
                                f"{format_datetime(hasil.keberatan.diajukan_at, cycle.timezone)}; "
                                "keberatan hanya dapat diajukan satu kali.",
                                "A keberatan was already filed on "
                                f"{format_datetime(hasil.keberatan.diajukan_at, cycle.timezone, 'en')}"
                                "; it can be filed only once.")
    if rec.status != "dipublikasi" or hasil.batas is None or now > hasil.batas:
        when_id = format_datetime(hasil.batas, cycle.timezone) if hasil.batas else "-"
        when_en = format_datetime(hasil.batas, cycle.timezone, "en") if hasil.batas else "-"
        raise InvalidTransition("penilaian", rec.status, "keberatan",
                                f"Batas pengajuan keberatan sudah lewat ({when_id}); predikat "
                                "Anda sudah final.",
                                f"The deadline for a keberatan has passed ({when_en}); your "
                                "predikat is final.")
    row = Keberatan(skp_id=hasil.skp.id, diajukan_at=now, alasan=_alasan(alasan),
                    predikat_sebelum=rec.predikat)
    session.add(row)
    session.flush()
    hasil.keberatan = row
    _finish(task_of(session=session, cycle_id=cycle.id, kind=TaskKind.HASIL_KINERJA,
                    pegawai_id=hasil.pegawai.id, for_update=True), now)
    _notify_decider(session, cycle, row, hasil.pegawai, hasil.atasan_ppk, now, mail)
    record(session=session, now=now, actor=f"pegawai:{hasil.pegawai.id}",
           action="keberatan.ajukan", entity="keberatan", entity_id=row.id,
           after={"predikat": rec.predikat})
    return row


def putus_due(row: Keberatan) -> datetime:
    return row.diajukan_at + timedelta(days=PUTUS_HARI)


def _notify_decider(session: Session, cycle: Cycle, row: Keberatan, pegawai: Pegawai,
                    decider: Pegawai | None, now: datetime, mail: Mail) -> int:
    """The decider's task (created or reopened) and the `keberatan_diajukan` email; with no
    atasan PPK in the data, every HR admin is emailed a link to the console."""
    due = max(putus_due(row), now)
    base = {"pegawai_nama": pegawai.nama, "pegawai_nip": pegawai.nip, "due": _when(due, cycle, mail)}
    if decider is None:
        targets = [(nama, email, None, console_link(mail, cycle.id, f"keberatan-{row.id}"),
                    f"keberatan:{row.id}:hr:{email}")
                   for nama, email in hr_admin_emails(session=session)]
    else:
        task = _open_task(session, cycle, TaskKind.PUTUS_KEBERATAN, decider.id, due, now)
        targets = [(decider.nama, decider.email, decider.id,
                    mail.links.task(task.id, decider.id, now), f"keberatan:{row.id}:{decider.id}")]
    return enqueue_messages(session=session, now=now, messages=[{
        "key": key, "kind": "keberatan_diajukan", "to_email": email, "pegawai_id": pid,
        "language": mail.language, "context": _ctx(cycle, nama, mail) | base | {"link": link}}
        for nama, email, pid, link, key in targets])


@dataclass
class Perkara:
    """A keberatan with its result, for the decider's page and HR's list."""

    keberatan: Keberatan
    hasil: Hasil

    @property
    def due(self) -> datetime:
        return putus_due(self.keberatan)


def pending_for(*, session: Session, cycle_id: int, decider_id: int | None) -> list[Perkara]:
    """Undecided keberatan whose current atasan PPK is this person (None: those HR decides)."""
    out = []
    for row, skp in session.execute(select(Keberatan, Skp).join(Skp, Skp.id == Keberatan.skp_id)
                                    .where(Skp.cycle_id == cycle_id, Keberatan.status == "diajukan")
                                    .order_by(Keberatan.diajukan_at, Keberatan.id)).all():
        hasil = load_hasil(session=session, skp=skp, lines=False)
        if (hasil.atasan_ppk.id if hasil.atasan_ppk else None) == decider_id:
            out.append(Perkara(row, hasil))
    return out


def decided_by(*, session: Session, cycle_id: int, pemutus_id: int) -> list[Perkara]:
    return [Perkara(row, load_hasil(session=session, skp=skp, lines=False))
            for row, skp in session.execute(select(Keberatan, Skp).join(
                Skp, Skp.id == Keberatan.skp_id).where(
                Skp.cycle_id == cycle_id, Keberatan.pemutus_id == pemutus_id)
                .order_by(Keberatan.diputus_at.desc())).all()]


def perkara(*, session: Session, cycle_id: int, keberatan_id: int) -> Perkara:
    row = session.get(Keberatan, keberatan_id)
    skp = session.get(Skp, row.skp_id) if row else None
    if row is None or skp is None or skp.cycle_id != cycle_id:
        from models.repo.cycles import NotFound

        raise NotFound("Keberatan tidak ditemukan.", "Keberatan not found.")
    return Perkara(row, load_hasil(session=session, skp=skp))


def _stale(rec: PenilaianTahunan) -> InvalidTransition:
    return InvalidTransition("penilaian", str(rec.version), "keberatan",
                             "Penilaian ini baru saja diubah di tempat lain. Muat ulang halaman "
                             "lalu ulangi.", "This rating was just changed elsewhere. Reload and "
                             "retry.")


def decide_keberatan(*, session: Session, perkara: Perkara, keputusan: str, hasil_kerja: str,
                     perilaku: str, alasan: str, now: datetime, mail: Mail,
                     pemutus: Pegawai | None = None, hr_actor: str | None = None) -> Keberatan:
    """The atasan PPK (re-checked against the current org tree) keeps the predikat ('tetap')
    or changes the two ratings ('diubah'), with a reason. The result becomes final, the change
    is kept, the pegawai is told, and the follow-up starts."""
    row, hasil = perkara.keberatan, perkara.hasil
    decider = hasil.atasan_ppk
    if hr_actor is None and (pemutus is None or decider is None or decider.id != pemutus.id):
        raise LinkRejected("not_yours", *NOT_DECIDER)
    if hr_actor is not None and decider is not None:
        raise InvalidTransition("keberatan", row.status, "putus",
                                f"Keberatan ini diputus oleh atasan PPK, {decider.nama}.",
                                f"This keberatan is decided by the atasan PPK, {decider.nama}.")
    if row.status != "diajukan":
        raise InvalidTransition("keberatan", row.status, "putus",
                                "Keberatan ini sudah diputus; putusannya final.",
                                "This keberatan was already decided; the decision is final.")
    if keputusan not in ("tetap", "diubah"):
        raise InvalidInput("Pilih putusan: predikat tetap atau diubah.",
                           "Choose the decision: keep or change the predikat.")
    reason = clean_text(alasan, "Alasan putusan", "Reason for the decision", ALASAN_MAX,
                        required=True)
    rec = hasil.record
    hk, pk = Rating(rec.hasil_kerja), Rating(rec.perilaku)
    if keputusan == "diubah":
        from models.repo.monitoring import parse_rating

        hk = parse_rating(hasil_kerja, "hasil kerja", "hasil kerja (results)")
        pk = parse_rating(perilaku, "perilaku kerja", "perilaku kerja (behaviour)")
        if (hk, pk) == (rec.hasil_kerja, rec.perilaku):
            raise InvalidInput("Rating yang dipilih sama dengan sebelumnya; pilih 'tetap' atau "
                               "ubah rating.", "The ratings chosen are the current ones; choose "
                               "'keep' or change a rating.")
    before = snapshot(rec)
    bump_version(session, rec, _stale(rec))
    rec.hasil_kerja, rec.perilaku, rec.predikat = hk, pk, scoring.predikat(hk, pk)
    rec.status = "final"
    session.add(rec)
    actor = hr_actor or f"pegawai:{pemutus.id}"
    if keputusan == "diubah":
        session.add(PerubahanNilai(skp_id=rec.skp_id, at=now, oleh=actor, jenis="keberatan",
                                   sebelum=before, sesudah=snapshot(rec), alasan=reason))
    row.status, row.diputus_at, row.alasan_putusan = keputusan, now, reason
    row.pemutus_id = pemutus.id if pemutus is not None and hr_actor is None else None
    row.predikat_sesudah = rec.predikat
    session.add(row)
    session.flush()
    if pemutus is not None and hr_actor is None and not pending_for(
            session=session, cycle_id=hasil.cycle.id, decider_id=pemutus.id):
        _finish(task_of(session=session, cycle_id=hasil.cycle.id, kind=TaskKind.PUTUS_KEBERATAN,
                        pegawai_id=pemutus.id, for_update=True), now)
    _tell_pegawai(session, hasil, row, now, mail)
    record(session=session, now=now, actor=actor, action=f"keberatan.{keputusan}",
           entity="keberatan", entity_id=row.id, before=before, after=snapshot(rec))
    follow_up(session=session, cycle=hasil.cycle, now=now, mail=mail, skp_ids=[rec.skp_id])
    return row


def _tell_pegawai(session: Session, hasil: Hasil, row: Keberatan, now: datetime,
                  mail: Mail) -> None:
    p = hasil.pegawai
    task = task_of(session=session, cycle_id=hasil.cycle.id, kind=TaskKind.HASIL_KINERJA,
                   pegawai_id=p.id)
    link = mail.links.task(task.id, p.id, now) if task else mail.links.base_url
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"keberatan-diputus:{row.id}", "kind": "keberatan_diputus", "to_email": p.email,
        "pegawai_id": p.id, "language": mail.language,
        "context": _ctx(hasil.cycle, p.nama, mail) | {
            "link": link, "status": row.status, "alasan": row.alasan_putusan,
            "predikat": Predikat(hasil.record.predikat).value}}])


# -- the window's end and the follow-up ----------------------------------------------------------


def close_appeals(*, session: Session, cycle: Cycle, stage: CycleStage | None, now: datetime,
                  mail: Mail) -> StageReport:
    """The window's end: every published result whose window has passed and that has no
    undecided keberatan becomes final, then the follow-up runs. Idempotent: the report is
    brought up to date, nothing is created or sent twice."""
    pending = set(session.execute(select(Keberatan.skp_id).join(
        Skp, Skp.id == Keberatan.skp_id).where(Skp.cycle_id == cycle.id,
                                               Keberatan.status == "diajukan")).scalars())
    cutoff = now - timedelta(days=cycle.keberatan_hari)
    due = [(rid, pid) for rid, sid, pid in session.execute(select(
        PenilaianTahunan.id, PenilaianTahunan.skp_id, Skp.pegawai_id).join(
        Skp, Skp.id == PenilaianTahunan.skp_id).where(
        PenilaianTahunan.cycle_id == cycle.id, PenilaianTahunan.status == "dipublikasi",
        PenilaianTahunan.dipublikasi_at <= cutoff)).all() if sid not in pending]
    for i in range(0, len(due), 900):
        session.execute(update(PenilaianTahunan).where(
            PenilaianTahunan.id.in_([rid for rid, _ in due[i:i + 900]]),
            PenilaianTahunan.status == "dipublikasi")
            .values(status="final", version=PenilaianTahunan.version + 1)
            .execution_options(synchronize_session="fetch"))
    record_many(session=session, now=now, entity="penilaian_tahunan", cycle_id=cycle.id,
                before={"status": "dipublikasi"}, after={"status": "final"}, rows=due)
    close_open_tasks(session=session, now=now, cycle_id=cycle.id, done=True, where=[
        Task.kind == TaskKind.HASIL_KINERJA, Task.due_at <= now])
    made = follow_up(session=session, cycle=cycle, now=now, mail=mail)
    if stage is not None and stage.closed_at is None and now >= stage.closes_at:
        stage.closed_at = now
        session.add(stage)
    data = counts(session=session, cycle_id=cycle.id) | {
        "per_unit": per_unit(session=session, cycle_id=cycle.id)}
    report = session.execute(select(StageReport).where(
        StageReport.cycle_id == cycle.id, StageReport.code == REPORT)).scalar()
    if report is None:
        report = StageReport(cycle_id=cycle.id, code=REPORT, created_at=now, data=data)
    else:
        report.data = data
    report.data = report.data | {"run": {"difinalkan": len(due)} | made}
    session.add(report)
    return report


def follow_up(*, session: Session, cycle: Cycle, now: datetime, mail: Mail,
              skp_ids: list[int] | None = None) -> dict[str, int]:
    """For final results (all of the cycle, or these SKPs): Sangat Baik on the award list, a
    coaching plan owned by the PPK for Butuh Perbaikan / Kurang / Sangat Kurang, angka kredit
    for functional posts. Only what is missing is created or sent."""
    query = (select(PenilaianTahunan, Pegawai).join(Skp, Skp.id == PenilaianTahunan.skp_id)
             .join(Pegawai, Pegawai.id == Skp.pegawai_id)
             .where(PenilaianTahunan.cycle_id == cycle.id, PenilaianTahunan.status == "final"))
    if skp_ids is not None:
        query = query.where(PenilaianTahunan.skp_id.in_(skp_ids or [-1]))
    rows = list(session.execute(query.execution_options(populate_existing=True)).all())
    awards = set(session.execute(select(KandidatPenghargaan.pegawai_id).where(
        KandidatPenghargaan.cycle_id == cycle.id)).scalars())
    plans = set(session.execute(select(RencanaPembinaan.pegawai_id).where(
        RencanaPembinaan.cycle_id == cycle.id)).scalars())
    new_awards = [{"cycle_id": cycle.id, "pegawai_id": p.id, "status": "kandidat"}
                  for r, p in rows if r.predikat == Predikat.SANGAT_BAIK and p.id not in awards]
    if new_awards:
        session.execute(insert(KandidatPenghargaan), new_awards)
    credits = 0
    for r, p in rows:
        if (r.angka_kredit is None and p.jenis_jabatan == JenisJabatan.FUNGSIONAL and p.jenjang
                and p.jenjang in scoring.KOEFISIEN):
            r.angka_kredit = scoring.angka_kredit(p.jenjang, r.predikat)
            session.add(r)
            credits += 1
    new_plans = [(r, p) for r, p in rows if r.predikat in PEMBINAAN and p.id not in plans]
    for r, p in new_plans:
        _open_plan(session, cycle, r, p, now, mail)
    return {"kandidat_baru": len(new_awards), "rencana_baru": len(new_plans),
            "angka_kredit_baru": credits}


def _open_plan(session: Session, cycle: Cycle, rec: PenilaianTahunan, pegawai: Pegawai,
               now: datetime, mail: Mail) -> RencanaPembinaan:
    owner = session.get(Pegawai, pegawai.atasan_id) if pegawai.atasan_id else None
    owner = owner if owner is not None and owner.active else None
    plan = RencanaPembinaan(cycle_id=cycle.id, pegawai_id=pegawai.id, predikat=rec.predikat,
                            pemilik_id=owner.id if owner else None, created_at=now)
    session.add(plan)
    session.flush()
    _tell_owner(session, cycle, plan, pegawai, owner, now, mail)
    return plan


def _tell_owner(session: Session, cycle: Cycle, plan: RencanaPembinaan, pegawai: Pegawai,
                owner: Pegawai | None, now: datetime, mail: Mail) -> None:
    if owner is not None:
        task = sync_coaching_task(session=session, cycle=cycle, owner_id=owner.id, now=now)
        targets = [(owner.nama, owner.email, owner.id, mail.links.task(task.id, owner.id, now),
                    f"pembinaan:{plan.id}:{owner.id}")]
    else:  # nobody above the pegawai in the data: HR keeps the plan in the console
        targets = [(nama, email, None, console_link(mail, cycle.id, f"rencana-{plan.id}"),
                    f"pembinaan:{plan.id}:hr:{email}")
                   for nama, email in hr_admin_emails(session=session)]
    enqueue_messages(session=session, now=now, messages=[{
        "key": key, "kind": "rencana_pembinaan", "to_email": email, "pegawai_id": pid,
        "language": mail.language, "context": _ctx(cycle, nama, mail) | {
            "link": link, "pegawai_nama": pegawai.nama,
            "predikat": Predikat(plan.predikat).value}}
        for nama, email, pid, link, key in targets])


def counts(*, session: Session, cycle_id: int) -> dict[str, int]:
    """The cycle's publication and follow-up in numbers (no names)."""
    status = Counter(dict(session.execute(select(PenilaianTahunan.status, func.count()).where(
        PenilaianTahunan.cycle_id == cycle_id).group_by(PenilaianTahunan.status)).all()))
    keb = Counter(dict(session.execute(select(Keberatan.status, func.count()).join(
        Skp, Skp.id == Keberatan.skp_id).where(Skp.cycle_id == cycle_id)
        .group_by(Keberatan.status)).all()))
    awards = Counter(dict(session.execute(select(KandidatPenghargaan.status, func.count()).where(
        KandidatPenghargaan.cycle_id == cycle_id).group_by(KandidatPenghargaan.status)).all()))
    plans = Counter(dict(session.execute(select(RencanaPembinaan.status, func.count()).where(
        RencanaPembinaan.cycle_id == cycle_id).group_by(RencanaPembinaan.status)).all()))
    credit = session.execute(select(func.count()).select_from(PenilaianTahunan).where(
        PenilaianTahunan.cycle_id == cycle_id, PenilaianTahunan.angka_kredit.is_not(None))
    ).scalar_one()
    return {"dipublikasi": status["dipublikasi"], "final": status["final"],
            "keberatan": sum(keb.values()), "keberatan_menunggu": keb["diajukan"],
            "keberatan_tetap": keb["tetap"], "keberatan_diubah": keb["diubah"],
            "kandidat_penghargaan": sum(awards.values()), "penghargaan_ditetapkan":
            awards["ditetapkan"], "rencana_pembinaan": sum(plans.values()),
            "rencana_terbuka": plans["terbuka"], "angka_kredit": credit}


def per_unit(*, session: Session, cycle_id: int) -> list[dict[str, object]]:
    """Per unit: published results by predikat (counts only, for Prefect artifacts)."""
    rows = session.execute(select(Pegawai.unit_id, PenilaianTahunan.predikat, func.count())
                           .select_from(PenilaianTahunan).join(Skp, Skp.id == PenilaianTahunan.skp_id)
                           .join(Pegawai, Pegawai.id == Skp.pegawai_id)
                           .where(PenilaianTahunan.cycle_id == cycle_id,
                                  PenilaianTahunan.status.in_(("dipublikasi", "final")))
                           .group_by(Pegawai.unit_id, PenilaianTahunan.predikat)).all()
    names = unit_names(session=session)
    table: dict[int, Counter[str]] = {}
    for unit_id, pred, n in rows:
        table.setdefault(unit_id, Counter())[Predikat(pred).value] += n
    return [{"unit_id": uid, "unit": names.get(uid, "?"), "jumlah": sum(c.values())}
            | {p.value: c[p.value] for p in HIGH_TO_LOW}
            for uid, c in sorted(table.items(), key=lambda kv: names.get(kv[0], ""))]


# -- coaching plans ------------------------------------------------------------------------------


@dataclass
class Rencana:
    plan: RencanaPembinaan
    pegawai: Pegawai
    aksi: list[AksiPembinaan]
    rekomendasi: list = field(default_factory=list)

    def overdue(self, now: datetime) -> list[AksiPembinaan]:
        return [a for a in self.aksi if a.selesai_at is None and a.batas_at < now]

    @property
    def open_actions(self) -> int:
        return sum(1 for a in self.aksi if a.selesai_at is None)

    @property
    def closable(self) -> bool:
        return self.plan.status == "terbuka" and bool(self.aksi) and self.open_actions == 0


def _actions(session: Session, plan_ids: list[int]) -> dict[int, list[AksiPembinaan]]:
    out: dict[int, list[AksiPembinaan]] = {}
    for a in session.execute(select(AksiPembinaan).where(
            AksiPembinaan.rencana_id.in_(plan_ids or [-1]))
            .order_by(AksiPembinaan.batas_at, AksiPembinaan.id)).scalars():
        out.setdefault(a.rencana_id, []).append(a)
    return out


def plans_of(*, session: Session, cycle_id: int, owner_id: int | None = None,
             recommendations: bool = False) -> list[Rencana]:
    """Coaching plans of the cycle (of one owner when given), open ones first."""
    query = select(RencanaPembinaan, Pegawai).join(
        Pegawai, Pegawai.id == RencanaPembinaan.pegawai_id).where(
        RencanaPembinaan.cycle_id == cycle_id)
    if owner_id is not None:
        query = query.where(RencanaPembinaan.pemilik_id == owner_id)
    rows = list(session.execute(query.order_by(RencanaPembinaan.status.desc(), Pegawai.nama)).all())
    acts = _actions(session, [r.id for r, _ in rows])
    out = [Rencana(r, p, acts.get(r.id, [])) for r, p in rows]
    if recommendations:
        from models.repo.kompetensi import recommendations_for

        for x in out:
            x.rekomendasi = recommendations_for(session=session, cycle_id=cycle_id,
                                                pegawai_id=x.pegawai.id)
    return out


def plan_for_owner(*, session: Session, cycle_id: int, owner_id: int | None,
                   rencana_id: int) -> Rencana:
    """One plan of this owner (None: a plan HR runs); anyone else's is refused."""
    plan = session.get(RencanaPembinaan, rencana_id)
    if plan is None or plan.cycle_id != cycle_id:
        from models.repo.cycles import NotFound

        raise NotFound(f"Rencana pembinaan {rencana_id} tidak ditemukan dalam siklus ini.",
                       f"Coaching plan {rencana_id} not found in this cycle.")
    if plan.pemilik_id != owner_id:
        raise LinkRejected("not_yours", "Rencana pembinaan ini bukan tanggung jawab Anda.",
                           "This coaching plan is not yours.")
    return Rencana(plan, session.get(Pegawai, plan.pegawai_id),
                   _actions(session, [plan.id]).get(plan.id, []))


def _ensure_open(plan: RencanaPembinaan) -> None:
    if plan.status != "terbuka":
        raise InvalidTransition("rencana", plan.status, "ubah",
                                "Rencana pembinaan ini sudah selesai.",
                                "This coaching plan is already closed.")


def parse_batas(value: str, tz: str, now: datetime) -> datetime:
    """A due date typed as YYYY-MM-DD: 16.00 local that day, not in the past."""
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput("Isi batas waktu tindakan (format: TTTT-BB-HH).",
                           "Give the action's due date (format: YYYY-MM-DD).") from None
    if day < to_local(now, tz).date():
        raise InvalidInput("Batas waktu tindakan tidak boleh di masa lalu.",
                           "The action's due date must not be in the past.")
    return to_utc(datetime.combine(day, time(16)), tz)


def add_action(*, session: Session, rencana: Rencana, uraian: str, batas: str, cycle: Cycle,
               now: datetime) -> AksiPembinaan:
    _ensure_open(rencana.plan)
    row = AksiPembinaan(rencana_id=rencana.plan.id, uraian=clean_text(
        uraian, "Uraian tindakan", "The action", 1000, required=True),
        batas_at=parse_batas(batas, cycle.timezone, now))
    session.add(row)
    session.flush()
    _plan_changed(session, cycle, rencana.plan, now)
    return row


def complete_action(*, session: Session, rencana: Rencana, aksi_id: int, catatan: str,
                    cycle: Cycle, now: datetime) -> AksiPembinaan:
    _ensure_open(rencana.plan)
    row = next((a for a in rencana.aksi if a.id == aksi_id), None)
    if row is None:
        raise InvalidInput("Tindakan tidak ditemukan pada rencana ini.",
                           "Action not found in this plan.")
    if row.selesai_at is not None:
        raise InvalidTransition("aksi", "selesai", "selesai", "Tindakan ini sudah selesai.",
                                "This action is already done.")
    row.catatan = clean_text(catatan, "Catatan penyelesaian", "Completion note", 1000,
                             required=True)
    row.selesai_at = now
    session.add(row)
    _plan_changed(session, cycle, rencana.plan, now)
    return row


def close_plan(*, session: Session, rencana: Rencana, cycle: Cycle, now: datetime,
               actor: str) -> RencanaPembinaan:
    _ensure_open(rencana.plan)
    if not rencana.aksi:
        raise InvalidTransition("rencana", "terbuka", "selesai",
                                "Tambahkan dan selesaikan paling sedikit satu tindakan sebelum "
                                "menutup rencana.", "Add and complete at least one action before "
                                "closing the plan.")
    if rencana.open_actions:
        n = rencana.open_actions
        raise InvalidTransition("rencana", "terbuka", "selesai",
                                f"Masih ada {n} tindakan yang belum selesai.",
                                f"{n} action(s) are not done yet.")
    plan = rencana.plan
    plan.status, plan.selesai_at = "selesai", now
    session.add(plan)
    record(session=session, now=now, actor=actor, action="pembinaan.selesai",
           entity="rencanapembinaan", entity_id=plan.id)
    _plan_changed(session, cycle, plan, now)
    return plan


def _plan_changed(session: Session, cycle: Cycle, plan: RencanaPembinaan, now: datetime) -> None:
    session.flush()
    if plan.pemilik_id is not None:
        sync_coaching_task(session=session, cycle=cycle, owner_id=plan.pemilik_id, now=now)


def _plan_due(plan: RencanaPembinaan, aksi: list[AksiPembinaan]) -> datetime:
    """When the plan next needs its owner: the earliest open action, else writing (or closing)
    the plan, RENCANA_HARI after it opened."""
    open_dates = [a.batas_at for a in aksi if a.selesai_at is None]
    return min(open_dates) if open_dates else plan.created_at + timedelta(days=RENCANA_HARI)


def sync_coaching_task(*, session: Session, cycle: Cycle, owner_id: int,
                       now: datetime) -> Task | None:
    """The owner's one PEMBINAAN task follows their open plans: due at the earliest thing to
    do, done when every plan is closed."""
    plans = list(session.execute(select(RencanaPembinaan).where(
        RencanaPembinaan.cycle_id == cycle.id, RencanaPembinaan.pemilik_id == owner_id,
        RencanaPembinaan.status == "terbuka")).scalars())
    task = task_of(session=session, cycle_id=cycle.id, kind=TaskKind.PEMBINAAN, pegawai_id=owner_id)
    if not plans:
        _finish(task, now)
        if task is not None:
            session.add(task)
        return task
    acts = _actions(session, [p.id for p in plans])
    due = min(_plan_due(p, acts.get(p.id, [])) for p in plans)
    if task is None:
        task = Task(cycle_id=cycle.id, kind=TaskKind.PEMBINAAN, pegawai_id=owner_id, periode=0,
                    due_at=due, created_at=now, next_reminder_at=due)
    elif task.status != TaskStatus.OPEN:
        task.status, task.done_at, task.next_reminder_at = TaskStatus.OPEN, None, due
    elif task.next_reminder_at is None or due < task.next_reminder_at:
        task.next_reminder_at = due
    task.due_at = due
    session.add(task)
    session.flush()
    return task


# -- reminders -----------------------------------------------------------------------------------


def sweep(*, session: Session, cycle: Cycle, now: datetime, mail: Mail) -> SweepResult:
    """Keberatan: the current atasan PPK has a task (a new one after a transfer is told),
    reminders at the cycle's offsets, HR told once when one is overdue. Coaching: plans follow
    the pegawai's current PPK, and owners are reminded while actions are overdue. Idempotent."""
    reminders, escalations = _sweep_keberatan(session, cycle, now, mail)
    _sync_plan_owners(session, cycle, now, mail)
    reminders += _sweep_pembinaan(session, cycle, now, mail)
    return SweepResult(reminders, escalations)


def _sweep_keberatan(session: Session, cycle: Cycle, now: datetime,
                     mail: Mail) -> tuple[int, int]:
    pending: Counter[int] = Counter()
    escalations = 0
    for row, skp in session.execute(select(Keberatan, Skp).join(Skp, Skp.id == Keberatan.skp_id)
                                    .where(Skp.cycle_id == cycle.id,
                                           Keberatan.status == "diajukan")).all():
        pegawai = session.get(Pegawai, skp.pegawai_id)
        decider = decider_of(session=session, pegawai=pegawai)
        if decider is not None:
            pending[decider.id] += 1
            task = task_of(session=session, cycle_id=cycle.id, kind=TaskKind.PUTUS_KEBERATAN,
                           pegawai_id=decider.id)
            if task is None or task.status != TaskStatus.OPEN:
                _notify_decider(session, cycle, row, pegawai, decider, now, mail)
        if now > putus_due(row):
            escalations += _escalate(session, cycle, row, pegawai, decider, now, mail)
    tasks = list(session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.kind == TaskKind.PUTUS_KEBERATAN,
        Task.status == TaskStatus.OPEN, Task.next_reminder_at <= now)).scalars())
    people = pegawai_by_id(session=session, ids=[t.pegawai_id for t in tasks])
    out = []
    for task in tasks:
        n = reminder_due(due_at=task.due_at, offsets_minutes=cycle.reminder_offsets,
                         sent=task.reminders_sent, created_at=task.created_at, now=now)
        if not pending[task.pegawai_id]:
            _finish(task, now)
        elif n is not None:
            task.reminders_sent = n + 1
            p = people[task.pegawai_id]
            if p.active:
                out.append({"key": f"remind-keberatan:{task.id}:{int(task.due_at.timestamp())}:{n}",
                            "kind": "pengingat_keberatan", "to_email": p.email, "pegawai_id": p.id,
                            "language": mail.language, "context": _ctx(cycle, p.nama, mail) | {
                                "link": mail.links.task(task.id, p.id, now),
                                "pending": pending[p.id], "n": n + 1,
                                "overdue": now > task.due_at,
                                "due": _when(task.due_at, cycle, mail)}})
        if task.status == TaskStatus.OPEN:
            reschedule(task, cycle.reminder_offsets)
        session.add(task)
    return enqueue_messages(session=session, messages=out, now=now), escalations


def _escalate(session: Session, cycle: Cycle, row: Keberatan, pegawai: Pegawai,
              decider: Pegawai | None, now: datetime, mail: Mail) -> int:
    """Once per keberatan: HR learns that it is still undecided past its date."""
    messages = [{"key": f"escalate-keberatan:{row.id}:{email}", "kind": "pengingat_keberatan",
                 "to_email": email, "language": mail.language,
                 "context": _ctx(cycle, nama, mail) | {
                     "link": console_link(mail, cycle.id, f"keberatan-{row.id}"), "pending": 1,
                     "n": 1, "overdue": True, "due": _when(putus_due(row), cycle, mail),
                     "pegawai_nama": pegawai.nama, "pegawai_nip": pegawai.nip,
                     "atasan_ppk_nama": decider.nama if decider else ""}}
                for nama, email in hr_admin_emails(session=session)]
    return 1 if enqueue_messages(session=session, messages=messages, now=now) else 0


def _sync_plan_owners(session: Session, cycle: Cycle, now: datetime, mail: Mail) -> int:
    """An open plan follows the pegawai's current PPK (HR's change, a re-import): the new PPK
    gets the task and the email, the old one's page no longer shows it."""
    moved = 0
    rows = session.execute(select(RencanaPembinaan, Pegawai).join(
        Pegawai, Pegawai.id == RencanaPembinaan.pegawai_id).where(
        RencanaPembinaan.cycle_id == cycle.id, RencanaPembinaan.status == "terbuka")).all()
    for plan, pegawai in rows:
        owner = session.get(Pegawai, pegawai.atasan_id) if pegawai.atasan_id else None
        owner_id = owner.id if owner is not None and owner.active else None
        if owner_id == plan.pemilik_id or owner_id is None:
            continue
        old = plan.pemilik_id
        plan.pemilik_id = owner_id
        session.add(plan)
        session.flush()
        if old is not None:
            sync_coaching_task(session=session, cycle=cycle, owner_id=old, now=now)
        _tell_owner(session, cycle, plan, pegawai, owner, now, mail)
        moved += 1
    return moved


def _sweep_pembinaan(session: Session, cycle: Cycle, now: datetime, mail: Mail) -> int:
    tasks = list(session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.kind == TaskKind.PEMBINAAN,
        Task.status == TaskStatus.OPEN, Task.next_reminder_at <= now)).scalars())
    out = []
    for task in tasks:
        plans = plans_of(session=session, cycle_id=cycle.id, owner_id=task.pegawai_id)
        open_plans = [x for x in plans if x.plan.status == "terbuka"]
        if not open_plans:
            _finish(task, now)
            session.add(task)
            continue
        dues = [_plan_due(x.plan, x.aksi) for x in open_plans]
        task.due_at = min(dues)
        late = [d for d in dues if d <= now]
        p = session.get(Pegawai, task.pegawai_id)
        if late and p is not None and p.active:
            n = task.reminders_sent
            out.append({"key": f"remind-pembinaan:{task.id}:{n}", "kind": "pengingat_pembinaan",
                        "to_email": p.email, "pegawai_id": p.id, "language": mail.language,
                        "context": _ctx(cycle, p.nama, mail) | {
                            "link": mail.links.task(task.id, p.id, now),
                            "pending": len(open_plans), "n": n + 1, "overdue": True,
                            "due": _when(min(late), cycle, mail)}})
            task.reminders_sent = n + 1
            task.next_reminder_at = now + timedelta(days=PENGINGAT_PEMBINAAN_HARI)
        else:
            upcoming = [d for d in dues if d > now]
            task.next_reminder_at = min(upcoming) if upcoming else now + timedelta(
                days=PENGINGAT_PEMBINAAN_HARI)
        session.add(task)
    return enqueue_messages(session=session, messages=out, now=now)


def cycles_with_follow_up(*, session: Session) -> list[int]:
    """Cycles that still need the sweep after every stage closed: undecided keberatan or open
    coaching plans."""
    a = set(session.execute(select(Skp.cycle_id).join(Keberatan, Keberatan.skp_id == Skp.id)
                            .where(Keberatan.status == "diajukan")).scalars())
    b = set(session.execute(select(RencanaPembinaan.cycle_id).where(
        RencanaPembinaan.status == "terbuka")).scalars())
    return sorted(a | b)


# -- awards --------------------------------------------------------------------------------------


def awards(*, session: Session, cycle_id: int) -> list[tuple[KandidatPenghargaan, Pegawai]]:
    return list(session.execute(select(KandidatPenghargaan, Pegawai).join(
        Pegawai, Pegawai.id == KandidatPenghargaan.pegawai_id).where(
        KandidatPenghargaan.cycle_id == cycle_id).order_by(Pegawai.unit_id, Pegawai.nama)).all())


def decide_award(*, session: Session, cycle_id: int, kandidat_id: int, keputusan: str,
                 catatan: str, now: datetime, actor: str) -> KandidatPenghargaan:
    """HR confirms a candidate ('ditetapkan') or sets them aside ('tidak', with a note)."""
    row = session.get(KandidatPenghargaan, kandidat_id)
    if row is None or row.cycle_id != cycle_id:
        from models.repo.cycles import NotFound

        raise NotFound("Kandidat penghargaan tidak ditemukan.", "Award candidate not found.")
    if keputusan not in ("ditetapkan", "tidak"):
        raise InvalidInput("Pilih: tetapkan atau tidak ditetapkan.", "Choose: confirm or set aside.")
    note = clean_text(catatan, "Catatan", "Note", 1000, required=keputusan == "tidak")
    before = {"status": row.status, "catatan": row.catatan}
    row.status, row.catatan, row.diputus_oleh, row.diputus_at = keputusan, note, actor, now
    session.add(row)
    record(session=session, now=now, actor=actor, action="penghargaan." + keputusan,
           entity="kandidatpenghargaan", entity_id=row.id, before=before,
           after={"status": row.status, "catatan": row.catatan})
    return row


# -- tunjangan kinerja ---------------------------------------------------------------------------


def tunjangan_table(*, session: Session, cycle_id: int) -> dict[Predikat, float]:
    """The share paid per predikat for the cycle: HR's values over the defaults."""
    saved = {Predikat(p): v for p, v in session.execute(select(
        TunjanganKinerja.predikat, TunjanganKinerja.persen).where(
        TunjanganKinerja.cycle_id == cycle_id)).all()}
    return {p: saved.get(p, TUNJANGAN_DEFAULT[p]) for p in HIGH_TO_LOW}


def tunjangan_saved(*, session: Session, cycle_id: int) -> bool:
    return session.execute(select(TunjanganKinerja.id).where(
        TunjanganKinerja.cycle_id == cycle_id)).first() is not None


def _persen(value: object, predikat: Predikat) -> float:
    text = str(value if value is not None else "").strip().removesuffix("%").strip()
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        number = -1.0
    if not 0 <= number <= 200:
        raise InvalidInput(f"Persentase untuk {predikat.value} harus angka 0 sampai 200.",
                           f"The percentage for {predikat.value} must be a number from 0 to 200.")
    return round(number, 2)


def set_tunjangan(*, session: Session, cycle_id: int, values: Mapping[str, object],
                  now: datetime, actor: str) -> dict[Predikat, float]:
    """Save the whole table at once; one bad value refuses it all, naming the predikat."""
    before = tunjangan_table(session=session, cycle_id=cycle_id)
    missing = [p.value for p in HIGH_TO_LOW if p.value not in values]
    if missing:
        raise InvalidInput("Isi persentase untuk: " + ", ".join(missing) + ".",
                           "Give the percentage for: " + ", ".join(missing) + ".")
    new = {p: _persen(values[p.value], p) for p in HIGH_TO_LOW}
    rows = {Predikat(r.predikat): r for r in session.execute(select(TunjanganKinerja).where(
        TunjanganKinerja.cycle_id == cycle_id)).scalars()}
    for p, v in new.items():
        row = rows.get(p) or TunjanganKinerja(cycle_id=cycle_id, predikat=p, persen=v)
        row.persen = v
        session.add(row)
    record(session=session, now=now, actor=actor, action="tunjangan.ubah", entity="cycle",
           entity_id=cycle_id, before={p.value: v for p, v in before.items()},
           after={p.value: v for p, v in new.items()})
    return new


def payroll_rows(*, session: Session, cycle_id: int) -> list[dict[str, object]]:
    """Final results with the share of tunjangan kinerja their predikat earns, by unit and name."""
    table = tunjangan_table(session=session, cycle_id=cycle_id)
    names = unit_names(session=session)
    rows = session.execute(select(Pegawai, PenilaianTahunan.predikat).join(
        Skp, Skp.pegawai_id == Pegawai.id).join(PenilaianTahunan, PenilaianTahunan.skp_id == Skp.id)
        .where(PenilaianTahunan.cycle_id == cycle_id, PenilaianTahunan.status == "final")
        .order_by(Pegawai.unit_id, Pegawai.nama)).all()
    return [{"nip": p.nip, "nama": p.nama, "unit": names.get(p.unit_id, ""),
             "predikat": Predikat(pred).value, "persen": table[Predikat(pred)]}
            for p, pred in rows]


def keberatan_rows(*, session: Session, cycle_id: int) -> list[Perkara]:
    """Every keberatan of the cycle, undecided first."""
    return [Perkara(row, load_hasil(session=session, skp=skp, lines=False))
            for row, skp in session.execute(select(Keberatan, Skp).join(
                Skp, Skp.id == Keberatan.skp_id).where(Skp.cycle_id == cycle_id)
                .order_by((Keberatan.status == "diajukan").desc(), Keberatan.diajukan_at)).all()]

