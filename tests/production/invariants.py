"""What must hold after a whole year, however it went: read from the app's database, the Maildir
the relay delivered to, and Prefect's API. Each check returns the violations it found (empty:
it holds), with a few examples, so a failing run says what broke."""

from __future__ import annotations

import mailbox
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine


def _state_columns() -> list[tuple[str, type, str, str | None]]:
    """(entity, table, column, its initial value or None): the states an audit entry must show
    once a row has left its initial one."""
    from models.tables import Keberatan, PenilaianTahunan, Skp, Task

    return [("skp", Skp, "status", "draf"), ("task", Task, "status", "open"),
            ("penilaian_tahunan", PenilaianTahunan, "predikat", None),
            ("penilaian_tahunan", PenilaianTahunan, "status", "draf"),
            ("keberatan", Keberatan, "status", "diajukan")]


def _plain(value: object) -> str:
    return str(getattr(value, "value", value))


def _examples(items: list, n: int = 5) -> str:
    return ", ".join(str(x) for x in items[:n]) + (" ..." if len(items) > n else "")


def maildir_keys(path: Path) -> Counter[str]:
    """X-Kinerja-Key -> how many messages carry it."""
    box = mailbox.Maildir(path, create=False)
    keys: Counter[str] = Counter()
    parser = BytesParser(policy=policy.default)
    for key in box.keys():
        with box.get_file(key) as f:  # the headers only, not the bodies
            msg = parser.parse(f, headersonly=True)
        keys[str(msg.get("X-Kinerja-Key", ""))] += 1
    return keys


def email_once(engine: Engine, maildir: Path, now: datetime | None = None) -> list[str]:
    """Every message the outbox owed has been delivered, exactly once; nothing else arrived."""
    now = now or datetime.now(UTC)
    problems: list[str] = []
    from models.tables import OutboxMessage as O

    with engine.connect() as conn:
        rows = conn.execute(select(O.key, O.status, O.next_attempt_at, O.last_error)).all()
    delivered = maildir_keys(maildir)
    due = [r.key for r in rows if r.status == "queued" and _utc(r.next_attempt_at) <= now]
    if due:
        problems.append(f"{len(due)} messages due but not sent: {_examples(due)}")
    parked = [f"{r.key} ({r.last_error})" for r in rows if r.status == "parked"]
    if parked:
        problems.append(f"{len(parked)} messages parked: {_examples(parked)}")
    sent = {r.key for r in rows if r.status == "sent"}
    missing = sorted(sent - set(delivered))
    if missing:
        problems.append(f"{len(missing)} sent messages never arrived: {_examples(missing)}")
    twice = sorted(k for k, n in delivered.items() if n > 1)
    if twice:
        problems.append(f"{len(twice)} messages arrived more than once: "
                        f"{_examples([f'{k} x{delivered[k]}' for k in twice])}")
    unknown = sorted(set(delivered) - sent)
    if unknown:
        problems.append(f"{len(unknown)} messages arrived that the outbox did not send: "
                        f"{_examples(unknown)}")
    return problems


def tasks_valid(engine: Engine) -> list[str]:
    """Every task in one of its states, with the dates that state implies; no task open in a
    cycle whose stages have all closed."""
    from models.tables import Task as T

    problems: list[str] = []
    with engine.connect() as conn:
        rows = conn.execute(select(T.id, T.status, T.done_at, T.created_at, T.closed_by,
                                   T.close_reason)).all()
    known = {"open", "done", "cancelled"}
    bad_status = [(r.id, r.status) for r in rows if _plain(r.status) not in known]
    done_no_date = [r.id for r in rows if _plain(r.status) == "done" and r.done_at is None]
    open_with_date = [r.id for r in rows if _plain(r.status) == "open" and r.done_at is not None]
    hr_closed = [r.id for r in rows if r.closed_by is not None and (
        _plain(r.status) == "open" or not (r.close_reason or "").strip())]
    before_created = [r.id for r in rows if r.done_at is not None
                      and _utc(r.done_at) < _utc(r.created_at)]
    for what, found in (("tasks in an unknown state", bad_status),
                        ("done tasks without done_at", done_no_date),
                        ("open tasks with done_at", open_with_date),
                        ("tasks closed by HR without a reason or still open", hr_closed),
                        ("tasks done before they were created", before_created)):
        if found:
            problems.append(f"{len(found)} {what}: {_examples(found)}")
    return problems


def audit_complete(engine: Engine, entities: tuple[str, ...] = ()) -> list[str]:
    """Every state a row is in now was reached through a change the audit log recorded: for each
    SKP, task, annual rating and keberatan not in its initial state, the log's latest entry for
    that column shows the current value. A rater's 360 task is the exception by design: no
    audit line may tell who finished their forms. `entities`: only these (default: all)."""
    from models.rules.feedback import UNAUDITED_TASK_KINDS
    from models.tables import Task

    with engine.connect() as conn:
        anonymous = set(conn.execute(select(Task.id).where(
            Task.kind.in_(UNAUDITED_TASK_KINDS))).scalars())
    problems: list[str] = []
    with engine.connect() as conn:
        for entity, table, column, initial in _state_columns():
            if entities and entity not in entities:
                continue
            col = getattr(table, column)
            rows = [(i, _plain(v)) for i, v in conn.execute(select(table.id, col)).all()
                    if v is not None and _plain(v) != initial
                    and not (entity == "task" and i in anonymous)]
            logged = _latest(conn, entity, column)
            gaps = [f"{entity} {i}: {column}={v} (log: {logged.get(i, '-')})"
                    for i, v in rows if logged.get(i) != v]
            if gaps:
                problems.append(f"{len(gaps)} of {len(rows)} {entity} rows reached their "
                                f"{column} without an audit entry: {_examples(gaps)}")
    return problems


def _latest(conn, entity: str, column: str) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """entity id -> the value of `column` in its latest audit entry that set it."""
    from models.tables import AuditLog as A

    out: dict[int, str] = {}
    # the automatic lines (`<entity>.ubah`) record state columns; an explicit line may carry
    # another row's state (a keberatan decision shows the result it changed)
    # in the order written (the id): `at` is each request's own clock reading, and a request
    # that waited for the row's lock writes after one that read the clock later
    rows = conn.execute(select(A.entity_id, A.after).where(
        A.entity == entity, A.action == f"{entity}.ubah").order_by(A.id))
    for entity_id, after in rows:
        if entity_id is not None and isinstance(after, dict) and column in after:
            out[entity_id] = str(after[column])
    return out


def flow_runs_completed(api_url: str, ignore: frozenset[str] = frozenset()
                        ) -> tuple[Counter[str], list[str]]:
    """Every flow run is Completed (or Scheduled for later), but the ids in `ignore`: (states
    by flow, problems)."""
    import anyio
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def _read() -> list:  # type: ignore[type-arg]
        with temporary_settings({PREFECT_API_URL: api_url}):
            async with get_client() as client:
                flows = {f.id: f.name for f in await client.read_flows(limit=200)}
                runs, offset = [], 0
                while True:
                    page = await client.read_flow_runs(limit=200, offset=offset,
                                                       sort=FlowRunSort.ID_DESC)
                    runs.extend((flows.get(r.flow_id, "?"), r.name, r.state_type.value
                                 if r.state_type else "?", r.state_name,
                                 r.expected_start_time) for r in page
                                if str(r.id) not in ignore)
                    if len(page) < 200:
                        return runs
                    offset += 200
    runs = anyio.run(_read)
    states = Counter(f"{flow}:{state}" for flow, _, state, _, _ in runs)
    # a scheduled flow (the email dispatcher, the sweep) may be starting or running right now
    problems = [f"{flow} {name}: {name_}" for flow, name, state, name_, expected in runs
                if state not in ("COMPLETED", "SCHEDULED") and not (
                    state in ("PENDING", "RUNNING") and expected is not None
                    and expected > datetime.now(UTC) - timedelta(minutes=3))]
    return states, ([f"{len(problems)} flow runs not completed: {_examples(problems, 10)}"]
                    if problems else [])


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
