"""Starting the cycle orchestrator as a Prefect deployment run, idempotently."""

from __future__ import annotations

import asyncio
from typing import Protocol

#: "<flow name>/<deployment name>", as served by `kinerja run` and declared in prefect.yaml
ORCHESTRATOR_DEPLOYMENT = "orkestrator-siklus/kinerja"
#: how long HR's click waits on Prefect: a server that accepts connections but does not answer
#: (hung, overloaded) would otherwise hold the request for minutes (the client's 60 s timeout,
#: retried); a launch that did go through is found again by its idempotency key
PREFECT_TIMEOUT_SECONDS = 20.0


class OrchestrationUnavailable(Exception):
    """Prefect cannot be reached or the deployment is missing (HTTP 503)."""


class Launcher(Protocol):
    async def launch(self, cycle_id: int) -> str: ...

    async def resume_publication(self, cycle_id: int, by: str) -> bool: ...


class PrefectLauncher:
    """Creates the orchestrator's flow run with idempotency key launch:{cycle_id}."""

    def __init__(self, api_url: str | None = None,
                 timeout: float = PREFECT_TIMEOUT_SECONDS) -> None:
        self.api_url = api_url
        self.timeout = timeout

    async def launch(self, cycle_id: int) -> str:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        overrides = {PREFECT_API_URL: self.api_url} if self.api_url else {}
        try:
            async with asyncio.timeout(self.timeout):  # a hung server is down too
                with temporary_settings(updates=overrides):
                    async with get_client() as client:
                        dep = await client.read_deployment_by_name(ORCHESTRATOR_DEPLOYMENT)
                        run = await client.create_flow_run_from_deployment(
                            dep.id, parameters={"cycle_id": cycle_id},
                            idempotency_key=f"launch:{cycle_id}", name=f"orkestrator-siklus-{cycle_id}",
                            tags=[f"siklus-{cycle_id}"])
        except Exception as exc:  # network errors, 404 deployment, server down
            raise OrchestrationUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return str(run.id)

    async def resume_publication(self, cycle_id: int, by: str) -> bool:
        """Resume the cycle's paused `keputusan-publikasi` run with HR's decision to publish;
        False when there is none waiting (the caller then publishes directly)."""
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterName,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from prefect.client.schemas.objects import StateType
        from prefect.client.schemas.sorting import FlowRunSort
        from prefect.flow_runs import aresume_flow_run
        from prefect.settings import PREFECT_API_URL, temporary_settings

        overrides = {PREFECT_API_URL: self.api_url} if self.api_url else {}
        try:
            async with asyncio.timeout(self.timeout):  # a hung server is down too
                with temporary_settings(updates=overrides):
                    async with get_client() as client:
                        runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
                            name=FlowRunFilterName(any_=[f"keputusan-publikasi-siklus-{cycle_id}"]),
                            state=FlowRunFilterState(type=FlowRunFilterStateType(
                                any_=[StateType.PAUSED]))), limit=5, sort=FlowRunSort.ID_DESC)
                    if not runs:
                        return False
                    await aresume_flow_run(runs[0].id, run_input={"publish": True, "by": by})
        except Exception as exc:
            raise OrchestrationUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return True
