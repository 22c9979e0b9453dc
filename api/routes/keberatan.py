"""Pages behind task links at the year's end: the pegawai's published result (the Dokumen
Evaluasi Kinerja) with the keberatan form, the atasan PPK's decision, the PPK's coaching plans."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import GUARD
from api.routes.tasks import NOT_YOURS, LinkPageError, LinkRoute, TaskLink, TaskLinkDep
from models.repo import keberatan as repo
from models.rules import periods
from models.rules.calendar import to_local
from models.rules.enums import Rating, TaskKind
from models.rules.errors import LinkRejected, RuleError

router = APIRouter(prefix="/t", include_in_schema=False, dependencies=GUARD,
                   route_class=LinkRoute)

Text = Annotated[str, Form()]
NOTICES = {
    "keberatan": ("Keberatan Anda diajukan; atasan PPK sudah diberi tahu lewat email.",
                  "Your keberatan was filed; the atasan PPK has been told by email."),
    "putus": ("Putusan disimpan; pegawai diberi tahu lewat email.",
              "Decision saved; the employee has been told by email."),
    "aksi": ("Tindakan ditambahkan.", "Action added."),
    "aksi-selesai": ("Tindakan dicatat selesai.", "Action marked as done."),
    "rencana-selesai": ("Rencana pembinaan ditutup.", "Coaching plan closed."),
}


def _notice(request: Request) -> str | None:
    pair = NOTICES.get(request.query_params.get("ok", ""))
    return (pair[1] if lang_of(request) == "en" else pair[0]) if pair else None


def _reject(link: TaskLink, text: tuple[str, str] = NOT_YOURS) -> LinkPageError:
    return LinkPageError(LinkRejected("not_yours", *text), link.token)


def _now(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.rt.clock.now()


def _attempt(request: Request, session: Session, link: TaskLink, action: Callable[[], object],
             page: Callable[[int, str], Response], ok: str, anchor: str = "") -> Response:
    """Run an action; on a rule breach roll back and re-render the page saying why."""
    try:
        action()
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return page(status_of(exc), exc.message(lang_of(request)))
    return RedirectResponse(f"/t/{link.token}?ok={ok}" + (f"#{anchor}" if anchor else ""), 303)


def _common(request: Request, link: TaskLink) -> dict[str, object]:
    lang = lang_of(request)
    return {"link": link, "notice": _notice(request), "ratings": [r.value for r in Rating],
            "period_name": lambda k: periods.label(k, link.cycle.periodisasi, lang),
            "pdf": _pdf_available()}


def _pdf_available() -> bool:
    from models.repo import exports

    return callable(getattr(exports, "dek_pdf", None))


# -- the pegawai: the result and the keberatan ---------------------------------------------------


def _own_hasil(link: TaskLink, session: Session) -> repo.Hasil:
    if link.task.kind != TaskKind.HASIL_KINERJA:
        raise _reject(link)
    try:
        return repo.hasil_of(session=session, cycle_id=link.cycle.id, pegawai_id=link.person.id)
    except RuleError as exc:
        raise _reject(link, (exc.message("id"), exc.message("en"))) from None


def result_page(request: Request, link: TaskLink, session: Session, status_code: int = 200,
                error: str | None = None, alasan: str = "") -> Response:
    """The Dokumen Evaluasi Kinerja, the keberatan form while the window is open, the outcome."""
    hasil = _own_hasil(link, session)
    return render(request, "task/hasil_kinerja.html", status_code=status_code, error=error,
                  h=hasil, window_open=hasil.window_open(_now(request)), alasan=alasan,
                  alasan_min=repo.ALASAN_MIN, alasan_max=repo.ALASAN_MAX,
                  **_common(request, link))


@router.get("/{token}/hasil")
def result(request: Request, link: TaskLinkDep, session: SessionDep) -> Response:
    return result_page(request, link, session)


@router.get("/{token}/hasil/dek.pdf")
def result_pdf(request: Request, link: TaskLinkDep, session: SessionDep,
               rt: RuntimeDep) -> Response:
    """The Dokumen Evaluasi Kinerja as a PDF (the same content as the page)."""
    hasil = _own_hasil(link, session)
    from models.repo import exports

    if not _pdf_available():
        return Response("PDF belum tersedia / PDF not available", status_code=404)
    data = exports.dek_pdf(session=session, cycle_id=link.cycle.id, pegawai_id=link.person.id,
                           lang=lang_of(request), instansi=rt.api.agency_name)
    name = f"DEK-{hasil.pegawai.nip}-{link.cycle.tahun}.pdf"
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


@router.post("/{token}/hasil/keberatan")
def file_keberatan(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                   alasan: Text = "") -> Response:
    hasil = _own_hasil(link, session)
    return _attempt(request, session, link, lambda: repo.file_keberatan(
        session=session, hasil=hasil, alasan=alasan, now=rt.clock.now(), mail=rt.mail),
        lambda status, error: result_page(request, link, session, status, error, alasan),
        "keberatan", "keberatan")


# -- the atasan PPK: deciding --------------------------------------------------------------------


def appeal_page(request: Request, link: TaskLink, session: Session) -> Response:
    """Every keberatan the person decides now (current org tree) and those they decided."""
    if link.task.kind != TaskKind.PUTUS_KEBERATAN:
        raise _reject(link)
    return render(request, "task/keberatan_putus.html", detail=None,
                  pending=repo.pending_for(session=session, cycle_id=link.cycle.id,
                                           decider_id=link.person.id),
                  decided=repo.decided_by(session=session, cycle_id=link.cycle.id,
                                          pemutus_id=link.person.id), **_common(request, link))


def _perkara(link: TaskLink, session: Session, keberatan_id: int) -> repo.Perkara:
    """A keberatan this person decides now, or decided before (read-only); else 403."""
    if link.task.kind != TaskKind.PUTUS_KEBERATAN:
        raise _reject(link)
    try:
        p = repo.perkara(session=session, cycle_id=link.cycle.id, keberatan_id=keberatan_id)
    except RuleError:
        raise _reject(link, repo.NOT_DECIDER) from None
    now_decider = p.hasil.atasan_ppk is not None and p.hasil.atasan_ppk.id == link.person.id
    if not (now_decider and p.keberatan.status == "diajukan") and \
            p.keberatan.pemutus_id != link.person.id:
        raise _reject(link, repo.NOT_DECIDER)
    return p


def decision_page(request: Request, link: TaskLink, session: Session, keberatan_id: int,
                  status_code: int = 200, error: str | None = None,
                  form: dict[str, str] | None = None) -> Response:
    return render(request, "task/keberatan_putus.html", status_code=status_code, error=error,
                  detail=_perkara(link, session, keberatan_id), form=form or {}, pending=[],
                  decided=[], **_common(request, link))


@router.get("/{token}/putusan")
def appeals(request: Request, link: TaskLinkDep, session: SessionDep) -> Response:
    return appeal_page(request, link, session)


@router.get("/{token}/putusan/{keberatan_id}")
def appeal(request: Request, link: TaskLinkDep, session: SessionDep, keberatan_id: int) -> Response:
    return decision_page(request, link, session, keberatan_id)


@router.post("/{token}/putusan/{keberatan_id}")
def decide(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
           keberatan_id: int, keputusan: Text = "", hasil_kerja: Text = "", perilaku: Text = "",
           alasan: Text = "") -> Response:
    p = _perkara(link, session, keberatan_id)
    form = {"keputusan": keputusan, "hasil_kerja": hasil_kerja, "perilaku": perilaku,
            "alasan": alasan}
    return _attempt(request, session, link, lambda: repo.decide_keberatan(
        session=session, perkara=p, keputusan=keputusan, hasil_kerja=hasil_kerja,
        perilaku=perilaku, alasan=alasan, now=rt.clock.now(), mail=rt.mail, pemutus=link.person),
        lambda status, error: decision_page(request, link, session, keberatan_id, status, error,
                                            form), "putus", f"keberatan-{keberatan_id}")


# -- the PPK: coaching plans ---------------------------------------------------------------------


def coaching_page(request: Request, link: TaskLink, session: Session, status_code: int = 200,
                  error: str | None = None) -> Response:
    """The PPK's coaching plans: actions with due dates, done with a note, closing the plan;
    the pegawai's training recommendations as suggestions."""
    if link.task.kind != TaskKind.PEMBINAAN:
        raise _reject(link)
    now = _now(request)
    return render(request, "task/pembinaan.html", status_code=status_code, error=error, now=now,
                  plans=repo.plans_of(session=session, cycle_id=link.cycle.id,
                                      owner_id=link.person.id, recommendations=True),
                  today=to_local(now, link.cycle.timezone).date().isoformat(),
                  **_common(request, link))


@router.get("/{token}/pembinaan")
def coaching(request: Request, link: TaskLinkDep, session: SessionDep) -> Response:
    return coaching_page(request, link, session)


def _plan(link: TaskLink, session: Session, rencana_id: int) -> repo.Rencana:
    if link.task.kind != TaskKind.PEMBINAAN:
        raise _reject(link)
    try:
        return repo.plan_for_owner(session=session, cycle_id=link.cycle.id,
                                   owner_id=link.person.id, rencana_id=rencana_id)
    except RuleError as exc:
        raise _reject(link, (exc.message("id"), exc.message("en"))) from None


def _coach(request: Request, link: TaskLink, session: Session, rencana_id: int,
           action: Callable[[repo.Rencana], object], ok: str) -> Response:
    plan = _plan(link, session, rencana_id)
    return _attempt(request, session, link, lambda: action(plan),
                    lambda status, error: coaching_page(request, link, session, status, error),
                    ok, f"rencana-{rencana_id}")


@router.post("/{token}/pembinaan/{rencana_id}/aksi")
def add_action(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
               rencana_id: int, uraian: Text = "", batas: Text = "") -> Response:
    return _coach(request, link, session, rencana_id, lambda r: repo.add_action(
        session=session, rencana=r, uraian=uraian, batas=batas, cycle=link.cycle,
        now=rt.clock.now()), "aksi")


@router.post("/{token}/pembinaan/{rencana_id}/aksi/{aksi_id}/selesai")
def complete_action(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                    rencana_id: int, aksi_id: int, catatan: Text = "") -> Response:
    return _coach(request, link, session, rencana_id, lambda r: repo.complete_action(
        session=session, rencana=r, aksi_id=aksi_id, catatan=catatan, cycle=link.cycle,
        now=rt.clock.now()), "aksi-selesai")


@router.post("/{token}/pembinaan/{rencana_id}/selesai")
def close_plan(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
               rencana_id: int) -> Response:
    return _coach(request, link, session, rencana_id, lambda r: repo.close_plan(
        session=session, rencana=r, cycle=link.cycle, now=rt.clock.now(),
        actor=f"pegawai:{link.person.id}"), "rencana-selesai")
