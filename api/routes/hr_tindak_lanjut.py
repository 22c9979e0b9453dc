"""HR's console for the year's end after publication (/hr/cycles/{id}/tindak-lanjut): keberatan
(with HR's decision where there is no atasan PPK), award candidates, coaching plans, the
tunjangan kinerja table and the payroll CSV; JSON under /api/v1/cycles/{id}/tindak-lanjut."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.access import AgencyReader, AgencyWriter
from api.deps import FormDep, RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import CSV_RESPONSE, ERRORS, GUARD
from models.repo import keberatan as repo
from models.repo.cycles import get_cycle
from models.repo.people import pegawai_by_id
from models.rules.calendar import to_local
from models.rules.enums import Rating
from models.rules.errors import RuleError
from models.tables import HrUser

pages = APIRouter(prefix="/hr/cycles/{cycle_id}/tindak-lanjut", include_in_schema=False,
                  dependencies=GUARD)
api = APIRouter(prefix="/api/v1/cycles/{cycle_id}/tindak-lanjut", tags=["tindak lanjut"],
                responses=ERRORS, dependencies=GUARD)
router = APIRouter()

Text = Annotated[str, Form()]
PAYROLL_COLUMNS = (("nip", "NIP"), ("nama", "Nama"), ("unit", "Unit Kerja"),
                   ("predikat", "Predikat"), ("persen", "Persen Tunjangan Kinerja"))


def _actor(user: HrUser) -> str:
    return f"hr:{user.username}"


def cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not read as a formula."""
    if isinstance(value, float):  # a decimal comma, as the rest of the file is read in Indonesia
        value = f"{value:g}".replace(".", ",")
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def payroll_csv(rows: list[dict[str, object]]) -> str:
    """UTF-8 with BOM, semicolon-separated (what Excel opens directly in an Indonesian locale)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for _, title in PAYROLL_COLUMNS])
    for row in rows:
        writer.writerow([cell(row[key]) for key, _ in PAYROLL_COLUMNS])
    return "\ufeff" + buf.getvalue()


def _csv_response(session: Session, cycle_id: int) -> Response:
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    body = payroll_csv(repo.payroll_rows(session=session, cycle_id=cycle_id))
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="tunjangan-kinerja-{cycle.tahun}.csv"',
        "Cache-Control": "private, no-store"})


# -- the console ---------------------------------------------------------------------------------


def _page(request: Request, session: Session, user: HrUser, cycle_id: int, status_code: int = 200,
          error: str | None = None, form: dict[str, str] | None = None) -> Response:
    lang = lang_of(request)
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    now = request.app.state.rt.clock.now()
    table = repo.tunjangan_table(session=session, cycle_id=cycle_id)
    plans = repo.plans_of(session=session, cycle_id=cycle_id)
    owners = {p.id: p.nama for p in pegawai_by_id(
        session=session, ids=[x.plan.pemilik_id for x in plans if x.plan.pemilik_id]).values()}
    return render(request, "hr/tindak_lanjut.html", status_code=status_code, user=user,
                  error=error, form=form or {}, cycle=cycle, now=now,
                  counts=repo.counts(session=session, cycle_id=cycle_id),
                  stage=repo.keberatan_stage(session=session, cycle_id=cycle_id),
                  keberatan=repo.keberatan_rows(session=session, cycle_id=cycle_id),
                  awards=repo.awards(session=session, cycle_id=cycle_id),
                  plans=plans, owners=owners, tunjangan=list(table.items()),
                  tunjangan_saved=repo.tunjangan_saved(session=session, cycle_id=cycle_id),
                  payroll_count=len(repo.payroll_rows(session=session, cycle_id=cycle_id)),
                  ratings=[r.value for r in Rating],
                  today=to_local(now, cycle.timezone).date().isoformat(),
                  notice=(("Perubahan disimpan.", "Saved.")[lang == "en"]
                          if request.query_params.get("saved") else None))


def _act(request: Request, session: Session, user: HrUser, cycle_id: int,
         action: Callable[[], object], anchor: str, form: dict[str, str] | None = None) -> Response:
    """Run a change; on a rule breach roll back and show the page again saying why."""
    try:
        action()
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return _page(request, session, user, cycle_id, status_of(exc),
                     exc.message(lang_of(request)), form)
    return RedirectResponse(f"/hr/cycles/{cycle_id}/tindak-lanjut?saved=1#{anchor}", 303)


@pages.get("")
def page(request: Request, session: SessionDep, user: AgencyReader, cycle_id: int) -> Response:
    return _page(request, session, user, cycle_id)


@pages.post("/keberatan/{keberatan_id}/putus")
def hr_decide(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
              cycle_id: int, keberatan_id: int, keputusan: Text = "", hasil_kerja: Text = "",
              perilaku: Text = "", alasan: Text = "") -> Response:
    """Only for a keberatan with no atasan PPK in the data (HR records the decision)."""
    return _act(request, session, user, cycle_id, lambda: repo.decide_keberatan(
        session=session, perkara=repo.perkara(session=session, cycle_id=cycle_id,
                                              keberatan_id=keberatan_id),
        keputusan=keputusan, hasil_kerja=hasil_kerja, perilaku=perilaku, alasan=alasan,
        now=rt.clock.now(), mail=rt.mail, hr_actor=_actor(user)), f"keberatan-{keberatan_id}",
        {"keberatan_id": str(keberatan_id), "alasan": alasan})


@pages.post("/penghargaan/{kandidat_id}")
def award(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
          cycle_id: int, kandidat_id: int, keputusan: Text = "", catatan: Text = "") -> Response:
    return _act(request, session, user, cycle_id, lambda: repo.decide_award(
        session=session, cycle_id=cycle_id, kandidat_id=kandidat_id, keputusan=keputusan,
        catatan=catatan, now=rt.clock.now(), actor=_actor(user)), f"kandidat-{kandidat_id}")


def _hr_plan(session: Session, cycle_id: int, rencana_id: int) -> repo.Rencana:
    """A plan with no PPK in the data: HR runs it from the console."""
    return repo.plan_for_owner(session=session, cycle_id=cycle_id, owner_id=None,
                               rencana_id=rencana_id)


@pages.post("/rencana/{rencana_id}/aksi")
def plan_action(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                cycle_id: int, rencana_id: int, uraian: Text = "", batas: Text = "") -> Response:
    return _act(request, session, user, cycle_id, lambda: repo.add_action(
        session=session, rencana=_hr_plan(session, cycle_id, rencana_id), uraian=uraian,
        batas=batas, cycle=get_cycle(session=session, cycle_id=cycle_id), now=rt.clock.now()),
        f"rencana-{rencana_id}")


@pages.post("/rencana/{rencana_id}/aksi/{aksi_id}/selesai")
def plan_action_done(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                     cycle_id: int, rencana_id: int, aksi_id: int, catatan: Text = "") -> Response:
    return _act(request, session, user, cycle_id, lambda: repo.complete_action(
        session=session, rencana=_hr_plan(session, cycle_id, rencana_id), aksi_id=aksi_id,
        catatan=catatan, cycle=get_cycle(session=session, cycle_id=cycle_id),
        now=rt.clock.now()), f"rencana-{rencana_id}")


@pages.post("/rencana/{rencana_id}/selesai")
def plan_close(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
               cycle_id: int, rencana_id: int) -> Response:
    return _act(request, session, user, cycle_id, lambda: repo.close_plan(
        session=session, rencana=_hr_plan(session, cycle_id, rencana_id),
        cycle=get_cycle(session=session, cycle_id=cycle_id), now=rt.clock.now(),
        actor=_actor(user)), f"rencana-{rencana_id}")


@pages.post("/tunjangan")
def tunjangan(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                    cycle_id: int, form: FormDep) -> Response:
    data = form
    values = {p.value: str(data.get(f"persen_{i}", "")) for i, p in enumerate(repo.HIGH_TO_LOW)}
    get_cycle(session=session, cycle_id=cycle_id)
    return _act(request, session, user, cycle_id, lambda: repo.set_tunjangan(
        session=session, cycle_id=cycle_id, values=values, now=rt.clock.now(),
        actor=_actor(user)), "tunjangan")


@pages.get("/tunjangan.csv")
def payroll_page_csv(session: SessionDep, user: AgencyReader, cycle_id: int) -> Response:
    return _csv_response(session, cycle_id)


# -- JSON ----------------------------------------------------------------------------------------


class Putusan(BaseModel):
    keputusan: str = Field(description="'tetap' (kept) or 'diubah' (changed)")
    hasil_kerja: str = Field(default="", description="for 'diubah': the new rating hasil kerja")
    perilaku: str = Field(default="", description="for 'diubah': the new rating perilaku kerja")
    alasan: str = Field(description="the reason for the decision (required)")


class KeputusanKandidat(BaseModel):
    keputusan: str = Field(description="'ditetapkan' (confirmed) or 'tidak' (set aside)")
    catatan: str = Field(default="", description="required when set aside")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _keberatan_out(p: repo.Perkara) -> dict[str, object]:
    k, h = p.keberatan, p.hasil
    return {"id": k.id, "nip": h.pegawai.nip, "nama": h.pegawai.nama, "unit": h.unit,
            "status": k.status, "diajukan_at": _iso(k.diajukan_at), "batas_putus": _iso(p.due),
            "alasan": k.alasan, "atasan_ppk_nip": h.atasan_ppk.nip if h.atasan_ppk else None,
            "diputus_hr": h.atasan_ppk is None, "diputus_at": _iso(k.diputus_at),
            "alasan_putusan": k.alasan_putusan, "predikat_sebelum": k.predikat_sebelum,
            "predikat_sesudah": k.predikat_sesudah}


@api.get("")
def summary(cycle_id: int, session: SessionDep, user: AgencyReader) -> dict[str, object]:
    """Counts of publication, keberatan and follow-up (no names)."""
    get_cycle(session=session, cycle_id=cycle_id)
    return repo.counts(session=session, cycle_id=cycle_id)


@api.get("/keberatan")
def list_keberatan(cycle_id: int, session: SessionDep, user: AgencyReader) -> list[dict[str, object]]:
    get_cycle(session=session, cycle_id=cycle_id)
    return [_keberatan_out(p) for p in repo.keberatan_rows(session=session, cycle_id=cycle_id)]


@api.post("/keberatan/{keberatan_id}/putus")
def post_putusan(cycle_id: int, keberatan_id: int, data: Putusan, rt: RuntimeDep,
                 session: SessionDep, user: AgencyWriter) -> dict[str, object]:
    """HR records the decision of a keberatan that has no atasan PPK in the data (409 otherwise)."""
    p = repo.perkara(session=session, cycle_id=cycle_id, keberatan_id=keberatan_id)
    repo.decide_keberatan(session=session, perkara=p, keputusan=data.keputusan,
                          hasil_kerja=data.hasil_kerja, perilaku=data.perilaku,
                          alasan=data.alasan, now=rt.clock.now(), mail=rt.mail,
                          hr_actor=_actor(user))
    return _keberatan_out(p)


@api.get("/penghargaan")
def list_awards(cycle_id: int, session: SessionDep, user: AgencyReader) -> list[dict[str, object]]:
    get_cycle(session=session, cycle_id=cycle_id)
    return [{"id": k.id, "nip": p.nip, "nama": p.nama, "status": k.status, "catatan": k.catatan,
             "diputus_oleh": k.diputus_oleh, "diputus_at": _iso(k.diputus_at)}
            for k, p in repo.awards(session=session, cycle_id=cycle_id)]


@api.post("/penghargaan/{kandidat_id}")
def post_award(cycle_id: int, kandidat_id: int, data: KeputusanKandidat, rt: RuntimeDep,
               session: SessionDep, user: AgencyWriter) -> dict[str, object]:
    k = repo.decide_award(session=session, cycle_id=cycle_id, kandidat_id=kandidat_id,
                          keputusan=data.keputusan, catatan=data.catatan, now=rt.clock.now(),
                          actor=_actor(user))
    return {"id": k.id, "status": k.status, "catatan": k.catatan}


@api.get("/pembinaan")
def list_plans(cycle_id: int, session: SessionDep, rt: RuntimeDep,
               user: AgencyReader) -> list[dict[str, object]]:
    """Coaching plans with their actions: status, owner, overdue actions."""
    get_cycle(session=session, cycle_id=cycle_id)
    now = rt.clock.now()
    return [{"id": x.plan.id, "nip": x.pegawai.nip, "nama": x.pegawai.nama,
             "predikat": x.plan.predikat, "pemilik_id": x.plan.pemilik_id,
             "status": x.plan.status, "selesai_at": _iso(x.plan.selesai_at),
             "aksi": [{"id": a.id, "uraian": a.uraian, "batas_at": _iso(a.batas_at),
                       "selesai_at": _iso(a.selesai_at), "catatan": a.catatan} for a in x.aksi],
             "aksi_terlambat": len(x.overdue(now))}
            for x in repo.plans_of(session=session, cycle_id=cycle_id)]


@api.get("/tunjangan")
def get_tunjangan(cycle_id: int, session: SessionDep, user: AgencyReader) -> dict[str, object]:
    """The share of tunjangan kinerja per predikat (defaults until HR saves the cycle's own)."""
    get_cycle(session=session, cycle_id=cycle_id)
    return {"tersimpan": repo.tunjangan_saved(session=session, cycle_id=cycle_id),
            "persen": {p.value: v for p, v in
                       repo.tunjangan_table(session=session, cycle_id=cycle_id).items()}}


@api.put("/tunjangan")
def put_tunjangan(cycle_id: int, data: dict[str, float | str], rt: RuntimeDep, session: SessionDep,
                  user: AgencyWriter) -> dict[str, object]:
    """Body: every predikat (official spelling) -> percent 0..200; all or nothing."""
    get_cycle(session=session, cycle_id=cycle_id)
    saved = repo.set_tunjangan(session=session, cycle_id=cycle_id, values=data,
                               now=rt.clock.now(), actor=_actor(user))
    return {"tersimpan": True, "persen": {p.value: v for p, v in saved.items()}}


@api.get("/tunjangan.csv", response_class=Response, responses=CSV_RESPONSE)
def payroll_api_csv(cycle_id: int, session: SessionDep, user: AgencyReader) -> Response:
    """The payroll file: NIP, name, unit, predikat, percent, for final results only."""
    return _csv_response(session, cycle_id)


router.include_router(pages)
router.include_router(api)
