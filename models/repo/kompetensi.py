"""Competency self-assessment in the 360 stage: opening it (rating rows, tasks, invitations),
reminders, the pegawai's and the PPK's ratings, closing it into training recommendations, and
HR's competency list and training catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlmodel import Session

from models.repo.audit import close_open_tasks, record
from models.repo.outbox import enqueue_messages
from models.repo.people import pegawai_by_id
from models.repo.skp import Mail, insert_tasks, reschedule, task_of
from models.rules import kompetensi as rules
from models.rules.enums import StageCode, TaskKind, TaskStatus
from models.rules.errors import InvalidInput, InvalidTransition
from models.rules.texts import format_datetime
from models.tables import (
    Cycle,
    CycleStage,
    Kompetensi,
    Pegawai,
    Pelatihan,
    Pengaturan360,
    PenilaianKompetensi,
    RekomendasiPelatihan,
    Task,
)

PAGE = 2000

# -- the stage: open, remind, close -----------------------------------------------------------


def kompetensi_stage(*, session: Session, cycle_id: int) -> CycleStage:
    from models.repo.cycles import get_stage

    return get_stage(session=session, cycle_id=cycle_id, code=StageCode.UMPAN_BALIK)


def active_kompetensi(*, session: Session) -> list[Kompetensi]:
    return list(session.execute(select(Kompetensi).where(Kompetensi.aktif)
                                .order_by(Kompetensi.urutan, Kompetensi.id)).scalars())


def _subordinate_counts(session: Session, ids: list[int]) -> dict[int, int]:
    return dict(session.execute(select(Pegawai.atasan_id, func.count()).where(
        Pegawai.atasan_id.in_(ids or [-1]), Pegawai.active).group_by(Pegawai.atasan_id)).all())


def open_kompetensi_chunk(*, session: Session, cycle: Cycle, stage: CycleStage,
                          pegawai_ids: list[int], now: datetime, mail: Mail) -> int:
    """For the active pegawai among these: a rating row per active competency, the KOMPETENSI
    task (due at the PPK's date for someone with subordinates) and the invitation. Idempotent:
    only what is missing is created or sent. Returns how many pegawai the chunk covered."""
    people = {r[0]: r for r in session.execute(select(Pegawai.id, Pegawai.nama, Pegawai.email)
                                               .where(Pegawai.id.in_(pegawai_ids or [-1]),
                                                      Pegawai.active))}
    komps = [k.id for k in active_kompetensi(session=session)]
    if not people or not komps:
        return 0
    have = set(session.execute(select(PenilaianKompetensi.pegawai_id,
                                      PenilaianKompetensi.kompetensi_id).where(
        PenilaianKompetensi.cycle_id == cycle.id,
        PenilaianKompetensi.pegawai_id.in_(list(people)))).all())
    rows = [{"cycle_id": cycle.id, "pegawai_id": pid, "kompetensi_id": kid, "nilai_diri": None,
             "nilai_ppk": None, "updated_at": now}
            for pid in people for kid in komps if (pid, kid) not in have]
    if rows:
        session.execute(insert(PenilaianKompetensi), rows)
    subs = _subordinate_counts(session, list(people))
    messages = []
    for task_id, pid, due in _ensure_tasks(session, cycle, stage, list(people), subs, now):
        _, nama, email = people[pid]
        messages.append({
            "key": f"invite:{cycle.id}:kompetensi:{pid}", "kind": "undangan_kompetensi",
            "to_email": email, "pegawai_id": pid, "language": mail.language,
            "context": {"agency_name": mail.agency, "nama": nama, "tahun": cycle.tahun,
                        "link": mail.links.task(task_id, pid, now), "bawahan": subs.get(pid, 0),
                        "due": format_datetime(due, cycle.timezone, mail.language)}})
    enqueue_messages(session=session, messages=messages, now=now)
    return len(people)


def _ensure_tasks(session: Session, cycle: Cycle, stage: CycleStage, pegawai_ids: list[int],
                  subs: dict[int, int], now: datetime) -> list[tuple[int, int, datetime]]:
    due = {pid: stage.approve_due_at if subs.get(pid) else stage.due_at for pid in pegawai_ids}
    made = insert_tasks(session=session, cycle=cycle, now=now, wanted=[
        (TaskKind.KOMPETENSI, pid, 0, at) for pid, at in due.items()])
    return [(tid, pid, due[pid]) for tid, _, pid in made]


def _unrated(session: Session, cycle_id: int, ids: list[int]) -> dict[int, int]:
    """Per pegawai: own competencies not self-rated plus subordinates' not rated as PPK."""
    out: dict[int, int] = {}
    own = session.execute(select(PenilaianKompetensi.pegawai_id, func.count()).join(
        Kompetensi, Kompetensi.id == PenilaianKompetensi.kompetensi_id).where(
        PenilaianKompetensi.cycle_id == cycle_id, Kompetensi.aktif,
        PenilaianKompetensi.pegawai_id.in_(ids or [-1]), PenilaianKompetensi.nilai_diri.is_(None))
        .group_by(PenilaianKompetensi.pegawai_id))
    subs = session.execute(select(Pegawai.atasan_id, func.count()).select_from(PenilaianKompetensi)
                           .join(Pegawai, Pegawai.id == PenilaianKompetensi.pegawai_id)
                           .join(Kompetensi, Kompetensi.id == PenilaianKompetensi.kompetensi_id)
                           .where(PenilaianKompetensi.cycle_id == cycle_id, Kompetensi.aktif,
                                  Pegawai.active, Pegawai.atasan_id.in_(ids or [-1]),
                                  PenilaianKompetensi.nilai_ppk.is_(None))
                           .group_by(Pegawai.atasan_id))
    for pid, n in [*own, *subs]:
        out[pid] = out.get(pid, 0) + n
    return out


def sweep_kompetensi(*, session: Session, cycle: Cycle, stage: CycleStage, now: datetime,
                     mail: Mail) -> int:
    """Reminders for open KOMPETENSI tasks whose owner still has competencies to rate (their
    own, or their subordinates'). Idempotent; returns how many were queued."""
    if stage.opened_at is None or stage.closed_at is not None:
        return 0
    queued, last_id = 0, 0
    while True:
        tasks = list(session.execute(select(Task).where(
            Task.cycle_id == cycle.id, Task.kind == TaskKind.KOMPETENSI,
            Task.status == TaskStatus.OPEN, Task.next_reminder_at <= now, Task.id > last_id)
            .order_by(Task.id).limit(PAGE)).scalars())
        if not tasks:
            return queued
        last_id = tasks[-1].id
        ids = [t.pegawai_id for t in tasks]
        people, waiting = pegawai_by_id(session=session, ids=ids), _unrated(session, cycle.id, ids)
        from models.repo.reminders import remind

        out = remind(session=session, cycle=cycle, tasks=tasks, people=people, now=now, mail=mail,
                     prefix="remind-kompetensi", message=lambda task, p, waiting=waiting: (
                         ("pengingat_kompetensi", {}) if waiting.get(p.id) else None))
        queued += enqueue_messages(session=session, messages=out, now=now)
        session.flush()


def ambang_gap(*, session: Session, cycle_id: int) -> int:
    row = session.get(Pengaturan360, cycle_id)
    return row.ambang_gap if row is not None else 1


def close_kompetensi(*, session: Session, cycle: Cycle, now: datetime) -> int:
    """Turn every gap at or above the cycle's threshold into a training recommendation (the
    active catalogue entries of that competency) and end the open KOMPETENSI tasks. Idempotent:
    a recommendation already there is kept as it is. Returns how many were created."""
    rated = [rules.Rated(*r) for r in session.execute(select(
        PenilaianKompetensi.pegawai_id, PenilaianKompetensi.kompetensi_id, Kompetensi.level_standar,
        PenilaianKompetensi.nilai_diri, PenilaianKompetensi.nilai_ppk).join(
        Kompetensi, Kompetensi.id == PenilaianKompetensi.kompetensi_id).where(
        PenilaianKompetensi.cycle_id == cycle.id, Kompetensi.aktif))]
    have = set(session.execute(select(RekomendasiPelatihan.pegawai_id,
                                      RekomendasiPelatihan.kompetensi_id)
                               .where(RekomendasiPelatihan.cycle_id == cycle.id)).all())
    catalogue: dict[int, list[int]] = {}
    for pel_id, kid in session.execute(select(Pelatihan.id, Pelatihan.kompetensi_id)
                                       .where(Pelatihan.aktif).order_by(Pelatihan.id)):
        catalogue.setdefault(kid, []).append(pel_id)
    rows = [{"cycle_id": cycle.id, "pegawai_id": pid, "kompetensi_id": kid, "gap": g,
             "pelatihan_ids": catalogue.get(kid, []), "created_at": now}
            for pid, kid, g in rules.gaps(rated, ambang_gap(session=session, cycle_id=cycle.id))
            if (pid, kid) not in have]
    if rows:
        session.execute(insert(RekomendasiPelatihan), rows)
    close_open_tasks(session=session, now=now, cycle_id=cycle.id,
                      where=[Task.kind == TaskKind.KOMPETENSI])
    return len(rows)


@dataclass
class Rekomendasi:
    kompetensi: Kompetensi
    gap: int
    pelatihan: list[Pelatihan]


def recommendations_for(*, session: Session, cycle_id: int, pegawai_id: int) -> list[Rekomendasi]:
    """The pegawai's training recommendations of the cycle, in the competency list's order."""
    rows = list(session.execute(select(RekomendasiPelatihan, Kompetensi).join(
        Kompetensi, Kompetensi.id == RekomendasiPelatihan.kompetensi_id).where(
        RekomendasiPelatihan.cycle_id == cycle_id, RekomendasiPelatihan.pegawai_id == pegawai_id)
        .order_by(Kompetensi.urutan, Kompetensi.id)).all())
    wanted = {i for r, _ in rows for i in r.pelatihan_ids}
    found = {p.id: p for p in session.execute(select(Pelatihan).where(
        Pelatihan.id.in_(sorted(wanted) or [-1]))).scalars()}
    return [Rekomendasi(k, r.gap, [found[i] for i in r.pelatihan_ids if i in found])
            for r, k in rows]


# -- ratings -------------------------------------------------------------------------------------


@dataclass
class Baris:
    """One competency of one pegawai: the standard, both ratings and the gap."""

    kompetensi: Kompetensi
    penilaian: PenilaianKompetensi

    @property
    def gap(self) -> int | None:
        return rules.gap(self.kompetensi.level_standar, self.penilaian.nilai_diri,
                         self.penilaian.nilai_ppk)


def rows_of(*, session: Session, cycle_id: int, pegawai_id: int) -> list[Baris]:
    """The pegawai's rows of the cycle for the active competencies, in the list's order."""
    return [Baris(k, p) for p, k in session.execute(select(PenilaianKompetensi, Kompetensi).join(
        Kompetensi, Kompetensi.id == PenilaianKompetensi.kompetensi_id).where(
        PenilaianKompetensi.cycle_id == cycle_id, PenilaianKompetensi.pegawai_id == pegawai_id,
        Kompetensi.aktif).order_by(Kompetensi.urutan, Kompetensi.id)).all()]


@dataclass
class BawahanRow:
    pegawai: Pegawai
    total: int
    diri: int  # rated by the pegawai
    ppk: int  # rated by the PPK


def subordinates(*, session: Session, cycle_id: int, ppk_id: int) -> list[BawahanRow]:
    """The PPK's current, active direct subordinates with how much of theirs is rated."""
    people = list(session.execute(select(Pegawai).where(
        Pegawai.atasan_id == ppk_id, Pegawai.active).order_by(Pegawai.nama)).scalars())
    counts = {pid: (n, d, q) for pid, n, d, q in session.execute(select(
        PenilaianKompetensi.pegawai_id, func.count(), func.count(PenilaianKompetensi.nilai_diri),
        func.count(PenilaianKompetensi.nilai_ppk)).join(
        Kompetensi, Kompetensi.id == PenilaianKompetensi.kompetensi_id).where(
        PenilaianKompetensi.cycle_id == cycle_id, Kompetensi.aktif,
        PenilaianKompetensi.pegawai_id.in_([p.id for p in people] or [-1]))
        .group_by(PenilaianKompetensi.pegawai_id))}
    return [BawahanRow(p, *counts.get(p.id, (0, 0, 0))) for p in people]


def ensure_open(stage: CycleStage) -> None:
    if stage.closed_at is not None:
        raise InvalidTransition("kompetensi", "closed", "edit",
                                "Penilaian kompetensi sudah ditutup; nilai tidak dapat diubah lagi.",
                                "The competency assessment is closed; ratings cannot change.")
    if stage.opened_at is None:
        raise InvalidTransition("kompetensi", "not_open", "edit",
                                "Penilaian kompetensi belum dibuka.",
                                "The competency assessment is not open yet.")


def save_ratings(*, session: Session, cycle_id: int, stage: CycleStage, pegawai_id: int,
                 values: dict[int, str], by_ppk: bool, actor_id: int, now: datetime) -> int:
    """The pegawai's own ratings (or, `by_ppk`, their PPK's) of the competencies in `values`
    (kompetensi id -> '1'..'5', '' to clear). Every value is checked before anything is
    written: one bad value changes nothing. Returns how many ratings changed."""
    ensure_open(stage)
    rows = {b.kompetensi.id: b for b in rows_of(session=session, cycle_id=cycle_id,
                                                pegawai_id=pegawai_id)}
    if not rows:
        raise InvalidTransition("kompetensi", "absent", "edit",
                                "Pegawai ini tidak ikut penilaian kompetensi siklus ini.",
                                "This employee is not in this cycle's competency assessment.")
    parsed: dict[int, int | None] = {}
    for kid, text in values.items():
        if kid not in rows:
            raise InvalidInput("Kompetensi tidak ada pada penilaian ini.",
                               "That competency is not in this assessment.")
        parsed[kid] = rules.parse_nilai(text, rows[kid].kompetensi.nama)
    field = "nilai_ppk" if by_ppk else "nilai_diri"
    changed = 0
    for kid, value in parsed.items():
        row = rows[kid].penilaian
        if getattr(row, field) != value:
            setattr(row, field, value)
            row.updated_at = now
            session.add(row)
            changed += 1
    session.flush()
    _sync_task(session, cycle_id, actor_id, now)
    return changed


def _sync_task(session: Session, cycle_id: int, pegawai_id: int, now: datetime) -> None:
    """Done once nothing is left to rate (no more reminders); open again if a rating is cleared."""
    # the request's own link loaded this task before, and the stage's closing may have
    # cancelled it since (writing the old state back undid the closing, with no audit line
    # for it: seen in the soak year)
    task = task_of(session=session, cycle_id=cycle_id, kind=TaskKind.KOMPETENSI,
                   pegawai_id=pegawai_id, periode=0, for_update=True)
    if task is None or task.status == TaskStatus.CANCELLED:
        return
    left = _unrated(session, cycle_id, [pegawai_id]).get(pegawai_id, 0)
    if left == 0 and task.status == TaskStatus.OPEN:
        task.status, task.done_at, task.next_reminder_at = TaskStatus.DONE, now, None
    elif left and task.status == TaskStatus.DONE:
        task.status, task.done_at = TaskStatus.OPEN, None
        cycle = session.get(Cycle, cycle_id)
        reschedule(task, cycle.reminder_offsets)
    session.add(task)


# -- HR: the list, the catalogue, the threshold, the results --------------------------------------


def ensure_defaults(*, session: Session) -> int:
    """Seed the default competency list and training catalogue into empty tables."""
    added = 0
    if session.execute(select(func.count()).select_from(Kompetensi)).scalar_one() == 0:
        session.add_all(Kompetensi(kode=k.kode, nama=k.nama, jenis=k.jenis,
                                   level_standar=k.level_standar, urutan=(i + 1) * 10)
                        for i, k in enumerate(rules.DEFAULT_KOMPETENSI))
        session.flush()
        added += len(rules.DEFAULT_KOMPETENSI)
    if session.execute(select(func.count()).select_from(Pelatihan)).scalar_one() == 0:
        ids = dict(session.execute(select(Kompetensi.kode, Kompetensi.id)).all())
        rows = [Pelatihan(kompetensi_id=ids[p.kode_kompetensi], nama=p.nama,
                          keterangan=p.keterangan)
                for p in rules.DEFAULT_PELATIHAN if p.kode_kompetensi in ids]
        session.add_all(rows)
        session.flush()
        added += len(rows)
    return added


def list_kompetensi(*, session: Session) -> list[Kompetensi]:
    return list(session.execute(select(Kompetensi).order_by(
        Kompetensi.aktif.desc(), Kompetensi.urutan, Kompetensi.id)).scalars())


def get_kompetensi(*, session: Session, kompetensi_id: int) -> Kompetensi:
    from models.repo.cycles import NotFound

    row = session.get(Kompetensi, kompetensi_id)
    if row is None:
        raise NotFound(f"Kompetensi {kompetensi_id} tidak ditemukan.",
                       f"Competency {kompetensi_id} not found.")
    return row


def _snapshot(row: Kompetensi | Pelatihan) -> dict[str, object]:
    return {k: v for k, v in row.model_dump().items() if k != "id"}


def add_kompetensi(*, session: Session, kode: str, nama: str, jenis: str, level_standar: str | int,
                   now: datetime, actor: str) -> Kompetensi:
    """A new competency at the end of the list; the code must be new."""
    kode = rules.clean_kode(kode)
    if session.execute(select(Kompetensi.id).where(Kompetensi.kode == kode)).first():
        raise InvalidInput(f"Kode kompetensi {kode} sudah dipakai.",
                           f"The competency code {kode} is already used.")
    last = session.execute(select(func.max(Kompetensi.urutan))).scalar_one() or 0
    row = Kompetensi(kode=kode, nama=rules.clean_nama(nama, "Nama kompetensi", "Competency name"),
                     jenis=rules.parse_jenis(jenis), level_standar=rules.parse_level(level_standar),
                     urutan=last + 10)
    session.add(row)
    session.flush()
    record(session=session, now=now, actor=actor, action="kompetensi.tambah", entity="kompetensi",
           entity_id=row.id, after=_snapshot(row))
    return row


def update_kompetensi(*, session: Session, kompetensi_id: int, now: datetime, actor: str,
                      nama: str | None = None, jenis: str | None = None,
                      level_standar: str | int | None = None, urutan: int | None = None,
                      aktif: bool | None = None) -> Kompetensi:
    """Rename, change the type or standard level, reorder, (de)activate; None keeps a field.
    A deactivated competency leaves pages, reminders and new recommendations."""
    row = get_kompetensi(session=session, kompetensi_id=kompetensi_id)
    before = _snapshot(row)
    if nama is not None:
        row.nama = rules.clean_nama(nama, "Nama kompetensi", "Competency name")
    if jenis is not None:
        row.jenis = rules.parse_jenis(jenis)
    if level_standar is not None:
        row.level_standar = rules.parse_level(level_standar)
    if urutan is not None:
        row.urutan = urutan
    if aktif is not None:
        row.aktif = aktif
    session.add(row)
    if _snapshot(row) != before:
        record(session=session, now=now, actor=actor, action="kompetensi.ubah",
               entity="kompetensi", entity_id=row.id, before=before, after=_snapshot(row))
    return row


def move_kompetensi(*, session: Session, kompetensi_id: int, up: bool, now: datetime,
                    actor: str) -> None:
    """Swap a competency with its neighbour in the list (the list is renumbered by tens)."""
    items = [k for k in list_kompetensi(session=session) if k.aktif]
    at = next((i for i, k in enumerate(items) if k.id == kompetensi_id), None)
    if at is None:
        get_kompetensi(session=session, kompetensi_id=kompetensi_id)
        return
    other = at - 1 if up else at + 1
    if 0 <= other < len(items):
        items[at], items[other] = items[other], items[at]
    for i, k in enumerate(items):
        k.urutan = (i + 1) * 10
        session.add(k)
    record(session=session, now=now, actor=actor, action="kompetensi.urutan", entity="kompetensi",
           entity_id=kompetensi_id, after={"urutan": [k.kode for k in items]})


def list_pelatihan(*, session: Session) -> list[Pelatihan]:
    return list(session.execute(select(Pelatihan).join(
        Kompetensi, Kompetensi.id == Pelatihan.kompetensi_id).order_by(
        Pelatihan.aktif.desc(), Kompetensi.urutan, Pelatihan.id)).scalars())


def save_pelatihan(*, session: Session, now: datetime, actor: str, kompetensi_id: int, nama: str,
                   penyelenggara: str = "", keterangan: str = "", aktif: bool = True,
                   pelatihan_id: int | None = None) -> Pelatihan:
    """Add a catalogue entry (no id) or change one; a deactivated entry is no longer
    recommended (recommendations already made keep it)."""
    from models.repo.cycles import NotFound

    get_kompetensi(session=session, kompetensi_id=kompetensi_id)
    row = session.get(Pelatihan, pelatihan_id) if pelatihan_id is not None else Pelatihan(
        kompetensi_id=kompetensi_id, nama="")
    if row is None:
        raise NotFound(f"Pelatihan {pelatihan_id} tidak ditemukan.",
                       f"Training {pelatihan_id} not found.")
    before = _snapshot(row) if pelatihan_id is not None else None
    row.kompetensi_id, row.aktif = kompetensi_id, aktif
    row.nama = rules.clean_nama(nama, "Nama pelatihan", "Training name")
    row.penyelenggara = rules.clean_optional(penyelenggara, "Penyelenggara", "Provider", 200)
    row.keterangan = rules.clean_optional(keterangan, "Keterangan", "Description", 1000)
    session.add(row)
    session.flush()
    record(session=session, now=now, actor=actor,
           action="pelatihan.ubah" if before else "pelatihan.tambah", entity="pelatihan",
           entity_id=row.id, before=before, after=_snapshot(row))
    return row


def set_ambang_gap(*, session: Session, cycle_id: int, value: str | int, now: datetime,
                   actor: str) -> int:
    """The cycle's gap threshold (1..4); fixed once the stage has closed."""
    stage = kompetensi_stage(session=session, cycle_id=cycle_id)
    if stage.closed_at is not None:
        raise InvalidTransition("kompetensi", "closed", "ambang",
                                "Tahap sudah ditutup; rekomendasi sudah dihitung dengan ambang "
                                "lama.", "The stage is closed; recommendations were made with "
                                "the old threshold.")
    text = str(value).strip()
    if not text.isdigit() or not 1 <= int(text) <= 4:
        raise InvalidInput("Ambang gap harus bilangan bulat 1 sampai 4.",
                           "The gap threshold must be a whole number from 1 to 4.")
    row = session.get(Pengaturan360, cycle_id) or Pengaturan360(cycle_id=cycle_id)
    before = row.ambang_gap
    row.ambang_gap = int(text)
    session.add(row)
    record(session=session, now=now, actor=actor, action="kompetensi.ambang", entity="cycle",
           entity_id=cycle_id, before={"ambang_gap": before}, after={"ambang_gap": row.ambang_gap})
    return row.ambang_gap


def progress(*, session: Session, cycle_id: int) -> dict[str, int]:
    """Counts for HR: participants, ratings expected, self-rated, rated by the PPK, recommended."""
    peserta, total, diri, ppk = session.execute(select(
        func.count(func.distinct(PenilaianKompetensi.pegawai_id)), func.count(),
        func.count(PenilaianKompetensi.nilai_diri), func.count(PenilaianKompetensi.nilai_ppk))
        .join(Kompetensi, Kompetensi.id == PenilaianKompetensi.kompetensi_id)
        .where(PenilaianKompetensi.cycle_id == cycle_id, Kompetensi.aktif)).one()
    rekomendasi = session.execute(select(func.count()).select_from(RekomendasiPelatihan).where(
        RekomendasiPelatihan.cycle_id == cycle_id)).scalar_one()
    return {"peserta": peserta, "penilaian": total, "dinilai_diri": diri, "dinilai_ppk": ppk,
            "rekomendasi": rekomendasi}


def recommendation_rows(*, session: Session, cycle_id: int) -> list[dict[str, object]]:
    """Every recommendation of the cycle with the person, the ratings and the training names
    (unit, then name, then the list's order): the console table and its CSV."""
    from models.repo.people import unit_names

    pk = PenilaianKompetensi
    rows = list(session.execute(select(RekomendasiPelatihan, Pegawai, Kompetensi, pk.nilai_diri,
                                       pk.nilai_ppk)
                                .join(Pegawai, Pegawai.id == RekomendasiPelatihan.pegawai_id)
                                .join(Kompetensi, Kompetensi.id == RekomendasiPelatihan.kompetensi_id)
                                .outerjoin(pk, (pk.cycle_id == RekomendasiPelatihan.cycle_id)
                                           & (pk.pegawai_id == RekomendasiPelatihan.pegawai_id)
                                           & (pk.kompetensi_id == RekomendasiPelatihan.kompetensi_id))
                                .where(RekomendasiPelatihan.cycle_id == cycle_id)).all())
    names = dict(session.execute(select(Pelatihan.id, Pelatihan.nama)).all())
    units = unit_names(session=session)
    out = [{"nip": p.nip, "nama": p.nama, "unit": units.get(p.unit_id, ""), "jabatan": p.jabatan,
            "kode": k.kode, "kompetensi": k.nama, "jenis": k.jenis,
            "level_standar": k.level_standar, "nilai_diri": diri, "nilai_ppk": ppk, "gap": r.gap,
            "pelatihan": [names[i] for i in r.pelatihan_ids if i in names],
            "_order": (units.get(p.unit_id, ""), p.nama, p.id, k.urutan, k.id)}
           for r, p, k, diri, ppk in rows]
    out.sort(key=lambda row: row["_order"])  # type: ignore[arg-type,return-value]
    for row in out:
        del row["_order"]
    return out
