"""360 feedback pages behind task links: the pegawai's raters (and proposals), the PPK's
confirmation, the rater's anonymous forms, and the aggregates after the stage closes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import FormDep, RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import GUARD
from api.routes.tasks import NOT_YOURS, LinkPageError, LinkRoute, TaskLink, TaskLinkDep
from models.repo import umpan_balik as repo
from models.rules import feedback as rules
from models.rules.enums import NilaiBerakhlak, TaskKind
from models.rules.errors import LinkRejected, RuleError
from models.tables import Pegawai, Penilai360

router = APIRouter(prefix="/t", include_in_schema=False, dependencies=GUARD,
                   route_class=LinkRoute)
VALUES = [v.value for v in NilaiBerakhlak]
NOTICES = {"usul": ("Usulan penilai disimpan.", "Proposal saved."),
           "tarik": ("Usulan ditarik.", "Proposal withdrawn."),
           "tambah": ("Penilai ditambahkan.", "Rater added."),
           "hapus": ("Penilai dihapus dari daftar.", "Rater removed."),
           "tetapkan": ("Daftar penilai ditetapkan; undangan dikirim ke penilai.",
                        "Rater list confirmed; the raters are invited."),
           "kirim": ("Jawaban terkirim secara anonim. Terima kasih.",
                     "Answers sent anonymously. Thank you.")}


def _reject(link: TaskLink) -> LinkPageError:
    return LinkPageError(LinkRejected("not_yours", *NOT_YOURS), link.token)


def _notice(request: Request) -> str | None:
    pair = NOTICES.get(request.query_params.get("ok", ""))
    return (pair[1] if lang_of(request) == "en" else pair[0]) if pair else None


def _labels(request: Request) -> dict[str, object]:
    en = lang_of(request) == "en"
    return {"peran": {k: v[en] for k, v in rules.PERAN_LABEL.items()},
            "penilaian": {k: v[en] for k, v in rules.PENILAIAN.items()}, "values": VALUES}


def page(request: Request, link: TaskLink, session: Session, status_code: int = 200,
         error: str | None = None) -> Response:
    stage = repo.get_stage(session=session, cycle_id=link.cycle.id)
    common = {"link": link, "stage": stage, "error": error, "notice": _notice(request),
              "closed": stage.closed_at is not None} | _labels(request)
    if link.task.kind == TaskKind.USUL_PENILAI:
        rows = repo.raters(session=session, cycle_id=link.cycle.id, dinilai_id=link.person.id)
        agg = repo.aggregate(session=session, cycle_id=link.cycle.id, dinilai_id=link.person.id)
        return render(request, "task/umpan_balik_pegawai.html", status_code=status_code,
                      rows=rows, agg=agg, **common)
    if link.task.kind == TaskKind.TETAPKAN_PENILAI:
        subs = repo.subordinates(session=session, cycle_id=link.cycle.id, ppk_id=link.person.id)
        aggs = {s.pegawai.id: repo.aggregate(session=session, cycle_id=link.cycle.id,
                                             dinilai_id=s.pegawai.id) for s in subs}
        return render(request, "task/umpan_balik_ppk.html", status_code=status_code, subs=subs,
                      aggs=aggs, **common)
    if link.task.kind == TaskKind.ISI_360:
        forms = repo.forms_of(session=session, cycle_id=link.cycle.id, penilai_id=link.person.id)
        return render(request, "task/umpan_balik_form.html", status_code=status_code,
                      forms=forms, threshold=repo.settings_of(session=session,
                                                              cycle_id=link.cycle.id).ambang,
                      **common)
    raise _reject(link)


def _attempt(request: Request, link: TaskLink, session: Session, kind: TaskKind,
             action: Callable[[], object], ok: str) -> Response:
    if link.task.kind != kind:
        raise _reject(link)
    try:
        action()
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return page(request, link, session, status_of(exc), exc.message(lang_of(request)))
    return RedirectResponse(f"/t/{link.token}?ok={ok}", 303)


def _stage(session: Session, link: TaskLink):  # type: ignore[no-untyped-def]
    return repo.get_stage(session=session, cycle_id=link.cycle.id)


# -- the pegawai -----------------------------------------------------------------------------------


@router.post("/{token}/penilai")
def propose(request: Request, link: TaskLinkDep, session: SessionDep,
                  rt: RuntimeDep, form: FormDep) -> Response:
    nip = str(form.get("nip", ""))
    return _attempt(request, link, session, TaskKind.USUL_PENILAI, lambda: repo.add_rater(
        session=session, cycle=link.cycle, stage=_stage(session, link), dinilai=link.person,
        nip=nip, by_ppk=False, now=rt.clock.now(), mail=rt.mail), "usul")


@router.post("/{token}/penilai/{assignment_id}/tarik")
def withdraw(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
             assignment_id: int) -> Response:
    def act() -> None:
        rows = repo.raters(session=session, cycle_id=link.cycle.id, dinilai_id=link.person.id)
        row = next((r.assignment for r in rows if r.assignment.id == assignment_id), None)
        if row is None:
            raise _reject(link)
        repo.remove_rater(session=session, stage=_stage(session, link), assignment=row,
                          by_ppk=False, now=rt.clock.now(), rows=rows)
    return _attempt(request, link, session, TaskKind.USUL_PENILAI, act, "tarik")


# -- the PPK ---------------------------------------------------------------------------------------


def _subordinate(link: TaskLink, session: Session, pegawai_id: int) -> Pegawai:
    person = session.get(Pegawai, pegawai_id)
    if (link.task.kind != TaskKind.TETAPKAN_PENILAI or person is None or not person.active
            or person.atasan_id != link.person.id):
        raise _reject(link)
    return person


@router.post("/{token}/bawahan/{pegawai_id}/penilai")
def ppk_add(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                  pegawai_id: int, form: FormDep) -> Response:
    nip = str(form.get("nip", ""))
    person = _subordinate(link, session, pegawai_id)
    return _attempt(request, link, session, TaskKind.TETAPKAN_PENILAI, lambda: repo.add_rater(
        session=session, cycle=link.cycle, stage=_stage(session, link), dinilai=person, nip=nip,
        by_ppk=True, now=rt.clock.now(), mail=rt.mail), "tambah")


@router.post("/{token}/bawahan/{pegawai_id}/penilai/{assignment_id}/hapus")
def ppk_remove(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
               pegawai_id: int, assignment_id: int) -> Response:
    person = _subordinate(link, session, pegawai_id)

    def act() -> None:
        rows = repo.raters(session=session, cycle_id=link.cycle.id, dinilai_id=person.id)
        row = next((r.assignment for r in rows if r.assignment.id == assignment_id), None)
        if row is None:
            raise _reject(link)
        repo.remove_rater(session=session, stage=_stage(session, link), assignment=row,
                          by_ppk=True, now=rt.clock.now(), rows=rows)
    return _attempt(request, link, session, TaskKind.TETAPKAN_PENILAI, act, "hapus")


@router.post("/{token}/bawahan/{pegawai_id}/tetapkan")
def ppk_confirm(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                pegawai_id: int) -> Response:
    person = _subordinate(link, session, pegawai_id)
    return _attempt(request, link, session, TaskKind.TETAPKAN_PENILAI, lambda: _confirm(
        session, link, rt, [person.id]), "tetapkan")


@router.post("/{token}/tetapkan-semua")
def ppk_confirm_all(request: Request, link: TaskLinkDep, session: SessionDep,
                    rt: RuntimeDep) -> Response:
    ids = [s.pegawai.id for s in repo.subordinates(session=session, cycle_id=link.cycle.id,
                                                   ppk_id=link.person.id)]
    return _attempt(request, link, session, TaskKind.TETAPKAN_PENILAI,
                    lambda: _confirm(session, link, rt, ids), "tetapkan")


def _confirm(session: Session, link: TaskLink, rt, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    now = rt.clock.now()
    repo.confirm(session=session, cycle=link.cycle, stage=_stage(session, link), dinilai_ids=ids,
                 now=now, mail=rt.mail)
    left = [s for s in repo.subordinates(session=session, cycle_id=link.cycle.id,
                                         ppk_id=link.person.id) if not s.confirmed]
    if not left and link.task.status == "open":
        link.task.status, link.task.done_at, link.task.next_reminder_at = "done", now, None
        session.add(link.task)


# -- the rater -------------------------------------------------------------------------------------


@router.post("/{token}/formulir/{assignment_id}")
def send_form(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                    assignment_id: int, form: FormDep) -> Response:
    form_data = form
    row = session.get(Penilai360, assignment_id)
    if (link.task.kind != TaskKind.ISI_360 or row is None or row.penilai_id != link.person.id
            or row.cycle_id != link.cycle.id or not row.aktif or not row.ditetapkan):
        raise _reject(link)
    form = repo.Form(row, session.get(Pegawai, row.dinilai_id))
    values = {v: str(form_data.get(f"v{i}", "")) for i, v in enumerate(VALUES)}
    comments = {v: str(form_data.get(f"k{i}", "")) for i, v in enumerate(VALUES)}

    def act() -> None:
        now = rt.clock.now()
        repo.answer(session=session, stage=_stage(session, link), form=form, values=values,
                    comments=comments, now=now)
        repo.finish_if_done(session=session, cycle_id=link.cycle.id, penilai_id=link.person.id,
                            now=now)
    return _attempt(request, link, session, TaskKind.ISI_360, act, "kirim")
