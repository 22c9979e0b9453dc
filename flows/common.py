"""Shared by the flows: the runtime from the environment, the clock, chunking."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import TypeVar

from kinerja.clock import FixedClock
from kinerja.runtime import Runtime
from models.rules.calendar import to_utc

T = TypeVar("T")


_injected: list[Runtime] = []


@lru_cache(maxsize=1)
def _runtime() -> Runtime:
    return Runtime.from_env()


def runtime() -> Runtime:
    """One runtime per flow process (engines are pooled, not rebuilt per run)."""
    return _injected[-1] if _injected else _runtime()


@contextmanager
def use_runtime(rt: Runtime) -> Iterator[Runtime]:
    """Run flows in this process against `rt` (tests, the benchmark)."""
    _injected.append(rt)
    try:
        yield rt
    finally:
        _injected.pop()


def now_of(rt: Runtime, now: str | None) -> datetime:
    """The injected time: a flow parameter (tests, replays) or the runtime's clock."""
    if now:
        at = datetime.fromisoformat(now)
        if at.tzinfo is None:  # an operator typed a wall-clock time: the agency's zone
            at = to_utc(at, rt.api.timezone)
        return FixedClock(at).now()
    return rt.clock.now()


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i:i + size]


class Progress:
    """A progress artifact on the run's page. Each update is an API call (tens of milliseconds,
    and a flow run's own cost on a small stage), so it is updated when it moved 5% and at most
    once every `every` seconds, and once at the end (unless it already shows 100%)."""

    def __init__(self, total: int, description: str, every: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        from prefect.artifacts import create_progress_artifact

        self.total, self.done, self.shown = max(1, total), 0, 0.0
        self.every, self.clock = every, clock
        self.id = create_progress_artifact(0.0, description=description)
        self.shown_at = clock()

    def _show(self, pct: float) -> None:
        from prefect.artifacts import update_progress_artifact

        update_progress_artifact(self.id, pct)
        self.shown, self.shown_at = pct, self.clock()

    def advance(self, n: int) -> None:
        self.done += n
        pct = min(100.0, 100.0 * self.done / self.total)
        if pct - self.shown >= 5 and self.clock() - self.shown_at >= self.every:
            self._show(pct)

    def finish(self) -> None:
        if self.shown < 100.0:
            self._show(100.0)
