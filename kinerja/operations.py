"""Prefect for operators: the failure automation, and reading Kinerja's flow runs back.

The automation (`kinerja-kegagalan-flow`) is a Prefect `EventTrigger` on the failure events of
Kinerja's flows (`prefect.flow-run.Failed`, `.Crashed`, `.TimedOut`) with one `CallWebhook`
action; its `Webhook` block posts the event to the app's /api/v1/ops/prefect-event with a secret
header, and the app queues the operators' email in its outbox (the app owns email).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kinerja.runtime import secret_key
from kinerja.settings import ApiSettings, OpsSettings
from models.rules import operasi as rules
from models.rules.enums import StageCode

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

AUTOMATION_NAME = "kinerja-kegagalan-flow"
BLOCK_NAME = "kinerja-kegagalan-flow"
WEBHOOK_PATH = "/api/v1/ops/prefect-event"
SECRET_HEADER = "X-Kinerja-Ops-Secret"

#: every Kinerja flow (its Prefect name) and what it does, in the cycle's order; a unit test
#: keeps this in step with the deployments
FLOWS: dict[str, tuple[str, str]] = {
    "orkestrator-siklus": ("Orkestrator siklus", "Cycle orchestrator"),
    "buka-perencanaan": ("Perencanaan dibuka", "Planning opens"),
    "tutup-perencanaan": ("Perencanaan ditutup", "Planning closes"),
    "buka-periode": ("Periode pemantauan dibuka", "Monitoring period opens"),
    "tutup-periode": ("Periode pemantauan ditutup", "Monitoring period closes"),
    "buka-umpan-balik": ("Umpan balik 360 dibuka", "360 feedback opens"),
    "tutup-umpan-balik": ("Umpan balik 360 ditutup", "360 feedback closes"),
    "buka-penilaian": ("Penilaian tahunan dibuka", "Annual rating opens"),
    "tutup-penilaian": ("Penilaian tahunan ditutup, skor akhir", "Annual rating closes, scoring"),
    "keputusan-publikasi": ("Menunggu keputusan publikasi", "Waits for the publication decision"),
    "tutup-keberatan": ("Masa keberatan ditutup", "Appeal window closes"),
    "kirim-pengingat": ("Pengingat dan eskalasi", "Reminders and escalation"),
    "kirim-ringkasan": ("Ringkasan harian", "Daily digest"),
    "kirim-email": ("Pengiriman email (outbox)", "Email dispatch (outbox)"),
}

#: the Jinja payload Prefect renders for the webhook: the event's own labels (the state at the
#: time of the event, not the run's state when the action runs), JSON-escaped by `tojson`
PAYLOAD = ("{"
           '"event_id": {{ event.id|string|tojson }}, '
           '"event": {{ event.event|tojson }}, '
           '"occurred": {{ event.occurred.isoformat()|tojson }}, '
           '"flow_run_id": {{ event.resource.id|tojson }}, '
           '"run_name": {{ event.resource.name|tojson }}, '
           '"flow_name": {{ event.resource_in_role["flow"].name|tojson }}, '
           '"state_name": {{ event.resource.get("prefect.state-name")|tojson }}, '
           '"state_message": {{ event.resource.get("prefect.state-message", "")|tojson }}'
           "}")


class PrefectUnavailable(Exception):
    """The Prefect API cannot be reached or answered with an error."""


def ops_secret(api: ApiSettings) -> str:
    """The webhook's shared secret: an HMAC of a fixed label with the app's secret key, so it
    changes with the key and needs no storage of its own."""
    return hmac.new(secret_key(api).encode(), b"kinerja:ops:prefect-webhook",
                    hashlib.sha256).hexdigest()


def webhook_url(api: ApiSettings, ops: OpsSettings) -> str:
    """Where Prefect's automation reaches the app: KINERJA_OPS_WEBHOOK_URL, else the app's URL."""
    return ops.webhook_url or api.public_url + WEBHOOK_PATH


def run_link(ui: str, flow_run_id: str) -> str:
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id}"


def stage_run_names(code: StageCode, periode: int, cycle_id: int) -> list[str]:
    """The flow runs that open and close a stage, as the flows name them."""
    c = f"siklus-{cycle_id}"
    return {
        StageCode.PERENCANAAN: [f"buka-perencanaan-{c}", f"tutup-perencanaan-{c}"],
        StageCode.PEMANTAUAN: [f"buka-periode-{periode}-{c}", f"tutup-periode-{periode}-{c}"],
        StageCode.UMPAN_BALIK: [f"buka-umpan-balik-{c}", f"tutup-umpan-balik-{c}"],
        StageCode.PENILAIAN: [f"buka-penilaian-{c}", f"tutup-penilaian-{c}",
                              f"keputusan-publikasi-{c}"],
        StageCode.KEBERATAN: [f"tutup-keberatan-{c}"],
    }[code]


@dataclass(frozen=True)
class RunInfo:
    """One flow run as operators see it (ids, names and states only)."""

    id: str
    flow: str
    name: str
    state_type: str  # COMPLETED, FAILED, CRASHED, RUNNING, ...
    state_name: str  # Completed, Failed, TimedOut, Crashed, AwaitingRetry, ...
    message: str
    start: datetime | None
    end: datetime | None
    tags: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.state_type in ("FAILED", "CRASHED")

    @property
    def cycle_id(self) -> int | None:
        return rules.cycle_of_run(self.name)

    def duration(self, now: datetime) -> timedelta | None:
        if self.start is None:
            return None
        return (self.end or now) - self.start

    def as_json(self, now: datetime, ui: str) -> dict[str, Any]:
        return {"id": self.id, "flow": self.flow, "name": self.name, "state": self.state_name,
                "state_type": self.state_type, "message": rules.redact(self.message, 300),
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "duration_seconds": (round(d.total_seconds(), 1)
                                     if (d := self.duration(now)) is not None else None),
                "link": run_link(ui, self.id)}


@dataclass(frozen=True)
class AutomationInfo:
    id: str
    enabled: bool


@asynccontextmanager
async def prefect_client(api_url: str, timeout: float = 10.0) -> AsyncIterator[PrefectClient]:
    """A Prefect client for `api_url`; failing to reach it, or an error answer to anything done
    with it, is PrefectUnavailable. A server that is down is found out at once by a health
    check, not after the client's connection retries."""
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    try:
        async with httpx.AsyncClient(timeout=min(timeout, 3.0)) as probe:
            (await probe.get(f"{api_url.rstrip('/')}/health")).raise_for_status()
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            async with get_client(httpx_settings={"timeout": timeout}) as client:
                yield client
    except PrefectUnavailable:
        raise
    except Exception as exc:  # connection refused, timeouts, HTTP errors from the server
        raise PrefectUnavailable(f"{type(exc).__name__}: {exc}") from exc


async def _flow_names(client: PrefectClient, runs: list[Any]) -> dict[Any, str]:
    """The flows' names by id, for the flows of these runs (one read per flow)."""
    ids = list({r.flow_id for r in runs})
    flows = await asyncio.gather(*(client.read_flow(i) for i in ids))
    return {f.id: f.name for f in flows}


def _info(run: Any, flows: dict[Any, str]) -> RunInfo:
    state = run.state
    return RunInfo(id=str(run.id), flow=flows.get(run.flow_id, ""), name=run.name,
                   state_type=state.type.value if state else "UNKNOWN",
                   state_name=(state.name if state else "") or "",
                   message=(state.message if state else "") or "",
                   start=run.start_time, end=run.end_time, tags=tuple(run.tags or ()))


async def read_runs(client: PrefectClient, *, cycle_id: int | None = None, limit: int = 100,
                    failed_since: datetime | None = None,
                    flows: list[str] | None = None) -> list[RunInfo]:
    """Kinerja's flow runs that are due or done, newest first: of one cycle (by run name), or
    only the runs that failed or crashed since a moment."""
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterEndTime,
        FlowRunFilterName,
        FlowRunFilterState,
        FlowRunFilterStateName,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    names = flows or list(FLOWS)
    run_filter = FlowRunFilter()
    if cycle_id is not None:  # "siklus-1" also matches "siklus-12": exact match below
        run_filter.name = FlowRunFilterName(like_=f"siklus-{cycle_id}")
    if failed_since is not None:
        run_filter.state = FlowRunFilterState(type=FlowRunFilterStateType(
            any_=[StateType.FAILED, StateType.CRASHED]))
        run_filter.end_time = FlowRunFilterEndTime(after_=failed_since)
    else:  # not the schedule's future runs (a cron flow has many); Late ones do show
        run_filter.state = FlowRunFilterState(name=FlowRunFilterStateName(not_any_=["Scheduled"]))
    runs = await client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=names)), flow_run_filter=run_filter,
        sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=limit)
    flow_names = await _flow_names(client, runs)
    out = [_info(r, flow_names) for r in runs]
    return [r for r in out if cycle_id is None or r.cycle_id == cycle_id]


async def read_last_runs(client: PrefectClient,
                         flows: list[str] | None = None) -> dict[str, RunInfo | None]:
    """The latest run that started, of each Kinerja flow (None: never ran)."""
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    names = flows or list(FLOWS)
    async def last(name: str) -> RunInfo | None:
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[name])),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(is_null_=False)),
            sort=FlowRunSort.START_TIME_DESC, limit=1)
        return _info(runs[0], {runs[0].flow_id: name}) if runs else None

    found = await asyncio.gather(*(last(n) for n in names))
    return dict(zip(names, found, strict=True))


async def read_automation(client: PrefectClient) -> AutomationInfo | None:
    found = await client.read_automations_by_name(AUTOMATION_NAME)
    return AutomationInfo(str(found[0].id), found[0].enabled) if found else None


def _automation(block_id: Any, enabled: bool, flows: list[str]) -> Any:
    from prefect.events.actions import CallWebhook
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    return AutomationCore(
        name=AUTOMATION_NAME, enabled=enabled, tags=["kinerja"],
        description="Kinerja: email the operators (through the app's outbox) when a Kinerja "
                    "flow run fails, crashes or times out. Managed by `kinerja "
                    "ensure-automation`; changes made here are overwritten.",
        trigger=EventTrigger(
            expect=set(rules.FAILURE_EVENTS), match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={"prefect.resource.role": "flow", "prefect.resource.name": flows},
            posture=Posture.Reactive, threshold=1, within=timedelta(0)),
        actions=[CallWebhook(block_document_id=block_id, payload=PAYLOAD)])


async def aensure_failure_automation(api_url: str, webhook: str, secret: str,
                                     flows: list[str] | None = None) -> str:
    """Create or update (by name) the webhook block and the automation; returns the
    automation's id. Safe to run any number of times; keeps an operator's enable/disable."""
    from prefect.blocks.webhook import Webhook

    names = flows or list(FLOWS)
    async with prefect_client(api_url) as client:
        block = Webhook(method="POST", url=webhook,
                        headers={SECRET_HEADER: secret, "Content-Type": "application/json"})
        block_id = await block.asave(BLOCK_NAME, overwrite=True, client=client)
        found = sorted(await client.read_automations_by_name(AUTOMATION_NAME),
                       key=lambda a: str(a.id))
        if not found:
            return str(await client.create_automation(_automation(block_id, True, names)))
        keep, extra = found[0], found[1:]
        await client.update_automation(keep.id, _automation(block_id, keep.enabled, names))
        for other in extra:  # two `kinerja run` starting at once: one automation stays
            await client.delete_automation(other.id)
        return str(keep.id)


def ensure_failure_automation(api_url: str, webhook: str, secret: str,
                              flows: list[str] | None = None) -> str:
    """The same, for callers without an event loop (the CLI, the supervisor)."""
    return asyncio.run(aensure_failure_automation(api_url, webhook, secret, flows))
