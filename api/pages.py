"""Server-rendered pages: one Jinja2 environment (autoescape on), language per request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import StrictUndefined

from api.deps import lang_of
from api.security import add_csrf_fields, csrf_token
from models.rules.texts import format_date, format_datetime

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.undefined = StrictUndefined
#: templates are read once per process (create_app turns reloading on for KINERJA_DEV): checking
#: each file's time on every render cost a stat per template per page
templates.env.auto_reload = False


#: codes shown to people -> (Bahasa Indonesia, English)
LABELS = {
    "draft": ("draf", "draft"), "launched": ("berjalan", "running"), "closed": ("selesai", "closed"),
    "rhk.tambah": ("RHK ditambahkan", "RHK added"), "rhk.hapus": ("RHK dihapus", "RHK deleted"),
    "iki.tambah": ("IKI ditambahkan", "IKI added"), "iki.hapus": ("IKI dihapus", "IKI deleted"),
    "ajukan": ("diajukan ke PPK", "submitted to the PPK"), "setujui": ("disetujui", "approved"),
    "kembalikan": ("dikembalikan", "returned"),
    "ekspektasi": ("ekspektasi khusus diisi PPK", "expectations set by the PPK"),
}


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    lang = lang_of(request)
    rt = request.app.state.rt
    tz = rt.api.timezone

    def t(id_text: str, en_text: str) -> str:
        return en_text if lang == "en" else id_text

    base = {"lang": lang, "t": t, "agency": rt.api.agency_name, "dev": rt.api.dev,
            "dt": lambda v: format_datetime(v, tz, lang) if v else "-",
            "d": lambda v: format_date(v, tz, lang) if v else "-", "error": None, "notice": None,
            "lbl": lambda code: LABELS.get(str(code), (str(code), str(code)))[lang == "en"]}
    response = templates.TemplateResponse(request, name, base | ctx, status_code=status_code)
    token = csrf_token(request)
    if token:  # a console session: every POST form carries its CSRF token
        response = HTMLResponse(add_csrf_fields(bytes(response.body).decode("utf-8"), token),
                                status_code=status_code)
    if request.query_params.get("lang") in ("id", "en"):
        response.set_cookie("lang", request.query_params["lang"], samesite="lax")
    return response
