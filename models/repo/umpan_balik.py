"""The 360 stage: assigning raters, the pegawai's proposals, the PPK's confirmation, anonymous
answers and the aggregates people may see.

Anonymity by construction: an answer row (Jawaban360) holds the person rated, the value, the
judgement and the comment, under a random key, with no rater, no assignment and no time. The
assignment row (Penilai360) says only that a form was sent back (`selesai`), not when. Pages
show aggregates only after the stage closed and only from `ambang` non-self respondents.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from models.repo.audit import close_open_tasks
from models.repo.outbox import enqueue_messages
from models.repo.people import hr_admin_emails, pegawai_by_id
from models.repo.skp import Mail, insert_tasks
from models.rules import feedback as rules
from models.rules.enums import NilaiBerakhlak, StageCode, TaskKind, TaskStatus
from models.rules.errors import InvalidInput, InvalidTransition
from models.rules.reminders import next_reminder_at
from models.rules.texts import format_datetime
from models.tables import (
    Cycle,
    CycleStage,
    Jawaban360,
    Pegawai,
    Pengaturan360,
    Penilai360,
    Skp,
    StageReport,
    Task,
)

KINDS = (TaskKind.USUL_PENILAI, TaskKind.TETAPKAN_PENILAI, TaskKind.ISI_360, TaskKind.KOMPETENSI)


def settings_of(*, session: Session, cycle_id: int) -> Pengaturan360:
    row = session.get(Pengaturan360, cycle_id)
    if row is None:
        row = Pengaturan360(cycle_id=cycle_id)
        session.add(row)
        session.flush()
    return row


def get_stage(*, session: Session, cycle_id: int) -> CycleStage:
    from models.repo.cycles import get_stage as stage_of

    return stage_of(session=session, cycle_id=cycle_id, code=StageCode.UMPAN_BALIK)


def ensure_stage_open(stage: CycleStage) -> None:
    if stage.closed_at is not None:
        raise InvalidTransition("umpan_balik", "closed", "edit",
                                "Tahap umpan balik 360 sudah ditutup; data tidak dapat diubah.",
                                "The 360 feedback stage is closed; nothing can change now.")


def _ctx(cycle: Cycle, nama: str, mail: Mail) -> dict[str, object]:
    return {"agency_name": mail.agency, "nama": nama, "tahun": cycle.tahun}


def _due(cycle: Cycle, at: datetime, mail: Mail) -> str:
    return format_datetime(at, cycle.timezone, mail.language)


# -- opening: the assignment and the first invitations --------------------------------------------


def participants(*, session: Session, cycle_id: int) -> list[int]:
    return list(session.execute(select(Pegawai.id).join(Skp, Skp.pegawai_id == Pegawai.id).where(
        Skp.cycle_id == cycle_id, Pegawai.active).order_by(Pegawai.id)).scalars())


def assign_raters(*, session: Session, cycle: Cycle) -> int:
    """Run the assignment rule once for the cycle (a second run changes nothing)."""
    if session.execute(select(Penilai360.id).where(Penilai360.cycle_id == cycle.id)).first():
        return 0
    ids = set(participants(session=session, cycle_id=cycle.id))
    people = _people(session, ids)
    s = settings_of(session=session, cycle_id=cycle.id)
    rule = rules.Rule(s.ikut_ppk, s.ikut_diri, s.maks_rekan, s.maks_bawahan, s.maks_form)
    rows = [{"cycle_id": cycle.id, "dinilai_id": a.dinilai_id, "penilai_id": a.penilai_id,
             "peran": a.peran, "sumber": "aturan", "aktif": True,
             "ditetapkan": a.peran == rules.DIRI, "selesai": False}
            for a in rules.assign(people, rule, cycle.id)]
    for i in range(0, len(rows), 5000):
        session.execute(insert(Penilai360), rows[i:i + 5000])
    return len(rows)


def _people(session: Session, ids: set[int]) -> list[rules.Person]:
    rows = session.execute(select(Pegawai.id, Pegawai.unit_id, Pegawai.atasan_id)
                           .where(Pegawai.active)).all()
    return [rules.Person(pid, unit, atasan if atasan in ids else None)
            for pid, unit, atasan in rows if pid in ids]


@dataclass(frozen=True)
class ChunkResult:
    tasks: int
    emails: int


def open_chunk(*, session: Session, cycle: Cycle, stage: CycleStage, pegawai_ids: list[int],
               now: datetime, mail: Mail) -> ChunkResult:
    """Each pegawai's task to see (and propose) their raters, each PPK's task to confirm them,
    the invitations; idempotent. Self-reviews are confirmed from the start, so the rater task
    of everyone who reviews themselves exists from the opening."""
    people = pegawai_by_id(session=session, ids=pegawai_ids)
    ppk_ids = set(session.execute(select(Pegawai.atasan_id).join(
        Penilai360, Penilai360.dinilai_id == Pegawai.id).where(
        Penilai360.cycle_id == cycle.id, Pegawai.atasan_id.in_(pegawai_ids or [-1]))
        .distinct()).scalars())
    wanted = [(TaskKind.USUL_PENILAI, pid, 0, stage.due_at) for pid in pegawai_ids
              if pid in people]
    wanted += [(TaskKind.TETAPKAN_PENILAI, pid, 0, stage.approve_due_at) for pid in ppk_ids]
    created = insert_tasks(session=session, cycle=cycle, now=now, wanted=wanted)
    raters = _raters_of(session, cycle.id, [pid for _, k, pid in created
                                            if k == TaskKind.USUL_PENILAI])
    pending = _unconfirmed_by_ppk(session, cycle.id, [pid for _, k, pid in created
                                                      if k == TaskKind.TETAPKAN_PENILAI])
    messages = []
    for task_id, kind, pid in created:
        p = people.get(pid)
        if p is None:
            continue
        link = mail.links.task(task_id, pid, now)
        if kind == TaskKind.USUL_PENILAI:
            messages.append({
                "key": f"invite:{cycle.id}:umpan_balik:{pid}", "kind": "undangan_umpan_balik",
                "to_email": p.email, "pegawai_id": pid, "language": mail.language,
                "context": _ctx(cycle, p.nama, mail) | {
                    "link": link, "due": _due(cycle, stage.due_at, mail),
                    "penilai": raters.get(pid, [])}})
        else:
            messages.append({
                "key": f"invite:{cycle.id}:umpan_balik:ppk:{pid}", "kind": "tetapkan_penilai",
                "to_email": p.email, "pegawai_id": pid, "language": mail.language,
                "context": _ctx(cycle, p.nama, mail) | {
                    "link": link, "due": _due(cycle, stage.approve_due_at, mail),
                    "pending": pending.get(pid, 0)}})
    queued = enqueue_messages(session=session, messages=messages, now=now)
    from models.repo.kompetensi import open_kompetensi_chunk

    queued += open_kompetensi_chunk(session=session, cycle=cycle, stage=stage,
                                    pegawai_ids=pegawai_ids, now=now, mail=mail)
    return ChunkResult(len(created), queued)


def _raters_of(session: Session, cycle_id: int, ids: list[int]) -> dict[int, list[str]]:
    """'Nama (peran)' of each person's active raters, self excluded (for the invitation)."""
    out: dict[int, list[str]] = {}
    for i in range(0, len(ids), 900):
        for dinilai, nama, peran in session.execute(
                select(Penilai360.dinilai_id, Pegawai.nama, Penilai360.peran)
                .join(Pegawai, Pegawai.id == Penilai360.penilai_id)
                .where(Penilai360.cycle_id == cycle_id, Penilai360.aktif,
                       Penilai360.peran != rules.DIRI,
                       Penilai360.dinilai_id.in_(ids[i:i + 900]))
                .order_by(Penilai360.dinilai_id, Penilai360.peran, Pegawai.nama)):
            out.setdefault(dinilai, []).append(f"{nama} ({rules.PERAN_LABEL[peran][0]})")
    return out


def _unconfirmed_by_ppk(session: Session, cycle_id: int, ppk_ids: list[int] | None) -> dict[int, int]:
    """Subordinates whose rater list waits for the PPK's confirmation, per PPK."""
    q = (select(Pegawai.atasan_id, func.count(func.distinct(Penilai360.dinilai_id)))
         .join(Pegawai, Pegawai.id == Penilai360.dinilai_id)
         .where(Penilai360.cycle_id == cycle_id, Penilai360.aktif, ~Penilai360.ditetapkan,
                Pegawai.atasan_id.is_not(None))
         .group_by(Pegawai.atasan_id))
    if ppk_ids is not None:
        q = q.where(Pegawai.atasan_id.in_(ppk_ids or [-1]))
    return dict(session.execute(q).all())


# -- the pegawai proposes, the PPK confirms ------------------------------------------------------


@dataclass
class RaterRow:
    assignment: Penilai360
    rater: Pegawai


def raters(*, session: Session, cycle_id: int, dinilai_id: int) -> list[RaterRow]:
    rows = session.execute(select(Penilai360, Pegawai).join(
        Pegawai, Pegawai.id == Penilai360.penilai_id).where(
        Penilai360.cycle_id == cycle_id, Penilai360.dinilai_id == dinilai_id)
        .order_by(Penilai360.peran, Pegawai.nama))
    return [RaterRow(a, p) for a, p in rows]


def _by_nip(session: Session, nip: str) -> Pegawai:
    person = session.execute(select(Pegawai).where(Pegawai.nip == (nip or "").strip())).scalar()
    if person is None or not person.active:
        raise InvalidInput(f"Pegawai aktif dengan NIP '{(nip or '').strip()}' tidak ditemukan.",
                           f"No active employee with NIP '{(nip or '').strip()}'.")
    return person


def add_rater(*, session: Session, cycle: Cycle, stage: CycleStage, dinilai: Pegawai, nip: str,
              by_ppk: bool, now: datetime, mail: Mail) -> Penilai360:
    """The pegawai proposes (before their deadline and the PPK's confirmation) or the PPK adds a
    rater; a confirmed addition by the PPK is invited at once."""
    ensure_stage_open(stage)
    rater = _by_nip(session, nip)
    if rater.id == dinilai.id:
        raise InvalidInput("Penilaian diri sudah termasuk; pilih orang lain.",
                           "Self-review is already included; choose someone else.")
    rows = raters(session=session, cycle_id=cycle.id, dinilai_id=dinilai.id)
    if not by_ppk:
        _ensure_proposals_open(stage, rows, now)
    existing = next((r.assignment for r in rows if r.rater.id == rater.id), None)
    if existing is not None and existing.aktif:
        raise InvalidInput(f"{rater.nama} sudah ada dalam daftar penilai.",
                           f"{rater.nama} is already on the list.")
    peran = (rules.PPK if rater.id == dinilai.atasan_id else
             rules.BAWAHAN if rater.atasan_id == dinilai.id else rules.REKAN)
    if not session.execute(select(Skp.id).where(Skp.cycle_id == cycle.id,
                                                Skp.pegawai_id == rater.id)).first():
        raise InvalidInput(f"{rater.nama} tidak ikut siklus ini.",
                           f"{rater.nama} is not part of this cycle.")
    row = existing or Penilai360(cycle_id=cycle.id, dinilai_id=dinilai.id, penilai_id=rater.id,
                                 peran=peran)
    row.aktif, row.sumber, row.peran = True, "ppk" if by_ppk else "usulan", peran
    row.ditetapkan = by_ppk and any(r.assignment.ditetapkan and r.assignment.peran != rules.DIRI
                                    for r in rows)
    session.add(row)
    session.flush()
    if row.ditetapkan:
        invite_raters(session=session, cycle=cycle, stage=stage, now=now, mail=mail)
    return row


def _ensure_proposals_open(stage: CycleStage, rows: list[RaterRow], now: datetime) -> None:
    if now > stage.due_at or any(r.assignment.ditetapkan and r.assignment.peran != rules.DIRI
                                 for r in rows):
        raise InvalidTransition("penilai", "confirmed", "propose",
                                "Usulan penilai sudah ditutup (batas usulan lewat atau PPK sudah "
                                "menetapkan daftar). Hubungi PPK Anda bila perlu perubahan.",
                                "Proposals are closed (past the date, or your PPK has confirmed "
                                "the list). Ask your PPK if a change is needed.")


def remove_rater(*, session: Session, stage: CycleStage, assignment: Penilai360, by_ppk: bool,
                 now: datetime, rows: list[RaterRow]) -> None:
    """The PPK takes a rater off (not one who already answered); the pegawai may only withdraw
    their own proposals before the deadline."""
    ensure_stage_open(stage)
    if assignment.peran == rules.DIRI:
        raise InvalidInput("Penilaian diri tidak dapat dihapus.", "Self-review cannot be removed.")
    if assignment.selesai:
        raise InvalidTransition("penilai", "answered", "remove",
                                "Penilai ini sudah mengirim jawaban; tidak dapat dihapus.",
                                "This rater has already answered and cannot be removed.")
    if not by_ppk:
        _ensure_proposals_open(stage, rows, now)
        if assignment.sumber != "usulan":
            raise InvalidInput("Anda hanya dapat menarik usulan Anda sendiri.",
                               "You can only withdraw your own proposals.")
    assignment.aktif = False
    session.add(assignment)


def confirm(*, session: Session, cycle: Cycle, stage: CycleStage, dinilai_ids: list[int],
            now: datetime, mail: Mail) -> int:
    """The PPK (or the deadline) confirms these people's rater lists; raters are invited."""
    ensure_stage_open(stage)
    n = session.execute(update(Penilai360).where(
        Penilai360.cycle_id == cycle.id, Penilai360.dinilai_id.in_(dinilai_ids or [-1]),
        Penilai360.aktif, ~Penilai360.ditetapkan).values(ditetapkan=True)
        .execution_options(synchronize_session=False)).rowcount
    invite_raters(session=session, cycle=cycle, stage=stage, now=now, mail=mail)
    return n


def invite_raters(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                  mail: Mail) -> int:
    """Every rater with a confirmed, unanswered form has an open ISI_360 task and one
    invitation (a rater given more forms later finds them behind the same link)."""
    todo = dict(session.execute(select(Penilai360.penilai_id, func.count()).where(
        Penilai360.cycle_id == cycle.id, Penilai360.aktif, Penilai360.ditetapkan,
        ~Penilai360.selesai).group_by(Penilai360.penilai_id)).all())
    if not todo:
        return 0
    have = {t.pegawai_id: t for t in session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.kind == TaskKind.ISI_360,
        Task.pegawai_id.in_(list(todo)))).scalars()}
    reopened: dict[int, str] = {}
    for t in have.values():  # a rater who had finished gets more forms: the task reopens
        if t.status != TaskStatus.OPEN:
            reopened[t.pegawai_id] = f":{int((t.done_at or now).timestamp())}"
            # a bulk update, as finish_if_done's: an ORM change of the status would leave an
            # audit line saying this rater had finished their forms (and when)
            session.execute(update(Task).where(Task.id == t.id).values(
                status=TaskStatus.OPEN, done_at=None, reminders_sent=0, created_at=now,
                next_reminder_at=next_reminder_at(due_at=t.due_at,
                                                  offsets_minutes=cycle.reminder_offsets,
                                                  sent=0, created_at=now))
                .execution_options(synchronize_session=False))
            session.expire(t)
    created = insert_tasks(session=session, cycle=cycle, now=now, wanted=[
        (TaskKind.ISI_360, pid, 0, stage.closes_at) for pid in todo if pid not in have])
    task_of = {pid: t.id for pid, t in have.items()} | {pid: tid for tid, _, pid in created}
    people = pegawai_by_id(session=session, ids=list(todo))
    return enqueue_messages(session=session, now=now, messages=[{
        # one invitation per rater, and a new one when forms arrive after they had finished
        "key": f"invite:{cycle.id}:360:{pid}{reopened.get(pid, '')}", "kind": "undangan_360",
        "to_email": people[pid].email, "pegawai_id": pid, "language": mail.language,
        "context": _ctx(cycle, people[pid].nama, mail) | {
            "link": mail.links.task(task_of[pid], pid, now),
            "due": _due(cycle, stage.closes_at, mail), "jumlah": n}}
        # a rater whose task a racing writer made: that writer invites them
        for pid, n in todo.items() if pid in people and people[pid].active and pid in task_of])


@dataclass
class Subordinate:
    pegawai: Pegawai
    raters: list[RaterRow]

    @property
    def confirmed(self) -> bool:
        return all(r.assignment.ditetapkan for r in self.raters if r.assignment.aktif)


def subordinates(*, session: Session, cycle_id: int, ppk_id: int) -> list[Subordinate]:
    people = list(session.execute(select(Pegawai).join(Skp, Skp.pegawai_id == Pegawai.id).where(
        Skp.cycle_id == cycle_id, Pegawai.atasan_id == ppk_id, Pegawai.active)
        .order_by(Pegawai.nama)).scalars())
    return [Subordinate(p, raters(session=session, cycle_id=cycle_id, dinilai_id=p.id))
            for p in people]


# -- the rater's forms ------------------------------------------------------------------------------


@dataclass
class Form:
    assignment: Penilai360
    dinilai: Pegawai


def forms_of(*, session: Session, cycle_id: int, penilai_id: int) -> list[Form]:
    """The rater's confirmed forms (answered ones included, shown as sent)."""
    rows = session.execute(select(Penilai360, Pegawai).join(
        Pegawai, Pegawai.id == Penilai360.dinilai_id).where(
        Penilai360.cycle_id == cycle_id, Penilai360.penilai_id == penilai_id, Penilai360.aktif,
        Penilai360.ditetapkan).order_by(Penilai360.selesai, Penilai360.peran != rules.DIRI,
                                        Pegawai.nama))
    return [Form(a, p) for a, p in rows]


def answer(*, session: Session, stage: CycleStage, form: Form, values: dict[str, str],
           comments: dict[str, str], now: datetime) -> None:
    """Store one form's answers without any link to the rater; the form is marked sent.
    Every value needs a judgement; once sent, answers cannot be changed (nothing ties them to
    the rater any more)."""
    ensure_stage_open(stage)
    if form.assignment.selesai:
        raise InvalidTransition("form", "sent", "answer",
                                "Formulir ini sudah dikirim; jawaban tidak dapat diubah karena "
                                "tidak lagi terhubung dengan Anda.",
                                "This form was already sent; answers cannot be changed since "
                                "they are no longer tied to you.")
    missing = [v.value for v in NilaiBerakhlak if values.get(v.value) not in rules.PENILAIAN]
    if missing:
        raise InvalidInput(f"Pilih penilaian untuk: {', '.join(missing)}.",
                           f"Choose a judgement for: {', '.join(missing)}.")
    rows = []
    for v in NilaiBerakhlak:
        note = (comments.get(v.value) or "").strip() or None
        if note and len(note) > 1000:
            raise InvalidInput(f"Komentar untuk {v.value} terlalu panjang (maks. 1000 karakter).",
                               f"The comment on {v.value} is too long (max 1000 characters).")
        rows.append({"id": secrets.token_hex(16), "cycle_id": form.assignment.cycle_id,
                     "dinilai_id": form.dinilai.id, "diri": form.assignment.peran == rules.DIRI,
                     "nilai": v.value, "penilaian": values[v.value], "komentar": note})
    rows.sort(key=lambda r: r["id"])  # insertion order tells nothing about the value order
    session.execute(insert(Jawaban360), rows)
    form.assignment.selesai = True
    session.add(form.assignment)


def finish_if_done(*, session: Session, cycle_id: int, penilai_id: int, now: datetime) -> None:
    left = session.execute(select(func.count()).select_from(Penilai360).where(
        Penilai360.cycle_id == cycle_id, Penilai360.penilai_id == penilai_id, Penilai360.aktif,
        Penilai360.ditetapkan, ~Penilai360.selesai)).scalar_one()
    if left == 0:
        session.execute(update(Task).where(
            Task.cycle_id == cycle_id, Task.kind == TaskKind.ISI_360, Task.pegawai_id == penilai_id,
            Task.status == TaskStatus.OPEN).values(status=TaskStatus.DONE, done_at=now,
                                                   next_reminder_at=None)
            .execution_options(synchronize_session=False))


# -- what people may see ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Aggregate:
    available: bool  # the stage closed
    enough: bool  # at least the threshold of non-self respondents
    respondents: int
    threshold: int
    values: list[rules.ValueSummary]  # empty unless enough
    self_values: dict[str, str]  # the person's own judgements (shown to them and their PPK)


def aggregate(*, session: Session, cycle_id: int, dinilai_id: int) -> Aggregate:
    stage = session.execute(select(CycleStage).where(
        CycleStage.cycle_id == cycle_id, CycleStage.code == StageCode.UMPAN_BALIK)).scalar()
    threshold = settings_of(session=session, cycle_id=cycle_id).ambang
    if stage is None or stage.closed_at is None:
        return Aggregate(False, False, 0, threshold, [], {})
    respondents = session.execute(select(func.count()).select_from(Penilai360).where(
        Penilai360.cycle_id == cycle_id, Penilai360.dinilai_id == dinilai_id, Penilai360.aktif,
        Penilai360.selesai, Penilai360.peran != rules.DIRI)).scalar_one()
    own = dict(session.execute(select(Jawaban360.nilai, Jawaban360.penilaian).where(
        Jawaban360.cycle_id == cycle_id, Jawaban360.dinilai_id == dinilai_id,
        Jawaban360.diri)).all())
    if not rules.enough(respondents, threshold):
        return Aggregate(True, False, respondents, threshold, [], own)
    answers = session.execute(select(Jawaban360.nilai, Jawaban360.penilaian, Jawaban360.komentar)
                              .where(Jawaban360.cycle_id == cycle_id,
                                     Jawaban360.dinilai_id == dinilai_id, ~Jawaban360.diri)).all()
    return Aggregate(True, True, respondents, threshold, rules.summarise(answers), own)


# -- closing ---------------------------------------------------------------------------------------


REPORT = "umpan_balik.tutup"


def close(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime, console_link: str,
          mail: Mail) -> StageReport:
    """Close the stage: open tasks end, aggregates become visible, competency gaps become
    training recommendations, HR gets response rates (counts only). Idempotent."""
    done = session.execute(select(StageReport).where(
        StageReport.cycle_id == cycle.id, StageReport.code == REPORT)).scalar()
    if done is not None:
        if stage.closed_at is None:
            stage.closed_at = done.created_at
            session.add(stage)
        return done
    threshold = settings_of(session=session, cycle_id=cycle.id).ambang
    per_person = dict(session.execute(
        select(Penilai360.dinilai_id, func.count()).where(
            Penilai360.cycle_id == cycle.id, Penilai360.aktif, Penilai360.selesai,
            Penilai360.peran != rules.DIRI).group_by(Penilai360.dinilai_id)).all())
    rated = participants(session=session, cycle_id=cycle.id)
    enough = sum(1 for pid in rated if rules.enough(per_person.get(pid, 0), threshold))
    assigned, answered = session.execute(select(
        func.count(), func.coalesce(func.sum(func.cast(Penilai360.selesai, type_=_int())), 0))
        .where(Penilai360.cycle_id == cycle.id, Penilai360.aktif,
               Penilai360.ditetapkan)).one()
    data = {"dinilai": len(rated), "cukup": enough, "kurang": len(rated) - enough,
            "jawaban": int(answered), "penugasan": int(assigned), "ambang": threshold}
    report = StageReport(cycle_id=cycle.id, code=REPORT, created_at=now, data=data)
    session.add(report)
    stage.closed_at = now
    session.add(stage)
    close_open_tasks(session=session, now=now, cycle_id=cycle.id, where=[Task.kind.in_(KINDS)])
    from models.repo.kompetensi import close_kompetensi

    close_kompetensi(session=session, cycle=cycle, now=now)
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"report:{cycle.id}:umpan_balik:{email}", "kind": "laporan_360",
        "to_email": email, "language": mail.language,
        "context": _ctx(cycle, nama, mail) | {"console_link": console_link} | {
            k: v for k, v in data.items() if k != "ambang"}}
        for nama, email in hr_admin_emails(session=session)])
    return report


def _int():  # type: ignore[no-untyped-def]
    from sqlalchemy import Integer

    return Integer()


# -- the sweep -------------------------------------------------------------------------------------


def sweep(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime, mail: Mail) -> int:
    """Confirm what the PPKs left unconfirmed at their deadline (and invite), remind PPKs and
    raters, and the competency reminders. Returns messages queued."""
    from models.repo.kompetensi import sweep_kompetensi

    if stage.opened_at is None or stage.closed_at is not None:
        return 0
    queued = 0
    if now >= stage.approve_due_at:
        waiting = list(session.execute(select(Penilai360.dinilai_id).where(
            Penilai360.cycle_id == cycle.id, Penilai360.aktif, ~Penilai360.ditetapkan)
            .distinct()).scalars())
        if waiting:
            confirm(session=session, cycle=cycle, stage=stage, dinilai_ids=waiting, now=now,
                    mail=mail)
    queued += invite_raters(session=session, cycle=cycle, stage=stage, now=now, mail=mail)
    tasks = list(session.execute(select(Task).where(
        Task.cycle_id == cycle.id, Task.status == TaskStatus.OPEN,
        Task.kind.in_([TaskKind.TETAPKAN_PENILAI, TaskKind.ISI_360]),
        Task.next_reminder_at <= now)).scalars())
    if tasks:
        people = pegawai_by_id(session=session, ids=[t.pegawai_id for t in tasks])
        pending = _unconfirmed_by_ppk(session, cycle.id, [t.pegawai_id for t in tasks])
        left = dict(session.execute(select(Penilai360.penilai_id, func.count()).where(
            Penilai360.cycle_id == cycle.id, Penilai360.aktif, Penilai360.ditetapkan,
            ~Penilai360.selesai, Penilai360.penilai_id.in_([t.pegawai_id for t in tasks]))
            .group_by(Penilai360.penilai_id)).all())
        def message(task: Task, p: Pegawai) -> tuple[str, dict] | None:
            if task.kind == TaskKind.TETAPKAN_PENILAI:
                count = pending.get(p.id, 0)
                return ("pengingat_tetapkan_penilai", {"pending": count}) if count else None
            count = left.get(p.id, 0)
            return ("pengingat_360", {"jumlah": count}) if count else None

        from models.repo.reminders import remind

        out = remind(session=session, cycle=cycle, tasks=tasks, people=people, now=now, mail=mail,
                     prefix="remind-360", message=message)
        queued += enqueue_messages(session=session, messages=out, now=now)
    queued += sweep_kompetensi(session=session, cycle=cycle, stage=stage, now=now, mail=mail)
    return queued


# -- HR: settings and progress -------------------------------------------------------------------


SETTING_LIMITS = {"maks_rekan": (0, 10), "maks_bawahan": (0, 10), "maks_form": (1, 30),
                  "ambang": (2, 10)}


def update_settings(*, session: Session, cycle_id: int, values: dict[str, object], now: datetime,
                    actor: str) -> Pengaturan360:
    """The rule can change until the stage opens (the assignment is made then); the threshold
    until it closes (it only decides what is shown)."""
    from models.repo.audit import record
    from models.repo.cycles import get_cycle

    get_cycle(session=session, cycle_id=cycle_id)  # 404 for an unknown cycle, before any row
    row = settings_of(session=session, cycle_id=cycle_id)
    stage = get_stage(session=session, cycle_id=cycle_id)
    before = row.model_dump()
    for key, (low, high) in SETTING_LIMITS.items():
        if key not in values:
            continue
        value = int(values[key])  # type: ignore[call-overload]
        if not low <= value <= high:
            raise InvalidInput(f"Nilai '{key}' harus antara {low} dan {high}.",
                               f"'{key}' must be between {low} and {high}.")
        if key != "ambang" and stage.opened_at is not None and value != getattr(row, key):
            raise InvalidTransition("umpan_balik", "opened", "settings",
                                    "Aturan penugasan tidak dapat diubah setelah tahap dibuka; "
                                    "hanya ambang yang masih dapat diubah.",
                                    "The assignment rule cannot change once the stage opened; "
                                    "only the threshold can.")
        setattr(row, key, value)
    for key in ("ikut_ppk", "ikut_diri"):
        if key in values and bool(values[key]) != getattr(row, key):
            if stage.opened_at is not None:
                raise InvalidTransition("umpan_balik", "opened", "settings",
                                        "Aturan penugasan tidak dapat diubah setelah tahap dibuka.",
                                        "The assignment rule cannot change once the stage opened.")
            setattr(row, key, bool(values[key]))
    if stage.closed_at is not None and row.ambang != before["ambang"]:
        raise InvalidTransition("umpan_balik", "closed", "settings",
                                "Tahap sudah ditutup; ambang tidak dapat diubah lagi.",
                                "The stage is closed; the threshold can no longer change.")
    session.add(row)
    record(session=session, now=now, actor=actor, action="umpan_balik.pengaturan",
           entity="cycle", entity_id=cycle_id, before=before, after=row.model_dump())
    return row


def progress(*, session: Session, cycle_id: int) -> dict[str, int]:
    """Counts only: forms assigned, confirmed, answered; people rated."""
    total, confirmed, answered = session.execute(select(
        func.count(), func.coalesce(func.sum(func.cast(Penilai360.ditetapkan, type_=_int())), 0),
        func.coalesce(func.sum(func.cast(Penilai360.selesai, type_=_int())), 0))
        .where(Penilai360.cycle_id == cycle_id, Penilai360.aktif)).one()
    rated = session.execute(select(func.count(func.distinct(Penilai360.dinilai_id))).where(
        Penilai360.cycle_id == cycle_id, Penilai360.aktif)).scalar_one()
    return {"penugasan": int(total), "ditetapkan": int(confirmed), "jawaban": int(answered),
            "dinilai": int(rated)}
