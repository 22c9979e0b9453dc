"""HR's competency list and training catalogue, the per-cycle gap threshold and the training
recommendations (table and CSV): the console under /hr/kompetensi and JSON under
/api/v1/kompetensi."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.access import AgencyReader, AgencyWriter
from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import ERRORS, GUARD, DbInt
from models.repo import kompetensi as repo
from models.repo.cycles import get_cycle, list_cycles
from models.rules import kompetensi as rules
from models.rules.errors import RuleError
from models.tables import HrUser, Kompetensi, Pelatihan

pages = APIRouter(prefix="/hr/kompetensi", include_in_schema=False, dependencies=GUARD)
api = APIRouter(prefix="/api/v1/kompetensi", tags=["kompetensi"], responses=ERRORS,
                dependencies=GUARD)
router = APIRouter()

Text = Annotated[str, Form()]
CSV_COLUMNS = (("nip", "NIP"), ("nama", "Nama"), ("unit", "Unit Kerja"), ("jabatan", "Jabatan"),
               ("kode", "Kode Kompetensi"), ("kompetensi", "Kompetensi"), ("jenis", "Jenis"),
               ("level_standar", "Level Standar"), ("nilai_diri", "Nilai Diri"),
               ("nilai_ppk", "Nilai PPK"), ("gap", "Gap"), ("pelatihan", "Rekomendasi Pelatihan"))


def _actor(user: HrUser) -> str:
    return f"hr:{user.username}"


# -- the console ---------------------------------------------------------------------------------


def _list_page(request: Request, session: Session, user: HrUser, status_code: int = 200,
               error: str | None = None) -> Response:
    lang = lang_of(request)
    saved = request.query_params.get("saved")
    return render(request, "hr/kompetensi.html", status_code=status_code, user=user, error=error,
                  notice=(("Perubahan disimpan.", "Saved.")[lang == "en"] if saved else None),
                  kompetensi=repo.list_kompetensi(session=session),
                  pelatihan=repo.list_pelatihan(session=session),
                  cycles=list_cycles(session=session), jenis_list=list(rules.JENIS),
                  jenis=lambda code: rules.jenis_label(code, lang), levels=list(rules.LEVEL_LABEL))


def _act(request: Request, session: Session, user: HrUser, action, anchor: str) -> Response:  # type: ignore[no-untyped-def]
    """Run a change; on a rule breach roll back and show the list again saying why."""
    try:
        action()
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return _list_page(request, session, user, status_of(exc), exc.message(lang_of(request)))
    return RedirectResponse(f"/hr/kompetensi?saved=1#{anchor}", 303)


@pages.get("")
def list_page(request: Request, session: SessionDep, user: AgencyReader) -> Response:
    return _list_page(request, session, user)


@pages.post("")
def add_kompetensi(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                   kode: Text = "", nama: Text = "", jenis: Text = "", level_standar: Text = "3"
                   ) -> Response:
    return _act(request, session, user, lambda: repo.add_kompetensi(
        session=session, kode=kode, nama=nama, jenis=jenis, level_standar=level_standar,
        now=rt.clock.now(), actor=_actor(user)), "kompetensi")


@pages.post("/pelatihan")
def add_pelatihan(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                  kompetensi_id: Annotated[int, Form()], nama: Text = "", penyelenggara: Text = "",
                  keterangan: Text = "") -> Response:
    return _act(request, session, user, lambda: repo.save_pelatihan(
        session=session, now=rt.clock.now(), actor=_actor(user), kompetensi_id=kompetensi_id,
        nama=nama, penyelenggara=penyelenggara, keterangan=keterangan), "katalog")


@pages.post("/pelatihan/{pelatihan_id}")
def edit_pelatihan(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                   pelatihan_id: int, kompetensi_id: Annotated[int, Form()], nama: Text = "",
                   penyelenggara: Text = "", keterangan: Text = "", aktif: Text = "") -> Response:
    return _act(request, session, user, lambda: repo.save_pelatihan(
        session=session, now=rt.clock.now(), actor=_actor(user), kompetensi_id=kompetensi_id,
        nama=nama, penyelenggara=penyelenggara, keterangan=keterangan, aktif=bool(aktif),
        pelatihan_id=pelatihan_id), f"pelatihan-{pelatihan_id}")


def _cycle_page(request: Request, session: Session, user: HrUser, cycle_id: int,
                status_code: int = 200, error: str | None = None) -> Response:
    lang = lang_of(request)
    stage = repo.kompetensi_stage(session=session, cycle_id=cycle_id)
    return render(request, "hr/kompetensi_siklus.html", status_code=status_code, user=user,
                  error=error, cycle=get_cycle(session=session, cycle_id=cycle_id), stage=stage,
                  counts=repo.progress(session=session, cycle_id=cycle_id),
                  ambang=repo.ambang_gap(session=session, cycle_id=cycle_id),
                  rows=repo.recommendation_rows(session=session, cycle_id=cycle_id),
                  jenis=lambda code: rules.jenis_label(code, lang),
                  notice=(("Perubahan disimpan.", "Saved.")[lang == "en"]
                          if request.query_params.get("saved") else None))


@pages.get("/siklus/{cycle_id}")
def cycle_page(request: Request, session: SessionDep, user: AgencyReader, cycle_id: int) -> Response:
    return _cycle_page(request, session, user, cycle_id)


@pages.post("/siklus/{cycle_id}/ambang")
def set_ambang(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
               cycle_id: int, ambang_gap: Text = "") -> Response:
    try:
        repo.set_ambang_gap(session=session, cycle_id=cycle_id, value=ambang_gap,
                            now=rt.clock.now(), actor=_actor(user))
    except RuleError as exc:
        from api.app import status_of

        session.rollback()
        return _cycle_page(request, session, user, cycle_id, status_of(exc),
                           exc.message(lang_of(request)))
    return RedirectResponse(f"/hr/kompetensi/siklus/{cycle_id}?saved=1", 303)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not read as a formula."""
    text = "; ".join(value) if isinstance(value, list) else "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@pages.get("/siklus/{cycle_id}/rekomendasi.csv")
def export_csv(session: SessionDep, user: AgencyReader, cycle_id: int) -> Response:
    """UTF-8 with BOM, semicolon-separated (what Excel opens directly in an Indonesian locale)."""
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([title for _, title in CSV_COLUMNS])
    for row in repo.recommendation_rows(session=session, cycle_id=cycle_id):
        writer.writerow([_cell(row[key]) for key, _ in CSV_COLUMNS])
    return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="rekomendasi-pelatihan-{cycle.tahun}.csv"',
        "Cache-Control": "private, no-store"})


@pages.post("/{kompetensi_id}")
def edit_kompetensi(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                    kompetensi_id: int, nama: Text = "", jenis: Text = "",
                    level_standar: Text = "", aktif: Text = "") -> Response:
    return _act(request, session, user, lambda: repo.update_kompetensi(
        session=session, kompetensi_id=kompetensi_id, now=rt.clock.now(), actor=_actor(user),
        nama=nama, jenis=jenis or None, level_standar=level_standar or None, aktif=bool(aktif)),
        f"kompetensi-{kompetensi_id}")


@pages.post("/{kompetensi_id}/{arah}")
def move_kompetensi(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
                    kompetensi_id: int, arah: str) -> Response:
    """Move a competency up (naik) or down (turun) the list."""
    return _act(request, session, user, lambda: repo.move_kompetensi(
        session=session, kompetensi_id=kompetensi_id, up=arah == "naik", now=rt.clock.now(),
        actor=_actor(user)), f"kompetensi-{kompetensi_id}")


# -- JSON ----------------------------------------------------------------------------------------


class KompetensiIn(BaseModel):
    kode: str = Field(description="unique code, e.g. MNJ-01")
    nama: str
    jenis: str = Field(description="'teknis', 'manajerial' or 'sosial_kultural'")
    level_standar: int = Field(default=3, description="the level expected, 1 to 5")


class KompetensiUpdate(BaseModel):
    """Only the fields given change."""

    nama: str | None = None
    jenis: str | None = None
    level_standar: int | None = None
    urutan: DbInt | None = Field(default=None, description="position in the list (ascending)")
    aktif: bool | None = None


class PelatihanIn(BaseModel):
    kompetensi_id: DbInt
    nama: str
    penyelenggara: str = ""
    keterangan: str = ""
    aktif: bool = True


def _kompetensi_out(k: Kompetensi) -> dict[str, object]:
    return {"id": k.id, "kode": k.kode, "nama": k.nama, "jenis": k.jenis,
            "level_standar": k.level_standar, "urutan": k.urutan, "aktif": k.aktif}


def _pelatihan_out(p: Pelatihan) -> dict[str, object]:
    return {"id": p.id, "kompetensi_id": p.kompetensi_id, "nama": p.nama,
            "penyelenggara": p.penyelenggara, "keterangan": p.keterangan, "aktif": p.aktif}


@api.get("")
def get_kompetensi(session: SessionDep, user: AgencyReader) -> list[dict[str, object]]:
    """The competency list, active ones first, in their order."""
    return [_kompetensi_out(k) for k in repo.list_kompetensi(session=session)]


@api.post("", status_code=201)
def post_kompetensi(data: KompetensiIn, rt: RuntimeDep, session: SessionDep,
                    user: AgencyWriter) -> dict[str, object]:
    return _kompetensi_out(repo.add_kompetensi(
        session=session, kode=data.kode, nama=data.nama, jenis=data.jenis,
        level_standar=data.level_standar, now=rt.clock.now(), actor=_actor(user)))


@api.get("/pelatihan")
def get_pelatihan(session: SessionDep, user: AgencyReader) -> list[dict[str, object]]:
    """The training catalogue; each entry belongs to one competency."""
    return [_pelatihan_out(p) for p in repo.list_pelatihan(session=session)]


@api.post("/pelatihan", status_code=201)
def post_pelatihan(data: PelatihanIn, rt: RuntimeDep, session: SessionDep,
                   user: AgencyWriter) -> dict[str, object]:
    return _pelatihan_out(repo.save_pelatihan(session=session, now=rt.clock.now(),
                                              actor=_actor(user), **data.model_dump()))


@api.put("/pelatihan/{pelatihan_id}")
def put_pelatihan(pelatihan_id: int, data: PelatihanIn, rt: RuntimeDep, session: SessionDep,
                  user: AgencyWriter) -> dict[str, object]:
    return _pelatihan_out(repo.save_pelatihan(session=session, now=rt.clock.now(),
                                              actor=_actor(user), pelatihan_id=pelatihan_id,
                                              **data.model_dump()))


@api.get("/siklus/{cycle_id}/rekomendasi")
def get_rekomendasi(cycle_id: int, session: SessionDep, user: AgencyReader) -> dict[str, object]:
    """The cycle's counts, gap threshold and every training recommendation."""
    get_cycle(session=session, cycle_id=cycle_id)
    return {"ambang_gap": repo.ambang_gap(session=session, cycle_id=cycle_id),
            "progress": repo.progress(session=session, cycle_id=cycle_id),
            "rekomendasi": repo.recommendation_rows(session=session, cycle_id=cycle_id)}


@api.patch("/{kompetensi_id}")
def patch_kompetensi(kompetensi_id: int, data: KompetensiUpdate, rt: RuntimeDep,
                     session: SessionDep, user: AgencyWriter) -> dict[str, object]:
    return _kompetensi_out(repo.update_kompetensi(
        session=session, kompetensi_id=kompetensi_id, now=rt.clock.now(), actor=_actor(user),
        **data.model_dump()))


router.include_router(pages)
router.include_router(api)
