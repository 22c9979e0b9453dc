"""The audit log: append-only (database triggers refuse UPDATE and DELETE), written in the same
transaction as the change it records.

Two ways in:
- `record(...)` for an action with a meaning of its own (a launch, a reason, an export);
- automatically, for every change of a state column of the tables in `AUDITED` made through the
  ORM (a `before_flush` listener compares each changed attribute's history), so a new code path
  that changes a state cannot forget to leave a trace.

Who acted and from where comes from the *audit context*, set once per request (the console
session or API token, the task link) or per flow run, and read by both ways in.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from models.audit_guard import AUDIT_GUARD_PG, AUDIT_GUARD_SQLITE
from models.tables import (
    AuditLog,
    Cycle,
    CycleStage,
    HrUser,
    HrUserUnit,
    Keberatan,
    Pegawai,
    PenilaianTahunan,
    Skp,
    SkpPeriode,
    Task,
)


@dataclass
class AuditContext:
    """Mutable on purpose: a request's dependencies fill it in (in a worker thread) and the
    handler's flush reads it, both through the same object."""

    actor: str = "sistem"
    via: str = "sistem"


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "kinerja_audit", default=None)


def current() -> AuditContext:
    """The context of this request or run; outside a request, a Prefect flow run names itself
    ("flow:<flow name>", "flow-run:<id>"), and anything else is the system."""
    ctx = _context.get()
    if ctx is not None:
        return ctx
    return _flow_run_context() or AuditContext()  # not kept: a served process runs many flows


def _flow_run_context() -> AuditContext | None:
    import sys

    if "prefect" not in sys.modules:  # never import Prefect just to ask
        return None
    from prefect.context import FlowRunContext

    run_ctx = FlowRunContext.get()
    if run_ctx is None or run_ctx.flow_run is None:
        return None
    return AuditContext(actor=f"flow:{run_ctx.flow.name if run_ctx.flow else 'flow'}",
                        via=f"flow-run:{run_ctx.flow_run.id}")


def begin(actor: str = "sistem", via: str = "sistem") -> AuditContext:
    """Start a fresh context for this request or run (returns it, to be filled in later)."""
    ctx = AuditContext(actor=actor, via=via)
    _context.set(ctx)
    return ctx


@contextmanager
def acting(actor: str, via: str) -> Iterator[AuditContext]:
    token = _context.set(AuditContext(actor=actor, via=via))
    try:
        yield _context.get()  # type: ignore[misc]
    finally:
        _context.reset(token)


def record(*, session: Session, now: datetime, actor: str, action: str, entity: str,
           entity_id: int | None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, via: str | None = None,
           pegawai_id: int | None = None, cycle_id: int | None = None) -> None:
    if cycle_id is None and entity == "cycle":
        cycle_id = entity_id
    if pegawai_id is None and entity == "pegawai":
        pegawai_id = entity_id
    session.add(AuditLog(at=now, actor=actor, action=action, entity=entity, entity_id=entity_id,
                         before=before, after=after, via=via or current().via,
                         pegawai_id=pegawai_id, cycle_id=cycle_id))


def close_open_tasks(*, session: Session, now: datetime, cycle_id: int, where: list[Any],
                     done: bool = False) -> int:
    """End the cycle's open tasks that `where` matches in one statement (cancelled when a stage
    closes, or done), with the audit line each task would get from a change through the ORM,
    except a rater's 360 task: no line may tell who finished their forms and who did not. How
    many."""
    from models.rules.enums import TaskStatus
    from models.rules.feedback import UNAUDITED_TASK_KINDS

    table = Task.__table__
    status = TaskStatus.DONE if done else TaskStatus.CANCELLED
    values: dict[str, Any] = {"status": status, "next_reminder_at": None}
    if done:
        values["done_at"] = now
    rows = session.execute(
        table.update().where(table.c.cycle_id == cycle_id, table.c.status == TaskStatus.OPEN,
                             *where).values(**values)
        .returning(table.c.id, table.c.pegawai_id, table.c.kind)).all()
    record_many(session=session, now=now, entity="task", cycle_id=cycle_id,
                before={"status": "open"}, after={"status": status.value},
                rows=[(i, p) for i, p, kind in rows if kind not in UNAUDITED_TASK_KINDS])
    return len(rows)


def record_many(*, session: Session, now: datetime, entity: str, cycle_id: int | None,
                before: dict[str, Any], after: dict[str, Any],
                rows: list[tuple[int, int | None]]) -> None:
    """The automatic `<entity>.ubah` line for each (entity id, pegawai id) that a bulk statement
    changed the same way, in one insert."""
    record_changes(session=session, now=now, entity=entity, cycle_id=cycle_id,
                   changes=[(i, p, before, after) for i, p in rows])


def record_changes(*, session: Session, now: datetime, entity: str, cycle_id: int | None,
                   changes: list[tuple[int, int | None, dict[str, Any], dict[str, Any]]]) -> None:
    """The automatic `<entity>.ubah` line for each (entity id, pegawai id, before, after) a bulk
    statement changed, in one insert: what the ORM path would have written row by row."""
    if not changes:
        return
    from sqlalchemy import insert

    ctx = current()
    session.execute(insert(AuditLog), [
        {"at": now, "actor": ctx.actor, "via": ctx.via, "action": f"{entity}.ubah",
         "entity": entity, "entity_id": entity_id, "before": before, "after": after,
         "pegawai_id": pegawai_id, "cycle_id": cycle_id}
        for entity_id, pegawai_id, before, after in changes])


# -- automatic records of state changes ------------------------------------------------------

#: table -> the columns whose change is a change of state worth an audit line
AUDITED: dict[type, tuple[str, ...]] = {
    Cycle: ("status", "periodisasi", "keberatan_hari"),
    CycleStage: ("opens_at", "due_at", "approve_due_at", "closes_at", "opened_at", "closed_at"),
    Skp: ("status", "revisi"),
    Task: ("status", "due_at", "closed_by"),
    SkpPeriode: ("dilaporkan_at", "hasil_kerja", "perilaku", "predikat"),
    PenilaianTahunan: ("hasil_kerja", "perilaku", "predikat", "status", "angka_kredit"),
    Keberatan: ("status", "predikat_sesudah"),
    Pegawai: ("atasan_id", "unit_id", "active", "ringkasan"),
    HrUser: ("role", "active", "email", "nama", "oidc_subject"),
}
_ENTITY = {Cycle: "cycle", CycleStage: "cycle_stage", Skp: "skp", Task: "task",
           SkpPeriode: "skp_periode", PenilaianTahunan: "penilaian_tahunan",
           Keberatan: "keberatan", Pegawai: "pegawai", HrUser: "hr_user", HrUserUnit: "hr_user"}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _about(session: Session, obj: Any) -> tuple[int | None, int | None]:
    """(pegawai_id, cycle_id) of the row, where the row says or its SKP does."""
    if isinstance(obj, Pegawai):
        return obj.id, None
    if isinstance(obj, Cycle):
        return None, obj.id
    pegawai_id = getattr(obj, "pegawai_id", None)
    cycle_id = getattr(obj, "cycle_id", None)
    skp_id = getattr(obj, "skp_id", None)
    if skp_id is not None and (pegawai_id is None or cycle_id is None):
        with session.no_autoflush:
            skp = session.get(Skp, skp_id)
        if skp is not None:
            pegawai_id = pegawai_id if pegawai_id is not None else skp.pegawai_id
            cycle_id = cycle_id if cycle_id is not None else skp.cycle_id
    return pegawai_id, cycle_id


def _changes(obj: Any, columns: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in columns:
        if name not in state.attrs:
            continue
        hist = state.attrs[name].history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if _plain(old) == _plain(new):
            continue
        before[name] = _plain(old)
        after[name] = _plain(new)
    return before, after


@event.listens_for(Session, "before_flush")
def _audit_state_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    ctx = current()
    now: datetime | None = None
    rows: list[AuditLog] = []
    for obj in list(session.dirty):
        columns = AUDITED.get(type(obj))
        if not columns or not session.is_modified(obj, include_collections=False):
            continue
        before, after = _changes(obj, columns)
        if not after:
            continue
        now = now or datetime.now(UTC)
        pegawai_id, cycle_id = _about(session, obj)
        rows.append(AuditLog(at=_at(obj, now), actor=ctx.actor, via=ctx.via,
                             action=f"{_ENTITY[type(obj)]}.ubah", entity=_ENTITY[type(obj)],
                             entity_id=obj.id, before=before, after=after,
                             pegawai_id=pegawai_id, cycle_id=cycle_id))
    for obj in list(session.new) + list(session.deleted):
        if not isinstance(obj, HrUserUnit):
            continue
        now = now or datetime.now(UTC)
        added = obj in session.new
        rows.append(AuditLog(at=now, actor=ctx.actor, via=ctx.via,
                             action="hr_user.unit_" + ("tambah" if added else "hapus"),
                             entity="hr_user", entity_id=obj.hr_user_id,
                             before=None if added else {"unit_id": obj.unit_id},
                             after={"unit_id": obj.unit_id} if added else None))
    for row in rows:
        session.add(row)


def _at(obj: Any, fallback: datetime) -> datetime:
    """The change's time: the application's clock where the row carries one (tests and the
    simulation move that clock), else the wall clock."""
    for name in ("updated_at", "done_at", "dinilai_at", "diputus_at", "approved_at"):
        value = getattr(obj, name, None)
        if isinstance(value, datetime):
            state = inspect(obj)
            if name in state.attrs and state.attrs[name].history.added:
                return value if value.tzinfo else value.replace(tzinfo=UTC)
    return fallback


# -- the append-only guard -------------------------------------------------------------------

def drop_guard(conn: Connection) -> None:
    """For tests that empty every table, and for `kinerja restore`: lift the triggers."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("DROP TRIGGER IF EXISTS auditlog_no_change ON auditlog"))
    else:
        conn.execute(text("DROP TRIGGER IF EXISTS auditlog_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS auditlog_no_delete"))


def restore_guard(conn: Connection) -> None:
    for statement in (AUDIT_GUARD_PG if conn.dialect.name == "postgresql"
                      else AUDIT_GUARD_SQLITE):
        conn.execute(text(statement))


# -- search ----------------------------------------------------------------------------------

@dataclass
class AuditQuery:
    """Filters of the audit log search; every field optional."""

    orang: str = ""  # a NIP, an HR username, or part of an employee's name
    dari: datetime | None = None  # inclusive, UTC
    sampai: datetime | None = None  # exclusive, UTC
    aksi: str = ""  # prefix of the action ("skp", "tugas.tutup_atas_nama")
    cycle_id: int | None = None
    unit_ids: frozenset[int] | None = None  # a unit operator: only entries about their people


def _person_filter(session: Session, orang: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import false, func, or_, select

    from models.tables import HrUser as _HrUser

    text_ = orang.strip()
    if not text_:
        return None
    hr = session.execute(select(_HrUser.username).where(_HrUser.username == text_)).scalar()
    if text_.isdigit():
        ids = list(session.execute(select(Pegawai.id).where(Pegawai.nip == text_)).scalars())
    else:
        ids = list(session.execute(select(Pegawai.id).where(
            func.lower(Pegawai.nama).contains(text_.lower())).limit(200)).scalars())
    clauses = []
    if hr:
        clauses.append(AuditLog.actor == f"hr:{hr}")
    if ids:
        clauses.append(AuditLog.pegawai_id.in_(ids))
        clauses.append(AuditLog.actor.in_([f"pegawai:{i}" for i in ids]))
    return or_(*clauses) if clauses else false()


def search(*, session: Session, q: AuditQuery, offset: int = 0,
           limit: int = 100) -> tuple[list[AuditLog], int]:
    """Entries matching the filters, newest first, and how many match in all."""
    from sqlalchemy import func, select

    where = []
    person = _person_filter(session, q.orang)
    if person is not None:
        where.append(person)
    if q.dari is not None:
        where.append(AuditLog.at >= q.dari)
    if q.sampai is not None:
        where.append(AuditLog.at < q.sampai)
    if q.aksi.strip():
        where.append(AuditLog.action.startswith(q.aksi.strip()))
    if q.cycle_id is not None:
        where.append(AuditLog.cycle_id == q.cycle_id)
    if q.unit_ids is not None:
        where.append(AuditLog.pegawai_id.in_(
            select(Pegawai.id).where(Pegawai.unit_id.in_(q.unit_ids))))
    total = session.execute(select(func.count()).select_from(AuditLog).where(*where)).scalar_one()
    rows = list(session.execute(select(AuditLog).where(*where)
                                .order_by(AuditLog.at.desc(), AuditLog.id.desc())
                                .offset(offset).limit(limit)).scalars())
    return rows, int(total)
