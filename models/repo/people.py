"""Bulk look-ups of the organisation used by stage flows and pages."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlmodel import Session

from models.tables import HrUser, Pegawai, Unit


def active_pegawai_ids(*, session: Session) -> list[int]:
    return list(session.execute(
        select(Pegawai.id).where(Pegawai.active).order_by(Pegawai.id)).scalars())


def pegawai_by_id(*, session: Session, ids: Iterable[int]) -> dict[int, Pegawai]:
    wanted = list(set(ids))
    out: dict[int, Pegawai] = {}
    for i in range(0, len(wanted), 900):
        out.update((p.id, p) for p in session.execute(
            select(Pegawai).where(Pegawai.id.in_(wanted[i:i + 900]))).scalars())
    return out


def unit_names(*, session: Session) -> dict[int, str]:
    return {u.id: u.nama for u in session.execute(select(Unit)).scalars()}


def hr_admin_emails(*, session: Session) -> list[tuple[str, str]]:
    return [(u.nama, u.email) for u in session.execute(
        select(HrUser).where(HrUser.active)).scalars() if u.role == "admin"]
