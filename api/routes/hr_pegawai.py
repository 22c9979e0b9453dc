"""HR acting for one person: find them, see their tasks in a cycle, change their PPK, send a
fresh link, close a task on their behalf, reopen their SKP, change their 360 raters.

Console pages under /hr/pegawai and the same actions under /api/v1/pegawai/{nip}. Unit
operators may do all of it for the people of their own units (the policy checks the path's NIP,
task and SKP); auditors may look.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select

from api import services
from api.access import Principal, UnitReader, UnitWriter
from api.deps import FormDep, RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import ERRORS, GUARD
from kinerja.runtime import Runtime
from models.repo import hr_actions
from models.rules.console import task_label
from models.rules.errors import RuleError
from models.rules.texts import format_datetime
from models.tables import Cycle, Pegawai, Unit

router = APIRouter(prefix="/hr/pegawai", include_in_schema=False, dependencies=GUARD)
api = APIRouter(prefix="/api/v1/pegawai", tags=["pegawai"], responses=ERRORS,
                dependencies=GUARD)


# -- console ---------------------------------------------------------------------------------

@router.get("")
def search(request: Request, session: SessionDep, user: UnitReader,
           q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """Find people by name or NIP (an operator finds only the people of their units)."""
    text = q.strip()
    rows: list[tuple[Pegawai, str]] = []
    if text:
        query = (select(Pegawai, Unit.nama).join(Unit, Unit.id == Pegawai.unit_id)
                 .where(or_(Pegawai.nip.startswith(text),
                            func.lower(Pegawai.nama).contains(text.lower())))
                 .order_by(Pegawai.nama).limit(100))
        if user.unit_ids is not None:
            query = query.where(Pegawai.unit_id.in_(user.unit_ids))
        rows = [(p, u) for p, u in session.execute(query).all()]
    if len(rows) == 1:
        return RedirectResponse(f"/hr/pegawai/{rows[0][0].nip}", status_code=303)
    return render(request, "hr/pegawai_cari.html", user=user, q=text, rows=rows)


def _page(request: Request, rt: Runtime, session: SessionDep, user: Principal, nip: str,
          cycle_id: int | None, status_code: int = 200, **extra: object) -> Response:
    lang = lang_of(request)
    view = hr_actions.person_tasks(session=session, nip=nip, cycle_id=cycle_id)
    cycles = session.execute(select(Cycle).order_by(Cycle.tahun.desc(), Cycle.id.desc())).scalars()
    tz = view.cycle.timezone if view.cycle else rt.api.timezone
    when = lambda at: format_datetime(at, tz, lang) if at else "—"  # noqa: E731
    tasks = [{"task": t, "label": task_label(t.kind, lang),
              "overdue": t.status == "open" and t.due_at <= rt.clock.now(),
              "due": when(t.due_at), "done": when(t.done_at)} for t in view.tasks]
    return render(request, "hr/pegawai.html", status_code=status_code, user=user, v=view,
                  tasks=tasks, cycles=list(cycles), **extra)


@router.get("/{nip}")
def person(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader, nip: str,
           cycle_id: int | None = None) -> Response:
    flash = request.session.pop("flash", None)
    return _page(request, rt, session, user, nip, cycle_id,
                 **({"notice": str(flash)} if flash else {}))


def _act(request: Request, rt: Runtime, session: SessionDep, user: Principal, nip: str,
         cycle_id: int | None, action, ok_id: str, ok_en: str) -> Response:  # type: ignore[no-untyped-def]
    """Run one action; on a rule error nothing is kept and the page says why (4xx)."""
    lang = lang_of(request)
    try:
        result = action()
        session.flush()
    except RuleError as exc:
        session.rollback()
        from api.app import status_of

        return _page(request, rt, session, user, nip, cycle_id, status_of(exc),
                     error=exc.message(lang))
    # post/redirect/get: a refresh of the result page repeats nothing; the notice rides along
    request.session["flash"] = (ok_en if lang == "en" else ok_id).format(result=result)
    query = f"?cycle_id={cycle_id}" if cycle_id else ""
    return RedirectResponse(f"/hr/pegawai/{nip}{query}", status_code=303)


def _form_int(form: FormDep, name: str) -> int | None:
    try:
        return int(str(form.get(name, "")))
    except ValueError:
        return None


@router.post("/{nip}/atasan")
def change_ppk(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitWriter, nip: str,
               form: FormDep) -> Response:
    atasan_nip = str(form.get("atasan_nip", "")).strip()

    def action() -> str:
        user.require_choice(atasan_nip)  # an operator chooses a PPK in their own units only
        _, atasan = services.change_atasan(rt, session, nip, services.AtasanIn(
            atasan_nip=atasan_nip), user.actor)
        return f"{atasan.nama} (NIP {atasan.nip})"
    return _act(request, rt, session, user, nip, _form_int(form, "cycle_id"), action,
                "Atasan (PPK) sekarang {result}; PPK baru menerima tugas yang masih terbuka.",
                "The superior (PPK) is now {result}; the new PPK takes over the open tasks.")


@router.post("/{nip}/tugas/{task_id}/kirim-ulang")
def resend(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitWriter, nip: str,
           task_id: int, form: FormDep) -> Response:
    def action() -> str:
        return hr_actions.resend_link(session=session, nip=nip, task_id=task_id,
                                      now=rt.clock.now(), mail=rt.mail, actor=user.actor)
    return _act(request, rt, session, user, nip, _form_int(form, "cycle_id"), action,
                "Tautan baru dikirim ke {result}.", "A fresh link was sent to {result}.")


@router.post("/{nip}/tugas/{task_id}/tutup")
def close(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitWriter, nip: str,
          task_id: int, form: FormDep) -> Response:
    def action() -> str:
        task = hr_actions.close_task(session=session, nip=nip, task_id=task_id,
                                     alasan=str(form.get("alasan", "")), now=rt.clock.now(),
                                     actor=user.actor)
        return task_label(task.kind, lang_of(request))
    return _act(request, rt, session, user, nip, _form_int(form, "cycle_id"), action,
                "Tugas \u201c{result}\u201d ditutup atas nama pegawai; alasannya tercatat.",
                "The task \u201c{result}\u201d was closed on the person's behalf; the reason is "
                "recorded.")


@router.post("/{nip}/skp/{skp_id}/buka")
def reopen(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitWriter, nip: str,
           skp_id: int, form: FormDep) -> Response:
    def action() -> int:
        return hr_actions.reopen_skp(session=session, nip=nip, skp_id=skp_id,
                                     alasan=str(form.get("alasan", "")), now=rt.clock.now(),
                                     mail=rt.mail, actor=user.actor).revisi
    return _act(request, rt, session, user, nip, _form_int(form, "cycle_id"), action,
                "SKP dibuka kembali (revisi ke-{result}); pegawai diberi tahu lewat email.",
                "The SKP was reopened (revision {result}); the person was emailed.")


@router.post("/{nip}/penilai")
def add_rater(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitWriter, nip: str,
              form: FormDep) -> Response:
    cycle_id = _form_int(form, "cycle_id") or 0

    def action() -> str:
        user.require_choice(str(form.get("penilai_nip", "")))  # raters from their units only
        row = hr_actions.add_rater(session=session, nip=nip, cycle_id=cycle_id,
                                   rater_nip=str(form.get("penilai_nip", "")),
                                   now=rt.clock.now(), mail=rt.mail, actor=user.actor)
        rater = session.get(Pegawai, row.penilai_id)
        return rater.nama if rater else ""
    return _act(request, rt, session, user, nip, cycle_id, action,
                "{result} ditambahkan sebagai penilai 360.", "{result} was added as a 360 rater.")


@router.post("/{nip}/penilai/{assignment_id}/hapus")
def remove_rater(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitWriter,
                 nip: str, assignment_id: int, form: FormDep) -> Response:
    cycle_id = _form_int(form, "cycle_id") or 0

    def action() -> str:
        hr_actions.remove_rater(session=session, nip=nip, cycle_id=cycle_id,
                                assignment_id=assignment_id, now=rt.clock.now(),
                                actor=user.actor)
        return ""
    return _act(request, rt, session, user, nip, cycle_id, action,
                "Penilai dihapus dari daftar.", "The rater was taken off the list.")


# -- API -------------------------------------------------------------------------------------

class AlasanIn(BaseModel):
    alasan: str = Field(min_length=10, max_length=2000)


@api.get("/{nip}/tugas")
def api_tasks(rt: RuntimeDep, session: SessionDep, user: UnitReader, nip: str,
              cycle_id: int | None = None) -> dict[str, object]:
    """The person's tasks in a cycle (default: the latest) with their state and dates."""
    view = hr_actions.person_tasks(session=session, nip=nip, cycle_id=cycle_id)
    return {"nip": view.person.nip, "cycle_id": view.cycle.id if view.cycle else None,
            "skp": {"id": view.skp.id, "status": view.skp.status, "revisi": view.skp.revisi}
            if view.skp else None,
            "tugas": [{"id": t.id, "kind": t.kind, "periode": t.periode, "status": t.status,
                       "due_at": t.due_at, "done_at": t.done_at, "closed_by": t.closed_by,
                       "close_reason": t.close_reason, "reminders_sent": t.reminders_sent}
                      for t in view.tasks]}


@api.post("/{nip}/tugas/{task_id}/kirim-ulang")
def api_resend(rt: RuntimeDep, session: SessionDep, user: UnitWriter, nip: str,
               task_id: int) -> dict[str, object]:
    """Email the person a fresh link to an open task; 409 when the task is not open."""
    masked = hr_actions.resend_link(session=session, nip=nip, task_id=task_id, now=rt.clock.now(),
                                    mail=rt.mail, actor=user.actor)
    return {"task_id": task_id, "dikirim_ke": masked}


@api.post("/{nip}/tugas/{task_id}/tutup")
def api_close(rt: RuntimeDep, session: SessionDep, user: UnitWriter, nip: str, task_id: int,
              data: AlasanIn) -> dict[str, object]:
    """Close an open task on the person's behalf with a reason; 409 when it is not open."""
    task = hr_actions.close_task(session=session, nip=nip, task_id=task_id, alasan=data.alasan,
                                 now=rt.clock.now(), actor=user.actor)
    return {"task_id": task.id, "status": task.status, "closed_by": task.closed_by}


@api.post("/{nip}/skp/{skp_id}/buka")
def api_reopen(rt: RuntimeDep, session: SessionDep, user: UnitWriter, nip: str, skp_id: int,
               data: AlasanIn) -> dict[str, object]:
    """Reopen an approved SKP for changes; 409 when it is not approved."""
    skp = hr_actions.reopen_skp(session=session, nip=nip, skp_id=skp_id, alasan=data.alasan,
                                now=rt.clock.now(), mail=rt.mail, actor=user.actor)
    return {"skp_id": skp.id, "status": skp.status, "revisi": skp.revisi}
