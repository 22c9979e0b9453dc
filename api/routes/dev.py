"""Development only (KINERJA_DEV): /dev/mailbox shows what the development SMTP server kept."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from api.deps import RuntimeDep
from api.pages import render

router = APIRouter(prefix="/dev", include_in_schema=False)


def maildir(rt: RuntimeDep) -> Path:
    return Path(rt.api.home) / "mail"


@router.get("/mailbox")
def mailbox(request: Request, rt: RuntimeDep, to: str = "") -> Response:
    from notifications.devsmtp import list_messages

    messages = list_messages(maildir(rt), limit=500) if maildir(rt).exists() else []
    if to:
        messages = [m for m in messages if to.lower() in m.to.lower()]
    return render(request, "dev/mailbox.html", messages=messages, to=to)


@router.get("/mailbox/{key}")
def message(request: Request, rt: RuntimeDep, key: str) -> Response:
    from notifications.devsmtp import read_message

    try:
        mail = read_message(maildir(rt), key)
    except KeyError:
        raise HTTPException(404, "Pesan tidak ditemukan.") from None
    return render(request, "dev/message.html", m=mail)
