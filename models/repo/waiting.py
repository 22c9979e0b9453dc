"""What waits for each person: the open work behind their task links, counted in items, read in
bulk (a few grouped queries per 900 people, whatever the number of tasks).

An item is one thing to act on: one SKP to approve, one keberatan to decide, one coaching plan,
one subordinate to rate or whose raters to confirm, one 360 form, or one's own SKP, realisasi,
rater proposal or competency self-assessment. Work that is already done is not listed, even
when its task is still open.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import case, func, null, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.rules.digest import GROUPS
from models.rules.enums import SkpStatus, StageCode, TaskKind, TaskStatus
from models.tables import (
    AksiPembinaan,
    CycleStage,
    Keberatan,
    Pegawai,
    Penilai360,
    RencanaPembinaan,
    Skp,
    SkpPeriode,
    Task,
)

PART = 900  # ids per IN list


@dataclass(frozen=True)
class Butir:
    """One line of a person's to-do list: a task, or one SKP, keberatan or plan within it."""

    jenis: TaskKind
    task_id: int  # the link goes to this task
    cycle_id: int
    periode: int
    jumlah: int  # how many items the line stands for (e.g. subordinates still to rate)
    batas: datetime  # due
    sejak: datetime  # when it began waiting (new in a digest when after the previous one)
    nama: str = ""  # the person concerned, where a line is about one person
    nip: str = ""


@dataclass(frozen=True)
class _Open:
    id: int
    kind: str
    pegawai_id: int
    cycle_id: int
    periode: int
    due_at: datetime  # in a count (count_waiting) only a rater proposal's; None otherwise
    created_at: datetime  # None in a count

    def line(self, jumlah: int = 1, **extra: object) -> Butir:
        base = Butir(TaskKind(self.kind), self.id, self.cycle_id, self.periode, jumlah,
                     self.due_at, self.created_at)
        return replace(base, **extra) if extra else base  # type: ignore[arg-type]


Found = Iterator[tuple[int, Butir]]  # (the person it waits for, the line)


def waiting_items(*, session: Session, pegawai_ids: Iterable[int],
                  now: datetime) -> dict[int, list[Butir]]:
    """Per person: every line of work waiting for them now (people with none are absent)."""
    out: dict[int, list[Butir]] = defaultdict(list)
    ids = sorted(set(pegawai_ids))
    for i in range(0, len(ids), PART):
        for kind, tasks in _open_by_kind(session, ids[i:i + PART]).items():
            for pid, line in COLLECT[kind](session, tasks, now):
                out[pid].append(line)
    return dict(out)


def count_items(lines: Iterable[Butir]) -> int:
    return sum(b.jumlah for b in lines)


def count_waiting(*, session: Session, pegawai_ids: Iterable[int], now: datetime,
                  enough: int) -> dict[int, int]:
    """Per person: how many items wait for them, counted until the count is above `enough`
    (what the digest rule asks: more than its threshold or not). The kinds are read in turn and
    a person already above `enough` is left out of the next kinds' queries, so a deadline's
    thousands of reminders to busy people do not list every line of theirs (at 10,000 people
    with 10 open tasks each, listing them was half of the reminder sweep). People with nothing
    waiting are absent."""
    out: dict[int, int] = defaultdict(int)
    ids = sorted(set(pegawai_ids))
    for i in range(0, len(ids), PART):
        by_kind = _open_by_kind(session, ids[i:i + PART], dated=False)
        for kind, collect in COLLECT.items():
            tasks = [t for t in by_kind.get(kind, ()) if out[t.pegawai_id] <= enough]
            if tasks:
                for pid, line in collect(session, tasks, now):
                    out[pid] += line.jumlah
    return {pid: n for pid, n in out.items() if n}


def _open_by_kind(session: Session, ids: list[int],
                  dated: bool = True) -> dict[TaskKind, list[_Open]]:
    """These people's open tasks of the kinds that list work, by kind. Not `dated` (for a
    count): without the dates a line shows, only the due date a rater proposal's count needs
    (the two dates were a third of counting at 10,000 reminders: 220,000 conversions)."""
    if dated:
        due, created = Task.due_at, Task.created_at
    else:
        due = case((Task.kind == TaskKind.USUL_PENILAI.value, Task.due_at))
        created = null()
    rows = session.execute(select(
        Task.id, Task.kind, Task.pegawai_id, Task.cycle_id, Task.periode, due, created).where(
        Task.pegawai_id.in_(ids), Task.status == TaskStatus.OPEN,
        Task.kind.in_([k.value for k in GROUPS]))).all()
    by_kind: dict[TaskKind, list[_Open]] = defaultdict(list)
    for row in rows:
        by_kind[TaskKind(row.kind)].append(_Open(*row))
    return by_kind


def _people(tasks: list[_Open]) -> list[int]:
    return sorted({t.pegawai_id for t in tasks})


def _cycles(tasks: list[_Open]) -> list[int]:
    return sorted({t.cycle_id for t in tasks})


def _grouped(tasks: list[_Open], by_period: bool = False) -> dict[tuple[int, int], list[_Open]]:
    out: dict[tuple[int, int], list[_Open]] = defaultdict(list)
    for t in tasks:
        out[(t.cycle_id, t.periode if by_period else 0)].append(t)
    return out


def _counted(tasks: list[_Open], counts: Callable[[int, int, list[int]], dict[int, int]],
             by_period: bool = False) -> Found:
    """One line per task whose person still has `counts(cycle, periode, people)` items."""
    for (cycle_id, periode), group in _grouped(tasks, by_period).items():
        pending = counts(cycle_id, periode, _people(group))
        for t in group:
            if pending.get(t.pegawai_id):
                yield t.pegawai_id, t.line(int(pending[t.pegawai_id]))


# -- own work --------------------------------------------------------------------------------------


def _own_skp(session: Session, tasks: list[_Open], now: datetime) -> Found:
    status = {(c, p): s for c, p, s in session.execute(select(
        Skp.cycle_id, Skp.pegawai_id, Skp.status).where(
        Skp.pegawai_id.in_(_people(tasks)), Skp.cycle_id.in_(_cycles(tasks))))}
    for t in tasks:
        if status.get((t.cycle_id, t.pegawai_id)) in (SkpStatus.DRAF, SkpStatus.DIKEMBALIKAN):
            yield t.pegawai_id, t.line()


def _own_realisasi(session: Session, tasks: list[_Open], now: datetime) -> Found:
    reported = {(c, p, k): d for c, p, k, d in session.execute(select(
        Skp.cycle_id, Skp.pegawai_id, SkpPeriode.periode, SkpPeriode.dilaporkan_at).join(
        SkpPeriode, SkpPeriode.skp_id == Skp.id).where(
        Skp.pegawai_id.in_(_people(tasks)), Skp.cycle_id.in_(_cycles(tasks))))}
    for t in tasks:
        key = (t.cycle_id, t.pegawai_id, t.periode)
        if key in reported and reported[key] is None:
            yield t.pegawai_id, t.line()


def _own_raters(session: Session, tasks: list[_Open], now: datetime) -> Found:
    """Proposals stay open until their date and until the PPK confirms the list."""
    from models.rules.feedback import DIRI

    confirmed = set(session.execute(select(Penilai360.cycle_id, Penilai360.dinilai_id).where(
        Penilai360.dinilai_id.in_(_people(tasks)), Penilai360.aktif, Penilai360.ditetapkan,
        Penilai360.peran != DIRI).distinct()).all())
    for t in tasks:
        if now <= t.due_at and (t.cycle_id, t.pegawai_id) not in confirmed:
            yield t.pegawai_id, t.line()


def _own_competencies(session: Session, tasks: list[_Open], now: datetime) -> Found:
    """One line however many competencies (own or subordinates') are left to rate."""
    from models.repo.kompetensi import _unrated

    for (cycle_id, _), group in _grouped(tasks).items():
        left = _unrated(session, cycle_id, _people(group))
        for t in group:
            if left.get(t.pegawai_id):
                yield t.pegawai_id, t.line()


# -- work about others -----------------------------------------------------------------------------


def _skp_to_approve(session: Session, tasks: list[_Open], now: datetime) -> Found:
    """One line per subordinate's submitted SKP; after planning closed only revisions wait."""
    closed = dict(session.execute(select(CycleStage.cycle_id, CycleStage.closed_at).where(
        CycleStage.cycle_id.in_(_cycles(tasks)), CycleStage.code == StageCode.PERENCANAAN)).all())
    task_of = {(t.cycle_id, t.pegawai_id): t for t in tasks}
    rows = session.execute(select(
        Skp.cycle_id, Skp.submitted_at, Skp.revisi, Pegawai.atasan_id, Pegawai.nama,
        Pegawai.nip).join(Pegawai, Pegawai.id == Skp.pegawai_id).where(
        Skp.cycle_id.in_(_cycles(tasks)), Skp.status == SkpStatus.DIAJUKAN, Pegawai.active,
        Pegawai.atasan_id.in_(_people(tasks))).order_by(Skp.submitted_at, Pegawai.nama))
    for cycle_id, submitted_at, revisi, ppk_id, nama, nip in rows:
        t = task_of.get((cycle_id, ppk_id))
        if t is None or (closed.get(cycle_id) is not None and not revisi):
            continue
        yield ppk_id, t.line(sejak=submitted_at or t.created_at, nama=nama, nip=nip)


def _periodic_ratings(session: Session, tasks: list[_Open], now: datetime) -> Found:
    from models.repo.monitoring import unrated_by_ppk

    yield from _counted(tasks, lambda c, k, ids: unrated_by_ppk(session, c, k, ids), True)


def _raters_to_confirm(session: Session, tasks: list[_Open], now: datetime) -> Found:
    from models.repo.umpan_balik import _unconfirmed_by_ppk

    yield from _counted(tasks, lambda c, _, ids: _unconfirmed_by_ppk(session, c, ids))


def _forms_360(session: Session, tasks: list[_Open], now: datetime) -> Found:
    def left(cycle_id: int, _: int, ids: list[int]) -> dict[int, int]:
        return dict(session.execute(select(Penilai360.penilai_id, func.count()).where(
            Penilai360.cycle_id == cycle_id, Penilai360.aktif, Penilai360.ditetapkan,
            ~Penilai360.selesai, Penilai360.penilai_id.in_(ids))
            .group_by(Penilai360.penilai_id)).all())

    yield from _counted(tasks, left)


def _annual_ratings(session: Session, tasks: list[_Open], now: datetime) -> Found:
    from models.repo.penilaian import _unrated_by_ppk

    yield from _counted(tasks, lambda c, _, ids: _unrated_by_ppk(session, c, ids))


def _keberatan_to_decide(session: Session, tasks: list[_Open], now: datetime) -> Found:
    """Undecided keberatan of the people two levels below (the decider is the atasan PPK)."""
    from models.repo.keberatan import PUTUS_HARI

    pegawai, ppk = aliased(Pegawai), aliased(Pegawai)
    task_of = {(t.cycle_id, t.pegawai_id): t for t in tasks}
    rows = session.execute(select(
        Skp.cycle_id, ppk.atasan_id, Keberatan.diajukan_at, pegawai.nama, pegawai.nip)
        .select_from(Keberatan).join(Skp, Skp.id == Keberatan.skp_id)
        .join(pegawai, pegawai.id == Skp.pegawai_id).join(ppk, ppk.id == pegawai.atasan_id)
        .where(Keberatan.status == "diajukan", Skp.cycle_id.in_(_cycles(tasks)),
               ppk.atasan_id.in_(_people(tasks))).order_by(Keberatan.diajukan_at))
    for cycle_id, decider_id, filed, nama, nip in rows:
        t = task_of.get((cycle_id, decider_id))
        if t is not None:
            yield decider_id, t.line(batas=filed + timedelta(days=PUTUS_HARI), sejak=filed,
                                     nama=nama, nip=nip)


def _coaching_plans(session: Session, tasks: list[_Open], now: datetime) -> Found:
    """One line per open plan, due at its earliest open action (or when it must be written)."""
    from models.repo.keberatan import RENCANA_HARI

    task_of = {(t.cycle_id, t.pegawai_id): t for t in tasks}
    plans = session.execute(select(
        RencanaPembinaan.id, RencanaPembinaan.cycle_id, RencanaPembinaan.pemilik_id,
        RencanaPembinaan.created_at, Pegawai.nama, Pegawai.nip).join(
        Pegawai, Pegawai.id == RencanaPembinaan.pegawai_id).where(
        RencanaPembinaan.status == "terbuka", RencanaPembinaan.cycle_id.in_(_cycles(tasks)),
        RencanaPembinaan.pemilik_id.in_(_people(tasks))).order_by(Pegawai.nama)).all()
    next_action = dict(session.execute(select(
        AksiPembinaan.rencana_id, func.min(AksiPembinaan.batas_at)).where(
        AksiPembinaan.rencana_id.in_([p[0] for p in plans] or [-1]),
        AksiPembinaan.selesai_at.is_(None)).group_by(AksiPembinaan.rencana_id)).all())
    for plan_id, cycle_id, owner_id, created, nama, nip in plans:
        t = task_of.get((cycle_id, owner_id))
        if t is not None:
            due = next_action.get(plan_id) or created + timedelta(days=RENCANA_HARI)
            yield owner_id, t.line(batas=due, sejak=created, nama=nama, nip=nip)


COLLECT: dict[TaskKind, Callable[[Session, list[_Open], datetime], Found]] = {
    TaskKind.SUSUN_SKP: _own_skp,
    TaskKind.ISI_REALISASI: _own_realisasi,
    TaskKind.USUL_PENILAI: _own_raters,
    TaskKind.KOMPETENSI: _own_competencies,
    TaskKind.SETUJUI_SKP: _skp_to_approve,
    TaskKind.NILAI_PERIODIK: _periodic_ratings,
    TaskKind.TETAPKAN_PENILAI: _raters_to_confirm,
    TaskKind.ISI_360: _forms_360,
    TaskKind.NILAI_TAHUNAN: _annual_ratings,
    TaskKind.PUTUS_KEBERATAN: _keberatan_to_decide,
    TaskKind.PEMBINAAN: _coaching_plans,
}
