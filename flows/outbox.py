"""The outbox dispatcher: sends queued email in batches, retries with backoff, parks failures."""

from __future__ import annotations

import asyncio

from prefect import flow, get_run_logger

from flows.common import now_of, runtime
from notifications.dispatch import dispatch_parallel
from notifications.mailer import SmtpMailer


@flow(name="kirim-email", flow_run_name="kirim-email")
def dispatch_outbox(now: str | None = None, limit: int = 50_000) -> dict[str, int]:
    """Send what is due in the outbox; a message is never sent twice (idempotency key)."""
    rt = runtime()
    at = now_of(rt, now)
    report = asyncio.run(dispatch_parallel(engine=rt.engine, url=rt.db.url,
                                           mailer=SmtpMailer(rt.smtp), smtp=rt.smtp, now=at,
                                           limit=limit))
    result = {"sent": report.sent, "retried": report.retried, "parked": report.parked,
              "remaining": report.remaining}
    get_run_logger().info("email: %s", result)
    return result
