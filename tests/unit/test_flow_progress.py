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


def run(total: int, steps: int, step: int, seconds: float, finish: bool = True) -> None:
    """A stage of `total` in `steps` chunks of `step`, each taking `seconds`."""
    now = [0.0]
    progress = Progress(total, "x", clock=lambda: now[0])
    for _ in range(steps):
        now[0] += seconds
        progress.advance(step)
    if finish:
        progress.finish()


def test_a_quick_run_shows_its_start_and_its_end_only(calls: list) -> None:  # type: ignore[type-arg]
    run(10_000, 5, 2_000, 0.1)
    assert calls == [("create", 0.0), ("update", 100.0)]


def test_a_long_run_shows_each_step_and_the_end_once(calls: list) -> None:  # type: ignore[type-arg]
    run(10_000, 5, 2_000, 2.0)
    assert calls == [("create", 0.0), ("update", 20.0), ("update", 40.0), ("update", 60.0),
                     ("update", 80.0), ("update", 100.0)]


def test_small_steps_wait_for_five_percent(calls: list) -> None:  # type: ignore[type-arg]
    run(1_000, 100, 10, 5.0, finish=False)  # 1% a step
    assert [pct for kind, pct in calls if kind == "update"] == [5.0 * k for k in range(1, 21)]
