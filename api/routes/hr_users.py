"""Console users: admins (whole agency), unit operators (their units), auditors (read only).
Admins add users, set roles and units, reset passwords and deactivate; a deactivated user's
sessions end at once. Everyone else may look at the list (auditors) or not at all (operators).
Also the optional OpenID Connect login (see api/oidc.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from api.access import AgencyReader, AgencyWriter, Principal
from api.deps import FormDep, RuntimeDep, SessionDep, lang_of
from api.pages import render
from api.routes.common import GUARD
from models.repo.hr import create_hr_user, update_hr_user
from models.rules.enums import HrRole
from models.rules.errors import InvalidInput, RuleError
from models.tables import HrUser, HrUserUnit, Unit

router = APIRouter(prefix="/hr/pengguna", include_in_schema=False, dependencies=GUARD)


def _page(request: Request, session: SessionDep, user: Principal, status_code: int = 200,
          **extra: object) -> Response:
    users = list(session.execute(select(HrUser).order_by(HrUser.username)).scalars())
    units = list(session.execute(select(Unit).order_by(Unit.nama)).scalars())
    scopes: dict[int, list[int]] = {}
    for link in session.execute(select(HrUserUnit)).scalars():
        scopes.setdefault(link.hr_user_id, []).append(link.unit_id)
    names = {u.id: u.nama for u in units}
    return render(request, "hr/pengguna.html", status_code=status_code, user=user, users=users,
                  units=units, scopes={k: sorted(v) for k, v in scopes.items()},
                  unit_names=names, **({"form": {}} | extra))


@router.get("")
def list_page(request: Request, session: SessionDep, user: AgencyReader) -> Response:
    return _page(request, session, user)


def _role(value: str) -> HrRole:
    try:
        return HrRole(value)
    except ValueError:
        raise InvalidInput(f"Peran '{value}' tidak dikenal (admin, operator, auditor).",
                           f"Unknown role '{value}' (admin, operator, auditor).") from None


def _units(form: FormDep) -> list[int]:
    out = []
    for value in form.getlist("unit_ids"):
        try:
            out.append(int(str(value)))
        except ValueError:
            raise InvalidInput(f"Unit '{value}' tidak valid.", f"Unit '{value}' is not valid.") \
                from None
    return out


@router.post("")
def add(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter,
        form: FormDep) -> Response:
    values = {k: str(form.get(k, "")) for k in ("username", "nama", "email", "role", "password")}
    try:
        created = create_hr_user(session=session, username=values["username"],
                                 password=values["password"], nama=values["nama"],
                                 email=values["email"], now=rt.clock.now(),
                                 role=_role(values["role"]), unit_ids=_units(form))
    except RuleError as exc:
        session.rollback()
        return _page(request, session, user, 422, error=exc.message(lang_of(request)),
                     form=values | {"password": ""})
    lang = lang_of(request)
    return _page(request, session, user, notice=(
        f"Pengguna {created.username} ditambahkan." if lang == "id"
        else f"User {created.username} was added."))


@router.post("/{user_id}")
def edit(request: Request, rt: RuntimeDep, session: SessionDep, user: AgencyWriter, user_id: int,
         form: FormDep) -> Response:
    target = session.get(HrUser, user_id)
    lang = lang_of(request)
    if target is None:
        return _page(request, session, user, 404, error="Pengguna tidak ditemukan."
                     if lang == "id" else "No such user.")
    active = str(form.get("active", "")) == "1"
    try:
        if target.id == user.id and (not active or _role(str(form.get("role"))) != HrRole.ADMIN):
            raise InvalidInput("Anda tidak dapat menonaktifkan atau menurunkan peran akun Anda "
                               "sendiri; minta admin lain.",
                               "You cannot deactivate or demote your own account; ask another "
                               "admin.")
        update_hr_user(session=session, user=target, nama=str(form.get("nama", target.nama)),
                       email=str(form.get("email", target.email)),
                       role=_role(str(form.get("role", target.role))), unit_ids=_units(form),
                       active=active, now=rt.clock.now(), password=str(form.get("password", "")))
    except RuleError as exc:
        session.rollback()
        return _page(request, session, user, 422, error=exc.message(lang))
    session.flush()
    return RedirectResponse("/hr/pengguna?saved=1", status_code=303)
