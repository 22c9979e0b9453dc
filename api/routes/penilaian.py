"""The PPK's annual rating pages behind the task link: a list of subordinates with their
ratings, and each person's year (realisasi and capaian, periodic predikat, 360, competencies)
with suggested ratings; during calibration a change needs a written reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import GUARD
from api.routes.tasks import NOT_YOURS, LinkPageError, LinkRoute, TaskLink, TaskLinkDep
from models.repo import penilaian as repo
from models.rules.enums import Rating, TaskKind
from models.rules.errors import LinkRejected, RuleError
from models.rules.scoring import MATRIX
from models.tables import Pegawai, Skp

router = APIRouter(prefix="/t", include_in_schema=False, dependencies=GUARD,
                   route_class=LinkRoute)
Text = Annotated[str, Form()]


def _reject(link: TaskLink) -> LinkPageError:
    return LinkPageError(LinkRejected("not_yours", *NOT_YOURS), link.token)


def _notice(request: Request) -> str | None:
    if request.query_params.get("ok") == "nilai":
        return ("Annual rating saved." if lang_of(request) == "en" else
                "Penilaian tahunan disimpan.")
    return None


def list_page(request: Request, link: TaskLink, session: Session, status_code: int = 200,
              error: str | None = None) -> Response:
    if link.task.kind != TaskKind.NILAI_TAHUNAN:
        raise _reject(link)
    rows = repo.subordinates(session=session, cycle_id=link.cycle.id, ppk_id=link.person.id)
    return render(request, "task/penilaian_list.html", status_code=status_code, link=link,
                  rows=rows, error=error, notice=_notice(request),
                  stage=repo.get_stage(session=session, cycle_id=link.cycle.id),
                  calibrating=repo.calibrating(session, link.cycle.id))


def _view(link: TaskLink, session: Session, skp_id: int) -> repo.AnnualView:
    skp = session.get(Skp, skp_id)
    owner = session.get(Pegawai, skp.pegawai_id) if skp else None
    if (link.task.kind != TaskKind.NILAI_TAHUNAN or skp is None or skp.cycle_id != link.cycle.id
            or owner is None or owner.atasan_id != link.person.id or not owner.active):
        raise _reject(link)
    try:
        return repo.load_annual(session=session, skp=skp)
    except RuleError:
        raise _reject(link) from None


def person_page(request: Request, link: TaskLink, session: Session, view: repo.AnnualView,
                status_code: int = 200, error: str | None = None) -> Response:
    from api.routes.umpan_balik import _labels
    from models.repo.monitoring import period_label

    lang = lang_of(request)
    rows = repo.subordinates(session=session, cycle_id=link.cycle.id, ppk_id=link.person.id)
    ids = [r.skp.id for r in rows]
    here = ids.index(view.skp_view.skp.id) if view.skp_view.skp.id in ids else -1
    order = [Rating.DI_ATAS, Rating.SESUAI, Rating.DI_BAWAH]
    return render(request, "task/penilaian_pegawai.html", status_code=status_code, link=link,
                  av=view, v=view.skp_view, error=error, notice=_notice(request),
                  ratings=[r.value for r in Rating], agg=view.aggregate,
                  penilaian=_labels(request)["penilaian"],
                  calibrating=repo.calibrating(session, link.cycle.id),
                  matrix=[(hk.value, [MATRIX[(hk, pk)].value for pk in reversed(order)])
                          for hk in order],
                  next_id=ids[here + 1] if 0 <= here < len(ids) - 1 else None,
                  prev_id=ids[here - 1] if here > 0 else None,
                  period_name=lambda k: period_label(view.cycle, k, lang))


@router.get("/{token}/tahunan/{skp_id}")
def annual_person(request: Request, link: TaskLinkDep, session: SessionDep,
                  skp_id: int) -> Response:
    return person_page(request, link, session, _view(link, session, skp_id))


@router.post("/{token}/tahunan/{skp_id}")
def annual_rate(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                skp_id: int, hasil_kerja: Text = "", perilaku: Text = "", catatan: Text = "",
                alasan: Text = "", version: Annotated[int | None, Form()] = None) -> Response:
    view = _view(link, session, skp_id)
    try:
        repo.rate(session=session, view=view, hasil_kerja=hasil_kerja, perilaku=perilaku,
                  catatan=catatan, alasan=alasan, rater_id=link.person.id,
                  actor=f"pegawai:{link.person.id}", now=rt.clock.now(),
                  expected_version=version)
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return person_page(request, link, session, _view(link, session, skp_id), status_of(exc),
                           exc.message(lang_of(request)))
    return RedirectResponse(f"/t/{link.token}/tahunan/{skp_id}?ok=nilai", 303)
