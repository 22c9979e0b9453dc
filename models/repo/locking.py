"""Optimistic locking: a write wins only against the version it read, checked in the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, SQLModel

from models.rules.errors import RuleError

#: what the loser is told: a fixed error, or one built from the row as the winner left it
Conflict = RuleError | Callable[[Any], RuleError]


def bump_version(session: Session, row: SQLModel, conflict: Conflict) -> None:
    """Raise `conflict` unless the stored version is still the one `row` was read at.

    Nothing of this session is flushed first, so a loser writes nothing before it knows it
    lost, and the row it is told about (`conflict(current)`, a plain row of the table's
    columns) is the winner's, not its own half-written change."""
    model = type(row)
    read_at = row.version  # type: ignore[attr-defined]
    with session.no_autoflush:
        result = session.execute(update(model).where(model.id == row.id, model.version == read_at)
                                 .values(version=read_at + 1)
                                 .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            if isinstance(conflict, RuleError):
                raise conflict
            table = model.__table__  # type: ignore[attr-defined]
            raise conflict(session.execute(select(table).where(table.c.id == row.id)).one())
    row.version = read_at + 1  # type: ignore[attr-defined]
