"""Optimistic locking: a write wins only against the version it read, checked in the database."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, SQLModel

from models.rules.errors import RuleError


def bump_version(session: Session, row: SQLModel, conflict: RuleError) -> None:
    """Raise `conflict` unless the stored version is still the one `row` was read at."""
    model = type(row)
    read_at = row.version  # type: ignore[attr-defined]
    result = session.execute(update(model).where(model.id == row.id, model.version == read_at)
                             .values(version=read_at + 1)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise conflict
    row.version = read_at + 1  # type: ignore[attr-defined]
