"""Monitoring pages behind task links: the pegawai's period (rencana aksi, realisasi, bukti
dukung, self-note) and the PPK's periodic work (feedback per RHK, dialogs, ratings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from api.deps import FormDep, RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import GUARD, BodyLimitRoute
from api.routes.tasks import NOT_YOURS, LinkPageError, LinkRoute, TaskLink, TaskLinkDep
from models.repo import monitoring as repo
from models.repo import skp as skp_repo
from models.rules import evidence
from models.rules import monitoring as rules
from models.rules.enums import JenisDialog, Rating, TaskKind
from models.rules.errors import InvalidInput, LinkRejected, RuleError
from models.rules.scoring import MATRIX
from models.tables import Bukti, Pegawai, Skp


class LinkUploadRoute(LinkRoute, BodyLimitRoute):
    """A task-link route (one thread hop) that refuses an oversized upload before reading it."""


router = APIRouter(prefix="/t", include_in_schema=False, dependencies=GUARD,
                   route_class=LinkUploadRoute)

Text = Annotated[str, Form()]
NOTICES = {
    "simpan": ("Tersimpan.", "Saved."),
    "laporkan": ("Realisasi periode ini dilaporkan kepada PPK.", "This period's realisasi was "
                 "reported to your PPK."),
    "bukti": ("Bukti dukung ditambahkan.", "Evidence added."),
    "hapus": ("Bukti dukung dihapus.", "Evidence removed."),
    "umpan-balik": ("Umpan balik disimpan; pegawai dapat melihatnya.",
                    "Feedback saved; the employee can see it."),
    "dialog": ("Catatan sesi disimpan.", "Session record saved."),
    "nilai": ("Penilaian periodik disimpan; pegawai diberi tahu lewat email.",
              "Periodic rating saved; the employee has been told by email."),
    "nilai-massal": ("Penilaian yang diisi sudah disimpan.", "The ratings you filled in were saved."),
}


def _notice(request: Request) -> str | None:
    pair = NOTICES.get(request.query_params.get("ok", ""))
    return (pair[1] if lang_of(request) == "en" else pair[0]) if pair else None


def _reject(link: TaskLink) -> LinkPageError:
    return LinkPageError(LinkRejected("not_yours", *NOT_YOURS), link.token)


# -- the pegawai ----------------------------------------------------------------------------------


def own_period(link: TaskLink, session: Session, history: bool = True) -> repo.PeriodView:
    if link.task.kind != TaskKind.ISI_REALISASI:
        raise _reject(link)
    skp = skp_repo.skp_of(session=session, cycle_id=link.cycle.id, pegawai_id=link.person.id)
    if skp is None:
        raise _reject(link)
    try:
        return repo.load_period(session=session, skp=skp, stage=link.stage, history=history)
    except RuleError as exc:
        raise LinkPageError(LinkRejected("not_yours", exc.message("id"), exc.message("en")),
                            link.token) from None


def _matrix_rows() -> list[tuple[str, list[str]]]:
    order = [Rating.DI_ATAS, Rating.SESUAI, Rating.DI_BAWAH]
    return [(hk.value, [MATRIX[(hk, pk)].value for pk in reversed(order)]) for hk in order]


def pegawai_page(request: Request, link: TaskLink, view: repo.PeriodView, status_code: int = 200,
                 error: str | None = None, notice: str | None = None) -> Response:
    lang = lang_of(request)
    return render(request, "task/periode.html", status_code=status_code, link=link, pv=view,
                  v=view.skp_view, label=view.label(lang), error=error, notice=notice,
                  period_range=repo.period_range_text(view.stage, view.cycle, lang),
                  kode=_kode, rhk_name=_rhk_names(view), period_name=lambda k: repo.period_label(
                      view.cycle, k, lang), max_mb=_max_mb(request),
                  allowed=", ".join(evidence.ALLOWED_EXTS))


def _kode(iki_id: int) -> str:
    from models.rules.realisasi_import import kode_iki

    return kode_iki(iki_id)


def _rhk_names(view: repo.PeriodView) -> dict[int, str]:
    return {r.id: r.uraian for r in view.skp_view.rhk}


def _max_mb(request: Request) -> str:
    return f"{request.app.state.rt.evidence.max_bytes / 1024 / 1024:g}"


def _attempt(request: Request, session: Session, link: TaskLink, load: Callable[[], repo.PeriodView],
             action: Callable[[repo.PeriodView], object],
             page: Callable[[repo.PeriodView, int, str], Response], path: str, ok: str) -> Response:
    """Run an action; on a rule breach roll back and re-render the page saying why."""
    try:
        action(load())
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return page(load(), status_of(exc), exc.message(lang_of(request)))
    return RedirectResponse(f"/t/{link.token}{path}?ok={ok}", 303)


def _own_act(request: Request, link: TaskLink, session: Session,
             action: Callable[[repo.PeriodView], object], ok: str) -> Response:
    return _attempt(request, session, link, lambda: own_period(link, session), action,
                    lambda v, status, error: pegawai_page(request, link, v, status, error), "", ok)


@router.post("/{token}/realisasi")
def save_realisasi(request: Request, link: TaskLinkDep, session: SessionDep,
                         rt: RuntimeDep, form: FormDep) -> Response:
    rencana = {int(k[3:]): str(v) for k, v in form.items() if k.startswith("ra_") and k[3:].isdigit()}
    real = {int(k[2:]): str(v) for k, v in form.items() if k.startswith("r_") and k[2:].isdigit()}
    version = str(form.get("version", ""))
    report = form.get("aksi") == "laporkan"
    return _own_act(request, link, session, lambda v: repo.save_realisasi(
        session=session, view=v, rencana=rencana, realisasi=real,
        catatan=str(form.get("catatan", "")), now=rt.clock.now(), report=report,
        expected_version=int(version) if version.isdigit() else None),
        "laporkan" if report else "simpan")


def _too_large(request: Request, max_bytes: int) -> bool:
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > max_bytes + 64 * 1024


@router.post("/{token}/bukti")
def add_bukti(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                    iki_id: Text = "", url: Text = "", keterangan: Text = "",
                    berkas: UploadFile | None = None) -> Response:
    max_bytes = rt.evidence.max_bytes
    upload_error: InvalidInput | None = None
    upload: repo.Upload | None = None
    if _too_large(request, max_bytes):
        upload_error = InvalidInput(
            f"Berkas terlalu besar; batasnya {max_bytes / 1024 / 1024:g} MB.",
            f"The file is too large; the limit is {max_bytes / 1024 / 1024:g} MB.")
    elif berkas is not None and berkas.filename:
        data = berkas.file.read(max_bytes + 1)
        try:
            checked = evidence.check_upload(berkas.filename, data, max_bytes=max_bytes)
            upload = repo.Upload(rt.store.put(data), checked.display_name, checked.content_type,
                                 checked.size)
        except InvalidInput as exc:
            upload_error = exc
    target = int(iki_id) if iki_id.strip().isdigit() else None

    def act(v: repo.PeriodView) -> None:
        if upload_error is not None:
            repo.ensure_period_open(v)
            raise upload_error
        repo.add_bukti(session=session, view=v, iki_id=target, now=rt.clock.now(),
                       url=url.strip() or None, upload=upload, keterangan=keterangan)
    return _own_act(request, link, session, act, "bukti")


@router.post("/{token}/bukti/{bukti_id}/hapus")
def delete_bukti(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                 bukti_id: int) -> Response:
    return _own_act(request, link, session, lambda v: repo.delete_bukti(
        session=session, view=v, bukti_id=bukti_id, now=rt.clock.now()), "hapus")


def _serve(row: Bukti, rt) -> Response:  # type: ignore[no-untyped-def]
    if row.url:
        return RedirectResponse(row.url, 303)
    try:
        data = rt.store.read(row.sha256)
    except (OSError, ValueError):
        return Response("Berkas tidak ditemukan / file not found", status_code=404)
    return Response(data, media_type=row.content_type, headers={
        "Content-Disposition": evidence.content_disposition(row.nama_berkas or "bukti"),
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


@router.get("/{token}/bukti/{bukti_id}")
def download_own(link: TaskLinkDep, session: SessionDep, rt: RuntimeDep, bukti_id: int) -> Response:
    """Only through the owner's (or the PPK's) task link; the store path is never exposed."""
    view = own_period(link, session, history=False)
    try:
        row = repo.bukti_for_skp(session=session, skp_id=view.skp_view.skp.id, bukti_id=bukti_id)
    except RuleError:
        raise _reject(link) from None
    return _serve(row, rt)


@router.post("/{token}/revisi")
def open_revision(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                  alasan: Text = "") -> Response:
    """The pegawai asks to change the approved SKP: it reopens for editing and goes back to the
    PPK; the approved version is kept."""
    view = own_period(link, session)
    now = rt.clock.now()
    try:
        skp_repo.open_revision(session=session, view=view.skp_view, alasan=alasan, now=now,
                               mail=rt.mail, actor_id=link.person.id)
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return pegawai_page(request, link, own_period(link, session), status_of(exc),
                            exc.message(lang_of(request)))
    own = skp_repo.task_of(session=session, cycle_id=link.cycle.id, kind=TaskKind.SUSUN_SKP,
                           pegawai_id=link.person.id)
    session.flush()
    return RedirectResponse(rt.links.task(own.id, link.person.id, now), 303)


# -- the PPK --------------------------------------------------------------------------------------


def subordinate_period(link: TaskLink, session: Session, skp_id: int) -> repo.PeriodView:
    """A current direct subordinate's SKP in this period; anyone else's is refused."""
    skp = session.get(Skp, skp_id)
    owner = session.get(Pegawai, skp.pegawai_id) if skp else None
    if (link.task.kind != TaskKind.NILAI_PERIODIK or skp is None or skp.cycle_id != link.cycle.id
            or owner is None or owner.atasan_id != link.person.id or not owner.active):
        raise _reject(link)
    try:
        return repo.load_period(session=session, skp=skp, stage=link.stage)
    except RuleError:
        raise _reject(link) from None


def ppk_list_page(request: Request, link: TaskLink, session: Session, status_code: int = 200,
                  error: str | None = None) -> Response:
    lang = lang_of(request)
    rows = repo.subordinates(session=session, cycle_id=link.cycle.id, periode=link.task.periode,
                             ppk_id=link.person.id)
    return render(request, "task/ppk_periode_list.html", status_code=status_code, link=link,
                  rows=rows, error=error, notice=_notice(request),
                  label=repo.period_label(link.cycle, link.task.periode, lang),
                  ratings=[r.value for r in Rating], closed=link.stage.closed_at is not None,
                  period_range=repo.period_range_text(link.stage, link.cycle, lang))


def ppk_page(request: Request, link: TaskLink, session: Session, view: repo.PeriodView,
             status_code: int = 200, error: str | None = None) -> Response:
    lang = lang_of(request)
    rows = repo.subordinates(session=session, cycle_id=link.cycle.id, periode=link.task.periode,
                             ppk_id=link.person.id)
    ids = [r.skp.id for r in rows]
    here = ids.index(view.skp_view.skp.id) if view.skp_view.skp.id in ids else -1
    nxt = ids[here + 1] if 0 <= here < len(ids) - 1 else None
    prev = ids[here - 1] if here > 0 else None
    from api.routes.umpan_balik import _labels
    from models.repo.umpan_balik import aggregate

    agg = aggregate(session=session, cycle_id=link.cycle.id, dinilai_id=view.skp_view.pegawai.id)
    return render(request, "task/ppk_periode.html", status_code=status_code, link=link, pv=view,
                  agg=agg, penilaian=_labels(request)["penilaian"],
                  v=view.skp_view, label=view.label(lang), error=error, notice=_notice(request),
                  ratings=[r.value for r in Rating], jenis_dialog=[j.value for j in JenisDialog],
                  kode=_kode, rhk_name=_rhk_names(view), next_id=nxt, prev_id=prev,
                  position=(here + 1, len(ids)), matrix=_matrix_rows(),
                  today=rt_today(request), period_name=lambda k: repo.period_label(
                      view.cycle, k, lang))


def rt_today(request: Request) -> str:
    from models.rules.calendar import to_local

    rt = request.app.state.rt
    return to_local(rt.clock.now(), rt.api.timezone).date().isoformat()


@router.get("/{token}/pegawai/{skp_id}")
def ppk_subordinate(request: Request, link: TaskLinkDep, session: SessionDep,
                    skp_id: int) -> Response:
    return ppk_page(request, link, session, subordinate_period(link, session, skp_id))


def _ppk_act(request: Request, link: TaskLink, session: Session, skp_id: int,
             action: Callable[[repo.PeriodView], object], ok: str) -> Response:
    return _attempt(request, session, link, lambda: subordinate_period(link, session, skp_id),
                    action, lambda v, status, error: ppk_page(request, link, session, v, status,
                                                              error), f"/pegawai/{skp_id}", ok)


@router.post("/{token}/pegawai/{skp_id}/umpan-balik")
def add_feedback(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
                 skp_id: int, rhk_id: Text = "", isi: Text = "") -> Response:
    return _ppk_act(request, link, session, skp_id, lambda v: repo.add_umpan_balik(
        session=session, view=v, rhk_id=int(rhk_id) if rhk_id.isdigit() else -1, isi=isi,
        ppk_id=link.person.id, now=rt.clock.now()), "umpan-balik")


@router.post("/{token}/pegawai/{skp_id}/dialog")
def add_dialog(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep,
               skp_id: int, jenis: Text = "dialog", tanggal: Text = "", catatan: Text = "",
               tindak_lanjut: Text = "") -> Response:
    return _ppk_act(request, link, session, skp_id, lambda v: repo.add_dialog(
        session=session, view=v, jenis=jenis, tanggal=tanggal, catatan=catatan,
        tindak_lanjut=tindak_lanjut, ppk_id=link.person.id, now=rt.clock.now()), "dialog")


@router.post("/{token}/pegawai/{skp_id}/nilai")
def rate(request: Request, link: TaskLinkDep, session: SessionDep, rt: RuntimeDep, skp_id: int,
         hasil_kerja: Text = "", perilaku: Text = "", catatan: Text = "",
         version: Annotated[int | None, Form()] = None) -> Response:
    now = rt.clock.now()
    return _ppk_act(request, link, session, skp_id, lambda v: repo.rate(
        session=session, view=v, hasil_kerja=hasil_kerja, perilaku=perilaku, catatan=catatan,
        ppk=link.person, now=now, mail=rt.mail,
        task_link=repo.own_link(session=session, view=v, mail=rt.mail, now=now),
        expected_version=version), "nilai")


@router.post("/{token}/nilai")
def rate_many(request: Request, link: TaskLinkDep, session: SessionDep,
                    rt: RuntimeDep, form: FormDep) -> Response:
    """Rate many subordinates from the list at once; rows left blank are skipped. One bad row
    (say, only one of the two ratings chosen) saves nothing and says which person it is."""
    now = rt.clock.now()
    wanted = sorted({int(k[3:]) for k in form if k[:3] in ("hk_", "pk_") and k[3:].isdigit()})
    try:
        repo.ensure_stage_open(link.stage, link.cycle)
        for skp_id in wanted:
            hk, pk = str(form.get(f"hk_{skp_id}", "")), str(form.get(f"pk_{skp_id}", ""))
            if not hk and not pk:
                continue
            view = subordinate_period(link, session, skp_id)
            rules.ensure_both_ratings(hk, pk, view.skp_view.pegawai.nama)
            if (view.record.hasil_kerja, view.record.perilaku) == (hk, pk):
                continue
            repo.rate(session=session, view=view, hasil_kerja=hk, perilaku=pk,
                      catatan=view.record.catatan_ppk or "", ppk=link.person, now=now,
                      mail=rt.mail, task_link=repo.own_link(session=session, view=view,
                                                            mail=rt.mail, now=now))
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return ppk_list_page(request, link, session, status_of(exc), exc.message(lang_of(request)))
    return RedirectResponse(f"/t/{link.token}?ok=nilai-massal", 303)


@router.get("/{token}/pegawai/{skp_id}/bukti/{bukti_id}")
def download_subordinate(link: TaskLinkDep, session: SessionDep, rt: RuntimeDep, skp_id: int,
                         bukti_id: int) -> Response:
    view = subordinate_period(link, session, skp_id)
    try:
        row = repo.bukti_for_skp(session=session, skp_id=view.skp_view.skp.id, bukti_id=bukti_id)
    except RuleError:
        raise _reject(link) from None
    return _serve(row, rt)
