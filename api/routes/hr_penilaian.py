"""HR's year end: unit grades, the final scoring against the curve, calibration and the
publication decision (console under /hr/cycles/{id}/penilaian, JSON under /api/v1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.access import AgencyReader, AgencyWriter
from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import ERRORS, GUARD
from api.services import CalendarIn, stage_summary
from models.repo import penilaian as repo
from models.repo.cycles import get_cycle
from models.rules.enums import OrgGrade, Rating
from models.rules.errors import RuleError

router = APIRouter(prefix="/hr/cycles/{cycle_id}/penilaian", include_in_schema=False,
                   dependencies=GUARD)
api = APIRouter(prefix="/api/v1/cycles/{cycle_id}/penilaian", tags=["hr"], responses=ERRORS,
                dependencies=GUARD)
Text = Annotated[str, Form()]


def _units(session: Session, cycle_id: int) -> list[dict[str, object]]:
    return [{"unit_id": u.unit_id, "unit": u.unit, "grade": u.grade, "total": u.total,
             "dinilai": u.rated, "predikat": u.counts, "override": u.override,
             "pelanggaran": [{"aturan": b.rule.label(), "ditemukan": b.found,
                              "total": b.total, "batas": b.allowed, "pesan": b.message("id"),
                              "message": b.message("en")} for b in u.breaches]}
            for u in repo.check_units(session=session, cycle_id=cycle_id)]


def _page(request: Request, rt, session: Session, user, cycle_id: int,  # type: ignore[no-untyped-def]
          status_code: int = 200, error: str | None = None) -> Response:
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    ok = request.query_params.get("ok", "")
    notices = {"nilai": ("Nilai unit disimpan.", "Unit grade saved."),
               "skor": ("Skor akhir dihitung ulang.", "Final scoring recomputed."),
               "override": ("Pelanggaran kurva diterima dengan alasan.", "Breach accepted."),
               "kalibrasi": ("PPK unit ini diminta meninjau rating.", "The unit's PPKs were asked "
                             "to review their ratings."),
               "publikasi": ("Keputusan publikasi dikirim; hasil dipublikasikan.",
                             "Publication decided; results published.")}
    pair = notices.get(ok)
    return render(request, "hr/penilaian.html", status_code=status_code, user=user, cycle=cycle,
                  units=repo.check_units(session=session, cycle_id=cycle_id),
                  grades=[g.value for g in OrgGrade], error=error,
                  notice=(pair[lang_of(request) == "en"] if pair else None),
                  stage=repo.get_stage(session=session, cycle_id=cycle_id),
                  dates=stage_summary(repo.get_stage(session=session, cycle_id=cycle_id),
                                      cycle.timezone),
                  scored=repo.calibrating(session, cycle_id), ratings=[r.value for r in Rating],
                  no_ppk=repo.without_ppk(session=session, cycle_id=cycle_id))


def _act(request: Request, rt, session: Session, user, cycle_id: int, action,  # type: ignore[no-untyped-def]
         ok: str) -> Response:
    try:
        action()
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return _page(request, rt, session, user, cycle_id, status_of(exc),
                     exc.message(lang_of(request)))
    return RedirectResponse(f"/hr/cycles/{cycle_id}/penilaian?ok={ok}", 303)


@router.get("")
def page(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyReader,
         cycle_id: int) -> Response:
    return _page(request, rt, session, user, cycle_id)


@router.post("/unit/{unit_id}")
def set_grade(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
              cycle_id: int, unit_id: int, grade: Text = "") -> Response:
    return _act(request, rt, session, user, cycle_id, lambda: repo.set_unit_grade(
        session=session, cycle_id=cycle_id, unit_id=unit_id, grade=grade, now=rt.clock.now(),
        actor=f"hr:{user.username}"), "nilai")


@router.post("/unit/{unit_id}/override")
def override(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
             cycle_id: int, unit_id: int, alasan: Text = "") -> Response:
    return _act(request, rt, session, user, cycle_id, lambda: repo.override_unit(
        session=session, cycle_id=cycle_id, unit_id=unit_id, alasan=alasan, now=rt.clock.now(),
        actor=f"hr:{user.username}"), "override")


@router.post("/unit/{unit_id}/kalibrasi")
def calibrate(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
              cycle_id: int, unit_id: int) -> Response:
    return _act(request, rt, session, user, cycle_id, lambda: repo.ask_calibration(
        session=session, cycle=get_cycle(session=session, cycle_id=cycle_id), unit_id=unit_id,
        now=rt.clock.now(), mail=rt.mail), "kalibrasi")


def _score(rt, session: Session, cycle_id: int) -> None:  # type: ignore[no-untyped-def]
    repo.final_scoring(session=session, cycle=get_cycle(session=session, cycle_id=cycle_id),
                       now=rt.clock.now(), mail=rt.mail,
                       console_link=f"{rt.api.public_url}/hr/cycles/{cycle_id}/penilaian")


@router.post("/tanpa-ppk/{skp_id}")
def rate_without_ppk(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                     cycle_id: int, skp_id: int, hasil_kerja: Text = "", perilaku: Text = "",
                     catatan: Text = "", alasan: Text = "") -> Response:
    """HR records the ratings of someone with no superior in the system, on the PPK's behalf."""
    return _act(request, rt, session, user, cycle_id, lambda: repo.rate_by_hr(
        session=session, cycle_id=cycle_id, skp_id=skp_id, hasil_kerja=hasil_kerja,
        perilaku=perilaku, catatan=catatan, alasan=alasan, actor=f"hr:{user.username}",
        now=rt.clock.now()), "nilai")


@router.post("/skor")
def rescore(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
            cycle_id: int) -> Response:
    return _act(request, rt, session, user, cycle_id, lambda: _score(rt, session, cycle_id), "skor")


async def decide_publication(request: Request, rt, session: Session, cycle_id: int,  # type: ignore[no-untyped-def]
                             by: str) -> dict[str, object]:
    """HR decides to publish: the paused `keputusan-publikasi` run is resumed with the decision
    (it publishes); with no run waiting (a restart), publish here. Both are idempotent."""
    from starlette.concurrency import run_in_threadpool

    from api.launcher import OrchestrationUnavailable
    from models.repo.audit import record
    from models.repo.keberatan import publish

    def check() -> object:
        cycle = get_cycle(session=session, cycle_id=cycle_id)
        if not repo.calibrating(session, cycle_id):
            from models.rules.errors import InvalidTransition

            raise InvalidTransition("penilaian", "not_scored", "publish",
                                    "Skor akhir belum dihitung; hitung dahulu, periksa kurva, "
                                    "lalu publikasikan.", "The final scoring has not run yet; "
                                    "run it, check the curves, then publish.")
        record(session=session, now=rt.clock.now(), actor=by, action="penilaian.publikasi",
               entity="cycle", entity_id=cycle_id, after={})
        return cycle

    cycle = await run_in_threadpool(check)  # database work never holds the event loop
    try:
        resumed = await request.app.state.launcher.resume_publication(cycle_id, by)
    except OrchestrationUnavailable:
        resumed = False
    published = 0
    if not resumed:
        published = await run_in_threadpool(lambda: publish(
            session=session, cycle=cycle, now=rt.clock.now(), mail=rt.mail))
    return {"resumed_flow": resumed, "published": published}


@router.post("/publikasi")
async def publish_page(request: Request, rt: RuntimeDep, session: SessionDep,
                       user: AgencyWriter, cycle_id: int) -> Response:
    try:
        await decide_publication(request, rt, session, cycle_id, f"hr:{user.username}")
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        message, status = exc.message(lang_of(request)), status_of(exc)
        return await run_in_threadpool(lambda: _page(request, rt, session, user, cycle_id,
                                                     status, message))
    return RedirectResponse(f"/hr/cycles/{cycle_id}/penilaian?ok=publikasi", 303)


class WindowIn(BaseModel):
    hari: float


@router.post("/keberatan")
def appeal_window(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                  cycle_id: int, hari: Annotated[float, Form()]) -> Response:
    return _act(request, rt, session, user, cycle_id, lambda: repo.set_appeal_window(
        session=session, cycle_id=cycle_id, hari=hari, now=rt.clock.now(),
        actor=f"hr:{user.username}"), "nilai")


class GradeIn(BaseModel):
    grade: str


class ReasonIn(BaseModel):
    alasan: str


@api.put("/calendar")
def api_calendar(cycle_id: int, data: CalendarIn, rt: RuntimeDep, session: SessionDep,
                 user: AgencyWriter) -> dict[str, object]:
    """The annual rating stage's dates (opens, realisasi complete, PPK ratings due, closes)."""
    from api import services
    from models.rules.enums import StageCode

    stage = services.set_calendar(rt, session, cycle_id, data, f"hr:{user.username}",
                                  StageCode.PENILAIAN)
    session.flush()
    return services.stage_summary(stage, get_cycle(session=session, cycle_id=cycle_id).timezone)


@api.put("/keberatan")
def api_window(cycle_id: int, data: WindowIn, rt: RuntimeDep, session: SessionDep,
               user: AgencyWriter) -> dict[str, object]:
    """The appeal window after publication, in days (default 14)."""
    cycle = repo.set_appeal_window(session=session, cycle_id=cycle_id, hari=data.hari,
                                   now=rt.clock.now(), actor=f"hr:{user.username}")
    return {"id": cycle.id, "keberatan_hari": cycle.keberatan_hari}


@api.get("")
def api_units(cycle_id: int, session: SessionDep, user: AgencyReader) -> list[dict[str, object]]:
    """Per unit: its grade, the predikat counts and every curve breach (counts only)."""
    get_cycle(session=session, cycle_id=cycle_id)
    return _units(session, cycle_id)


@api.put("/unit/{unit_id}")
def api_grade(cycle_id: int, unit_id: int, data: GradeIn, rt: RuntimeDep, session: SessionDep,
              user: AgencyWriter) -> list[dict[str, object]]:
    repo.set_unit_grade(session=session, cycle_id=cycle_id, unit_id=unit_id, grade=data.grade,
                        now=rt.clock.now(), actor=f"hr:{user.username}")
    session.flush()
    return _units(session, cycle_id)


@api.post("/unit/{unit_id}/override")
def api_override(cycle_id: int, unit_id: int, data: ReasonIn, rt: RuntimeDep,
                 session: SessionDep, user: AgencyWriter) -> list[dict[str, object]]:
    repo.override_unit(session=session, cycle_id=cycle_id, unit_id=unit_id, alasan=data.alasan,
                       now=rt.clock.now(), actor=f"hr:{user.username}")
    session.flush()
    return _units(session, cycle_id)


@api.post("/skor")
def api_score(cycle_id: int, rt: RuntimeDep, session: SessionDep,
              user: AgencyWriter) -> list[dict[str, object]]:
    _score(rt, session, cycle_id)
    session.flush()
    return _units(session, cycle_id)


@api.post("/publikasi")
async def api_publish(cycle_id: int, request: Request, rt: RuntimeDep, session: SessionDep,
                      user: AgencyWriter) -> dict[str, object]:
    return await decide_publication(request, rt, session, cycle_id, f"hr:{user.username}")
