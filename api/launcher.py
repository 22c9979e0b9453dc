"""Starting the cycle orchestrator as a Prefect deployment run, idempotently."""

from __future__ import annotations

from typing import Protocol

#: "<flow name>/<deployment name>", as served by `kinerja run` and declared in prefect.yaml
ORCHESTRATOR_DEPLOYMENT = "orkestrator-siklus/kinerja"


class OrchestrationUnavailable(Exception):
    """Prefect cannot be reached or the deployment is missing (HTTP 503)."""


class Launcher(Protocol):
    async def launch(self, cycle_id: int) -> str: ...


class PrefectLauncher:
    """Creates the orchestrator's flow run with idempotency key launch:{cycle_id}."""

    def __init__(self, api_url: str | None = None) -> None:
        self.api_url = api_url

    async def launch(self, cycle_id: int) -> str:
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        overrides = {PREFECT_API_URL: self.api_url} if self.api_url else {}
        try:
            with temporary_settings(updates=overrides):
                async with get_client() as client:
                    dep = await client.read_deployment_by_name(ORCHESTRATOR_DEPLOYMENT)
                    run = await client.create_flow_run_from_deployment(
                        dep.id, parameters={"cycle_id": cycle_id},
                        idempotency_key=f"launch:{cycle_id}", name=f"orkestrator-siklus-{cycle_id}")
        except Exception as exc:  # network errors, 404 deployment, server down
            raise OrchestrationUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return str(run.id)
