"""Flow run heartbeats that stop at once when the run ends.

Prefect 3.8 sends a flow run's heartbeats (every `PREFECT_FLOWS_HEARTBEAT_FREQUENCY` seconds,
180 by default; they let an automation find a run whose process died) from a thread that sleeps
in one-second steps, and the engine joins that thread when the run ends: every flow run waited up
to a second after its last line (about 1.0 s measured at the end of opening planning for 5,000
employees, a quarter of the run). The same loop here waits on the stop event instead, so the
join returns at once; the heartbeats themselves are unchanged.

Applied once, when the flows package is imported (every deployment's entrypoint is in it), and
only to the Prefect line it was written against: another version keeps its own function.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import prefect
import prefect.flow_engine as engine_module

#: the Prefect versions whose `_send_heartbeats` this replaces (checked: 3.8.8)
PATCHED_LINE = "3.8."


@contextmanager
def send_heartbeats(engine: Any, join_on_exit: bool = True) -> Generator[None, None, None]:
    """prefect.flow_engine._send_heartbeats, with the sleep replaced by a wait on the stop event."""
    seconds = engine.heartbeat_seconds
    if seconds is None:
        yield
        return
    seconds = max(seconds, engine_module.MINIMUM_HEARTBEAT_INTERVAL)
    resource, related = engine._build_heartbeat_event_template()
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            run = engine.flow_run
            if run and run.state and run.state.is_final():
                return
            try:
                engine._emit_flow_run_heartbeat(resource, related)
            except Exception:  # noqa: BLE001 - as Prefect's: a missed heartbeat is not an error
                engine.logger.debug("Failed to emit heartbeat", exc_info=True)
            stop.wait(seconds)

    # the thread sees the run's settings context, as in Prefect's own (its comment explains why)
    thread = threading.Thread(target=contextvars.copy_context().run, args=(loop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        if join_on_exit:
            thread.join(timeout=2)


def install() -> bool:
    """Replace Prefect's heartbeat context on the version line it was checked against."""
    if not prefect.__version__.startswith(PATCHED_LINE):
        return False
    if getattr(engine_module, "_send_heartbeats", None) is None:
        return False
    engine_module._send_heartbeats = send_heartbeats
    return True


INSTALLED = install()
