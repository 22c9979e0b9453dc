"""The flows' progress artifact: an API call per update, so updates are spaced in time and
progress, and the end is shown once. (The artifact on a real Prefect server is covered by the
flow tests; here the two Prefect calls are recorded.)"""

from __future__ import annotations

import prefect.artifacts
import pytest

from flows.common import Progress


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float]]:
    made: list[tuple[str, float]] = []
    monkeypatch.setattr(prefect.artifacts, "create_progress_artifact",
                        lambda pct, description: made.append(("create", pct)) or "id")
    monkeypatch.setattr(prefect.artifacts, "update_progress_artifact",
                        lambda artifact_id, pct: made.append(("update", pct)))
    return made


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_quick_run_shows_its_start_and_its_end_only(calls: list) -> None:  # type: ignore[type-arg]
    clock = Clock()
    progress = Progress(10_000, "x", clock=clock)
    for _ in range(5):
        clock.now += 0.1
        progress.advance(2_000)
    progress.finish()
    assert calls == [("create", 0.0), ("update", 100.0)]


def test_a_long_run_shows_each_step_and_the_end_once(calls: list) -> None:  # type: ignore[type-arg]
    clock = Clock()
    progress = Progress(10_000, "x", clock=clock)
    for _ in range(5):
        clock.now += 2.0
        progress.advance(2_000)
    progress.finish()
    assert calls == [("create", 0.0), ("update", 20.0), ("update", 40.0), ("update", 60.0),
                     ("update", 80.0), ("update", 100.0)]


def test_small_steps_wait_for_five_percent(calls: list) -> None:  # type: ignore[type-arg]
    clock = Clock()
    progress = Progress(1_000, "x", clock=clock)
    for _ in range(100):
        clock.now += 5.0
        progress.advance(10)  # 1% a step
    assert [pct for kind, pct in calls if kind == "update"] == [5.0 * k for k in range(1, 21)]
