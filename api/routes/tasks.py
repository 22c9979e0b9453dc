"""Pages behind signed task links: the pegawai drafts the SKP, the PPK approves or returns it."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlmodel import Session

from api.deps import FormDep, RuntimeDep, SessionDep, client_address, lang_of
from api.pages import render
from api.routes.common import GUARD
from kinerja.runtime import Runtime
from models.db import end_session
from models.repo import audit, batasan
from models.repo import skp as skp_repo
from models.repo.outbox import enqueue_messages
from models.repo.rows import Joined
from models.rules import skp as rules
from models.rules import tokens
from models.rules.console import TASK_LABELS
from models.rules.enums import StageCode, TaskKind
from models.rules.errors import LinkRejected, RuleError
from models.rules.skp import STATUS_LABEL_EN, STATUS_LABEL_ID, missing_for_submit
from models.tables import Cycle, CycleStage, Pegawai, Skp, Task

PERIOD_KINDS = (TaskKind.ISI_REALISASI.value, TaskKind.NILAI_PERIODIK.value)
ANNUAL_KINDS = (TaskKind.NILAI_TAHUNAN.value, TaskKind.HASIL_KINERJA.value,
                TaskKind.PUTUS_KEBERATAN.value, TaskKind.PEMBINAAN.value)
FEEDBACK_KINDS = (TaskKind.USUL_PENILAI.value, TaskKind.TETAPKAN_PENILAI.value,
                  TaskKind.ISI_360.value, TaskKind.KOMPETENSI.value)

NOT_YOURS = ("Tautan ini bukan untuk tugas Anda saat ini (misalnya atasan atau tugas sudah "
             "berganti). Gunakan tautan dari email terbaru, atau hubungi Pengelola Kinerja.",
             "This link is not for a task of yours now (the superior or the task may have "
             "changed). Use the link in your latest email, or contact the performance admin.")


@dataclass
class TaskLink:
    """A checked task link. As ORM objects (what an action changes), or, for a page that only
    reads (TaskLinkRowsDep), as read-only records that also carry the person's SKP in the
    link's cycle, their superior and the superior's SKP (`rows`)."""
    token: str
    task: Task
    person: Pegawai
    cycle: Cycle
    stage: CycleStage
    skp: Skp | None = None
    atasan: Pegawai | None = None
    atasan_skp: Skp | None = None
    rows: bool = False
    #: the request's session and runtime (what the handler's SessionDep and RuntimeDep give)
    session: Session | None = None
    rt: Runtime | None = None

    def attached(self, session: Session) -> TaskLink:
        """The same link as ORM objects, for a page that changes something or hands the link's
        objects to code that may (one statement; the link itself if it is one already)."""
        if not self.rows:
            return self
        row = session.execute(LINK_QUERY, {"task_id": self.task.id}).first()
        if not _yours(row[1] if row is not None else None, self.person.id):
            raise LinkPageError(LinkRejected("not_yours", *NOT_YOURS), self.token)
        return TaskLink(self.token, *row, session=self.session, rt=self.rt)


def _yours(person: Any, pegawai_id: int) -> bool:
    """The link's task still belongs to the person it was sent to, who is still active."""
    return person is not None and person.id == pegawai_id and person.active


class LinkPageError(Exception):
    def __init__(self, exc: LinkRejected, token: str) -> None:
        self.exc, self.token = exc, token


_ATASAN, _ATASAN_SKP = Pegawai.__table__.alias("atasan"), Skp.__table__.alias("atasan_skp")


def _link_query(rows: bool):  # type: ignore[no-untyped-def]
    """The task with its pegawai, cycle and the stage it belongs to, for one task id; `rows`:
    as one row of plain columns (LINK_ROWS.split), with the person's SKP in the cycle, their
    superior and the superior's SKP joined too."""
    from sqlalchemy import and_, bindparam, case, literal_column, select

    task, person, cycle, stage = (m.__table__ for m in (Task, Pegawai, Cycle, CycleStage))
    # constants written into the SQL: an IN list is an expanding parameter, rendered again at
    # every execution, and each bound constant is processed at every execution too
    def const(value: str):  # type: ignore[no-untyped-def]
        if not re.fullmatch(r"[a-z0-9_]+", value):  # our enum values, never quoted
            raise ValueError(value)
        return literal_column(f"'{value}'")

    stage_code = case(*[(task.c.kind == const(kind), const(code.value)) for kinds, code in (
        (PERIOD_KINDS, StageCode.PEMANTAUAN), (FEEDBACK_KINDS, StageCode.UMPAN_BALIK),
        (ANNUAL_KINDS, StageCode.PENILAIAN)) for kind in kinds],
        else_=const(StageCode.PERENCANAAN.value))
    query = (select(*LINK_ROWS.columns) if rows else select(Task, Pegawai, Cycle, CycleStage))
    query = (query.select_from(task).join(person, person.c.id == task.c.pegawai_id)
             .join(cycle, cycle.c.id == task.c.cycle_id)
             .join(stage, and_(stage.c.cycle_id == task.c.cycle_id, stage.c.code == stage_code,
                               stage.c.periode == task.c.periode)))
    if rows:
        skp, atasan, atasan_skp = Skp.__table__, _ATASAN, _ATASAN_SKP
        query = (query.outerjoin(skp, and_(skp.c.cycle_id == task.c.cycle_id,
                                           skp.c.pegawai_id == task.c.pegawai_id))
                 .outerjoin(atasan, atasan.c.id == person.c.atasan_id)
                 .outerjoin(atasan_skp, and_(atasan_skp.c.cycle_id == task.c.cycle_id,
                                             atasan_skp.c.pegawai_id == atasan.c.id)))
    return query.where(task.c.id == bindparam("task_id"))


LINK_ROWS = Joined([("task", Task.__table__), ("person", Pegawai.__table__),
                    ("cycle", Cycle.__table__), ("stage", CycleStage.__table__),
                    ("skp", Skp.__table__), ("atasan", _ATASAN), ("atasan_skp", _ATASAN_SKP)])
#: built once: building this statement took a fifth of a task page's time
LINK_QUERY, LINK_ROWS_QUERY = _link_query(rows=False), _link_query(rows=True)


def resolve(token: str, rt: Runtime, session: Session, rows: bool = False) -> TaskLink:
    """Verify the signature and expiry, then re-check against current data (one query);
    `rows`: read-only records, read on the session's connection (see TaskLink)."""
    try:
        claims = tokens.verify(token, rt.links.secret, rt.clock.now())
        if rows:
            row = session.connection().execute(LINK_ROWS_QUERY,
                                               {"task_id": claims.task_id}).first()
            parts = LINK_ROWS.split(row) if row is not None else {}
            person = parts.get("person")
        else:
            row = session.execute(LINK_QUERY, {"task_id": claims.task_id}).first()
            person = row[1] if row is not None else None
        if not _yours(person, claims.pegawai_id):
            raise LinkRejected("not_yours", *NOT_YOURS)
    except LinkRejected as exc:
        raise LinkPageError(exc, token) from None
    ctx = audit.current()  # the request's context object: every change names this link
    ctx.actor, ctx.via = f"pegawai:{person.id}", f"tautan:task:{claims.task_id}"
    if rows:
        return TaskLink(token, rows=True, session=session, rt=rt, **parts)
    return TaskLink(token, *row, session=session, rt=rt)


@dataclass
class PendingLink:
    """A task link as the dependency hands it over: checked by LinkRoute at the start of the
    handler, in the handler's thread."""
    token: str
    rt: Runtime
    session: Session
    rows: bool = False


async def task_link(request: Request, token: str, rt: RuntimeDep,
                    session: SessionDep) -> PendingLink:
    """Async, and no query: the check (a query) runs in the handler's own thread (LinkRoute);
    a plain `def` dependency would cost a hop to the thread pool of its own. Only a LinkRoute
    checks it, so any other route is refused here."""
    if not isinstance(request.scope.get("route"), LinkRoute):
        raise RuntimeError(f"{request.url.path}: a task link outside a LinkRoute is never checked")
    return PendingLink(token, rt, session)


async def task_link_rows(request: Request, token: str, rt: RuntimeDep,
                         session: SessionDep) -> PendingLink:
    """task_link, checked as read-only records (TaskLink.rows)."""
    pending = await task_link(request, token, rt, session)
    pending.rows = True
    return pending


LINK_DEPENDENCIES = (task_link, task_link_rows)
#: the handler receives the checked TaskLink; only a LinkRoute can give it (see LinkRoute)
TaskLinkDep = Annotated[TaskLink, Depends(task_link)]
#: the same, as read-only records (TaskLink.rows), for a page that only shows them
TaskLinkRowsDep = Annotated[TaskLink, Depends(task_link_rows)]


def in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A plain `def` handler that checks its task link first and commits its transaction last,
    in the one thread it already runs in. Done by dependencies, the check and the commit each
    cost a trip to the thread pool (three hops for a page instead of one). On an error nothing
    is committed: the session dependency rolls back, as before."""

    @functools.wraps(endpoint)
    def run(**kwargs: Any) -> Any:
        sessions = {id(v): v for v in kwargs.values() if isinstance(v, Session)}
        for name, value in kwargs.items():
            if isinstance(value, PendingLink):
                kwargs[name] = resolve(value.token, value.rt, value.session, value.rows)
                sessions[id(value.session)] = value.session
        response = endpoint(**kwargs)
        for session in sessions.values():
            end_session(session, True)
        return response

    return run


def _misplaced_links(dependant: Any, top: bool = True) -> bool:
    """A task link in a route's or router's `dependencies`, or inside another dependency: the
    handler would never receive it, so it would never be checked."""
    return any((d.call in LINK_DEPENDENCIES and not (top and d.name)) or _misplaced_links(d, False)
               for d in dependant.dependencies)


class LinkRoute(APIRoute):
    """The route class of every router whose handlers take a task link (TaskLinkDep): without
    it a handler would get the unchecked PendingLink and fail, so a link is never used
    unchecked. Handlers must be plain `def` (they query the database)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.isfunction(endpoint) or any(
                test(endpoint) for test in (inspect.iscoroutinefunction, inspect.isgeneratorfunction,
                                            inspect.isasyncgenfunction)):
            raise TypeError(f"{endpoint}: a task-link handler must be a plain def that returns")
        super().__init__(path, in_one_hop(endpoint), **kwargs)
        if _misplaced_links(self.dependant):
            raise TypeError(f"{path}: a task link must be a parameter of the handler itself "
                            "(TaskLinkDep), where LinkRoute checks it")


router = APIRouter(prefix="/t", include_in_schema=False, dependencies=GUARD, route_class=LinkRoute)


def _open_stage(link: TaskLink, view: skp_repo.SkpView) -> None:
    rules.ensure_stage_open(link.stage.closed_at is not None, view.in_revision)


def _own_view(link: TaskLink, session: Session) -> skp_repo.SkpView:
    """The pegawai's own SKP: from a link as rows, read-only rows (for showing it only, a
    third of the cost); otherwise ORM objects, to change it."""
    if link.task.kind != TaskKind.SUSUN_SKP:
        raise LinkPageError(LinkRejected("not_yours", *NOT_YOURS), link.token)
    if link.rows:
        if link.skp is None:
            raise LinkPageError(LinkRejected("not_yours", *NOT_YOURS), link.token)
        return skp_repo.load_view_rows(session=session, skp=link.skp, pegawai=link.person,
                                       atasan=link.atasan, atasan_skp=link.atasan_skp)
    skp = skp_repo.skp_of(session=session, cycle_id=link.cycle.id, pegawai_id=link.person.id)
    if skp is None:
        raise LinkPageError(LinkRejected("not_yours", *NOT_YOURS), link.token)
    return skp_repo.load_view(session=session, skp=skp)


def _subordinate_view(link: TaskLink, session: Session, skp_id: int) -> skp_repo.SkpView:
    skp = session.get(Skp, skp_id)
    owner = session.get(Pegawai, skp.pegawai_id) if skp else None
    if (link.task.kind != TaskKind.SETUJUI_SKP or skp is None or skp.cycle_id != link.cycle.id
            or owner is None or owner.atasan_id != link.person.id):
        raise LinkPageError(LinkRejected("not_yours", *NOT_YOURS), link.token)
    return skp_repo.load_view(session=session, skp=skp)


def _status_label(request: Request, status: str) -> str:
    return (STATUS_LABEL_EN if lang_of(request) == "en" else STATUS_LABEL_ID)[status]


def _skp_page(request: Request, link: TaskLink, view: skp_repo.SkpView, status_code: int = 200,
              error: str | None = None, notice: str | None = None) -> Response:
    lang = lang_of(request)
    missing = [p[1] if lang == "en" else p[0]
               for p in missing_for_submit(view.drafts(), view.cascade)]
    return render(request, "task/skp.html", status_code=status_code, link=link, v=view,
                  status_label=_status_label(request, view.skp.status), missing=missing,
                  error=error, notice=notice)


def _redirect(link: TaskLink, path: str = "", ok: str = "") -> Response:
    return RedirectResponse(f"/t/{link.token}{path}" + (f"?ok={ok}" if ok else ""), 303)


NOTICES = {"rhk": ("RHK disimpan.", "RHK saved."), "iki": ("IKI disimpan.", "IKI saved."),
           "hapus": ("Dihapus.", "Deleted."),
           "ajukan": ("SKP diajukan; PPK Anda sudah diberi tahu lewat email.",
                      "SKP submitted; your PPK has been told by email."),
           "setujui": ("SKP disetujui; pegawai diberi tahu lewat email.",
                       "SKP approved; the employee has been told."),
           "kembalikan": ("SKP dikembalikan dengan catatan Anda.", "SKP returned with your note."),
           "ekspektasi": ("Ekspektasi khusus disimpan.", "Expectations saved.")}


def _notice(request: Request) -> str | None:
    pair = NOTICES.get(request.query_params.get("ok", ""))
    return (pair[1] if lang_of(request) == "en" else pair[0]) if pair else None


@router.get("/{token}")
def task_page(request: Request, link: TaskLinkRowsDep) -> Response:
    """Every task's page. The link comes as read-only rows: the SKP page and the PPK's list
    show it as it is (the most visited pages, a third of the reads' cost); the other kinds'
    pages take it as ORM objects (one statement more), as their actions do. The session and
    runtime come with the link: each dependency declared costs FastAPI's solving at every
    request (a fifth of the page's time for ten), cached or not."""
    session, rt = link.session, link.rt
    assert session is not None and rt is not None  # resolve always sets them
    if link.task.kind not in (TaskKind.SUSUN_SKP, TaskKind.SETUJUI_SKP):
        link = link.attached(session)
    if link.task.kind in ANNUAL_KINDS:
        if link.task.kind == TaskKind.NILAI_TAHUNAN:
            from api.routes.penilaian import list_page

            return list_page(request, link, session)
        from api.routes import keberatan

        page = {TaskKind.HASIL_KINERJA: keberatan.result_page,
                TaskKind.PUTUS_KEBERATAN: keberatan.appeal_page,
                TaskKind.PEMBINAAN: keberatan.coaching_page}[link.task.kind]
        return page(request, link, session)
    if link.task.kind in FEEDBACK_KINDS:
        if link.task.kind == TaskKind.KOMPETENSI:
            from api.routes.kompetensi import kompetensi_page

            return kompetensi_page(request, link, session)
        from api.routes import umpan_balik

        return umpan_balik.page(request, link, session)
    if link.task.kind in PERIOD_KINDS:
        from api.routes import monitoring

        if link.task.kind == TaskKind.NILAI_PERIODIK:
            return monitoring.ppk_list_page(request, link, session)
        view = monitoring.own_period(link, session)
        return monitoring.pegawai_page(request, link, view, notice=monitoring._notice(request))
    if link.task.kind == TaskKind.SETUJUI_SKP:
        rows = skp_repo.subordinates_skp(session=session, cycle_id=link.cycle.id,
                                         ppk_id=link.person.id)
        return render(request, "task/ppk_list.html", link=link, rows=rows,
                      label=lambda s: _status_label(request, s), notice=_notice(request))
    view = _own_view(link, session)
    if skp_repo.notify_cascade_wait(session=session, view=view, now=rt.clock.now(), mail=rt.mail):
        session.flush()
    return _skp_page(request, link, view, notice=_notice(request))


def _attempt(request: Request, link: TaskLink, session: Session, load, action, page,  # type: ignore[no-untyped-def]
             path: str, ok: str) -> Response:
    """Run an action on an SKP; on a rule breach roll back and re-render the page with why."""
    try:
        view = load()
        _open_stage(link, view)
        action(view)
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return page(load(), status_of(exc), exc.message(lang_of(request)))
    return _redirect(link, path, ok)


def _act(request: Request, link: TaskLink, session: Session, action, ok: str) -> Response:  # type: ignore[no-untyped-def]
    """An edit by the pegawai on their own SKP."""
    return _attempt(request, link, session, lambda: _own_view(link, session), action,
                    lambda v, status, error: _skp_page(request, link, v, status, error=error),
                    "", ok)


Text = Annotated[str, Form()]


@router.post("/{token}/rhk")
def add_rhk(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
            uraian: Text, jenis: Text = "utama", intervensi_rhk_id: Text = "",
            indikator: Text = "", target: Text = "", satuan: Text = "", aspek: Text = "kuantitas",
            jenis_iki: Text = "kuantitatif", arah: Text = "naik",
            version: Annotated[int | None, Form()] = None) -> Response:
    iki = (skp_repo.IkiInput(indikator, target, satuan, aspek, jenis_iki, arah)
           if indikator.strip() else None)
    parent = int(intervensi_rhk_id) if intervensi_rhk_id.strip().isdigit() else None
    return _act(request, link, session, lambda v: skp_repo.add_rhk(
        session=session, view=v, jenis=jenis, uraian=uraian, intervensi_rhk_id=parent, iki=iki,
        now=rt.clock.now(), expected_version=version), "rhk")


@router.post("/{token}/rhk/{rhk_id}/hapus")
def delete_rhk(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
               rhk_id: int) -> Response:
    return _act(request, link, session, lambda v: skp_repo.delete_rhk(
        session=session, view=v, rhk_id=rhk_id, now=rt.clock.now()), "hapus")


@router.post("/{token}/rhk/{rhk_id}/iki")
def add_iki(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep, rhk_id: int,
            indikator: Text, target: Text, satuan: Text, aspek: Text = "kuantitas",
            jenis_iki: Text = "kuantitatif", arah: Text = "naik") -> Response:
    iki = skp_repo.IkiInput(indikator, target, satuan, aspek, jenis_iki, arah)
    return _act(request, link, session, lambda v: skp_repo.add_iki(
        session=session, view=v, rhk_id=rhk_id, iki=iki, now=rt.clock.now()), "iki")


@router.post("/{token}/iki/{iki_id}/hapus")
def delete_iki(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
               iki_id: int) -> Response:
    return _act(request, link, session, lambda v: skp_repo.delete_iki(
        session=session, view=v, iki_id=iki_id, now=rt.clock.now()), "hapus")


@router.post("/{token}/ajukan")
def submit(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
           version: Annotated[int | None, Form()] = None) -> Response:
    return _act(request, link, session, lambda v: skp_repo.submit(
        session=session, view=v, now=rt.clock.now(), mail=rt.mail, expected_version=version),
        "ajukan")


@router.get("/{token}/skp/{skp_id}")
def ppk_skp(request: Request, link: TaskLinkDep, session: SessionDep, skp_id: int) -> Response:
    view = _subordinate_view(link, session, skp_id)
    return render(request, "task/ppk_skp.html", link=link, v=view,
                  status_label=_status_label(request, view.skp.status), notice=_notice(request))


def _decide(request: Request, link: TaskLink, session: Session, skp_id: int, action,  # type: ignore[no-untyped-def]
            ok: str) -> Response:
    """A decision by the PPK on a subordinate's SKP."""
    def page(v: skp_repo.SkpView, status: int, error: str) -> Response:
        return render(request, "task/ppk_skp.html", status_code=status, link=link, v=v,
                      status_label=_status_label(request, v.skp.status), error=error)
    return _attempt(request, link, session, lambda: _subordinate_view(link, session, skp_id),
                    action, page, f"/skp/{skp_id}", ok)


def _me(link: TaskLink) -> skp_repo.Approver:
    return skp_repo.Approver(link.person.id, link.person.nama)


@router.post("/{token}/skp/{skp_id}/setujui")
def approve(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep, skp_id: int,
            version: Annotated[int | None, Form()] = None) -> Response:
    return _decide(request, link, session, skp_id, lambda v: skp_repo.decide(
        session=session, view=v, ppk=_me(link), approve=True, comment="", now=rt.clock.now(),
        mail=rt.mail, expected_version=version), "setujui")


@router.post("/{token}/skp/{skp_id}/kembalikan")
def return_skp(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
               skp_id: int, comment: Text = "",
               version: Annotated[int | None, Form()] = None) -> Response:
    return _decide(request, link, session, skp_id, lambda v: skp_repo.decide(
        session=session, view=v, ppk=_me(link), approve=False, comment=comment,
        now=rt.clock.now(), mail=rt.mail, expected_version=version), "kembalikan")


@router.post("/{token}/skp/{skp_id}/ekspektasi")
def ekspektasi(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                     skp_id: int, form: FormDep) -> Response:
    values = {k.removeprefix("e_"): str(v) for k, v in form.items() if k.startswith("e_")}
    return _decide(request, link, session, skp_id, lambda v: skp_repo.set_ekspektasi(
        session=session, view=v, values=values, now=rt.clock.now(), ppk_id=link.person.id),
        "ekspektasi")


@router.post("/renew")
def renew(request: Request, session: SessionDep, rt: RuntimeDep, token: Text) -> Response:
    """An expired (but genuine) link: email a fresh one to the task's person, at most hourly."""
    now = rt.clock.now()
    try:
        batasan.hit(session=session, limit=batasan.RENEW_CLIENT, value=client_address(request),
                    secret=rt.links.secret, now=now)
    except batasan.TooMany as exc:
        response = render(request, "task/link_error.html", status_code=429, reason="rate",
                          message=("Terlalu banyak permintaan tautan baru dari perangkat ini. "
                                   f"Coba lagi dalam {exc.retry_after // 60 + 1} menit."
                                   if lang_of(request) == "id" else
                                   "Too many fresh-link requests from this device. Try again in "
                                   f"{exc.retry_after // 60 + 1} minutes."), token="")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    try:
        claims = tokens.verify(token, rt.links.secret, now, allow_expired=True)
    except LinkRejected as exc:
        return render(request, "task/link_error.html", status_code=403, reason=exc.reason,
                      message=exc.message(lang_of(request)), token="")
    task, person = session.get(Task, claims.task_id), session.get(Pegawai, claims.pegawai_id)
    if task is None or person is None or task.pegawai_id != person.id or not person.active:
        return render(request, "task/link_error.html", status_code=403, reason="not_yours",
                      message=NOT_YOURS[1 if lang_of(request) == "en" else 0], token="")
    cycle = session.get(Cycle, task.cycle_id)
    label = TASK_LABELS.get(task.kind, TASK_LABELS[TaskKind.SUSUN_SKP])
    enqueue_messages(session=session, now=now, messages=[{
        "key": f"renew:{task.id}:{now:%Y%m%d%H}", "kind": "tautan_baru", "to_email": person.email,
        "pegawai_id": person.id, "language": rt.api.language,
        "context": {"agency_name": rt.api.agency_name, "nama": person.nama, "tahun": cycle.tahun,
                    "link": rt.links.task(task.id, person.id, now),
                    "task_label": label[1 if rt.api.language == "en" else 0]}}])
    user, _, domain = person.email.partition("@")
    return render(request, "task/link_renewed.html", masked=f"{user[:2]}***@{domain}")
