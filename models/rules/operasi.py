"""Operations rules: which flow-run events need the operators, what an email about one may say,
and how a run and a stage read to an operator. Standard library only."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

#: Prefect's terminal failure states (TimedOut is a Failed state with its own name)
FAILURE_STATES = frozenset({"Failed", "Crashed", "TimedOut"})
FAILURE_EVENTS = frozenset(f"prefect.flow-run.{s}" for s in FAILURE_STATES)
#: outbox keys of failure emails start with this (then the flow's name)
KEY_PREFIX = "kegagalan"
MAX_KEY = 200
MAX_MESSAGE = 600

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: NIP (18 digits), NIK (16), phone numbers: any run of 8 or more digits
_LONG_NUMBER = re.compile(r"(?<!\d)\+?\d[\d ]{6,}\d(?!\d)")
_CYCLE_IN_NAME = re.compile(r"-siklus-(\d+)$")


def is_failure(event: str, state_name: str) -> bool:
    """A Prefect event the operators must hear about: a flow run that failed, crashed or timed
    out (the event and the state it names must agree)."""
    return state_name in FAILURE_STATES and event == f"prefect.flow-run.{state_name}"


def redact(message: str | None, limit: int = MAX_MESSAGE) -> str:
    """A state message fit for an email: email addresses and long numbers (NIP, NIK, phone)
    hidden, whitespace kept to lines, cut at `limit` characters."""
    if not message:
        return ""
    text = _EMAIL.sub("[email]", message)
    text = _LONG_NUMBER.sub("[nomor]", text)
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    text = "\n".join(line for line in lines if line)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def failure_key(flow_name: str, flow_run_id: str, state_name: str, email: str) -> str:
    """One email per flow run, failure state and recipient, whoever delivers the event twice."""
    head = f"{KEY_PREFIX}:{flow_name}:{flow_run_id}:{state_name.lower()}:"
    who = email.lower()
    if len(head) + len(who) > MAX_KEY:
        who = hashlib.sha256(who.encode()).hexdigest()[:24]
    return (head + who)[:MAX_KEY]


def flow_key_prefix(flow_name: str) -> str:
    """The outbox keys of every failure email about one flow."""
    return f"{KEY_PREFIX}:{flow_name}:"


def cycle_of_run(run_name: str) -> int | None:
    """The cycle a stage flow run belongs to, read from its name (`...-siklus-7`)."""
    m = _CYCLE_IN_NAME.search(run_name)
    return int(m[1]) if m else None


def stage_state(opened_at: datetime | None, closed_at: datetime | None) -> str:
    """'planned', 'open' or 'closed': what the flows have done to a stage so far."""
    if closed_at is not None:
        return "closed"
    return "open" if opened_at is not None else "planned"


def format_duration(value: timedelta | None) -> str:
    """'0:03:05' (hours:minutes:seconds, days added when long); '-' when unknown."""
    if value is None:
        return "-"
    total = max(0, int(value.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{days}d {clock}" if days else clock
