"""Bulk look-ups of the organisation used by stage flows and pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from models.tables import HrUser, Pegawai, Unit


def active_pegawai_ids(*, session: Session) -> list[int]:
    return list(session.execute(
        select(Pegawai.id).where(Pegawai.active).order_by(Pegawai.id)).scalars())


def pegawai_by_id(*, session: Session, ids: Iterable[int]) -> dict[int, Pegawai]:
    return _by_id(session, ids, lambda part: session.execute(
        select(Pegawai).where(Pegawai.id.in_(part))).scalars())


#: what a message needs of its recipient, read as plain rows (a sweep reads thousands)
RECIPIENT_COLUMNS = (Pegawai.id, Pegawai.nama, Pegawai.email, Pegawai.active, Pegawai.atasan_id)


def recipients_by_id(*, session: Session, ids: Iterable[int]) -> dict[int, Any]:
    """pegawai_by_id as rows of RECIPIENT_COLUMNS (id, nama, email, active, atasan_id)."""
    return _by_id(session, ids, lambda part: session.execute(
        select(*RECIPIENT_COLUMNS).where(Pegawai.id.in_(part))))


def _by_id(session: Session, ids: Iterable[int],
           read: Callable[[list[int]], Iterable[Any]]) -> dict[int, Any]:
    wanted = list(set(ids))
    out: dict[int, Any] = {}
    for i in range(0, len(wanted), 900):  # SQLite binds at most 999 values a statement
        out.update((p.id, p) for p in read(wanted[i:i + 900]))
    return out


def unit_names(*, session: Session) -> dict[int, str]:
    return {u.id: u.nama for u in session.execute(select(Unit)).scalars()}


def hr_admin_emails(*, session: Session) -> list[tuple[str, str]]:
    return [(u.nama, u.email) for u in session.execute(
        select(HrUser).where(HrUser.active)).scalars() if u.role == "admin"]
