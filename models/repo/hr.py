"""HR users and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from models.rules.enums import HrRole
from models.rules.passwords import hash_password, verify_password
from models.tables import ApiToken, HrUser


def create_hr_user(*, session: Session, username: str, password: str, nama: str, email: str,
                   now: datetime, role: HrRole = HrRole.ADMIN) -> HrUser:
    user = HrUser(username=username, nama=nama, email=email, role=role,
                  password_hash=hash_password(password), created_at=now)
    session.add(user)
    session.flush()
    return user


def authenticate(*, session: Session, username: str, password: str) -> HrUser | None:
    user = session.execute(select(HrUser).where(HrUser.username == username)).scalar()
    if user is None or not user.active or not verify_password(password, user.password_hash):
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(*, session: Session, user: HrUser, name: str, now: datetime) -> str:
    """A new bearer token for another HR system; only its hash is stored."""
    token = "knj_" + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=_digest(token), hr_user_id=user.id, created_at=now))
    session.flush()
    return token


def user_for_token(*, session: Session, token: str) -> HrUser | None:
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == _digest(token),
                                                 ApiToken.revoked_at.is_(None))).scalar()
    if row is None:
        return None
    user = session.get(HrUser, row.hr_user_id)
    return user if user and user.active else None


def hr_user_count(*, session: Session) -> int:
    return len(session.execute(select(HrUser.id)).all())
