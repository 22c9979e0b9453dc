"""HR console users, their units, their sessions, and API tokens for other HR systems."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import AutoString, Field, SQLModel

from models.rules.enums import HrRole


class HrUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=100)
    nama: str = Field(max_length=200)
    email: str = Field(max_length=254)
    password_hash: str = Field(max_length=300)
    role: HrRole = Field(default=HrRole.ADMIN, sa_type=AutoString(length=20))
    active: bool = True
    created_at: datetime
    #: the subject ("sub") at the agency's OpenID Connect provider, linked at the first login
    oidc_subject: str | None = Field(default=None, unique=True, max_length=255)


class HrUserUnit(SQLModel, table=True):
    """The units a unit HR operator may see and act on (admins and auditors have none)."""

    hr_user_id: int = Field(foreign_key="hruser.id", primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)


class HrSesi(SQLModel, table=True):
    """A console session: the cookie holds a random token, the table only its hash, so that a
    session can be revoked (logout, a deactivated user) and named in the audit log."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    hr_user_id: int = Field(foreign_key="hruser.id", index=True)
    metode: str = Field(max_length=20)  # "password" | "oidc"
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(unique=True, index=True, max_length=128)
    hr_user_id: int = Field(foreign_key="hruser.id")
    created_at: datetime
    revoked_at: datetime | None = None


class Batasan(SQLModel, table=True):
    """Rate-limit counters (login attempts, fresh-link requests) per key and time window; shared
    by every API process through the database. Keys hold hashes, never a raw address."""

    kunci: str = Field(primary_key=True, max_length=120)
    jendela: datetime = Field(primary_key=True, index=True)  # the window's start
    jumlah: int = 0
