"""Several tables' rows read side by side in one statement, as read-only records.

A page that only shows data pays for each statement twice: the statement itself, and (under
load) the wait for Python's lock each time the database driver hands it back. Joining what a
page needs into one statement, read as plain rows on the session's connection, costs a
fraction of the same reads through the ORM, one entity at a time."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from sqlalchemy import FromClause


class Joined:
    """The columns of `parts` ((name, table or alias) pairs), labelled `name__column`, for one
    select; `split` turns one result row into {name: record}, a named tuple per table with the
    table's column names as attributes (as an ORM object has them, read-only), or None for a
    table a left join did not match (its primary key is NULL)."""

    def __init__(self, parts: Sequence[tuple[str, FromClause]]) -> None:
        self.columns: list[Any] = []
        self._slices: list[tuple[str, int, int, int, Any]] = []
        for name, table in parts:
            start = len(self.columns)
            names = [c.name for c in table.columns]
            self.columns += [c.label(f"{name}__{c.name}") for c in table.columns]
            key = start + names.index(next(iter(table.primary_key)).name)
            self._slices.append((name, start, len(self.columns), key,
                                 namedtuple(name, names)))  # type: ignore[misc]

    def split(self, row: Sequence[Any]) -> dict[str, Any]:
        return {name: (record._make(row[start:end]) if row[key] is not None else None)
                for name, start, end, key, record in self._slices}
