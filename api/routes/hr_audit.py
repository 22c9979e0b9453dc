"""The audit log: who changed what, when, before and after, and from where (a console session,
an API token, a task link, a flow run). Search by person (NIP, name, HR username), by date
(the agency's days), by action and cycle; export as CSV. Read-only by construction: the table
refuses UPDATE and DELETE. A unit operator sees the entries about the people of their units."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.access import Principal, UnitReader
from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import CSV_RESPONSE, ERRORS, GUARD
from kinerja.runtime import Runtime
from models.repo import audit
from models.repo.exports import neutralise
from models.rules.calendar import to_utc
from models.rules.errors import InvalidInput
from models.rules.texts import format_datetime
from models.tables import AuditLog, Pegawai

router = APIRouter(include_in_schema=False, dependencies=GUARD)
api = APIRouter(prefix="/api/v1", tags=["audit"], responses=ERRORS, dependencies=GUARD)

PAGE = 100
Text = Annotated[str, Query(max_length=200)]


def _day(value: str, name_id: str, name_en: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name_id} harus berupa tanggal TTTT-BB-HH, bukan '{value}'.",
                           f"{name_en} must be a date YYYY-MM-DD, not '{value}'.") from None


def _query(rt: Runtime, user: Principal, orang: str, dari: str, sampai: str, aksi: str,
           cycle_id: int | None) -> audit.AuditQuery:
    tz = rt.api.timezone
    start = _day(dari, "Tanggal 'dari'", "The 'from' date")
    end = _day(sampai, "Tanggal 'sampai'", "The 'to' date")
    if start and end and end < start:
        raise InvalidInput("Tanggal 'sampai' sebelum tanggal 'dari'.",
                           "The 'to' date is before the 'from' date.")
    return audit.AuditQuery(
        orang=orang, aksi=aksi, cycle_id=cycle_id, unit_ids=user.unit_ids,
        dari=to_utc(datetime.combine(start, time()), tz) if start else None,
        sampai=to_utc(datetime.combine(end + timedelta(days=1), time()), tz) if end else None)


def _names(session: SessionDep, rows: list[AuditLog]) -> dict[int, Pegawai]:
    from sqlalchemy import select

    ids = {r.pegawai_id for r in rows if r.pegawai_id}
    ids |= {int(r.actor.split(":", 1)[1]) for r in rows
            if r.actor.startswith("pegawai:") and r.actor.split(":", 1)[1].isdigit()}
    if not ids:
        return {}
    return {p.id: p for p in session.execute(select(Pegawai).where(Pegawai.id.in_(ids))).scalars()}


def _actor(actor: str, people: dict[int, Pegawai]) -> str:
    kind, _, ident = actor.partition(":")
    if kind == "pegawai" and ident.isdigit() and int(ident) in people:
        p = people[int(ident)]
        return f"{p.nama} (NIP {p.nip})"
    return actor


def _entry(r: AuditLog, people: dict[int, Pegawai], tz: str, lang: str) -> dict[str, object]:
    person = people.get(r.pegawai_id) if r.pegawai_id else None
    return {"id": r.id, "at": r.at, "waktu": format_datetime(r.at, tz, lang),
            "actor": r.actor, "oleh": _actor(r.actor, people), "via": r.via, "action": r.action,
            "entity": r.entity, "entity_id": r.entity_id, "cycle_id": r.cycle_id,
            "pegawai_nip": person.nip if person else None,
            "pegawai_nama": person.nama if person else None,
            "before": r.before, "after": r.after}


@router.get("/hr/audit")
def page(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
         orang: Text = "", nip: Text = "", dari: Text = "", sampai: Text = "", aksi: Text = "",
         cycle_id: int | None = None, hal: Annotated[int, Query(ge=1, le=100000)] = 1) -> Response:
    lang = lang_of(request)
    form = {"orang": orang or nip, "dari": dari, "sampai": sampai, "aksi": aksi,
            "cycle_id": cycle_id or ""}
    try:
        q = _query(rt, user, orang or nip, dari, sampai, aksi, cycle_id)
    except InvalidInput as exc:
        return render(request, "hr/audit.html", status_code=422, user=user, form=form, rows=[],
                      total=0, hal=1, pages=1, error=exc.message(lang), qs="")
    rows, total = audit.search(session=session, q=q, offset=(hal - 1) * PAGE, limit=PAGE)
    people = _names(session, rows)
    qs = urlencode([(k, v) for k, v in request.query_params.items() if k != "hal"])
    return render(request, "hr/audit.html", user=user, form=form, total=total, hal=hal,
                  pages=max(1, (total + PAGE - 1) // PAGE), qs=qs,
                  rows=[_entry(r, people, rt.api.timezone, lang) for r in rows])


def _csv(rt: Runtime, session: SessionDep, q: audit.AuditQuery, lang: str) -> Response:
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["id", "waktu" if lang == "id" else "time", "oleh" if lang == "id" else "by",
                  "via", "aksi" if lang == "id" else "action", "entitas" if lang == "id"
                  else "entity", "entity_id", "cycle_id", "nip", "nama" if lang == "id"
                  else "name", "sebelum" if lang == "id" else "before",
                  "sesudah" if lang == "id" else "after"])
    offset = 0
    while True:  # in pages, so a long log never sits in memory twice
        rows, _ = audit.search(session=session, q=q, offset=offset, limit=2000)
        if not rows:
            break
        people = _names(session, rows)
        for r in rows:
            e = _entry(r, people, rt.api.timezone, lang)
            out.writerow([neutralise(str(v)) if isinstance(v, str) else v for v in (
                e["id"], e["waktu"], e["oleh"], e["via"], e["action"], e["entity"],
                e["entity_id"], e["cycle_id"], e["pegawai_nip"] or "", e["pegawai_nama"] or "",
                json.dumps(e["before"], ensure_ascii=False) if e["before"] else "",
                json.dumps(e["after"], ensure_ascii=False) if e["after"] else "")])
        offset += len(rows)
    audit.record(session=session, now=rt.clock.now(), actor=audit.current().actor,
                 action="ekspor", entity="auditlog", entity_id=None,
                 after={"jenis": "audit.csv", "orang": q.orang, "aksi": q.aksi,
                        "jumlah": offset})
    return Response(("\ufeff" + buf.getvalue()).encode("utf-8"),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="log_audit.csv"',
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/hr/audit.csv")
def page_csv(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
             orang: Text = "", nip: Text = "", dari: Text = "", sampai: Text = "",
             aksi: Text = "", cycle_id: int | None = None) -> Response:
    q = _query(rt, user, orang or nip, dari, sampai, aksi, cycle_id)
    return _csv(rt, session, q, lang_of(request))


@api.get("/audit")
def api_search(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
               orang: Text = "", dari: Text = "", sampai: Text = "", aksi: Text = "",
               cycle_id: int | None = None, offset: Annotated[int, Query(ge=0)] = 0,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, object]:
    """Search the audit log: `orang` is a NIP, an HR username or part of a name; `dari` and
    `sampai` are the agency's days (YYYY-MM-DD, both inclusive); `aksi` an action prefix."""
    q = _query(rt, user, orang, dari, sampai, aksi, cycle_id)
    rows, total = audit.search(session=session, q=q, offset=offset, limit=limit)
    people = _names(session, rows)
    return {"total": total, "offset": offset,
            "entries": [_entry(r, people, rt.api.timezone, lang_of(request)) for r in rows]}


@api.get("/audit.csv", response_class=Response, responses=CSV_RESPONSE)
def api_csv(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader,
            orang: Text = "", dari: Text = "", sampai: Text = "", aksi: Text = "",
            cycle_id: int | None = None) -> Response:
    """The same search as CSV (every matching entry)."""
    q = _query(rt, user, orang, dari, sampai, aksi, cycle_id)
    return _csv(rt, session, q, lang_of(request))
