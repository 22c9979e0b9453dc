"""What people do to an SKP through their task links: edit, submit, approve, return."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlmodel import Session

from models.db import insert_new
from models.repo.locking import bump_version
from models.repo.outbox import enqueue_messages
from models.repo.rows import Joined, Stacked
from models.rules import skp as rules
from models.rules.enums import (
    ArahIki,
    AspekIki,
    JenisIki,
    JenisJabatan,
    JenisRhk,
    NilaiBerakhlak,
    SkpStatus,
    StageCode,
    TaskKind,
    TaskStatus,
)
from models.rules.errors import InvalidInput, InvalidTransition
from models.rules.reminders import next_reminder_at
from models.rules.texts import format_datetime
from models.rules.tokens import Links
from models.tables import (
    Cycle,
    CycleStage,
    Iki,
    Pegawai,
    Perilaku,
    Realisasi,
    Rhk,
    Skp,
    SkpEvent,
    SkpVersi,
    Task,
)
from models.tables.skp import TASK_KEY


@dataclass
class SkpView:
    skp: Skp
    pegawai: Pegawai
    atasan: Pegawai | None
    rhk: list[Rhk]
    iki: dict[int, list[Iki]]
    perilaku: list[Perilaku]
    atasan_skp: Skp | None = None
    atasan_rhk: list[Rhk] = field(default_factory=list)
    events: list[SkpEvent] = field(default_factory=list)

    @property
    def editable(self) -> bool:
        """The pegawai may still change it (the stage being open is checked by the caller)."""
        return self.skp.status in rules.EDITABLE

    @property
    def in_revision(self) -> bool:
        """Reopened after approval during the year and not approved again yet."""
        return self.skp.revisi > 0 and self.skp.status != SkpStatus.DISETUJUI

    @property
    def decidable(self) -> bool:
        """The PPK may approve or return it now."""
        return (self.skp.status, "setujui") in rules.TRANSITIONS

    @property
    def decided_by_hr(self) -> bool:
        """No superior in the data (the Sekda): HR records the PPK's decision."""
        return self.atasan is None

    @property
    def cascade(self) -> rules.CascadeContext:
        needs = self.atasan is not None and self.pegawai.jenis_jabatan != JenisJabatan.JPT
        return rules.CascadeContext(needs, self.atasan.nama if self.atasan else "",
                                    frozenset(r.id for r in self.atasan_rhk))

    def drafts(self) -> list[rules.RhkDraft]:
        return [rules.RhkDraft(r.jenis, r.uraian, r.intervensi_rhk_id, tuple(
            rules.IkiDraft(i.indikator, i.target, i.satuan) for i in self.iki.get(r.id, [])))
            for r in self.rhk]


class _ViewQueries:
    """The SKP view's statements as ORM objects (what changes the SKP), built once with bind
    parameters (building a statement costs about as much as running it on a page that makes
    several)."""

    def __init__(self) -> None:
        self.skp_of = select(Skp).where(Skp.cycle_id == bindparam("cycle_id"),
                                        Skp.pegawai_id == bindparam("pegawai_id"))
        self.atasan_with_skp = (
            select(Pegawai, Skp).outerjoin(Skp, and_(Skp.pegawai_id == Pegawai.id,
                                                     Skp.cycle_id == bindparam("cycle_id")))
            .where(Pegawai.id == bindparam("atasan_id")))
        self.rhk = select(Rhk).where(Rhk.skp_id.in_(bindparam("skp_ids", expanding=True)))
        self.iki = (select(Iki).where(Iki.rhk_id.in_(bindparam("rhk_ids", expanding=True)))
                    .order_by(Iki.id))
        self.perilaku = select(Perilaku).where(Perilaku.skp_id == bindparam("skp_id"))
        self.events = select(SkpEvent).where(SkpEvent.skp_id == bindparam("skp_id")).order_by(
            SkpEvent.id)


class _RowQueries:
    """The same view as read-only rows, for a page that only shows it, in one statement on
    the session's connection (rows.Stacked): both SKPs' RHK with the IKI of the person's own
    (one join), the behaviour rows, the history. Through the session even a plain select
    goes through the ORM's loading (0.10 ms a statement against 0.03 ms), and under load each
    statement also waits for Python's lock when the driver hands it back."""

    def __init__(self) -> None:
        rhk, iki = Rhk.__table__, Iki.__table__
        perilaku, events = Perilaku.__table__, SkpEvent.__table__
        rhk_iki = Joined([("rhk", rhk), ("iki", iki)])
        self.view = Stacked([
            ("rhk", rhk_iki, select(*rhk_iki.columns).select_from(rhk)
             .outerjoin(iki, and_(iki.c.rhk_id == rhk.c.id, rhk.c.skp_id == bindparam("skp_id")))
             .where(rhk.c.skp_id.in_([bindparam("skp_id"), bindparam("atasan_skp_id")]))),
            ("perilaku", Joined([("perilaku", perilaku)]),
             select(perilaku).select_from(perilaku).where(perilaku.c.skp_id == bindparam("skp_id"))),
            ("events", Joined([("event", events)]),
             select(events).select_from(events).where(events.c.skp_id == bindparam("skp_id")))])


_ORM, _ROWS = _ViewQueries(), _RowQueries()
_BERAKHLAK_ORDER = {v: n for n, v in enumerate(NilaiBerakhlak)}
_JENIS_ORDER = {v: n for n, v in enumerate(JenisRhk)}


def _rhk_order(r: Any) -> tuple[int, int, int]:
    """Main RHK first, then additional ones; each in the person's order."""
    return _JENIS_ORDER[r.jenis], r.urutan, r.id


def skp_of(*, session: Session, cycle_id: int, pegawai_id: int) -> Skp | None:
    """The person's SKP in the cycle."""
    return session.execute(_ORM.skp_of, {"cycle_id": cycle_id,
                                         "pegawai_id": pegawai_id}).scalars().first()


def load_view(*, session: Session, skp: Skp) -> SkpView:
    """The SKP with what its pages show, in five queries: the superior and their SKP, both
    SKPs' RHK together (main ones first, on either database: PostgreSQL orders its enum by
    declaration, SQLite by text), then IKI, behaviour rows and the history."""
    q = _ORM
    pegawai = session.get(Pegawai, skp.pegawai_id)  # on a task page: the link's, no query
    atasan = atasan_skp = None
    if pegawai.atasan_id:
        row = session.execute(q.atasan_with_skp, {"cycle_id": skp.cycle_id,
                                                  "atasan_id": pegawai.atasan_id}).first()
        atasan, atasan_skp = row if row else (None, None)
    skp_ids = [skp.id] + ([atasan_skp.id] if atasan_skp else [])
    rhk: list[Rhk] = []
    atasan_rhk: list[Rhk] = []
    for r in sorted(session.execute(q.rhk, {"skp_ids": skp_ids}).scalars(), key=_rhk_order):
        (rhk if r.skp_id == skp.id else atasan_rhk).append(r)
    iki: dict[int, list[Iki]] = {}
    if rhk:
        for i in session.execute(q.iki, {"rhk_ids": [r.id for r in rhk]}).scalars():
            iki.setdefault(i.rhk_id, []).append(i)
    perilaku = sorted(session.execute(q.perilaku, {"skp_id": skp.id}).scalars(),
                      key=lambda p: _BERAKHLAK_ORDER[p.nilai])
    view = SkpView(skp, pegawai, atasan, rhk, iki, perilaku, atasan_skp, atasan_rhk)
    view.events = list(session.execute(q.events, {"skp_id": skp.id}).scalars())
    return view


def load_view_rows(*, session: Session, skp: Any, pegawai: Any, atasan: Any,
                   atasan_skp: Any) -> SkpView:
    """load_view for a page that only shows it, from read-only records the caller has already
    (a task link as rows: TaskLink.rows): every part is a read-only row, nothing is tracked by
    the session, and what the session holds unflushed is not seen (for a request that has
    changed nothing yet). One statement; RHK in the order of load_view (main ones first)."""
    found = _ROWS.view.split(session.connection().execute(_ROWS.view.statement, {
        "skp_id": skp.id, "atasan_skp_id": atasan_skp.id if atasan_skp else None}))
    rhk: dict[int, Any] = {}
    atasan_rhk: dict[int, Any] = {}
    iki: dict[int, list[Any]] = {}
    for part in found["rhk"]:  # one row per IKI of the person's own RHK
        r, i = part["rhk"], part["iki"]
        (rhk if r.skp_id == skp.id else atasan_rhk)[r.id] = r
        if i is not None:
            iki.setdefault(r.id, []).append(i)
    view = SkpView(skp, pegawai, atasan, sorted(rhk.values(), key=_rhk_order), 
                   {k: sorted(v, key=lambda i: i.id) for k, v in iki.items()},
                   sorted((p["perilaku"] for p in found["perilaku"]),
                          key=lambda p: _BERAKHLAK_ORDER[p.nilai]),
                   atasan_skp, sorted(atasan_rhk.values(), key=_rhk_order))
    view.events = sorted((e["event"] for e in found["events"]), key=lambda e: e.id)
    return view


#: the last change of an SKP, as the person whose write lost to it reads it (who + this)
CHANGE_LABEL = {"rhk.tambah": ("menambah RHK", "added an RHK"),
                "rhk.hapus": ("menghapus RHK", "deleted an RHK"),
                "iki.tambah": ("menambah IKI", "added an IKI"),
                "iki.hapus": ("menghapus IKI", "deleted an IKI"),
                "ajukan": ("mengajukannya", "submitted it"),
                "setujui": ("menyetujuinya", "approved it"),
                "kembalikan": ("mengembalikannya", "returned it"),
                "ekspektasi": ("mengubah ekspektasi khusus", "changed the specific expectations"),
                "revisi": ("membukanya untuk revisi", "reopened it for a revision")}


def _stale(session: Session, skp: Skp | Any) -> InvalidTransition:
    """Someone changed the SKP since this request read it: say who, what they did, and the
    status it is in now (`skp` is the row as it is now)."""
    with session.no_autoflush:
        last = session.execute(select(SkpEvent.action, SkpEvent.actor_id).where(
            SkpEvent.skp_id == skp.id).order_by(SkpEvent.id.desc()).limit(1)).first()
    status = SkpStatus(skp.status)
    now_id = f"status SKP sekarang: {rules.STATUS_LABEL_ID[status]}"
    now_en = f"it is now '{rules.STATUS_LABEL_EN[status]}'"
    if last is None:
        what_id, what_en = "SKP ini baru saja diubah di tempat lain", "This SKP was just changed"
    else:
        who = (("pegawai", "the employee") if last.actor_id == skp.pegawai_id
               else ("Pengelola Kinerja", "HR") if last.actor_id is None else ("PPK", "the PPK"))
        did = CHANGE_LABEL.get(last.action, ("mengubahnya", "changed it"))
        what_id = f"SKP ini baru saja diubah: {who[0]} {did[0]}"
        what_en = f"This SKP was just changed: {who[1]} {did[1]}"
    return InvalidTransition("skp", status.value, "edit",
                             f"{what_id}; {now_id}. Muat ulang halaman lalu ulangi.",
                             f"{what_en}; {now_en}. Reload and retry.")


def _check_version(session: Session, skp: Skp, expected: int | None) -> None:
    if expected is not None and expected != skp.version:
        raise _stale(session, skp)


def _touch(session: Session, skp: Skp, now: datetime, actor_id: int | None, action: str,
           comment: str | None = None) -> None:
    """Record the change; the write fails with 409 if someone else changed the SKP meanwhile."""
    bump_version(session, skp, lambda current: _stale(session, current))
    skp.updated_at = now
    session.add(skp)
    session.add(SkpEvent(skp_id=skp.id, at=now, actor_id=actor_id, action=action, comment=comment))


def _text(value: str, name_id: str, name_en: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{name_id} wajib diisi.", f"{name_en} is required.")
    if len(value) > limit:
        raise InvalidInput(f"{name_id} terlalu panjang (maks. {limit} karakter).",
                           f"{name_en} is too long (max {limit} characters).")
    return value


@dataclass(frozen=True)
class IkiInput:
    indikator: str
    target: str
    satuan: str
    aspek: str = AspekIki.KUANTITAS.value
    jenis: str = JenisIki.KUANTITATIF.value
    arah: str = ArahIki.NAIK.value

    def build(self, rhk_id: int) -> Iki:
        try:
            aspek, jenis, arah = AspekIki(self.aspek), JenisIki(self.jenis), ArahIki(self.arah)
        except ValueError:
            raise InvalidInput("Aspek, jenis atau arah IKI tidak dikenali.",
                               "Unknown IKI aspect, type or direction.") from None
        return Iki(rhk_id=rhk_id, indikator=_text(self.indikator, "Indikator", "Indicator", 1000),
                   target=_text(self.target, "Target", "Target", 200),
                   satuan=_text(self.satuan, "Satuan", "Unit", 100), aspek=aspek, jenis=jenis,
                   arah=arah)


def add_rhk(*, session: Session, view: SkpView, jenis: str, uraian: str,
            intervensi_rhk_id: int | None, iki: IkiInput | None, now: datetime,
            expected_version: int | None = None) -> Rhk:
    """Add an RHK (and optionally its first IKI) to an editable SKP."""
    skp = view.skp
    rules.ensure_editable(skp.status)
    _check_version(session, skp, expected_version)
    try:
        jenis_rhk = JenisRhk(jenis)
    except ValueError:
        raise InvalidInput("Jenis RHK harus utama atau tambahan.",
                           "RHK type must be utama or tambahan.") from None
    if intervensi_rhk_id is not None and intervensi_rhk_id not in {r.id for r in view.atasan_rhk}:
        raise InvalidInput("RHK atasan yang dipilih tidak ditemukan pada SKP atasan Anda.",
                           "The chosen superior RHK is not on your superior's SKP.")
    rhk = Rhk(skp_id=skp.id, jenis=jenis_rhk, uraian=_text(uraian, "Uraian RHK", "RHK", 1000),
              intervensi_rhk_id=intervensi_rhk_id, urutan=len(view.rhk) + 1)
    session.add(rhk)
    session.flush()
    if iki is not None:
        session.add(iki.build(rhk.id))
    _touch(session, skp, now, skp.pegawai_id, "rhk.tambah")
    return rhk


def delete_rhk(*, session: Session, view: SkpView, rhk_id: int, now: datetime) -> None:
    """Remove an RHK; refused while a subordinate's RHK is linked to it."""
    rules.ensure_editable(view.skp.status)
    rhk = next((r for r in view.rhk if r.id == rhk_id), None)
    if rhk is None:
        raise InvalidInput("RHK tidak ditemukan pada SKP ini.", "RHK not found on this SKP.")
    linked = session.execute(select(func.count()).select_from(Rhk).where(
        Rhk.intervensi_rhk_id == rhk_id)).scalar_one()
    if linked:
        raise InvalidTransition("rhk", "linked", "delete",
                                f"RHK ini dirujuk oleh {linked} RHK bawahan; minta bawahan "
                                "mengubah kaitannya dahulu, atau ubah uraiannya saja.",
                                f"{linked} subordinate RHK are linked to this RHK; ask them to "
                                "re-link first.")
    _ensure_no_realisasi(session, [i.id for i in view.iki.get(rhk_id, [])])
    session.execute(Iki.__table__.delete().where(Iki.rhk_id == rhk_id))
    session.delete(rhk)
    _touch(session, view.skp, now, view.skp.pegawai_id, "rhk.hapus")


def add_iki(*, session: Session, view: SkpView, rhk_id: int, iki: IkiInput,
            now: datetime) -> Iki:
    rules.ensure_editable(view.skp.status)
    if rhk_id not in {r.id for r in view.rhk}:
        raise InvalidInput("RHK tidak ditemukan pada SKP ini.", "RHK not found on this SKP.")
    row = iki.build(rhk_id)
    session.add(row)
    _touch(session, view.skp, now, view.skp.pegawai_id, "iki.tambah")
    return row


def delete_iki(*, session: Session, view: SkpView, iki_id: int, now: datetime) -> None:
    rules.ensure_editable(view.skp.status)
    row = next((i for lst in view.iki.values() for i in lst if i.id == iki_id), None)
    if row is None:
        raise InvalidInput("IKI tidak ditemukan pada SKP ini.", "IKI not found on this SKP.")
    _ensure_no_realisasi(session, [iki_id])
    session.delete(row)
    _touch(session, view.skp, now, view.skp.pegawai_id, "iki.hapus")


def _ensure_no_realisasi(session: Session, iki_ids: list[int]) -> None:
    """An IKI with realisasi recorded keeps its history: it cannot be deleted in a revision."""
    n = session.execute(select(func.count()).select_from(Realisasi).where(
        Realisasi.iki_id.in_(iki_ids or [-1]))).scalar_one()
    if n:
        raise InvalidTransition("iki", "has_realisasi", "delete",
                                f"IKI ini sudah memiliki {n} realisasi periodik, sehingga tidak "
                                "dapat dihapus. Ubah targetnya atau tambahkan IKI baru.",
                                f"This IKI already has {n} periodic realisasi and cannot be "
                                "deleted. Change its target or add a new IKI.")


def task_of(*, session: Session, cycle_id: int, kind: TaskKind, pegawai_id: int,
            periode: int | None = None, for_update: bool = False) -> Task | None:
    """The person's task of this kind (of this period, when given). `for_update` to decide
    its status: read afresh and locked (PostgreSQL; SQLite's writer already holds the lock),
    since a request that loaded it earlier (its own link's task) holds it as it was then, and
    a stage's closing or HR may have closed it meanwhile; writing the old state back would
    undo that."""
    query = select(Task).where(Task.cycle_id == cycle_id, Task.kind == kind,
                               Task.pegawai_id == pegawai_id)
    if periode is not None:
        query = query.where(Task.periode == periode)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def insert_tasks(*, session: Session, cycle: Cycle, now: datetime,
                 wanted: Iterable[tuple[str, int, int, datetime]]) -> list[tuple[int, str, int]]:
    """Create those of these tasks (kind, pegawai id, period, due) that do not exist yet, open,
    their first reminder planned, in one statement; (id, kind, pegawai id) of each one made.
    A task a racing writer made meanwhile (the same cycle, kind, person and period) is skipped,
    not an error: that writer also queued its invitation. (The soak of 2026-11-24: the minute's
    sweep and the 360 stage's opening both made one rater's task, and the sweep's run failed.)"""
    wanted = list(wanted)
    have: set[tuple[str, int, int]] = set()
    pids = sorted({pid for _, pid, _, _ in wanted})
    for i in range(0, len(pids), 900):  # existing ones are not inserted again (a re-run)
        have.update(session.execute(select(Task.kind, Task.pegawai_id, Task.periode).where(
            Task.cycle_id == cycle.id, Task.pegawai_id.in_(pids[i:i + 900]),
            Task.kind.in_({str(k) for k, _, _, _ in wanted}),
            Task.periode.in_({p for _, _, p, _ in wanted}))).tuples())
    wanted = [w for w in wanted if (str(w[0]), w[1], w[2]) not in have]
    rows = [{"cycle_id": cycle.id, "kind": kind, "pegawai_id": pid, "periode": periode,
             "status": TaskStatus.OPEN, "due_at": due, "created_at": now, "reminders_sent": 0,
             "next_reminder_at": next_reminder_at(due_at=due, offsets_minutes=cycle.reminder_offsets,
                                                  sent=0, created_at=now)}
            for kind, pid, periode, due in sorted(wanted, key=lambda w: (str(w[0]), w[1], w[2]))]
    # in key order: two writers inserting overlapping sets wait on each other in one order
    # (ON CONFLICT waits for the other's uncommitted row), never in a cycle (a deadlock)
    if not rows:
        return []
    made = session.execute(insert_new(session, Task, TASK_KEY, Task.id, Task.kind,
                                      Task.pegawai_id), rows)
    return [(tid, str(kind), pid) for tid, kind, pid in made]


@dataclass(frozen=True)
class Mail:
    """What actions need to queue email: links, agency name, language."""

    links: Links
    agency: str
    language: str = "id"


def _ctx(cycle: Cycle, nama: str, mail: Mail) -> dict[str, object]:
    return {"agency_name": mail.agency, "nama": nama, "tahun": cycle.tahun}


def submit(*, session: Session, view: SkpView, now: datetime, mail: Mail,
           expected_version: int | None = None) -> Skp:
    """Pegawai submits: checks completeness, notifies the PPK, opens the PPK's task."""
    skp = view.skp
    _check_version(session, skp, expected_version)
    new_status = rules.next_status(skp.status, "ajukan")
    rules.check_submit(view.drafts(), view.cascade)
    skp.status, skp.submitted_at, skp.submissions = new_status, now, skp.submissions + 1
    skp.return_comment = None
    _touch(session, skp, now, skp.pegawai_id, "ajukan")
    cycle, stage = session.get(Cycle, skp.cycle_id), _stage(session, skp.cycle_id)
    # HR may have closed the task on the person's behalf meanwhile: their closing stays
    own = task_of(session=session, cycle_id=skp.cycle_id, kind=TaskKind.SUSUN_SKP,
                  pegawai_id=skp.pegawai_id, for_update=True)
    if own and own.status == TaskStatus.OPEN:
        own.status, own.done_at = TaskStatus.DONE, now
        session.add(own)
    if view.atasan is None:  # no superior in the system (e.g. the Sekda): HR decides
        _tell_hr_no_ppk(session, cycle, view, now, mail)
        return skp
    review = _ensure_review_task(session, cycle, stage, view.atasan.id, now)
    enqueue_messages(session=session, now=now, messages=[
        _submitted_notice(cycle, stage, skp, view.pegawai, view.atasan, review, now, mail)])
    return skp


def _submitted_notice(cycle: Cycle, stage: CycleStage, skp: Skp, pegawai: Pegawai, ppk: Pegawai,
                      review: Task, now: datetime, mail: Mail) -> dict[str, object]:
    """Tell the PPK an SKP waits; keyed per PPK, so a new superior is told too."""
    return {"key": f"submitted:{skp.id}:{skp.submissions}:{ppk.id}", "kind": "skp_diajukan",
            "to_email": ppk.email, "pegawai_id": ppk.id, "language": mail.language,
            "context": _ctx(cycle, ppk.nama, mail) | {
                "link": mail.links.task(review.id, ppk.id, now), "pegawai_nama": pegawai.nama,
                "pegawai_nip": pegawai.nip,
                "due": format_datetime(max(stage.approve_due_at, now), cycle.timezone,
                                       mail.language)}}


def ensure_review_tasks(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                        mail: Mail) -> int:
    """Every PPK with submitted SKPs waiting has an open review task and was told of each one,
    including a superior who took over after a transfer. Returns how many PPKs were fixed."""
    from sqlalchemy import and_, exists

    has_open = exists().where(and_(Task.cycle_id == cycle.id, Task.kind == TaskKind.SETUJUI_SKP,
                                   Task.pegawai_id == Pegawai.atasan_id,
                                   Task.status == TaskStatus.OPEN))
    query = select(Skp, Pegawai).join(Pegawai, Pegawai.id == Skp.pegawai_id).where(
        Skp.cycle_id == cycle.id, Skp.status == SkpStatus.DIAJUKAN, Pegawai.atasan_id.is_not(None),
        ~has_open)
    if stage.closed_at is not None:  # after planning only revisions of approved SKPs are live
        query = query.where(Skp.revisi > 0)
    rows = session.execute(query).all()
    if not rows:
        return 0
    from models.repo.people import pegawai_by_id

    ppks = pegawai_by_id(session=session, ids=[p.atasan_id for _, p in rows])
    reviews = {pid: _ensure_review_task(session, cycle, stage, pid, now) for pid in ppks}
    enqueue_messages(session=session, now=now, messages=[
        _submitted_notice(cycle, stage, skp, p, ppks[p.atasan_id], reviews[p.atasan_id], now, mail)
        for skp, p in rows])
    return len(ppks)


def _tell_hr_no_ppk(session: Session, cycle: Cycle, view: SkpView, now: datetime,
                    mail: Mail) -> None:
    from models.repo.people import hr_admin_emails

    link = f"{mail.links.base_url.rstrip('/')}/hr/cycles/{cycle.id}#tanpa-ppk"
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"submitted:{view.skp.id}:{view.skp.submissions}:{email}", "kind": "skp_diajukan",
        "to_email": email, "language": mail.language,
        "context": _ctx(cycle, nama, mail) | {
            "link": link, "pegawai_nama": view.pegawai.nama, "pegawai_nip": view.pegawai.nip,
            "due": format_datetime(max(_stage(session, cycle.id).approve_due_at, now),
                                   cycle.timezone, mail.language)}}
        for nama, email in hr_admin_emails(session=session)])


def without_ppk(*, session: Session, cycle_id: int) -> list[tuple[Pegawai, Skp]]:
    """Submitted SKPs of people with no superior in the system: HR approves or returns them."""
    return list(session.execute(select(Pegawai, Skp).join(Skp, Skp.pegawai_id == Pegawai.id).where(
        Skp.cycle_id == cycle_id, Pegawai.atasan_id.is_(None), Skp.status == SkpStatus.DIAJUKAN)
        .order_by(Pegawai.nama)))


def _stage(session: Session, cycle_id: int) -> CycleStage:
    return session.execute(select(CycleStage).where(
        CycleStage.cycle_id == cycle_id, CycleStage.code == StageCode.PERENCANAAN)).scalar_one()


def _ensure_review_task(session: Session, cycle: Cycle, stage: CycleStage, ppk_id: int,
                        now: datetime) -> Task:
    task = task_of(session=session, cycle_id=cycle.id, kind=TaskKind.SETUJUI_SKP,
                   pegawai_id=ppk_id)
    due = _review_due(cycle, stage, now)
    if task is None:
        # two subordinates' submits, or a submit and the sweep, may make it at once: made with
        # ON CONFLICT DO NOTHING, then read as it is (ours or the other writer's), locked
        insert_tasks(session=session, cycle=cycle, now=now,
                     wanted=[(TaskKind.SETUJUI_SKP, ppk_id, 0, due)])
        task = task_of(session=session, cycle_id=cycle.id, kind=TaskKind.SETUJUI_SKP,
                       pegawai_id=ppk_id, for_update=True)
    elif task.status != TaskStatus.OPEN and task.due_at < due:
        task.due_at, task.reminders_sent, task.created_at = due, 0, now
    task.status, task.done_at = TaskStatus.OPEN, None
    reschedule(task, cycle.reminder_offsets)
    session.add(task)
    session.flush()
    return task


def _review_due(cycle: Cycle, stage: CycleStage, now: datetime) -> datetime:
    """The PPK's deadline: the stage's, or for a revision after planning closed the review SLA."""
    if stage.closed_at is None:
        return stage.approve_due_at
    return now + timedelta(minutes=max(cycle.review_sla_minutes, 1440))


@dataclass(frozen=True)
class Approver:
    """Who decides: the PPK (a pegawai), or HR for someone with no superior in the system."""

    pegawai_id: int | None
    nama: str


def decide(*, session: Session, view: SkpView, ppk: Approver, approve: bool, comment: str,
           now: datetime, mail: Mail, expected_version: int | None = None) -> Skp:
    """PPK approves, or returns with a comment; the pegawai is told by email either way."""
    skp = view.skp
    _check_version(session, skp, expected_version)
    new_status = rules.next_status(skp.status, "setujui" if approve else "kembalikan")
    comment = (comment or "").strip()
    if len(comment) > 3000:
        raise InvalidInput("Catatan terlalu panjang (maks. 3000 karakter).",
                           "The note is too long (max 3000 characters).")
    if not approve and not comment:
        raise InvalidInput("Tuliskan alasan pengembalian agar pegawai tahu apa yang diperbaiki.",
                           "Write why the SKP is returned so the employee knows what to fix.")
    skp.status = new_status
    if approve:
        skp.approved_at, skp.approved_by_id = now, ppk.pegawai_id
        skp.revisi_alasan = None
    else:
        skp.return_comment = comment
    note = comment or None
    if ppk.pegawai_id is None:
        note = f"[{ppk.nama}] {comment}".strip()
    _touch(session, skp, now, ppk.pegawai_id, "setujui" if approve else "kembalikan", note)
    cycle, stage = session.get(Cycle, skp.cycle_id), _stage(session, skp.cycle_id)
    own = task_of(session=session, cycle_id=skp.cycle_id, kind=TaskKind.SUSUN_SKP,
                  pegawai_id=skp.pegawai_id)
    if own and not approve:
        own.status, own.done_at = TaskStatus.OPEN, None
        reschedule(own, cycle.reminder_offsets)
        session.add(own)
    ctx = _ctx(cycle, view.pegawai.nama, mail) | {
        "ppk_nama": ppk.nama, "link": mail.links.task(own.id, skp.pegawai_id, now)}
    if approve:
        kind, key = "skp_disetujui", f"approved:{skp.id}"
    else:
        kind, key = "skp_dikembalikan", f"returned:{skp.id}:{skp.submissions}"
        ctx |= {"comment": skp.return_comment,
                "due": format_datetime(max(stage.due_at, now), cycle.timezone, mail.language)}
    enqueue_messages(session=session, now=now, messages=[{
        "key": key, "kind": kind, "to_email": view.pegawai.email, "pegawai_id": skp.pegawai_id,
        "language": mail.language, "context": ctx}])
    if ppk.pegawai_id is not None:
        _close_review_if_done(session, cycle.id, ppk.pegawai_id, now)
    if approve:
        session.flush()
        _snapshot(session, view, now)
        from models.repo.monitoring import join_open_periods

        join_open_periods(session=session, skp=skp, now=now, mail=mail)
    return skp


def _snapshot(session: Session, view: SkpView, now: datetime) -> SkpVersi:
    """Keep the SKP as approved: each approval (the first and every revision) is a version."""
    skp = view.skp
    nomor = session.execute(select(func.count()).select_from(SkpVersi).where(
        SkpVersi.skp_id == skp.id)).scalar_one() + 1
    revisi_alasan = next((e.comment for e in reversed(view.events) if e.action == "revisi"), None)
    data = {"rhk": [{"id": r.id, "jenis": r.jenis.value, "uraian": r.uraian,
                     "intervensi_rhk_id": r.intervensi_rhk_id,
                     "iki": [{"id": i.id, "indikator": i.indikator, "aspek": i.aspek.value,
                              "jenis": i.jenis.value, "target": i.target, "satuan": i.satuan,
                              "arah": i.arah.value} for i in view.iki.get(r.id, [])]}
                    for r in view.rhk],
            "perilaku": [{"nilai": p.nilai.value, "ekspektasi_khusus": p.ekspektasi_khusus}
                         for p in view.perilaku]}
    row = SkpVersi(skp_id=skp.id, nomor=nomor, approved_at=now, approved_by_id=skp.approved_by_id,
                   alasan=revisi_alasan if nomor > 1 else None, data=data)
    session.add(row)
    return row


def versions(*, session: Session, skp_id: int) -> list[SkpVersi]:
    return list(session.execute(select(SkpVersi).where(SkpVersi.skp_id == skp_id)
                                .order_by(SkpVersi.nomor)).scalars())


REVISION_DAYS = 7


def open_revision(*, session: Session, view: SkpView, alasan: str, now: datetime, mail: Mail,
                  actor_id: int | None, actor_label: str = "") -> Skp:
    """Reopen an approved SKP during the year (a new assignment, a transfer): the pegawai edits
    it again and it goes back through the PPK's approval. The approved version is kept; the
    realisasi already recorded stay with their IKI."""
    skp = view.skp
    new_status = rules.next_status(skp.status, "revisi")
    reason = _text(alasan, "Alasan perubahan", "Reason for the revision", 2000)
    if skp.approved_at is not None and not session.execute(select(SkpVersi.id).where(
            SkpVersi.skp_id == skp.id)).first():
        _snapshot(session, view, skp.approved_at)  # approved before versions were kept
    skp.status, skp.revisi, skp.revisi_alasan = new_status, skp.revisi + 1, reason
    _touch(session, skp, now, actor_id, "revisi", f"[{actor_label}] {reason}" if actor_label
           else reason)
    cycle = session.get(Cycle, skp.cycle_id)
    own = task_of(session=session, cycle_id=skp.cycle_id, kind=TaskKind.SUSUN_SKP,
                  pegawai_id=skp.pegawai_id)
    due = now + timedelta(days=REVISION_DAYS)
    if own is None:
        own = Task(cycle_id=skp.cycle_id, kind=TaskKind.SUSUN_SKP, pegawai_id=skp.pegawai_id,
                   due_at=due, created_at=now)
    own.status, own.done_at, own.due_at, own.created_at, own.reminders_sent = (
        TaskStatus.OPEN, None, due, now, 0)
    session.add(own)
    session.flush()
    reschedule(own, cycle.reminder_offsets)
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"revision:{skp.id}:{skp.revisi}", "kind": "skp_revisi_dibuka",
        "to_email": view.pegawai.email, "pegawai_id": skp.pegawai_id, "language": mail.language,
        "context": _ctx(cycle, view.pegawai.nama, mail) | {
            "link": mail.links.task(own.id, skp.pegawai_id, now), "alasan": reason,
            "due": format_datetime(due, cycle.timezone, mail.language)}}])
    return skp


def reschedule(task: Task, offsets: list[int]) -> None:
    """Set when the reminder sweep must next look at this task."""
    task.next_reminder_at = next_reminder_at(due_at=task.due_at, offsets_minutes=offsets,
                                             sent=task.reminders_sent, created_at=task.created_at)


def _close_review_if_done(session: Session, cycle_id: int, ppk_id: int, now: datetime) -> None:
    waiting = session.execute(select(func.count()).select_from(Skp).join(
        Pegawai, Pegawai.id == Skp.pegawai_id).where(
        Skp.cycle_id == cycle_id, Pegawai.atasan_id == ppk_id,
        Skp.status != SkpStatus.DISETUJUI)).scalar_one()
    if waiting == 0:
        task = task_of(session=session, cycle_id=cycle_id, kind=TaskKind.SETUJUI_SKP,
                       pegawai_id=ppk_id, for_update=True)
        if task and task.status == TaskStatus.OPEN:
            task.status, task.done_at = TaskStatus.DONE, now
            session.add(task)


def set_ekspektasi(*, session: Session, view: SkpView, values: dict[str, str],
                   now: datetime, ppk_id: int) -> None:
    """The PPK writes specific expectations per BerAKHLAK value (allowed until approval)."""
    if view.skp.status == SkpStatus.DISETUJUI:
        raise rules._wrong_state(view.skp.status, "ubah")
    for p in view.perilaku:
        text = (values.get(p.nilai.value) or "").strip()[:1000] or None
        if text != p.ekspektasi_khusus:
            p.ekspektasi_khusus = text
            session.add(p)
    _touch(session, view.skp, now, ppk_id, "ekspektasi")


def notify_cascade_wait(*, session: Session, view: SkpView, now: datetime, mail: Mail) -> bool:
    """Tell a superior without RHK that a subordinate waits to link to them (once per cycle)."""
    if not view.cascade.needs_intervensi or view.atasan_rhk or view.atasan is None:
        return False
    cycle = session.get(Cycle, view.skp.cycle_id)
    task = task_of(session=session, cycle_id=cycle.id, kind=TaskKind.SUSUN_SKP,
                   pegawai_id=view.atasan.id)
    if task is None:
        return False
    return bool(enqueue_messages(session=session, now=now, messages=[{
        "key": f"cascade-wait:{cycle.id}:{view.atasan.id}", "kind": "menunggu_rhk_atasan",
        "to_email": view.atasan.email, "pegawai_id": view.atasan.id, "language": mail.language,
        "context": _ctx(cycle, view.atasan.nama, mail) | {
            "link": mail.links.task(task.id, view.atasan.id, now),
            "bawahan_nama": view.pegawai.nama}}]))


def subordinates_skp(*, session: Session, cycle_id: int, ppk_id: int) -> list[tuple[Pegawai, Skp]]:
    """The PPK's current direct subordinates with their SKP in this cycle."""
    rows = session.execute(select(Pegawai, Skp).join(Skp, Skp.pegawai_id == Pegawai.id).where(
        Skp.cycle_id == cycle_id, Pegawai.atasan_id == ppk_id, Pegawai.active)
        .order_by(Pegawai.nama))
    return list(rows)
