"""The operators' email about a failed flow run: who gets it, and queueing it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from models.repo.outbox import enqueue_messages
from models.repo.people import hr_admin_emails
from models.rules import operasi as rules
from models.rules.texts import format_datetime
from models.tables import Cycle, HrUser, OutboxMessage

KIND = "kegagalan_flow"
DEFAULT_NAME = {"id": "Operator Kinerja", "en": "Kinerja operator"}


@dataclass(frozen=True)
class FlowRunFailure:
    """What Prefect told us about one failed flow run (ids and names only)."""

    flow_run_id: str
    flow_name: str
    run_name: str
    state_name: str
    state_message: str
    occurred: datetime


@dataclass(frozen=True)
class FailureMail:
    """What queueing did: `duplicate` (already emailed for this run and state) and
    `suppressed` (the same flow was emailed about within the quiet window) queue nothing."""

    queued: int
    recipients: int
    duplicate: bool = False
    suppressed: bool = False


@dataclass(frozen=True)
class FailureMailSettings:
    agency: str
    language: str
    timezone: str
    run_link: str
    console_link: str
    quiet_minutes: int


def operator_recipients(*, session: Session, configured: list[str],
                        language: str) -> list[tuple[str, str]]:
    """(name, email) of the operators: the configured addresses (named after their HR user
    when there is one), else the active HR admins."""
    if not configured:
        return hr_admin_emails(session=session)
    names = {email.lower(): nama for email, nama in session.execute(
        select(HrUser.email, HrUser.nama).where(func.lower(HrUser.email).in_(configured)))}
    default = DEFAULT_NAME.get(language, DEFAULT_NAME["id"])
    return [(names.get(email, default), email) for email in configured]


def queue_failure_emails(*, session: Session, failure: FlowRunFailure,
                         recipients: list[tuple[str, str]], now: datetime,
                         cfg: FailureMailSettings) -> FailureMail:
    """One `kegagalan_flow` email per operator, at most once per run and state. Does not
    commit."""
    keys = {email: rules.failure_key(failure.flow_name, failure.flow_run_id, failure.state_name,
                                     email) for _, email in recipients}
    if not keys:
        return FailureMail(queued=0, recipients=0)
    known = set(session.execute(select(OutboxMessage.key).where(
        OutboxMessage.key.in_(list(keys.values())))).scalars())
    if known:  # a retried delivery, or the same run failing again after a manual retry
        return FailureMail(queued=0, recipients=len(keys), duplicate=True)
    if cfg.quiet_minutes and _emailed_lately(session, failure, now, cfg.quiet_minutes):
        return FailureMail(queued=0, recipients=len(keys), suppressed=True)
    context = _context(session, failure, cfg)
    queued = enqueue_messages(session=session, now=now, messages=[{
        "key": keys[email], "kind": KIND, "to_email": email, "language": cfg.language,
        "context": context | {"nama": nama}} for nama, email in recipients])
    return FailureMail(queued=queued, recipients=len(keys))


def _emailed_lately(session: Session, failure: FlowRunFailure, now: datetime,
                    minutes: int) -> bool:
    prefix = rules.flow_key_prefix(failure.flow_name)
    same_run = f"{prefix}{failure.flow_run_id}:"
    since = now - timedelta(minutes=minutes)
    found = session.execute(select(OutboxMessage.id).where(
        # next_attempt_at starts at created_at and only moves later: an indexed first cut
        OutboxMessage.next_attempt_at >= since, OutboxMessage.created_at >= since,
        OutboxMessage.kind == KIND, OutboxMessage.key.startswith(prefix, autoescape=True),
        ~OutboxMessage.key.startswith(same_run, autoescape=True)).limit(1)).first()
    return found is not None


def _context(session: Session, failure: FlowRunFailure,
             cfg: FailureMailSettings) -> dict[str, object]:
    cycle_id = rules.cycle_of_run(failure.run_name)
    tahun = session.execute(select(Cycle.tahun).where(Cycle.id == cycle_id)).scalar() \
        if cycle_id is not None else None
    if tahun is None:
        tahun = failure.occurred.astimezone(ZoneInfo(cfg.timezone)).year
    return {"agency_name": cfg.agency, "tahun": tahun, "flow_name": failure.flow_name,
            "run_name": failure.run_name, "state_name": failure.state_name,
            "state_message": rules.redact(failure.state_message),
            "occurred": format_datetime(failure.occurred, cfg.timezone, cfg.language),
            "run_link": cfg.run_link, "console_link": cfg.console_link,
            "quiet_minutes": cfg.quiet_minutes}
