"""Append to the audit log (never update or delete)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from models.tables import AuditLog


def record(*, session: Session, now: datetime, actor: str, action: str, entity: str,
           entity_id: int | None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> None:
    session.add(AuditLog(at=now, actor=actor, action=action, entity=entity, entity_id=entity_id,
                         before=before, after=after))
