"""Launch goes to a real Prefect server: one orchestrator flow run per cycle, whatever the clicks."""

from __future__ import annotations

import pytest

from api.launcher import OrchestrationUnavailable, PrefectLauncher

pytestmark = pytest.mark.usefixtures("prefect_harness")


async def _register_orchestrator() -> None:
    from prefect.client.orchestration import get_client

    from flows.orchestrator import cycle_orchestrator

    async with get_client() as client:
        flow_id = await client.create_flow(cycle_orchestrator)
        await client.create_deployment(flow_id=flow_id, name="kinerja",
                                       entrypoint="flows/orchestrator.py:cycle_orchestrator")


async def test_launch_is_idempotent_per_cycle() -> None:
    await _register_orchestrator()
    launcher = PrefectLauncher()
    first = await launcher.launch(41)
    assert await launcher.launch(41) == first
    assert await launcher.launch(42) != first
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        run = await client.read_flow_run(first)
    assert run.parameters == {"cycle_id": 41} and run.name == "orkestrator-siklus-41"


async def test_unreachable_prefect_is_reported() -> None:
    with pytest.raises(OrchestrationUnavailable):
        await PrefectLauncher("http://127.0.0.1:9/api").launch(1)
