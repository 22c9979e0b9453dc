"""The HR JSON API (/api/v1): everything the console does, for other HR systems (SIMPEG)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, UploadFile
from sqlalchemy import select

from api import services
from api.access import AgencyReader, AgencyWriter, UnitReader, UnitWriter
from api.deps import RuntimeDep, SessionDep
from api.routes.common import ERRORS, GUARD, BodyLimitRoute, error_response
from models.importer import import_organisation
from models.repo.cycles import list_cycles
from models.repo.people import unit_names
from models.rules.enums import StageCode
from models.tables import Pegawai

router = APIRouter(prefix="/api/v1", tags=["hr"], responses={**ERRORS, 413: error_response(413)},
                   dependencies=GUARD, route_class=BodyLimitRoute)
MAX_IMPORT_BYTES = 20 * 1024 * 1024


@router.post("/import")
def import_org(file: UploadFile, rt: RuntimeDep, session: SessionDep,
                     user: AgencyWriter) -> dict[str, int]:
    """Import the organisation (CSV or XLSX); all-or-nothing, 422 with every problem by row."""
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        from models.rules.errors import InvalidInput
        raise InvalidInput("Berkas terlalu besar (maks. 20 MB).", "File too large (max 20 MB).")
    result = import_organisation(session=session, data=data, filename=file.filename or "",
                                 now=rt.clock.now(), actor=f"hr:{user.username}")
    return {"added": result.added, "updated": result.updated, "unchanged": result.unchanged}


@router.get("/pegawai")
def list_pegawai(session: SessionDep, user: UnitReader,
                 offset: Annotated[int, Query(ge=0)] = 0,
                 limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict[str, object]]:
    query = select(Pegawai)
    if user.unit_ids is not None:  # a unit operator sees the people of their units only
        query = query.where(Pegawai.unit_id.in_(user.unit_ids))
    rows = session.execute(query.order_by(Pegawai.id).offset(offset).limit(limit)).scalars()
    units = unit_names(session=session)
    out = []
    for p in rows:
        out.append({"id": p.id, "nip": p.nip, "nama": p.nama, "email": p.email,
                    "jabatan": p.jabatan, "jenis_jabatan": p.jenis_jabatan, "status": p.status,
                    "jenjang": p.jenjang, "unit_kerja": units.get(p.unit_id),
                    "atasan_id": p.atasan_id, "active": p.active})
    return out


@router.put("/pegawai/{nip}/atasan")
def put_atasan(nip: str, data: services.AtasanIn, rt: RuntimeDep, session: SessionDep,
               user: UnitWriter) -> dict[str, object]:
    """Change the employee's superior (PPK) mid-cycle; the new PPK takes over the open tasks.
    422 for an unknown or inactive NIP, or a change that would make the chain circular.
    A unit operator may only choose a PPK in their own units (422 otherwise)."""
    user.require_choice(data.atasan_nip)
    pegawai, atasan = services.change_atasan(rt, session, nip, data, f"hr:{user.username}")
    return {"id": pegawai.id, "nip": pegawai.nip, "atasan_nip": atasan.nip}


@router.get("/cycles")
def get_cycles(rt: RuntimeDep, session: SessionDep, user: UnitReader) -> list[dict[str, object]]:
    return [{"id": c.id, "tahun": c.tahun, "nama": c.nama, "status": c.status}
            for c in list_cycles(session=session)]


@router.post("/cycles", status_code=201)
def post_cycle(data: services.CycleIn, rt: RuntimeDep, session: SessionDep,
               user: AgencyWriter) -> dict[str, object]:
    """Create a cycle with its planning calendar (defaults from the regulation's January)."""
    cycle = services.create_cycle(rt, session, data, f"hr:{user.username}")
    session.flush()
    return services.cycle_summary(rt, session, cycle.id)


@router.get("/cycles/{cycle_id}")
def get_cycle(cycle_id: int, rt: RuntimeDep, session: SessionDep,
              user: AgencyReader) -> dict[str, object]:
    return services.cycle_summary(rt, session, cycle_id)


@router.put("/cycles/{cycle_id}/calendar")
def put_calendar(cycle_id: int, data: services.CalendarIn, rt: RuntimeDep, session: SessionDep,
                 user: AgencyWriter) -> dict[str, object]:
    """Change planning dates; 409 when `version` is stale or the stage already passed a date."""
    services.set_calendar(rt, session, cycle_id, data, f"hr:{user.username}")
    session.flush()
    return services.cycle_summary(rt, session, cycle_id)


@router.put("/cycles/{cycle_id}/periodisasi")
def put_periodisasi(cycle_id: int, data: services.PeriodisasiIn, rt: RuntimeDep,
                    session: SessionDep, user: AgencyWriter) -> dict[str, object]:
    """Switch the monitoring periods (triwulanan / bulanan) with default dates; 409 once the
    cycle is launched."""
    services.set_periodisasi(rt, session, cycle_id, data, f"hr:{user.username}")
    session.flush()
    return services.cycle_summary(rt, session, cycle_id)


@router.get("/cycles/{cycle_id}/periode")
def get_periods(cycle_id: int, session: SessionDep,
                user: AgencyReader) -> list[dict[str, object]]:
    """Every monitoring period: label, range, dates, state, and once opened the counts
    (peserta, dilaporkan, dinilai, belum_dinilai) in total and per unit."""
    return services.period_list(session, cycle_id)


@router.put("/cycles/{cycle_id}/periode/{periode}/calendar")
def put_period_calendar(cycle_id: int, periode: int, data: services.CalendarIn,
                        rt: RuntimeDep, session: SessionDep,
                        user: AgencyWriter) -> dict[str, object]:
    """Change one period's dates; 409 when `version` is stale or the period already passed a
    date, 422 when the dates are out of order."""
    services.set_calendar(rt, session, cycle_id, data, f"hr:{user.username}",
                          StageCode.PEMANTAUAN, periode)
    session.flush()
    return next(p for p in services.period_list(session, cycle_id) if p["periode"] == periode)


@router.get("/cycles/{cycle_id}/umpan-balik")
def get_feedback(cycle_id: int, session: SessionDep, user: AgencyReader) -> dict[str, object]:
    """The 360 stage: dates, the rule and threshold, and counts (never answers)."""
    from models.repo.cycles import get_cycle

    return services.feedback_summary(session, get_cycle(session=session, cycle_id=cycle_id))


@router.put("/cycles/{cycle_id}/umpan-balik/calendar")
def put_feedback_calendar(cycle_id: int, data: services.CalendarIn, rt: RuntimeDep,
                          session: SessionDep, user: AgencyWriter) -> dict[str, object]:
    services.set_calendar(rt, session, cycle_id, data, f"hr:{user.username}",
                          StageCode.UMPAN_BALIK)
    session.flush()
    return get_feedback(cycle_id, session, user)


@router.put("/cycles/{cycle_id}/umpan-balik/pengaturan")
def put_feedback_settings(cycle_id: int, data: services.Pengaturan360In, rt: RuntimeDep,
                          session: SessionDep, user: AgencyWriter) -> dict[str, object]:
    """The rule may change until the stage opens; the threshold until it closes (409 after)."""
    return services.set_feedback_settings(rt, session, cycle_id, data, f"hr:{user.username}")


@router.put("/cycles/{cycle_id}/reminders")
def put_reminders(cycle_id: int, data: services.RemindersIn, rt: RuntimeDep, session: SessionDep,
                  user: AgencyWriter) -> dict[str, object]:
    services.set_reminders(rt, session, cycle_id, data, f"hr:{user.username}")
    session.flush()
    return services.cycle_summary(rt, session, cycle_id)


@router.post("/cycles/{cycle_id}/launch")
async def launch(cycle_id: int, request: Request, rt: RuntimeDep, session: SessionDep,
                 user: AgencyWriter) -> dict[str, object]:
    """Start the cycle's orchestrator in Prefect; launching again changes nothing."""
    cycle = await services.launch(rt, session, request.app.state.launcher, cycle_id,
                                  f"hr:{user.username}")
    return {"id": cycle.id, "status": cycle.status, "flow_run_id": cycle.launch_flow_run_id}


@router.get("/cycles/{cycle_id}/progress")
def progress(cycle_id: int, rt: RuntimeDep, session: SessionDep,
             user: AgencyReader) -> list[dict[str, object]]:
    """Per unit: total, draf, diajukan, dikembalikan, disetujui, terlambat."""
    return services.cycle_summary(rt, session, cycle_id)["progress"]  # type: ignore[return-value]


@router.post("/cycles/{cycle_id}/realisasi/import")
def import_realisasi(cycle_id: int, file: UploadFile, rt: RuntimeDep, session: SessionDep,
                           user: AgencyWriter) -> dict[str, int]:
    """Import realisasi from another system (CSV or XLSX: NIP, Kode IKI, Periode, Realisasi);
    all-or-nothing, 422 with every problem by row and column."""
    from models.repo.realisasi_import import import_realisasi as run_import

    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        from models.rules.errors import InvalidInput
        raise InvalidInput("Berkas terlalu besar (maks. 20 MB).", "File too large (max 20 MB).")
    result = run_import(session=session, cycle_id=cycle_id, data=data,
                        filename=file.filename or "", now=rt.clock.now(),
                        actor=f"hr:{user.username}")
    return {"rows": result.rows, "created": result.created, "updated": result.updated,
            "unchanged": result.unchanged}
