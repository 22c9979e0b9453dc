"""Several tables' rows read side by side in one statement, as read-only records.

A page that only shows data pays for each statement twice: the statement itself, and (under
load) the wait for Python's lock each time the database driver hands it back. Joining what a
page needs into one statement, read as plain rows on the session's connection, costs a
fraction of the same reads through the ORM, one entity at a time."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import FromClause, Integer, Select, cast, literal_column, null, union_all


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


class Stacked:
    """Several reads of different tables in one statement (UNION ALL), for a page that needs
    a few lists: each part's columns (a Joined) in their own range of the result row, NULL in
    the others' rows, after the part's number. `split` gives {name: [records]} (each record
    as Joined.split gives it). A union keeps no order: sort each list in Python. Each
    part's query names its FROM (select_from): its columns are replaced."""

    def __init__(self, parts: Sequence[tuple[str, Joined, Select[Any]]]) -> None:
        self._parts: list[tuple[str, Joined, int, int]] = []
        offset = 1
        for name, joined, _query in parts:
            self._parts.append((name, joined, offset, offset + len(joined.columns)))
            offset += len(joined.columns)
        selects = []
        for number, (_name, joined, query) in enumerate(parts):
            columns: list[Any] = [literal_column(str(number), Integer).label("part")]
            for _other, other, _q in parts:  # typed NULLs: PostgreSQL types a union by them
                columns += (joined.columns if other is joined else
                            [cast(null(), c.type).label(c.name) for c in other.columns])
            selects.append(query.with_only_columns(*columns))  # its FROM: select_from
        self.statement = union_all(*selects)

    def split(self, rows: Iterable[Sequence[Any]]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in self._parts}
        for row in rows:
            name, joined, start, end = self._parts[row[0]]
            found[name].append(joined.split(row[start:end]))
        return found
