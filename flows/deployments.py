"""The deployments `kinerja run` serves locally (prefect.yaml declares the same for workers)."""

from __future__ import annotations

from datetime import timedelta

from kinerja.settings import ApiSettings, PrefectSettings

ORCHESTRATOR = "orkestrator-siklus/kinerja"


def local_deployments(prefect: PrefectSettings, api: ApiSettings) -> list:  # type: ignore[type-arg]
    from flows.digest import send_digests
    from flows.keberatan import close_appeals_flow
    from flows.monitoring import close_period, open_period
    from flows.orchestrator import cycle_orchestrator
    from flows.outbox import dispatch_outbox
    from flows.penilaian import close_annual, open_annual, publication_decision
    from flows.planning import close_planning, open_planning
    from flows.reminders import send_reminders
    from flows.umpan_balik import close_feedback, open_feedback

    return [
        cycle_orchestrator.to_deployment(name="kinerja", tags=["kinerja"]),
        open_planning.to_deployment(name="kinerja", tags=["kinerja"]),
        close_planning.to_deployment(name="kinerja", tags=["kinerja"]),
        open_period.to_deployment(name="kinerja", tags=["kinerja"]),
        close_period.to_deployment(name="kinerja", tags=["kinerja"]),
        open_feedback.to_deployment(name="kinerja", tags=["kinerja"]),
        open_annual.to_deployment(name="kinerja", tags=["kinerja"]),
        close_annual.to_deployment(name="kinerja", tags=["kinerja"]),
        publication_decision.to_deployment(name="kinerja", tags=["kinerja"]),
        close_appeals_flow.to_deployment(name="kinerja", tags=["kinerja"]),
        close_feedback.to_deployment(name="kinerja", tags=["kinerja"]),
        send_reminders.to_deployment(name="kinerja", tags=["kinerja"], schedules=[
            _cron(prefect.reminder_cron, api.timezone)]),
        send_digests.to_deployment(name="kinerja", tags=["kinerja"], schedules=[
            _cron(prefect.digest_cron, api.timezone)]),
        dispatch_outbox.to_deployment(name="kinerja", tags=["kinerja"],
                                      interval=timedelta(seconds=prefect.dispatch_interval_seconds)),
    ]


def _cron(expr: str, tz: str):  # type: ignore[no-untyped-def]
    from prefect.schedules import Cron

    return Cron(expr, timezone=tz)
