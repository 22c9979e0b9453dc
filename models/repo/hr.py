"""HR users and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from models.repo.audit import current as audit_context
from models.repo.audit import record
from models.rules.enums import HrRole
from models.rules.errors import InvalidInput
from models.rules.passwords import hash_password, verify_password
from models.tables import ApiToken, HrSesi, HrUser, HrUserUnit, Unit

#: a console session ends 12 hours after login, or after 2 idle hours
SESSION_HOURS = 12
SESSION_IDLE_HOURS = 2


def create_hr_user(*, session: Session, username: str, password: str, nama: str, email: str,
                   now: datetime, role: HrRole = HrRole.ADMIN,
                   unit_ids: list[int] | None = None) -> HrUser:
    username = username.strip()
    problems = _user_problems(session=session, username=username, nama=nama, email=email,
                              password=password, role=role, unit_ids=unit_ids or [])
    if problems:
        raise InvalidInput("; ".join(p[0] for p in problems), "; ".join(p[1] for p in problems))
    user = HrUser(username=username, nama=nama.strip(), email=email.strip(), role=role,
                  password_hash=hash_password(password) if password else "!", created_at=now)
    session.add(user)
    session.flush()
    for unit_id in sorted(set(unit_ids or [])):
        session.add(HrUserUnit(hr_user_id=user.id, unit_id=unit_id))
    record(session=session, now=now, actor=audit_context().actor, action="hr_user.buat",
           entity="hr_user", entity_id=user.id,
           after={"username": user.username, "role": user.role.value, "email": user.email,
                  "unit_ids": sorted(set(unit_ids or [])), "kata_sandi": bool(password)})
    session.flush()
    return user


def _user_problems(*, session: Session, username: str, nama: str, email: str, password: str,
                   role: HrRole, unit_ids: list[int],
                   user_id: int | None = None) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if user_id is None:
        if not username or len(username) > 100 or not username.replace(".", "").replace(
                "_", "").replace("-", "").isalnum():
            problems.append(("Nama pengguna wajib diisi: huruf, angka, titik, garis bawah.",
                             "Username is required: letters, digits, dots, underscores."))
        elif session.execute(select(HrUser.id).where(HrUser.username == username)).first():
            problems.append((f"Nama pengguna {username} sudah dipakai.",
                             f"Username {username} is already taken."))
        if password and len(password) < 10:
            problems.append(("Kata sandi minimal 10 karakter.",
                             "The password needs at least 10 characters."))
    if not nama.strip():
        problems.append(("Nama wajib diisi.", "Name is required."))
    if "@" not in email:
        problems.append(("Email tidak valid.", "The email is not valid."))
    if role == HrRole.OPERATOR and not unit_ids:
        problems.append(("Operator unit harus memegang paling sedikit satu unit.",
                         "A unit operator needs at least one unit."))
    if role != HrRole.OPERATOR and unit_ids:
        problems.append(("Hanya operator unit yang dibatasi pada unit.",
                         "Only unit operators are limited to units."))
    if unit_ids:
        known = set(session.execute(select(Unit.id).where(Unit.id.in_(unit_ids))).scalars())
        missing = sorted(set(unit_ids) - known)
        if missing:
            problems.append((f"Unit tidak dikenal: {missing}.", f"Unknown units: {missing}."))
    return problems


def update_hr_user(*, session: Session, user: HrUser, nama: str, email: str, role: HrRole,
                   unit_ids: list[int], active: bool, now: datetime,
                   password: str = "") -> HrUser:
    """Change a user's role, units, state or password; ending access revokes their sessions."""
    problems = _user_problems(session=session, username=user.username, nama=nama, email=email,
                              password="", role=role, unit_ids=unit_ids, user_id=user.id)
    if password and len(password) < 10:
        problems.append(("Kata sandi minimal 10 karakter.",
                         "The password needs at least 10 characters."))
    if problems:
        raise InvalidInput("; ".join(p[0] for p in problems), "; ".join(p[1] for p in problems))
    user.nama, user.email, user.role, user.active = nama.strip(), email.strip(), role, active
    if password:
        user.password_hash = hash_password(password)
        record(session=session, now=now, actor=audit_context().actor,
               action="hr_user.kata_sandi", entity="hr_user", entity_id=user.id)
    current = set(unit_ids_of(session=session, user_id=user.id) or set())
    wanted = set(unit_ids)
    for unit_id in current - wanted:
        link = session.get(HrUserUnit, (user.id, unit_id))
        if link is not None:
            session.delete(link)
    for unit_id in sorted(wanted - current):
        session.add(HrUserUnit(hr_user_id=user.id, unit_id=unit_id))
    if not active or password:
        revoke_user_sessions(session=session, user_id=user.id, now=now)
    session.flush()
    return user


def unit_ids_of(*, session: Session, user_id: int) -> frozenset[int] | None:
    """The units a user is limited to, or None for the whole agency."""
    user = session.get(HrUser, user_id)
    if user is None or user.role != HrRole.OPERATOR:
        return None
    return frozenset(session.execute(
        select(HrUserUnit.unit_id).where(HrUserUnit.hr_user_id == user_id)).scalars())


# -- sessions --------------------------------------------------------------------------------

def start_session(*, session: Session, user: HrUser, metode: str, now: datetime) -> str:
    """A new console session; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(HrSesi(token_hash=_digest(token), hr_user_id=user.id, metode=metode,
                       created_at=now, last_seen_at=now,
                       expires_at=now + timedelta(hours=SESSION_HOURS)))
    session.flush()
    return token


@dataclass(frozen=True)
class LiveSession:
    user: HrUser
    sesi_id: int


def session_user(*, session: Session, token: str, now: datetime) -> LiveSession | None:
    """The user of a live session (not revoked, not expired, not idle too long)."""
    sesi = session.execute(select(HrSesi).where(HrSesi.token_hash == _digest(token))).scalar()
    if sesi is None or sesi.revoked_at is not None or now >= sesi.expires_at:
        return None
    if now - sesi.last_seen_at > timedelta(hours=SESSION_IDLE_HOURS):
        return None
    user = session.get(HrUser, sesi.hr_user_id)
    if user is None or not user.active:
        return None
    if now - sesi.last_seen_at > timedelta(minutes=5):  # one write per 5 minutes, not per page
        sesi.last_seen_at = now
    return LiveSession(user, sesi.id)


def end_session(*, session: Session, token: str, now: datetime) -> None:
    sesi = session.execute(select(HrSesi).where(HrSesi.token_hash == _digest(token))).scalar()
    if sesi is not None and sesi.revoked_at is None:
        sesi.revoked_at = now


def revoke_user_sessions(*, session: Session, user_id: int, now: datetime) -> int:
    rows = session.execute(select(HrSesi).where(HrSesi.hr_user_id == user_id,
                                                HrSesi.revoked_at.is_(None))).scalars().all()
    for sesi in rows:
        sesi.revoked_at = now
    return len(rows)


def authenticate(*, session: Session, username: str, password: str) -> HrUser | None:
    user = session.execute(select(HrUser).where(HrUser.username == username)).scalar()
    # the same scrypt work whether or not the user exists: the time does not tell
    stored = user.password_hash if user and user.password_hash.startswith("scrypt$") else None
    ok = verify_password(password, stored or _DUMMY_HASH) and stored is not None
    if user is None or not user.active or not ok:
        return None
    return user


_DUMMY_HASH = hash_password("kinerja-no-such-user")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(*, session: Session, user: HrUser, name: str, now: datetime) -> str:
    """A new bearer token for another HR system; only its hash is stored."""
    token = "knj_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=_digest(token), hr_user_id=user.id, created_at=now))
    session.flush()
    return token


def user_for_token(*, session: Session, token: str) -> HrUser | None:
    found = token_user(session=session, token=token)
    return found[0] if found else None


def token_user(*, session: Session, token: str) -> tuple[HrUser, int] | None:
    """The user behind an API token and the token's id (for the audit log)."""
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == _digest(token),
                                                 ApiToken.revoked_at.is_(None))).scalar()
    if row is None:
        return None
    user = session.get(HrUser, row.hr_user_id)
    return (user, row.id) if user and user.active else None


def hr_user_count(*, session: Session) -> int:
    return len(session.execute(select(HrUser.id)).all())
