"""ASGI entry for uvicorn: `uvicorn --factory api.main:app` builds the app from KINERJA_* env."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from kinerja.runtime import Runtime


def app() -> FastAPI:
    return create_app(Runtime.from_env())
