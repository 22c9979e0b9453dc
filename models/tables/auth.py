"""HR console users and API tokens for other HR systems (SIMPEG)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.rules.enums import HrRole


class HrUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=100)
    nama: str = Field(max_length=200)
    email: str = Field(max_length=254)
    password_hash: str = Field(max_length=300)
    role: HrRole = HrRole.ADMIN
    active: bool = True
    created_at: datetime


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(unique=True, index=True, max_length=128)
    hr_user_id: int = Field(foreign_key="hruser.id")
    created_at: datetime
    revoked_at: datetime | None = None
