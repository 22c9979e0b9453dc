"""Shared by the flows: the runtime from the environment, the clock, chunking."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TypeVar

from kinerja.clock import FixedClock
from kinerja.runtime import Runtime

T = TypeVar("T")


@lru_cache(maxsize=1)
def _runtime() -> Runtime:
    return Runtime.from_env()


def runtime() -> Runtime:
    """One runtime per flow process (engines are pooled, not rebuilt per run)."""
    return _runtime()


def now_of(rt: Runtime, now: str | None) -> datetime:
    """The injected time: a flow parameter (tests, replays) or the runtime's clock."""
    if now:
        return FixedClock(datetime.fromisoformat(now)).now()
    return rt.clock.now()


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i:i + size]
