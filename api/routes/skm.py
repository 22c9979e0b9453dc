"""The public satisfaction survey (SKM) under /s/{slug}: the form (no login), the thank-you
page, the QR code and the counter poster; and the unit head's results behind a signed link."""

from __future__ import annotations

import io

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import FormDep, RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import GUARD
from kinerja.runtime import Runtime, secret_key
from models.repo import skm as repo
from models.repo.cycles import NotFound
from models.rules import skm as rules
from models.rules.errors import InvalidInput, InvalidTransition, LinkRejected
from models.tables import Survei, Unit

router = APIRouter(prefix="/s", include_in_schema=False, dependencies=GUARD)
KIOSK_COOKIE = "skm_kiosk"
NO_STORE = {"Cache-Control": "no-store"}


def _secret(rt: Runtime) -> str:
    return secret_key(rt.api)


def public_url(rt: Runtime, slug: str) -> str:
    return f"{rt.api.public_url.rstrip('/')}/s/{slug}"


def _survei(session: SessionDep, slug: str) -> Survei:
    survei = repo.by_slug(session=session, slug=slug)
    if survei is None:
        raise NotFound("Survei tidak ditemukan. Alamatnya mungkin sudah diganti: pindai kode QR "
                       "terbaru di loket layanan.", "Survey not found. Its address may have "
                       "changed: scan the latest QR code at the service counter.")
    return survei


def _kiosk(request: Request, rt: Runtime, survei: Survei) -> bool:
    """The counter tablet: its key in the URL (first visit) or the cookie set then."""
    key = request.query_params.get("kiosk") or request.cookies.get(KIOSK_COOKIE)
    return rules.is_kiosk(_secret(rt), survei.id, key)


def _unit_name(session: SessionDep, survei: Survei) -> str:
    unit = session.get(Unit, survei.unit_id)
    return unit.nama if unit else "-"


def _form(request: Request, rt: Runtime, session: SessionDep, survei: Survei, kiosk: bool,
          status_code: int = 200, values: dict[str, str] | None = None, komentar: str = "",
          error: str | None = None, problems: list[str] | None = None) -> Response:
    secret = _secret(rt)
    token = rules.issue_form(secret, survei.id, rt.clock.now())
    a, b = rules.question(secret, token.nonce)
    response = render(request, "skm/form.html", status_code=status_code, survei=survei,
                      unit=_unit_name(session, survei), elements=rules.ELEMENTS, token=token.token,
                      soal=(a, b), values=values or {}, komentar=komentar, kiosk=kiosk,
                      error=error, problems=problems or [], closed=survei.ditutup_at is not None)
    response.headers.update(NO_STORE)
    return response


@router.get("/hasil/{token}")
def hasil_page(request: Request, token: str, rt: RuntimeDep, session: SessionDep) -> Response:
    """The unit head's results: count, IKM, grade, per-element means, comments."""
    try:
        survei, head = repo.hasil_for_token(session=session, token=token, secret=_secret(rt),
                                            now=rt.clock.now())
    except LinkRejected as exc:
        return render(request, "skm/tautan.html", status_code=403, reason=exc.reason,
                      message=exc.message(lang_of(request)), token=token, sent=None)
    hasil = repo.results(session=session, survei=survei)
    grades = {k: v[lang_of(request) == "en"] for k, v in rules.GRADE_LABEL.items()}
    response = render(request, "skm/hasil_kepala.html", hasil=hasil, head=head, grades=grades)
    response.headers.update(NO_STORE)
    return response


@router.post("/hasil/{token}/baru")
def hasil_renew(request: Request, token: str, rt: RuntimeDep, session: SessionDep) -> Response:
    try:
        sent = repo.renew_hasil_link(session=session, token=token, mail=rt.mail,
                                     now=rt.clock.now())
    except LinkRejected as exc:
        return render(request, "skm/tautan.html", status_code=403, reason=exc.reason,
                      message=exc.message(lang_of(request)), token="", sent=None)
    return render(request, "skm/tautan.html", reason="renewed", message="", token="", sent=sent)


@router.get("/{slug}")
def form_page(request: Request, slug: str, rt: RuntimeDep, session: SessionDep) -> Response:
    """The survey form; a counter tablet opened with ?kiosk=KEY keeps kiosk mode in a cookie."""
    survei = _survei(session, slug)
    kiosk = _kiosk(request, rt, survei)
    response = _form(request, rt, session, survei, kiosk)
    if kiosk and request.query_params.get("kiosk"):
        response.set_cookie(KIOSK_COOKIE, request.query_params["kiosk"], max_age=366 * 86400,
                            path=f"/s/{slug}", httponly=True, samesite="lax",
                            secure=rt.api.public_url.startswith("https"))
    return response


@router.post("/{slug}")
def submit(request: Request, slug: str, rt: RuntimeDep, session: SessionDep, form: FormDep) -> Response:
    """One respondent's answers: stored, or refused with a page that says why (nothing kept)."""
    survei = _survei(session, slug)
    kiosk = _kiosk(request, rt, survei)
    values = {e.field: str(form.get(e.field) or "") for e in rules.ELEMENTS}
    komentar_raw = str(form.get("komentar") or "")[:5000]
    lang, now, secret = lang_of(request), rt.clock.now(), _secret(rt)
    try:
        repo.ensure_open(survei)
        if str(form.get("website") or "").strip():
            raise rules.reject("honeypot")
        claims = rules.verify_form(str(form.get("token") or ""), secret, survei.id,
                                   form.get("cek"), now)
        nilai = rules.parse_answers(form)
        komentar = rules.clean_komentar(komentar_raw)
        klien = rules.client_key(secret, request.client.host if request.client else "",
                                 request.headers.get("user-agent", ""))
        sidik = rules.fingerprint(secret, klien, survei.id, nilai, komentar,
                                  claims.nonce if kiosk else None)
        repo.record_answer(session=session, survei=survei, nilai=nilai, komentar=komentar,
                           klien=klien, sidik=sidik, now=now)
    except InvalidTransition:
        session.rollback()
        return _form(request, rt, session, survei, kiosk, status_code=409)
    except rules.TooManyAnswers as exc:
        session.rollback()
        response = render(request, "skm/ditolak.html", status_code=429, survei=survei,
                          unit=_unit_name(session, survei), message=exc.message(lang),
                          kiosk=kiosk, limited=True)
        response.headers["Retry-After"] = str(int(exc.wait.total_seconds()))
        return response
    except rules.DuplicateAnswer as exc:
        session.rollback()
        return render(request, "skm/ditolak.html", status_code=422, survei=survei,
                      unit=_unit_name(session, survei), message=exc.message(lang), kiosk=kiosk,
                      limited=False)
    except InvalidInput as exc:
        session.rollback()
        problems = [p[1] if lang == "en" else p[0] for p in getattr(exc, "problems", [])]
        return _form(request, rt, session, survei, kiosk, status_code=422, values=values,
                     komentar=komentar_raw, error=exc.message(lang), problems=problems)
    return render(request, "skm/terima_kasih.html", survei=survei,
                  unit=_unit_name(session, survei), kiosk=kiosk, default_lang=rt.api.language)


@router.get("/{slug}/qr.svg")
def qr_svg(slug: str, rt: RuntimeDep, session: SessionDep) -> Response:
    """The survey's public URL as a QR code (SVG, scales to any poster size)."""
    import segno

    survei = _survei(session, slug)
    out = io.BytesIO()
    segno.make(public_url(rt, survei.slug), error="m", micro=False).save(
        out, kind="svg", scale=10, border=2, xmldecl=False, title="QR")
    return Response(out.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=300"})


@router.get("/{slug}/cetak")
def poster(request: Request, slug: str, rt: RuntimeDep, session: SessionDep) -> Response:
    """A printable A4 poster for the service counter: the QR code, unit name, short URL."""
    survei = _survei(session, slug)
    return render(request, "skm/cetak.html", survei=survei, unit=_unit_name(session, survei),
                  url=public_url(rt, survei.slug))
