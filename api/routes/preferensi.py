"""How a person wants the messages about work waiting for them: one email per event, or one
daily digest (ringkasan harian). The person chooses from any of their task links; HR can set it
through the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select

from api.access import UnitWriter
from api.deps import RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import ERRORS, GUARD
from api.routes.tasks import LinkRoute, TaskLink, TaskLinkDep
from models.repo.cycles import NotFound
from models.repo.digest import set_preference
from models.repo.waiting import count_items, waiting_items
from models.rules.digest import AMBANG_OTOMATIS
from models.rules.enums import Ringkasan
from models.rules.errors import RuleError
from models.tables import Pegawai

router = APIRouter(dependencies=GUARD, route_class=LinkRoute)

SAVED = ("Pilihan pemberitahuan Anda disimpan.", "Your notification choice has been saved.")


def _page(request: Request, link: TaskLink, rt: RuntimeDep, session: SessionDep,
          status_code: int = 200, error: str | None = None) -> Response:
    lines = waiting_items(session=session, pegawai_ids=[link.person.id], now=rt.clock.now())
    notice = SAVED[lang_of(request) == "en"] if request.query_params.get("ok") else None
    return render(request, "task/preferensi.html", status_code=status_code, link=link,
                  pilihan=list(Ringkasan), sekarang=Ringkasan(link.person.ringkasan),
                  menunggu=count_items(lines.get(link.person.id, [])), ambang=AMBANG_OTOMATIS,
                  error=error, notice=notice)


@router.get("/t/{token}/preferensi", include_in_schema=False)
def preference_page(request: Request, link: TaskLinkDep, rt: RuntimeDep,
                    session: SessionDep) -> Response:
    return _page(request, link, rt, session)


@router.post("/t/{token}/preferensi", include_in_schema=False)
def save_preference(request: Request, link: TaskLinkDep, rt: RuntimeDep, session: SessionDep,
                    ringkasan: Annotated[str, Form()] = "") -> Response:
    """Save the choice; anything but the three values is refused (422) and nothing changes."""
    try:
        set_preference(session=session, pegawai=link.person, value=ringkasan)
    except RuleError as exc:  # nothing was changed
        return _page(request, link, rt, session, 422, exc.message(lang_of(request)))
    return RedirectResponse(f"/t/{link.token}/preferensi?ok=1", 303)


class RingkasanIn(BaseModel):
    #: otomatis (default: digest once more than 5 items wait), harian (always) or setiap (never)
    ringkasan: str


@router.put("/api/v1/pegawai/{nip}/ringkasan", tags=["hr"], responses=ERRORS)
def put_preference(nip: str, data: RingkasanIn, session: SessionDep,
                   user: UnitWriter) -> dict[str, object]:
    """Set how an employee gets the messages about work waiting for them: `otomatis`, `harian`
    or `setiap`. 422 for any other value (nothing changes), 404 for an unknown NIP."""
    pegawai = session.execute(select(Pegawai).where(Pegawai.nip == nip.strip())).scalar()
    if pegawai is None:
        raise NotFound(f"Pegawai dengan NIP '{nip}' tidak ditemukan.",
                       f"No employee with NIP '{nip}'.")
    set_preference(session=session, pegawai=pegawai, value=data.ringkasan)
    return {"nip": pegawai.nip, "ringkasan": Ringkasan(pegawai.ringkasan).value,
            "ringkasan_terakhir": pegawai.ringkasan_terakhir.isoformat()
            if pegawai.ringkasan_terakhir else None}
