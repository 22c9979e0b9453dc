"""The HR console (server-rendered): login, import, cycles with calendar and monitoring
periods, launch, progress, a superior changed mid-cycle."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from api import services
from api.access import AgencyReader, AgencyWriter, Principal, UnitReader, UnitWriter
from api.deps import FormDep, RuntimeDep, SessionDep, client_address, lang_of
from api.pages import render
from api.routes.common import GUARD, BodyLimitRoute
from kinerja.runtime import secret_key
from models.importer import ImportRejected, import_organisation
from models.repo import batasan
from models.repo.cycles import list_cycles
from models.repo.hr import authenticate, end_session, start_session
from models.rules import calendar
from models.rules.console import safe_next
from models.rules.enums import OutboxStatus, StageCode
from models.rules.errors import RuleError
from models.rules.texts import format_date, format_datetime
from models.tables import OutboxMessage, Pegawai

router = APIRouter(prefix="/hr", include_in_schema=False, dependencies=GUARD,
                   route_class=BodyLimitRoute)


def _count(session: SessionDep, query) -> int:  # type: ignore[no-untyped-def]
    return int(session.execute(query).scalar_one())


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "/hr") -> Response:
    return render(request, "hr/login.html", next=next)


@router.post("/login")
def login(request: Request, session: SessionDep, username: Annotated[str, Form()],
          password: Annotated[str, Form()], next: Annotated[str, Form()] = "/hr") -> Response:
    rt = request.app.state.rt
    try:  # counted before the password is looked at, for any username, existing or not
        for limit, value in ((batasan.LOGIN_USER, username.strip()),
                             (batasan.LOGIN_CLIENT, client_address(request))):
            batasan.hit(session=session, limit=limit, value=value, secret=secret_key(rt.api),
                        now=rt.clock.now())
    except batasan.TooMany as exc:
        response = render(request, "hr/login.html", status_code=429, next=next,
                          error=("Terlalu banyak percobaan masuk. Coba lagi dalam "
                                 f"{exc.retry_after // 60 + 1} menit." if lang_of(request) == "id"
                                 else "Too many login attempts. Try again in "
                                 f"{exc.retry_after // 60 + 1} minutes."))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    user = authenticate(session=session, username=username.strip(), password=password)
    if user is None:
        return render(request, "hr/login.html", status_code=401, next=next,
                      error="Nama pengguna atau kata sandi salah." if lang_of(request) == "id"
                      else "Wrong username or password.")
    request.session.clear()
    request.session["sid"] = start_session(session=session, user=user, metode="password",
                                           now=request.app.state.rt.clock.now())
    request.session["csrf"] = secrets.token_urlsafe(32)
    return _back(safe_next(next))


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    token = request.session.get("sid")
    if token:
        end_session(session=session, token=token, now=request.app.state.rt.clock.now())
    request.session.clear()
    return _back("/hr/login")


def _home_page(request: Request, session: SessionDep, user: Principal, year: int,
               status_code: int = 200, **extra: object) -> Response:
    query = select(func.count()).select_from(Pegawai).where(Pegawai.active)
    if user.unit_ids is not None:
        query = query.where(Pegawai.unit_id.in_(user.unit_ids))
    people = _count(session, query)
    return render(request, "hr/home.html", status_code=status_code, user=user,
                  cycles=list_cycles(session=session), people=people, year=year,
                  **({"atasan_form": {"nip": "", "atasan_nip": ""}} | extra))


@router.get("")
def home(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitReader) -> Response:
    return _home_page(request, session, user, rt.clock.now().year + 1)


@router.get("/import")
def import_form(request: Request, user: AgencyWriter) -> Response:
    return render(request, "hr/import.html", user=user, result=None, problems=[])


@router.post("/import")
def import_upload(request: Request, rt: RuntimeDep, session: SessionDep,
                        user: AgencyWriter, file: UploadFile) -> Response:
    data = file.file.read()
    try:
        result = import_organisation(session=session, data=data, filename=file.filename or "",
                                     now=rt.clock.now(), actor=f"hr:{user.username}")
    except ImportRejected as exc:
        session.rollback()
        return render(request, "hr/import.html", status_code=422, user=user, result=None,
                      problems=exc.problems, error=exc.message(lang_of(request)).split("\n")[0])
    return render(request, "hr/import.html", user=user, result=result, problems=[])


@router.post("/cycles")
def new_cycle(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
              tahun: Annotated[int, Form()], nama: Annotated[str, Form()] = "",
              periodisasi: Annotated[str, Form()] = "triwulanan") -> Response:
    try:
        cycle = services.create_cycle(rt, session, services.CycleIn(
            tahun=tahun, nama=nama, periodisasi=periodisasi), f"hr:{user.username}")
    except (RuleError, ValidationError) as exc:
        session.rollback()
        message = exc.message(lang_of(request)) if isinstance(exc, RuleError) else (
            "Tahun harus antara 2000 dan 2100." if lang_of(request) == "id"
            else "The year must be between 2000 and 2100.")
        return _home_page(request, session, user, tahun, 422, error=message)
    session.flush()
    return _back(f"/hr/cycles/{cycle.id}")


@router.post("/pegawai/atasan")
def change_atasan(request: Request, rt: RuntimeDep, session: SessionDep, user: UnitWriter,
                  nip: Annotated[str, Form()], atasan_nip: Annotated[str, Form()]) -> Response:
    """A new superior (PPK) for one employee mid-cycle; nothing changes on an error."""
    year = rt.clock.now().year + 1
    user.require_nip(nip.strip())  # an operator moves only the people of their own units,
    try:
        user.require_choice(atasan_nip)  # to a PPK in their own units (else: ask an admin)
        pegawai, atasan = services.change_atasan(rt, session, nip, services.AtasanIn(
            atasan_nip=atasan_nip), f"hr:{user.username}")
    except RuleError as exc:
        session.rollback()
        return _home_page(request, session, user, year, 422, error=exc.message(lang_of(request)),
                          atasan_form={"nip": nip, "atasan_nip": atasan_nip})
    who, new = f"{pegawai.nama} (NIP {pegawai.nip})", f"{atasan.nama} (NIP {atasan.nip})"
    return _home_page(request, session, user, year, notice=(
        f"Atasan (PPK) {who} sekarang {new}." if lang_of(request) == "id"
        else f"The superior (PPK) of {who} is now {new}."))


def _cycle_page(request: Request, rt: RuntimeDep, session: SessionDep, user: Principal,
                cycle_id: int, status_code: int = 200, **extra: object) -> Response:
    summary = services.cycle_summary(rt, session, cycle_id)
    parked = session.execute(select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PARKED).order_by(OutboxMessage.id.desc())
        .limit(100)).scalars().all()
    queued = _count(session, select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.QUEUED))
    from models.repo.skp import without_ppk

    return render(request, "hr/cycle.html", status_code=status_code, user=user, c=summary,
                  parked=parked, queued=queued, prefect_ui=rt.prefect.ui,
                  span=_span(str(summary["timezone"]), lang_of(request)),
                  no_ppk=without_ppk(session=session, cycle_id=cycle_id), **extra)


def _span(tz: str, lang: str):  # type: ignore[no-untyped-def]
    """A period's range for people: whole days as dates (end inclusive), else date and time."""
    def span(start: datetime | None, end: datetime | None) -> str:
        if start is None or end is None:
            return "-"
        if all(calendar.to_local(v, tz).time() == time(0) for v in (start, end)):
            return f"{format_date(start, tz, lang)} – {format_date(end - timedelta(days=1), tz, lang)}"
        return f"{format_datetime(start, tz, lang)} – {format_datetime(end, tz, lang)}"
    return span


@router.get("/cycles/{cycle_id}")
def cycle_page(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyReader,
               cycle_id: int) -> Response:
    return _cycle_page(request, rt, session, user, cycle_id)


@router.post("/cycles/{cycle_id}/calendar")
def cycle_calendar(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                   cycle_id: int, opens_at: Annotated[str, Form()], due_at: Annotated[str, Form()],
                   approve_due_at: Annotated[str, Form()], closes_at: Annotated[str, Form()],
                   version: Annotated[int, Form()]) -> Response:
    return _save_calendar(request, rt, session, user, cycle_id, dict(
        opens_at=opens_at, due_at=due_at, approve_due_at=approve_due_at, closes_at=closes_at,
        version=version))


@router.post("/cycles/{cycle_id}/periode/{periode}/calendar")
def period_calendar(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                    cycle_id: int, periode: int, opens_at: Annotated[str, Form()],
                    due_at: Annotated[str, Form()], approve_due_at: Annotated[str, Form()],
                    closes_at: Annotated[str, Form()], version: Annotated[int, Form()]) -> Response:
    return _save_calendar(request, rt, session, user, cycle_id, dict(
        opens_at=opens_at, due_at=due_at, approve_due_at=approve_due_at, closes_at=closes_at,
        version=version), periode)


@router.post("/cycles/{cycle_id}/periodisasi")
def cycle_periodisasi(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                      cycle_id: int, periodisasi: Annotated[str, Form()]) -> Response:
    """Quarterly or monthly monitoring periods; refused once the cycle is launched."""
    try:
        services.set_periodisasi(rt, session, cycle_id, services.PeriodisasiIn(
            periodisasi=periodisasi), f"hr:{user.username}")
    except RuleError as exc:
        session.rollback()
        from api.app import status_of
        return _cycle_page(request, rt, session, user, cycle_id, status_of(exc),
                           error=exc.message(lang_of(request)))
    return _back(f"/hr/cycles/{cycle_id}?saved=1#periode")


@router.post("/cycles/{cycle_id}/umpan-balik/calendar")
def feedback_calendar(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                      cycle_id: int, opens_at: Annotated[str, Form()],
                      due_at: Annotated[str, Form()], approve_due_at: Annotated[str, Form()],
                      closes_at: Annotated[str, Form()], version: Annotated[int, Form()]) -> Response:
    return _save_calendar(request, rt, session, user, cycle_id, dict(
        opens_at=opens_at, due_at=due_at, approve_due_at=approve_due_at, closes_at=closes_at,
        version=version), code=StageCode.UMPAN_BALIK)


@router.post("/cycles/{cycle_id}/penilaian/calendar")
def annual_calendar(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                    cycle_id: int, opens_at: Annotated[str, Form()], due_at: Annotated[str, Form()],
                    approve_due_at: Annotated[str, Form()], closes_at: Annotated[str, Form()],
                    version: Annotated[int, Form()]) -> Response:
    return _save_calendar(request, rt, session, user, cycle_id, dict(
        opens_at=opens_at, due_at=due_at, approve_due_at=approve_due_at, closes_at=closes_at,
        version=version), code=StageCode.PENILAIAN)


@router.post("/cycles/{cycle_id}/umpan-balik/pengaturan")
def feedback_settings(request: Request, rt: RuntimeDep, session: SessionDep,
                            user: AgencyWriter, cycle_id: int, form: FormDep) -> Response:
    try:
        data = services.Pengaturan360In(
            ikut_ppk=form.get("ikut_ppk") == "on", ikut_diri=form.get("ikut_diri") == "on",
            **{k: form.get(k) for k in ("maks_rekan", "maks_bawahan", "maks_form", "ambang")})
        services.set_feedback_settings(rt, session, cycle_id, data, f"hr:{user.username}")
    except RuleError as exc:
        session.rollback()
        from api.app import status_of
        return _cycle_page(request, rt, session, user, cycle_id, status_of(exc),
                           error=exc.message(lang_of(request)))
    except ValidationError:
        session.rollback()
        return _cycle_page(request, rt, session, user, cycle_id, 422, error=(
            "Isian pengaturan 360 di luar batas (lihat batas di samping tiap isian)."
            if lang_of(request) == "id" else "A 360 setting is out of range (see the limits)."))
    return _back(f"/hr/cycles/{cycle_id}?saved=1#umpan-balik")


def _save_calendar(request: Request, rt: RuntimeDep, session: SessionDep, user: Principal,
                   cycle_id: int, form: dict[str, object], periode: int = 0,
                   code: StageCode | None = None) -> Response:
    code = code or (StageCode.PEMANTAUAN if periode else StageCode.PERENCANAAN)
    try:
        data = services.CalendarIn.model_validate(form)
        services.set_calendar(rt, session, cycle_id, data, f"hr:{user.username}", code, periode)
    except RuleError as exc:
        session.rollback()
        from api.app import status_of
        return _cycle_page(request, rt, session, user, cycle_id, status_of(exc),
                           error=exc.message(lang_of(request)))
    except ValueError:
        session.rollback()
        return _cycle_page(request, rt, session, user, cycle_id, 422,
                           error="Format tanggal tidak valid." if lang_of(request) == "id"
                           else "Invalid date format.")
    anchor = (f"#periode-{periode}" if periode else
              "#umpan-balik" if code == StageCode.UMPAN_BALIK else "")
    return _back(f"/hr/cycles/{cycle_id}?saved=1" + anchor)


@router.post("/cycles/{cycle_id}/reminders")
def cycle_reminders(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                    cycle_id: int, offsets: Annotated[str, Form()],
                    review_sla_minutes: Annotated[int, Form()]) -> Response:
    try:
        services.set_reminders(rt, session, cycle_id, services.RemindersIn(
            offsets=offsets, review_sla_minutes=review_sla_minutes), f"hr:{user.username}")
    except (RuleError, ValidationError) as exc:
        session.rollback()
        message = exc.message(lang_of(request)) if isinstance(exc, RuleError) else (
            "Waktu minimal PPK harus antara 0 dan 525600 menit." if lang_of(request) == "id"
            else "The PPK's minimum time must be between 0 and 525600 minutes.")
        return _cycle_page(request, rt, session, user, cycle_id, 422, error=message)
    return _back(f"/hr/cycles/{cycle_id}?saved=1")


@router.post("/cycles/{cycle_id}/launch")
async def cycle_launch(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                       cycle_id: int) -> Response:
    await services.launch(rt, session, request.app.state.launcher, cycle_id, f"hr:{user.username}")
    return _back(f"/hr/cycles/{cycle_id}")


@router.post("/cycles/{cycle_id}/skp/{skp_id}/keputusan")
def decide_without_ppk(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                       cycle_id: int, skp_id: int, action: Annotated[str, Form()],
                       comment: Annotated[str, Form()] = "") -> Response:
    """HR decides the SKP of someone with no superior in the system (e.g. the Sekda)."""
    from models.repo import skp as skp_repo
    from models.repo.audit import record
    from models.tables import Skp

    if action not in ("setujui", "kembalikan"):
        return _cycle_page(request, rt, session, user, cycle_id, 422,
                           error="Pilih setujui atau kembalikan." if lang_of(request) == "id"
                           else "Choose approve or return.")
    skp = session.get(Skp, skp_id)
    if skp is None or skp.cycle_id != cycle_id or not (view := skp_repo.load_view(
            session=session, skp=skp)).decided_by_hr:
        return _cycle_page(request, rt, session, user, cycle_id, 404,
                           error="SKP tidak ditemukan di daftar tanpa PPK." if lang_of(request) == "id"
                           else "SKP not found among those without a PPK.")
    try:
        skp_repo.decide(session=session, view=view, approve=action == "setujui", comment=comment,
                        ppk=skp_repo.Approver(None, f"{user.nama} (Pengelola Kinerja)"),
                        now=rt.clock.now(), mail=rt.mail)
        record(session=session, now=rt.clock.now(), actor=f"hr:{user.username}",
               action=f"skp.{action}", entity="skp", entity_id=skp_id, after={"comment": comment})
    except RuleError as exc:
        session.rollback()
        from api.app import status_of
        return _cycle_page(request, rt, session, user, cycle_id, status_of(exc),
                           error=exc.message(lang_of(request)))
    return _back(f"/hr/cycles/{cycle_id}?saved=1#tanpa-ppk")


@router.post("/outbox/resend")
def outbox_resend(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                  ids: Annotated[list[int], Form()], back: Annotated[str, Form()] = "/hr") -> Response:
    from notifications.dispatch import requeue_parked

    requeue_parked(session=session, ids=ids, now=rt.clock.now())
    return _back(back if back.startswith("/hr") else "/hr")


def _realisasi_page(request: Request, session: SessionDep, user: Principal, cycle_id: int,
                    status_code: int = 200, **extra: object) -> Response:
    from models.repo.cycles import get_cycle

    cycle = get_cycle(session=session, cycle_id=cycle_id)
    return render(request, "hr/realisasi_import.html", status_code=status_code, user=user,
                  cycle=cycle, **({"result": None, "problems": []} | extra))


@router.get("/cycles/{cycle_id}/realisasi/import")
def realisasi_import_form(request: Request, session: SessionDep, user: AgencyWriter,
                          cycle_id: int) -> Response:
    return _realisasi_page(request, session, user, cycle_id)


@router.post("/cycles/{cycle_id}/realisasi/import")
def realisasi_import_upload(request: Request, rt: RuntimeDep, session: SessionDep,
                                  user: AgencyWriter, cycle_id: int,
                                  file: UploadFile) -> Response:
    from models.repo.realisasi_import import import_realisasi

    data = file.file.read()
    try:
        result = import_realisasi(session=session, cycle_id=cycle_id, data=data,
                                  filename=file.filename or "", now=rt.clock.now(),
                                  actor=f"hr:{user.username}")
    except ImportRejected as exc:
        session.rollback()
        n = len(exc.problems)
        return _realisasi_page(request, session, user, cycle_id, 422, problems=exc.problems,
                               error=f"Impor ditolak: {n} masalah." if lang_of(request) == "id"
                               else f"Import rejected: {n} problem(s).")
    return _realisasi_page(request, session, user, cycle_id, result=result)
