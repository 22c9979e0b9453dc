"""Test helpers: open planning directly (no Prefect), read links from the outbox."""

from __future__ import annotations

from sqlalchemy import select

from kinerja.runtime import Runtime
from models.db import session_scope
from models.repo import planning
from models.repo.cycles import create_cycle, get_stage
from models.repo.people import active_pegawai_ids
from models.rules import calendar
from models.rules.enums import StageCode
from models.tables import OutboxMessage, Skp


def open_planning_now(rt: Runtime, minutes: int = 100) -> int:
    """A cycle whose planning opened at the clock's now; returns its id."""
    now = rt.clock.now()
    with session_scope(rt.engine) as s:
        cycle = create_cycle(session=s, tahun=now.year, now=now, actor="test",
                             planning=calendar.compressed_planning(now, minutes))
        stage = get_stage(session=s, cycle_id=cycle.id, code=StageCode.PERENCANAAN)
        planning.open_planning_chunk(session=s, cycle=cycle, stage=stage,
                                     pegawai_ids=active_pegawai_ids(session=s), now=now,
                                     links=rt.links, agency="Kab. Contoh")
        stage.opened_at = now
        return cycle.id


def last_mail(rt: Runtime, email: str, kind: str) -> OutboxMessage:
    with session_scope(rt.engine) as s:
        row = s.execute(select(OutboxMessage).where(
            OutboxMessage.to_email == email, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())).scalars().first()
    assert row is not None, f"no {kind} mail to {email}"
    return row


def path_of(link: str) -> str:
    return link.removeprefix("http://testserver")


def skp_row(rt: Runtime, pegawai_id: int) -> Skp:
    with session_scope(rt.engine) as s:
        return s.execute(select(Skp).where(Skp.pegawai_id == pegawai_id)).scalar_one()


def outbox_count(rt: Runtime) -> int:
    with session_scope(rt.engine) as s:
        return len(s.execute(select(OutboxMessage.id)).all())


def hr_login(client, username: str, password: str, **kwargs):  # type: ignore[no-untyped-def]
    """Log a test client into the console like a browser: afterwards it sends the session's
    CSRF token (read from a page's form, as a browser would submit it) with every request."""
    import re

    kwargs.setdefault("follow_redirects", False)
    r = client.post("/hr/login", data={"username": username, "password": password}, **kwargs)
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/hr/login").text)
    if found:
        client.headers["X-CSRF-Token"] = found.group(1)
    return r
