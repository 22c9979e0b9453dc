"""`kinerja deploy`: register Kinerja's deployments in a Prefect process work pool (production).

The deployments are declared in `prefect.yaml`. Its schedules, time zone and pool name are
written there as defaults; here they are replaced by Kinerja's settings, so that workers run the
schedules `kinerja run` would serve (Prefect validates the file before it fills `{{ $VAR }}`
placeholders, so an interval cannot be one). The pull step sets the flow process's folder to
this installation's. Running it again updates the deployments in place: a flow run already
started keeps running (upgrades).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx

from kinerja.runtime import Runtime

#: the installation's folder (flows/, prefect.yaml): this checkout, or KINERJA_APP_DIR
APP_DIR = Path(os.environ.get("KINERJA_APP_DIR") or Path(__file__).resolve().parent.parent)


class DeployFailed(Exception):
    """Prefect refused the work pool or the deployments; the message says what it printed."""


#: entrypoint -> the schedule the settings give it
SCHEDULED = {"flows/reminders.py:send_reminders": "reminder_cron",
             "flows/digest.py:send_digests": "digest_cron",
             "flows/outbox.py:dispatch_outbox": "dispatch_interval_seconds"}


def configured(rt: Runtime, source: Path | None = None) -> dict:  # type: ignore[type-arg]
    """prefect.yaml with the pool, the schedules and the time zone from the settings."""
    import yaml

    source = source or APP_DIR / "prefect.yaml"
    if not source.is_file():
        raise DeployFailed(f"{source} not found: run from the installation's folder (a source "
                           "checkout or `pip install -e .`) or set KINERJA_APP_DIR to it")
    config = yaml.safe_load(source.read_text())
    for d in config["deployments"]:
        d["work_pool"] = {"name": rt.prefect.work_pool}
        setting = SCHEDULED.get(d["entrypoint"])
        if setting == "dispatch_interval_seconds":
            d["schedules"] = [{"interval": rt.prefect.dispatch_interval_seconds}]
        elif setting:
            d["schedules"] = [{"cron": getattr(rt.prefect, setting), "timezone": rt.api.timezone}]
    return config


def ensure_work_pool(api_url: str, name: str) -> bool:
    """Create the process work pool when it does not exist; True when it was created."""
    import anyio
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def _ensure() -> bool:
        with temporary_settings({PREFECT_API_URL: api_url}):
            async with get_client() as client:
                try:
                    pool = await client.read_work_pool(name)
                except ObjectNotFound:
                    await client.create_work_pool(WorkPoolCreate(name=name, type="process"))
                    return True
                if pool.type != "process":
                    raise DeployFailed(f"work pool {name!r} is of type {pool.type!r}, "
                                       "Kinerja's workers need a 'process' pool")
                return False
    return anyio.run(_ensure)


class _PullSteps:
    """Storage that only names the pull steps (what `prefect deploy` passes for prefect.yaml's
    `pull:` section): the worker's flow process runs them before loading the entrypoint."""

    def __init__(self, steps: list[dict]) -> None:  # type: ignore[type-arg]
        self.steps, self._base = steps, APP_DIR

    def set_base_path(self, path: Path) -> None:
        self._base = path

    @property
    def destination(self) -> Path:
        return self._base

    @property
    def pull_interval(self) -> int:
        return 60

    async def pull_code(self) -> None:
        return None

    def to_pull_step(self) -> list[dict]:  # type: ignore[type-arg]
        return self.steps


def _schedule(item: dict) -> dict:  # type: ignore[type-arg]
    from datetime import timedelta

    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    if "cron" in item:
        return {"schedule": CronSchedule(cron=item["cron"], timezone=item.get("timezone")),
                "active": True}
    return {"schedule": IntervalSchedule(interval=timedelta(seconds=float(item["interval"]))),
            "active": True}


def deploy(rt: Runtime) -> list[str]:
    """Create the pool if needed and register (or update) every deployment of prefect.yaml
    with the settings' schedules; the deployment names Prefect now has for the pool.

    Done with Prefect's Python API as `prefect deploy --all` would, because that command in
    Prefect 3.8.8 stops after the first deployment on a 422 from its own server (it asks for the
    pool's workers with `limit: null`)."""
    from prefect.deployments.runner import RunnerDeployment
    from prefect.flows import load_flow_from_entrypoint
    from prefect.settings import PREFECT_API_URL, temporary_settings

    ensure_work_pool(rt.prefect.api, rt.prefect.work_pool)
    config = configured(rt)
    pull = [{step: {k: (str(APP_DIR) if v == "{{ $KINERJA_APP_DIR }}" else v)
                    for k, v in args.items()}} for entry in config.get("pull") or []
            for step, args in entry.items()]
    with temporary_settings({PREFECT_API_URL: rt.prefect.api}):
        for d in config["deployments"]:
            path, _, fn = d["entrypoint"].partition(":")
            try:
                flow = load_flow_from_entrypoint(f"{APP_DIR / path}:{fn}")
            except Exception as exc:  # noqa: BLE001 - a wrong entrypoint names itself
                raise DeployFailed(f"{d['entrypoint']}: {type(exc).__name__}: {exc}") from exc
            deployment = RunnerDeployment(
                name=d["name"], flow_name=flow.name, entrypoint=d["entrypoint"],
                work_pool_name=rt.prefect.work_pool, tags=d.get("tags") or [],
                description=d.get("description"), storage=_PullSteps(pull))  # type: ignore[arg-type]
            deployment._set_defaults_from_flow(flow)
            deployment.apply(schedules=[_schedule(x) for x in d.get("schedules") or []])
    return pool_deployments(rt.prefect.api, rt.prefect.work_pool)


def pool_deployments(api_url: str, pool: str) -> list[str]:
    """'flow-name/deployment-name' of every deployment in the pool."""
    import anyio
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName
    from prefect.client.schemas.sorting import DeploymentSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def _list() -> list[str]:
        with temporary_settings({PREFECT_API_URL: api_url}):
            async with get_client() as client:
                # limit and sort spelled out: Prefect 3.8.8's server refuses them as null
                deployments = await client.read_deployments(
                    work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])),
                    limit=200, sort=DeploymentSort.NAME_ASC)
                flows = {f.id: f.name for f in await client.read_flows(limit=200)}
                return sorted(f"{flows.get(d.flow_id, '?')}/{d.name}" for d in deployments)
    return anyio.run(_list)


def main() -> int:
    rt = Runtime.from_env()
    try:
        names = deploy(rt)
    except DeployFailed as exc:
        print(f"deploy gagal / failed: {exc}", file=sys.stderr)
        return 1
    except (OSError, httpx.TransportError) as exc:
        print(f"Prefect tidak terjangkau / unreachable at {rt.prefect.api}: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # noqa: BLE001 - Prefect refused something: say what, exit 1
        print(f"deploy gagal / failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"{len(names)} deployment di work pool / in work pool {rt.prefect.work_pool!r}:")
    for name in names:
        print(f"  {name}")
    print(f"pekerja / workers: prefect worker start --pool {rt.prefect.work_pool}")
    return 0
