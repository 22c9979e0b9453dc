"""(filled in by the change that adds this page)"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
