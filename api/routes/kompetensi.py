"""Competency self-assessment behind task links: the pegawai rates their own competencies; on a
PPK's link, also their current direct subordinates'. After the stage closes the pegawai sees the
PPK's ratings, the gaps and the training recommendations; nothing can change any more."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import FormDep, RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import GUARD
from api.routes.tasks import NOT_YOURS, LinkPageError, LinkRoute, TaskLink, TaskLinkDep
from models.repo import kompetensi as repo
from models.rules import kompetensi as rules
from models.rules.enums import TaskKind
from models.rules.errors import LinkRejected, RuleError
from models.tables import CycleStage, Pegawai

router = APIRouter(prefix="/t", include_in_schema=False, dependencies=GUARD,
                   route_class=LinkRoute)

NOTICES = {
    "simpan": ("Penilaian diri disimpan.", "Your self-assessment was saved."),
    "nilai": ("Penilaian Anda untuk pegawai ini disimpan.", "Your ratings of this employee were saved."),
}


def _notice(request: Request) -> str | None:
    pair = NOTICES.get(request.query_params.get("ok", ""))
    return (pair[1] if lang_of(request) == "en" else pair[0]) if pair else None


def _reject(link: TaskLink) -> LinkPageError:
    return LinkPageError(LinkRejected("not_yours", *NOT_YOURS), link.token)


def _stage(link: TaskLink, session: Session) -> CycleStage:
    """The 360 stage of the link's cycle (read here, whatever stage the link resolved to)."""
    if link.task.kind != TaskKind.KOMPETENSI:
        raise _reject(link)
    return repo.kompetensi_stage(session=session, cycle_id=link.cycle.id)


def _common(request: Request, link: TaskLink, stage: CycleStage) -> dict[str, object]:
    lang = lang_of(request)
    return {"link": link, "stage": stage, "closed": stage.closed_at is not None,
            "levels": [(n, pair[1] if lang == "en" else pair[0])
                       for n, pair in rules.LEVEL_LABEL.items()],
            "jenis": lambda code: rules.jenis_label(code, lang), "notice": _notice(request)}


def kompetensi_page(request: Request, link: TaskLink, session: Session, status_code: int = 200,
                    error: str | None = None, submitted: dict[int, str] | None = None) -> Response:
    """The pegawai's own assessment and, for a PPK, the list of subordinates to rate."""
    stage = _stage(link, session)
    closed = stage.closed_at is not None
    rows = repo.rows_of(session=session, cycle_id=link.cycle.id, pegawai_id=link.person.id)
    rekomendasi = (repo.recommendations_for(session=session, cycle_id=link.cycle.id,
                                            pegawai_id=link.person.id) if closed else [])
    return render(request, "task/kompetensi.html", status_code=status_code, error=error,
                  rows=rows, submitted=submitted or {}, rekomendasi=rekomendasi,
                  bawahan=repo.subordinates(session=session, cycle_id=link.cycle.id,
                                            ppk_id=link.person.id),
                  **_common(request, link, stage))


def _values(form) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {int(k[2:]): str(v) for k, v in form.items() if k.startswith("k_") and k[2:].isdigit()}


def _save(link: TaskLink, session: Session, rt: RuntimeDep, pegawai_id: int,
          values: dict[int, str], by_ppk: bool) -> RuleError | None:
    try:
        repo.save_ratings(session=session, cycle_id=link.cycle.id, stage=_stage(link, session),
                          pegawai_id=pegawai_id, values=values, by_ppk=by_ppk,
                          actor_id=link.person.id, now=rt.clock.now())
    except RuleError as exc:
        session.rollback()
        return exc
    return None


@router.get("/{token}/kompetensi")
def own_page(request: Request, link: TaskLinkDep, session: SessionDep) -> Response:
    return kompetensi_page(request, link, session)


@router.post("/{token}/kompetensi")
def save_own(request: Request, link: TaskLinkDep, session: SessionDep,
                   rt: RuntimeDep, form: FormDep) -> Response:
    values = _values(form)
    error = _save(link, session, rt, link.person.id, values, by_ppk=False)
    if error is not None:
        from api.app import status_of

        return kompetensi_page(request, link, session, status_of(error),
                               error.message(lang_of(request)), values)
    return RedirectResponse(f"/t/{link.token}/kompetensi?ok=simpan", 303)


# -- the PPK -------------------------------------------------------------------------------------


def _subordinate(link: TaskLink, session: Session, pegawai_id: int) -> Pegawai:
    """A current, active direct subordinate of the link's person; anyone else is refused."""
    person = session.get(Pegawai, pegawai_id)
    if (link.task.kind != TaskKind.KOMPETENSI or person is None or not person.active
            or person.atasan_id != link.person.id):
        raise _reject(link)
    return person


def subordinate_page(request: Request, link: TaskLink, session: Session, pegawai: Pegawai,
                     status_code: int = 200, error: str | None = None,
                     submitted: dict[int, str] | None = None) -> Response:
    stage = _stage(link, session)
    ids = [r.pegawai.id for r in repo.subordinates(session=session, cycle_id=link.cycle.id,
                                                   ppk_id=link.person.id)]
    here = ids.index(pegawai.id)
    return render(request, "task/kompetensi_bawahan.html", status_code=status_code, error=error,
                  pegawai=pegawai, submitted=submitted or {},
                  rows=repo.rows_of(session=session, cycle_id=link.cycle.id, pegawai_id=pegawai.id),
                  prev_id=ids[here - 1] if here > 0 else None,
                  next_id=ids[here + 1] if here < len(ids) - 1 else None,
                  position=(here + 1, len(ids)), **_common(request, link, stage))


@router.get("/{token}/kompetensi/{pegawai_id}")
def subordinate(request: Request, link: TaskLinkDep, session: SessionDep,
                pegawai_id: int) -> Response:
    return subordinate_page(request, link, session, _subordinate(link, session, pegawai_id))


@router.post("/{token}/kompetensi/{pegawai_id}")
def rate_subordinate(request: Request, link: TaskLinkDep, session: SessionDep,
                           rt: RuntimeDep, pegawai_id: int, form: FormDep) -> Response:
    values = _values(form)
    _subordinate(link, session, pegawai_id)
    error = _save(link, session, rt, pegawai_id, values, by_ppk=True)
    if error is not None:
        from api.app import status_of

        return subordinate_page(request, link, session, _subordinate(link, session, pegawai_id),
                                status_of(error), error.message(lang_of(request)), values)
    return RedirectResponse(f"/t/{link.token}/kompetensi/{pegawai_id}?ok=nilai", 303)
