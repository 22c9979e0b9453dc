"""flows.heartbeat: the flow run heartbeat thread stops when the run ends, without the wait."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import prefect
import prefect.flow_engine as engine_module

from flows import heartbeat


class FakeEngine:
    def __init__(self, seconds: int | None) -> None:
        self.heartbeat_seconds = seconds
        self.flow_run = SimpleNamespace(state=SimpleNamespace(is_final=lambda: False))
        self.logger = SimpleNamespace(debug=lambda *a, **k: None)
        self.beats = 0
        self.beat = threading.Event()

    def _build_heartbeat_event_template(self) -> tuple[str, list]:
        return "resource", []

    def _emit_flow_run_heartbeat(self, resource: str, related: list) -> None:
        self.beats += 1
        self.beat.set()


def test_installed_on_the_checked_prefect_line() -> None:
    assert prefect.__version__.startswith(heartbeat.PATCHED_LINE)
    assert heartbeat.INSTALLED
    assert engine_module._send_heartbeats is heartbeat.send_heartbeats


def test_beats_at_start_and_stops_at_once() -> None:
    engine = FakeEngine(30)
    with heartbeat.send_heartbeats(engine):
        assert engine.beat.wait(5), "no heartbeat at the start of the run"
        names = {t.name for t in threading.enumerate()}
        start = time.monotonic()
    stopped_in = time.monotonic() - start
    assert engine.beats == 1  # the next one is 30 s away
    # Prefect's own loop sleeps in 1 s steps and the join waits for the step to end
    assert stopped_in < 0.5, stopped_in
    assert {t.name for t in threading.enumerate()} < names


def test_no_frequency_no_thread() -> None:
    engine = FakeEngine(None)
    before = threading.active_count()
    with heartbeat.send_heartbeats(engine):
        assert threading.active_count() == before
    assert engine.beats == 0


def test_final_state_stops_the_beats() -> None:
    engine = FakeEngine(30)
    engine.flow_run.state = SimpleNamespace(is_final=lambda: True)
    with heartbeat.send_heartbeats(engine):
        time.sleep(0.05)
    assert engine.beats == 0
