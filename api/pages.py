"""Server-rendered pages: one Jinja2 environment (autoescape on), language per request."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.ext import Extension

from api.deps import lang_of
from api.security import add_csrf_fields, csrf_token
from models.rules.texts import format_date, format_datetime

#: a string literal in a template expression, double or single quoted
_LITERAL = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
#: t("Bahasa Indonesia", "English") with two literals: chosen when the template is compiled
TEXT_PAIR = re.compile(r"(?<![\w.])t\(\s*(" + _LITERAL + r")\s*,\s*(" + _LITERAL + r")\s*\)", re.S)


def _one_language(lang: str) -> type[Extension]:
    class OneLanguage(Extension):
        """Each t("...", "...") of two literals becomes the literal of `lang` before the
        template is compiled (so it is written into the page as text, escaped once); a t()
        of anything else stays a call, made at render. A page written in one language has
        its own environment, and no longer makes 50 calls to t() and escapes their results
        at every render."""

        def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
            return TEXT_PAIR.sub(lambda m: m.group(1 if lang == "id" else 2), source)

    return OneLanguage


def _templates(lang: str) -> Jinja2Templates:
    # templates are read once per process (create_app turns reloading on for KINERJA_DEV):
    # checking each file's time on every render cost a stat per template per page
    return Jinja2Templates(env=Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(),
        undefined=StrictUndefined, auto_reload=False, extensions=[_one_language(lang)]))


#: one set of compiled templates per language (see _one_language)
TEMPLATES = {lang: _templates(lang) for lang in ("id", "en")}
templates = TEMPLATES["id"]


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
    response = TEMPLATES[lang].TemplateResponse(request, name, base | ctx,
                                                status_code=status_code)
    token = csrf_token(request)
    if token:  # a console session: every POST form carries its CSRF token
        response = HTMLResponse(add_csrf_fields(bytes(response.body).decode("utf-8"), token),
                                status_code=status_code)
    if request.query_params.get("lang") in ("id", "en"):
        response.set_cookie("lang", request.query_params["lang"], samesite="lax")
    return response
