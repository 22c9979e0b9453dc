"""The daily digest (ringkasan harian): per-event messages held for people in digest mode, and
once a day one email per person listing everything that waits for them.

Holding: `enqueue_messages` asks `hold_for_digest` which new messages to hold. A held message
stays in the outbox as a queued row whose next attempt is HELD_UNTIL, so the dispatcher never
sends it on its own and its key still guards against a second copy. (The status column is a
database enum of queued, sent and parked on PostgreSQL; a fourth status would need a
migration, a date does not.) The daily run answers held rows: when it sends the person's digest
they become sent (the digest carried them); when nothing waits for the person any more they
are removed (nothing is left to tell). The digest itself lists what waits from the database,
so an item handled before the digest is not listed and nothing held is lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session

from models.repo.outbox import enqueue_messages
from models.repo.skp import Mail
from models.repo.waiting import PART, Butir, count_items, count_waiting, waiting_items
from models.rules import digest as rules
from models.rules import periods
from models.rules.enums import OutboxStatus, Ringkasan, TaskStatus
from models.rules.texts import format_date, format_datetime
from models.tables import Cycle, OutboxMessage, Pegawai, Task


def _held():  # type: ignore[no-untyped-def]
    return (OutboxMessage.status == OutboxStatus.QUEUED) & (
        OutboxMessage.next_attempt_at >= rules.HELD_UNTIL)


def hold_for_digest(*, session: Session, messages: list[dict[str, Any]],
                    now: datetime) -> set[str]:
    """Keys of the messages to hold for their recipient's digest instead of sending them now.

    Only DIGESTIBLE kinds addressed to an active employee (`pegawai_id` names the recipient and
    `to_email` is theirs) are held; for `otomatis` the items waiting for the recipient are
    counted, the one the message is about included (it is already written)."""
    asked = [m for m in messages if m["kind"] in rules.DIGESTIBLE and m.get("pegawai_id")]
    if not asked:
        return set()
    ids = sorted({int(m["pegawai_id"]) for m in asked})
    people: dict[int, tuple[str, str]] = {}
    for i in range(0, len(ids), PART):
        people.update({pid: (pref, email.lower()) for pid, pref, email in session.execute(
            select(Pegawai.id, Pegawai.ringkasan, Pegawai.email).where(
                Pegawai.id.in_(ids[i:i + PART]), Pegawai.active))})
    counted = [pid for pid, (pref, _) in people.items() if pref == Ringkasan.OTOMATIS]
    waiting = count_waiting(session=session, pegawai_ids=counted, now=now,
                            enough=rules.AMBANG_OTOMATIS) if counted else {}
    held = set()
    for m in asked:
        pid = int(m["pegawai_id"])
        pref, email = people.get(pid, (None, ""))
        if email == str(m["to_email"]).lower() and rules.holds(m["kind"], pref, waiting.get(pid, 0)):
            held.add(m["key"])
    return held


@dataclass
class DigestRun:
    """What one digest run did, in counts (no names: flows publish it)."""

    dikirim: int = 0  # digests queued
    butir: int = 0  # items listed in them
    ditahan_terkirim: int = 0  # held messages the digests carried
    ditahan_dibuang: int = 0  # held messages dropped: nothing waited any more
    sudah_hari_ini: int = 0  # people whose digest for today had already gone

    def counts(self) -> dict[str, int]:
        return asdict(self)


def digest_candidates(*, session: Session) -> list[int]:
    """People a digest run must look at: active, not `setiap`, with an open task to list; and
    anyone with held messages (whatever they chose since)."""
    open_work = select(Task.pegawai_id).join(Pegawai, Pegawai.id == Task.pegawai_id).where(
        Task.status == TaskStatus.OPEN, Task.kind.in_([k.value for k in rules.GROUPS]), Pegawai.active,
        Pegawai.ringkasan != Ringkasan.SETIAP).distinct()
    held = select(OutboxMessage.pegawai_id).where(
        _held(), OutboxMessage.pegawai_id.is_not(None)).distinct()
    return sorted(set(session.execute(open_work).scalars()) | set(session.execute(held).scalars()))


def build_digests(*, session: Session, now: datetime, mail: Mail, timezone: str,
                  pegawai_ids: Iterable[int] | None = None) -> DigestRun:
    """Queue today's digest for each of these people (default: every candidate) who is due one:
    at most one per person per local day, none when nothing waits. Does not commit."""
    ids = sorted(set(pegawai_ids)) if pegawai_ids is not None else digest_candidates(
        session=session)
    run = DigestRun()
    for i in range(0, len(ids), PART):
        _build_part(session, ids[i:i + PART], now, mail, timezone, run)
    return run


def _build_part(session: Session, ids: list[int], now: datetime, mail: Mail, tz: str,
                run: DigestRun) -> None:
    # held rows first: one held after this read waits for tomorrow's digest, never lost
    held: dict[int, list[int]] = defaultdict(list)
    for mid, pid in session.execute(select(OutboxMessage.id, OutboxMessage.pegawai_id).where(
            _held(), OutboxMessage.pegawai_id.in_(ids))):
        held[pid].append(mid)
    people = {r.id: r for r in session.execute(select(
        Pegawai.id, Pegawai.nama, Pegawai.email, Pegawai.ringkasan, Pegawai.ringkasan_terakhir,
        Pegawai.active).where(Pegawai.id.in_(ids)))}
    items = waiting_items(session=session, pegawai_ids=[p for p, r in people.items() if r.active],
                          now=now)
    day = rules.local_day(now, tz)
    have = set(session.execute(select(OutboxMessage.key).where(OutboxMessage.key.in_(
        [rules.digest_key(pid, day) for pid in people]))).scalars())
    cycles = _cycles(session, items)
    messages, carried, dropped, sent_to = [], [], [], []
    for pid, p in people.items():
        lines = items.get(pid, [])
        if rules.sent_today(p.ringkasan_terakhir, now, tz) or rules.digest_key(pid, day) in have:
            run.sudah_hari_ini += 1
        elif not lines:
            dropped += held.get(pid, [])
        elif rules.digest_due(p.ringkasan, count_items(lines), len(held.get(pid, []))):
            messages.append(_message(p, lines, cycles, now, mail, day))
            carried += held.get(pid, [])
            sent_to.append(pid)
            run.butir += count_items(lines)
    run.dikirim += enqueue_messages(session=session, messages=messages, now=now)
    if sent_to:
        session.execute(update(Pegawai).where(Pegawai.id.in_(sent_to))
                        .values(ringkasan_terakhir=now).execution_options(synchronize_session=False))
    if carried:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(carried), _held())
                        .values(status=OutboxStatus.SENT, sent_at=now, next_attempt_at=now)
                        .execution_options(synchronize_session=False))
    if dropped:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(dropped), _held())
                        .execution_options(synchronize_session=False))
    run.ditahan_terkirim += len(carried)
    run.ditahan_dibuang += len(dropped)


def _cycles(session: Session, items: dict[int, list[Butir]]) -> dict[int, Cycle]:
    ids = {b.cycle_id for lines in items.values() for b in lines}
    return {c.id: c for c in session.execute(select(Cycle).where(
        Cycle.id.in_(ids or [-1]))).scalars()}


def _message(p: Any, lines: list[Butir], cycles: dict[int, Cycle], now: datetime, mail: Mail,
             day: Any) -> dict[str, Any]:
    """The digest of one person: their lines grouped by kind of work, each with its due date
    and task link, new ones marked; the link at the top opens the preference page."""
    lang = mail.language
    links: dict[int, str] = {}

    def link(task_id: int) -> str:
        if task_id not in links:
            links[task_id] = mail.links.task(task_id, p.id, now)
        return links[task_id]

    groups = []
    for jenis in rules.GROUPS:
        mine = sorted((b for b in lines if b.jenis == jenis), key=lambda b: (b.batas, b.nama))
        if not mine:
            continue
        groups.append({"jenis": jenis.value, "butir": [{
            "nama": b.nama, "nip": b.nip, "jumlah": b.jumlah,
            "periode_label": periods.label(b.periode, cycles[b.cycle_id].periodisasi, lang)
            if b.periode else "",
            "batas": format_datetime(b.batas, cycles[b.cycle_id].timezone, lang),
            "terlambat": now > b.batas, "baru": rules.is_new(b.sejak, p.ringkasan_terakhir),
            "link": link(b.task_id)} for b in mine]})
    first = groups[0]["butir"][0]["link"]
    return {"key": rules.digest_key(p.id, day), "kind": "ringkasan_harian", "to_email": p.email,
            "pegawai_id": p.id, "language": lang,
            "context": {"agency_name": mail.agency, "nama": p.nama,
                        "tahun": max(cycles[b.cycle_id].tahun for b in lines),
                        "link": f"{first}/preferensi", "jumlah": count_items(lines),
                        "baru": sum(b.jumlah for b in lines
                                    if rules.is_new(b.sejak, p.ringkasan_terakhir)),
                        "kelompok": groups, "ringkasan": str(p.ringkasan),
                        "tanggal": format_date(day, "UTC", lang)}}


def set_preference(*, session: Session, pegawai: Pegawai, value: object) -> Pegawai:
    """The person's choice; InvalidInput (nothing changed) for anything but the three values.
    The change is audited with the request's actor (the person's link, or HR)."""
    choice = rules.parse_ringkasan(value)
    if pegawai.ringkasan != choice:
        pegawai.ringkasan = choice
        session.add(pegawai)
        session.flush()
    return pegawai
