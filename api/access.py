"""Who may call which route: every HR page and API route declares one policy, as a dependency.

Roles (models.rules.enums.HrRole):
- admin: the whole agency, reads and changes everything;
- operator: a unit HR operator, reads and acts on the people of their own units only;
- auditor: reads everything, changes nothing.

Policies:
- AGENCY_READ:  admin, auditor          (pages about the whole agency: calendars, calibration)
- AGENCY_WRITE: admin                   (changes to the whole agency or cycle)
- UNIT_READ:    admin, auditor, operator (operator: only their units, lists filtered)
- UNIT_WRITE:   admin, operator          (operator: only their units)

Scope is checked here, once, from the route's path parameters (`unit_id`, `pegawai_id`,
`skp_id`, `task_id`, `nip`): an operator asking for anything outside their units gets 403
before the handler runs. Form fields naming a person are checked by the handler with
`Principal.require_pegawai`. Each policy dependency carries its policy as `.policy`, so the
authorisation test can read the route table and call every route as every role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlmodel import Session

from api.deps import LoginRequired, SessionDep, lang_of
from models.repo import audit
from models.repo.hr import session_user, token_user, unit_ids_of
from models.rules.enums import HrRole
from models.rules.errors import Forbidden, InvalidInput
from models.tables import HrUser, Pegawai, Skp, Task


class Policy(StrEnum):
    AGENCY_READ = "agency_read"
    AGENCY_WRITE = "agency_write"
    UNIT_READ = "unit_read"
    UNIT_WRITE = "unit_write"


ROLES: dict[Policy, frozenset[HrRole]] = {
    Policy.AGENCY_READ: frozenset({HrRole.ADMIN, HrRole.AUDITOR}),
    Policy.AGENCY_WRITE: frozenset({HrRole.ADMIN}),
    Policy.UNIT_READ: frozenset({HrRole.ADMIN, HrRole.AUDITOR, HrRole.OPERATOR}),
    Policy.UNIT_WRITE: frozenset({HrRole.ADMIN, HrRole.OPERATOR}),
}


@dataclass
class Principal:
    """The HR user behind this request, their unit scope and where the request came from."""

    user: HrUser
    unit_ids: frozenset[int] | None  # None: the whole agency
    via: str  # "sesi:12" | "token:3"
    session: Session

    @property
    def id(self) -> int:
        return self.user.id  # type: ignore[return-value]

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def nama(self) -> str:
        return self.user.nama

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def role(self) -> HrRole:
        return self.user.role

    @property
    def active(self) -> bool:
        return self.user.active

    @property
    def actor(self) -> str:
        return f"hr:{self.user.username}"

    @property
    def can_write(self) -> bool:
        return self.user.role != HrRole.AUDITOR

    @property
    def is_admin(self) -> bool:
        return self.user.role == HrRole.ADMIN

    def sees_unit(self, unit_id: int | None) -> bool:
        return self.unit_ids is None or unit_id in self.unit_ids

    def require_unit(self, unit_id: int | None) -> None:
        if not self.sees_unit(unit_id):
            raise Forbidden("Unit ini di luar wewenang Anda.", "This unit is outside your scope.")

    def require_pegawai(self, pegawai_id: int | None) -> None:
        if self.unit_ids is None:
            return
        unit_id = self.session.execute(
            select(Pegawai.unit_id).where(Pegawai.id == pegawai_id)).scalar()
        if unit_id is None or unit_id not in self.unit_ids:
            raise Forbidden("Pegawai ini di luar unit Anda.",
                            "This employee is outside your units.")

    def require_nip(self, nip: str) -> None:
        if self.unit_ids is None:
            return
        pegawai_id = self.session.execute(select(Pegawai.id).where(Pegawai.nip == nip)).scalar()
        self.require_pegawai(pegawai_id)


    def require_choice(self, nip: str) -> None:
        """A person named in a form (a new PPK, a rater): for an operator, someone of their own
        units. Unknown and out-of-scope NIPs get the same 422, so nothing tells them apart."""
        if self.unit_ids is None:
            return
        unit_id = self.session.execute(
            select(Pegawai.unit_id).where(Pegawai.nip == nip.strip())).scalar()
        if unit_id is None or unit_id not in self.unit_ids:
            raise InvalidInput(f"Tidak ada pegawai dengan NIP '{nip.strip()}' di unit Anda; "
                               "untuk orang di unit lain, minta admin instansi.",
                               f"No employee with NIP '{nip.strip()}' in your units; for "
                               "someone in another unit, ask an agency admin.")


def _authenticate(request: Request, session: Session) -> tuple[HrUser, str] | None:
    now = request.app.state.rt.clock.now()
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        found = token_user(session=session, token=auth[7:].strip())
        return (found[0], f"token:{found[1]}") if found else None
    token = request.session.get("sid")
    if not token:
        return None
    live = session_user(session=session, token=token, now=now)
    return (live.user, f"sesi:{live.sesi_id}") if live else None


def _scope_from_path(principal: Principal, params: dict[str, Any]) -> None:
    if principal.unit_ids is None:
        return
    session = principal.session
    if "unit_id" in params:
        principal.require_unit(_int(params["unit_id"]))
    if "pegawai_id" in params:
        principal.require_pegawai(_int(params["pegawai_id"]))
    if "nip" in params:
        principal.require_nip(str(params["nip"]))
    if "skp_id" in params:
        principal.require_pegawai(session.execute(
            select(Skp.pegawai_id).where(Skp.id == _int(params["skp_id"]))).scalar())
    if "task_id" in params:
        principal.require_pegawai(session.execute(
            select(Task.pegawai_id).where(Task.id == _int(params["task_id"]))).scalar())


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _need(policy: Policy):  # type: ignore[no-untyped-def]
    def dependency(request: Request, session: SessionDep) -> Principal:
        found = _authenticate(request, session)
        if found is None:
            if request.url.path.startswith("/api/"):
                raise HTTPException(401, "Perlu login HR atau token API (Authorization: Bearer ...)."
                                    if lang_of(request) == "id" else
                                    "An HR login or API token is needed (Authorization: Bearer ...).",
                                    headers={"WWW-Authenticate": "Bearer"})
            raise LoginRequired()
        user, via = found
        principal = Principal(user, unit_ids_of(session=session, user_id=user.id), via, session)
        ctx = audit.current()  # the request's context object, shared with the handler's thread
        ctx.actor, ctx.via = principal.actor, via
        request.state.principal = principal
        if user.role not in ROLES[policy]:
            raise Forbidden(_DENIED[policy][0], _DENIED[policy][1])
        _scope_from_path(principal, request.path_params)
        return principal

    dependency.policy = policy  # type: ignore[attr-defined]
    dependency.__name__ = f"need_{policy.value}"
    return dependency


_DENIED = {
    Policy.AGENCY_READ: ("Halaman ini hanya untuk admin dan auditor instansi.",
                         "This page is for agency admins and auditors only."),
    Policy.AGENCY_WRITE: ("Perubahan ini hanya boleh dilakukan admin instansi.",
                          "Only an agency admin may make this change."),
    Policy.UNIT_READ: ("Peran Anda tidak dapat membuka halaman ini.",
                       "Your role cannot open this page."),
    Policy.UNIT_WRITE: ("Peran Anda hanya dapat membaca, tidak mengubah.",
                        "Your role can read but not change."),
}

need_agency_read = _need(Policy.AGENCY_READ)
need_agency_write = _need(Policy.AGENCY_WRITE)
need_unit_read = _need(Policy.UNIT_READ)
need_unit_write = _need(Policy.UNIT_WRITE)

AgencyReader = Annotated[Principal, Depends(need_agency_read)]
AgencyWriter = Annotated[Principal, Depends(need_agency_write)]
UnitReader = Annotated[Principal, Depends(need_unit_read)]
UnitWriter = Annotated[Principal, Depends(need_unit_write)]


def policy_of(dependant: Any) -> list[Policy]:
    """The policies a route's dependency tree declares (the authorisation test reads this)."""
    found: list[Policy] = []
    for dep in dependant.dependencies:
        policy = getattr(dep.call, "policy", None)
        if policy is not None:
            found.append(policy)
        found.extend(policy_of(dep))
    return found
