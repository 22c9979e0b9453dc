"""HR's exports of a cycle: the console page /hr/cycles/{id}/ekspor and the same files under
/api/v1/cycles/{id}/ekspor (results CSV/XLSX per unit or agency, SKP and DEK PDFs per employee,
a ZIP per unit, the SIASN skp22 list). Every download is written to the audit log."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.access import AgencyReader, Principal, need_agency_read, need_unit_read
from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import ERRORS, GUARD, file_response
from kinerja.runtime import Runtime
from models.repo import exports
from models.repo.audit import record
from models.repo.cycles import NotFound, get_cycle
from models.rules import siasn
from models.tables import Pegawai, Unit

pages = APIRouter(prefix="/hr/cycles/{cycle_id}/ekspor", include_in_schema=False,
                  dependencies=GUARD)
api = APIRouter(prefix="/api/v1/cycles/{cycle_id}/ekspor", tags=["ekspor"], responses=ERRORS,
                dependencies=GUARD)
CSV, XLSX = "text/csv; charset=utf-8", \
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def _audit(request: Request, rt: Runtime, session: Session, cycle_id: int, jenis: str,
           **detail: object) -> None:
    user: Principal = request.state.principal
    record(session=session, now=rt.clock.now(), actor=user.actor, action="ekspor",
           entity="cycle", entity_id=cycle_id, after={"jenis": jenis} | detail,
           pegawai_id=detail.get("pegawai_id"))  # type: ignore[arg-type]


def _scope(session: Session, cycle_id: int, unit_id: int | None) -> tuple[int, str]:
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    if unit_id is None:
        return cycle.tahun, "instansi"
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"Unit {unit_id} tidak ditemukan.", f"Unit {unit_id} not found.")
    return cycle.tahun, exports.slug(unit.nama)


def hasil_csv(request: Request, rt: RuntimeDep, session: SessionDep, cycle_id: int,
              unit_id: int | None = None) -> Response:
    """The results (NIP, name, PPK, ratings, predikat, angka kredit, tunjangan %) as CSV."""
    tahun, name = _scope(session, cycle_id, unit_id)
    rows = exports.result_rows(session=session, cycle_id=cycle_id, unit_id=unit_id)
    _audit(request, rt, session, cycle_id, "csv", unit_id=unit_id)
    return _file(exports.results_csv(rows, lang_of(request)), CSV, f"hasil_{name}_{tahun}.csv")


def hasil_xlsx(request: Request, rt: RuntimeDep, session: SessionDep, cycle_id: int,
               unit_id: int | None = None) -> Response:
    """The results as an XLSX sheet."""
    tahun, name = _scope(session, cycle_id, unit_id)
    rows = exports.result_rows(session=session, cycle_id=cycle_id, unit_id=unit_id)
    _audit(request, rt, session, cycle_id, "xlsx", unit_id=unit_id)
    data = exports.results_xlsx(rows, lang_of(request), f"Hasil {tahun}")
    return _file(data, XLSX, f"hasil_{name}_{tahun}.xlsx")


def _pdf(kind: str, fn: Callable[..., bytes]) -> Callable[..., Response]:
    def endpoint(request: Request, rt: RuntimeDep, session: SessionDep, cycle_id: int,
                 pegawai_id: int) -> Response:
        data = fn(session=session, cycle_id=cycle_id, pegawai_id=pegawai_id,
                  lang=lang_of(request), instansi=rt.api.agency_name)
        _audit(request, rt, session, cycle_id, kind, pegawai_id=pegawai_id)
        p, tahun = session.get(Pegawai, pegawai_id), get_cycle(session=session, cycle_id=cycle_id).tahun
        return _file(data, "application/pdf", f"{kind.upper()}_{tahun}_{p.nip if p else pegawai_id}.pdf")
    endpoint.__name__ = f"{kind}_pdf"
    endpoint.__doc__ = fn.__doc__
    return endpoint


def unit_zip(request: Request, rt: RuntimeDep, session: SessionDep, cycle_id: int,
             unit_id: int) -> Response:
    """Every employee's SKP and DEK of one unit, with the unit's results CSV."""
    name, data = exports.unit_zip(session=session, cycle_id=cycle_id, unit_id=unit_id,
                                  lang=lang_of(request), instansi=rt.api.agency_name)
    _audit(request, rt, session, cycle_id, "zip", unit_id=unit_id)
    return _file(data, "application/zip", name)


def siasn_json(request: Request, rt: RuntimeDep, session: SessionDep, cycle_id: int,
               semua: bool = False) -> Response:
    """The SIASN skp22 entries; `semua=true` also lists ratings not published yet."""
    tahun = get_cycle(session=session, cycle_id=cycle_id).tahun
    data = exports.siasn_records(session=session, cycle_id=cycle_id, include_unpublished=semua)
    _audit(request, rt, session, cycle_id, "siasn", semua=semua, jumlah=len(data))
    body = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    return _file(body, "application/json", f"siasn_skp22_{tahun}.json")


#: agency-wide files for admins and auditors; one person's or one unit's files also for the
#: operators of that unit (the policy checks the path's pegawai_id / unit_id)
#: the SIASN file: a list of skp22 entries
SIASN_SCHEMA = {"type": "array", "items": {"type": "object"}}
ROUTES: list[tuple[str, Callable[..., Response], Callable[..., Principal], str]] = [
    ("/hasil.csv", hasil_csv, need_agency_read, "text/csv"),
    ("/hasil.xlsx", hasil_xlsx, need_agency_read, XLSX),
    ("/pegawai/{pegawai_id}/skp.pdf", _pdf("skp", exports.skp_pdf), need_unit_read, "application/pdf"),
    ("/pegawai/{pegawai_id}/dek.pdf", _pdf("dek", exports.dek_pdf), need_unit_read, "application/pdf"),
    ("/unit/{unit_id}.zip", unit_zip, need_unit_read, "application/zip"),
    ("/siasn.json", siasn_json, need_agency_read, "application/json")]
for _path, _fn, _policy, _media in ROUTES:  # the same downloads: console (session) and API (token)
    pages.add_api_route(_path, _fn, methods=["GET"], dependencies=[Depends(_policy)])
    api.add_api_route(_path, _fn, methods=["GET"], dependencies=[Depends(_policy)],
                      name=f"api_{_fn.__name__}", response_class=Response,
                      responses=file_response(_media, (_fn.__doc__ or "").split("\n")[0],
                                              SIASN_SCHEMA if _media == "application/json" else None))


# -- the console page and the API's index ------------------------------------------------------------


def _mapping() -> dict[str, object]:
    return {"rating": {r.value: c for r, c in siasn.RATING_CODE.items()},
            "kuadran": {p.value: c for p, c in siasn.KUADRAN_CODE.items()}}


@pages.get("")
def ekspor_page(request: Request, session: SessionDep, user: AgencyReader,
                cycle_id: int) -> Response:
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    return render(request, "hr/ekspor.html", user=user, cycle=cycle,
                  units=exports.units_of_cycle(session=session, cycle_id=cycle_id),
                  mapping=_mapping())


@api.get("", response_model=None)
def ekspor_index(session: SessionDep, user: AgencyReader, cycle_id: int) -> dict[str, object]:
    """The downloads of a cycle, for the agency and per unit, with the SIASN code mapping."""
    get_cycle(session=session, cycle_id=cycle_id)
    base = f"/api/v1/cycles/{cycle_id}/ekspor"
    return {"instansi": {"csv": f"{base}/hasil.csv", "xlsx": f"{base}/hasil.xlsx",
                         "siasn": f"{base}/siasn.json"},
            "unit": [{"unit_id": u.unit_id, "nama": u.nama, "pegawai": len(u.pegawai),
                      "dinilai": u.dinilai, "csv": f"{base}/hasil.csv?unit_id={u.unit_id}",
                      "xlsx": f"{base}/hasil.xlsx?unit_id={u.unit_id}",
                      "zip": f"{base}/unit/{u.unit_id}.zip"}
                     for u in exports.units_of_cycle(session=session, cycle_id=cycle_id)],
            "pegawai_pdf": f"{base}/pegawai/{{pegawai_id}}/skp.pdf | dek.pdf",
            "siasn_kode": _mapping()}


@api.get("/hasil", response_model=None)
def hasil_json(session: SessionDep, user: AgencyReader, cycle_id: int,
               unit_id: int | None = None) -> list[dict[str, object]]:
    """The results rows as JSON (the same columns as the CSV)."""
    return [vars(r) for r in exports.result_rows(session=session, cycle_id=cycle_id,
                                                 unit_id=unit_id)]


router = APIRouter()
router.include_router(pages)
router.include_router(api)
