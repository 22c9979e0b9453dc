"""HR's public satisfaction surveys (SKM): the console under /hr/skm and JSON under /api/v1/skm.
Open a survey for a service unit (optionally a cycle, period and IKI), close or reopen it, give
it a new URL, read the results, apply the IKM as the IKI's realisasi."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session

from api.access import AgencyReader, AgencyWriter
from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import ERRORS, GUARD, DbInt
from api.routes.skm import public_url
from kinerja.runtime import Runtime, secret_key
from models.repo import skm as repo
from models.repo.cycles import list_cycles
from models.rules import skm as rules
from models.rules.errors import InvalidInput, RuleError
from models.tables import Unit

pages = APIRouter(prefix="/hr/skm", include_in_schema=False, dependencies=GUARD)
api = APIRouter(prefix="/api/v1/skm", tags=["skm"], responses=ERRORS, dependencies=GUARD)
NOTICES = {"buka": ("Survei dibuka. Kepala unit menerima tautan hasil lewat email.",
                    "Survey opened. The head of the unit is emailed a results link."),
           "close": ("Survei ditutup.", "Survey closed."),
           "reopen": ("Survei dibuka kembali.", "Survey reopened."),
           "rotate-slug": ("Alamat survei diganti; cetak ulang posternya. Alamat lama tidak "
                           "berlaku lagi.", "The survey has a new address; print the poster "
                           "again. The old address no longer works."),
           "apply-iki": ("IKM dicatat sebagai realisasi IKI.", "The IKM is recorded as the IKI's "
                         "realisasi.")}


class SurveiIn(BaseModel):
    """A new survey: the unit by id or exact name; cycle, period and IKI are optional."""

    unit_id: DbInt | None = None
    unit: str | None = Field(default=None, description="the unit's name, instead of unit_id")
    judul: str = Field(default="", max_length=200)
    cycle_id: DbInt | None = None
    periode: int = Field(default=0, ge=0, le=12, description="monitoring period; 0: whole year")
    kode_iki: str = Field(default="", description="e.g. IKI-12: the IKM becomes its realisasi")


def _unit_id(session: Session, data: SurveiIn) -> int:
    if data.unit_id is not None:
        return data.unit_id
    found = session.execute(select(Unit.id).where(Unit.nama == (data.unit or "").strip())
                            ).scalar_one_or_none()
    if found is None:
        raise InvalidInput(f"Unit '{data.unit or ''}' tidak ditemukan.",
                           f"Unit '{data.unit or ''}' not found.")
    return int(found)


def _open(rt: Runtime, session: Session, data: SurveiIn, actor: str) -> int:
    survei = repo.open_survey(session=session, unit_id=_unit_id(session, data), now=rt.clock.now(),
                              actor=actor, mail=rt.mail, judul=data.judul,
                              cycle_id=data.cycle_id, periode=data.periode, kode=data.kode_iki)
    assert survei.id is not None
    return survei.id


Action = Literal["close", "reopen", "rotate-slug", "apply-iki"]
#: console/API action -> the repo function it runs
ACTIONS: dict[str, Callable[..., Any]] = {
    "close": repo.close_survey, "reopen": repo.reopen_survey,
    "rotate-slug": repo.rotate_slug, "apply-iki": repo.apply_to_iki}


def _act(rt: Runtime, session: Session, survei_id: int, action: str, actor: str) -> None:
    ACTIONS[action](session=session, survei_id=survei_id, now=rt.clock.now(), actor=actor)


def _summary(rt: Runtime, hasil: repo.Hasil, detail: bool = False) -> dict[str, object]:
    s = hasil.survei
    out: dict[str, object] = {
        "id": s.id, "unit_id": s.unit_id, "unit": hasil.unit, "judul": s.judul, "slug": s.slug,
        "url": public_url(rt, s.slug), "qr_url": public_url(rt, s.slug) + "/qr.svg",
        "poster_url": public_url(rt, s.slug) + "/cetak", "status": hasil.status,
        "dibuka_at": s.dibuka_at, "ditutup_at": s.ditutup_at, "cycle_id": s.cycle_id,
        "tahun": hasil.tahun, "periode": s.periode, "periode_label": hasil.periode_label,
        "kode_iki": hasil.kode_iki, "responden": hasil.count, "ikm": hasil.ikm,
        "mutu": hasil.grade}
    if detail:
        out["unsur"] = [{"nomor": e.nomor, "unsur": e.label_id, "rata_rata": m,
                         "nilai": round(m * 25, 2)} for e, m in hasil.means]
        out["komentar"] = [{"tanggal": at.date().isoformat(), "isi": isi}
                           for at, isi in hasil.komentar]
    return out


def _grades(request: Request) -> dict[str, str]:
    return {k: v[lang_of(request) == "en"] for k, v in rules.GRADE_LABEL.items()}


# -- the console ----------------------------------------------------------------------------------


def _list_page(request: Request, rt: Runtime, session: Session, user: object,
               status_code: int = 200, form: dict[str, object] | None = None,
               error: str | None = None) -> Response:
    units = session.execute(select(Unit).where(Unit.active).order_by(Unit.nama)).scalars().all()
    return render(request, "hr/skm.html", status_code=status_code, user=user,
                  rows=repo.survey_list(session=session), units=units,
                  cycles=list_cycles(session=session), grades=_grades(request), error=error,
                  form=form or {"unit_id": "", "judul": "", "cycle_id": "", "periode": "",
                                "kode_iki": ""})


@pages.get("")
def list_page(request: Request, rt: RuntimeDep, session: SessionDep,
              user: AgencyReader) -> Response:
    return _list_page(request, rt, session, user)


@pages.post("")
def open_page(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
              unit_id: Annotated[int, Form()], judul: Annotated[str, Form()] = "",
              cycle_id: Annotated[str, Form()] = "", periode: Annotated[str, Form()] = "",
              kode_iki: Annotated[str, Form()] = "") -> Response:
    form = {"unit_id": unit_id, "judul": judul, "cycle_id": cycle_id, "periode": periode,
            "kode_iki": kode_iki}
    try:
        if not periode.strip().isdigit() and periode.strip():
            raise InvalidInput("Periode harus angka (1–4 triwulanan, 1–12 bulanan).",
                               "The period must be a number (1–4 quarterly, 1–12 monthly).")
        survei_id = _open(rt, session, SurveiIn(
            unit_id=unit_id, judul=judul[:200], cycle_id=int(cycle_id) if cycle_id else None,
            periode=int(periode or 0), kode_iki=kode_iki), f"hr:{user.username}")
    except RuleError as exc:
        session.rollback()
        return _list_page(request, rt, session, user, 422, form, exc.message(lang_of(request)))
    return RedirectResponse(f"/hr/skm/{survei_id}?ok=buka", status_code=303)


def _detail(request: Request, rt: Runtime, session: Session, user: object, survei_id: int,
            status_code: int = 200, error: str | None = None) -> Response:
    hasil = repo.results(session=session, survei=repo.get_survey(session=session,
                                                                 survei_id=survei_id))
    pair = NOTICES.get(request.query_params.get("ok", ""))
    url = public_url(rt, hasil.survei.slug)
    return render(request, "hr/skm_detail.html", status_code=status_code, user=user, hasil=hasil,
                  grades=_grades(request), url=url, error=error,
                  kiosk_url=f"{url}?kiosk={rules.kiosk_key(secret_key(rt.api), survei_id)}",
                  notice=(pair[lang_of(request) == "en"] if pair else None))


@pages.get("/{survei_id}")
def detail_page(request: Request, survei_id: int, rt: RuntimeDep, session: SessionDep,
                user: AgencyReader) -> Response:
    return _detail(request, rt, session, user, survei_id)


@pages.post("/{survei_id}/{action}")
def action_page(request: Request, survei_id: int, action: str, rt: RuntimeDep,
                session: SessionDep, user: AgencyWriter) -> Response:
    if action not in ACTIONS:
        raise repo.NotFound(f"Aksi '{action}' tidak dikenal.", f"Unknown action '{action}'.")
    try:
        _act(rt, session, survei_id, action, f"hr:{user.username}")
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return _detail(request, rt, session, user, survei_id, status_of(exc),
                       exc.message(lang_of(request)))
    return RedirectResponse(f"/hr/skm/{survei_id}?ok={action}", status_code=303)


# -- JSON -----------------------------------------------------------------------------------------


@api.get("")
def api_list(rt: RuntimeDep, session: SessionDep, user: AgencyReader) -> list[dict[str, object]]:
    """Every survey with its respondents, IKM and grade (mutu), newest first."""
    return [_summary(rt, h) for h in repo.survey_list(session=session)]


@api.post("", status_code=201)
def api_open(data: SurveiIn, rt: RuntimeDep, session: SessionDep,
             user: AgencyWriter) -> dict[str, object]:
    """Open a survey for a service unit; the unit head is emailed a signed results link."""
    survei_id = _open(rt, session, data, f"hr:{user.username}")
    return api_get(survei_id, rt, session, user)


@api.get("/{survei_id}")
def api_get(survei_id: int, rt: RuntimeDep, session: SessionDep,
            user: AgencyReader) -> dict[str, object]:
    """One survey's results: per-element means and the comments (never who said what)."""
    survei = repo.get_survey(session=session, survei_id=survei_id)
    return _summary(rt, repo.results(session=session, survei=survei), detail=True)


@api.post("/{survei_id}/{action}")
def api_action(survei_id: int, action: Action, rt: RuntimeDep, session: SessionDep,
               user: AgencyWriter) -> dict[str, object]:
    """close, reopen, rotate-slug (a new public URL) or apply-iki (the IKM becomes the IKI's
    realisasi for the survey's period; 409 when that period is closed)."""
    _act(rt, session, survei_id, action, f"hr:{user.username}")
    return api_get(survei_id, rt, session, user)


router = APIRouter()
router.include_router(pages)
router.include_router(api)
