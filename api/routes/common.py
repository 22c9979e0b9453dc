"""What every JSON API route shares: the error responses it declares in the OpenAPI document
(the bodies api.app's handlers write) and the guard that refuses, before any query runs,
integers no database column can hold and text with a NUL character.

ERRORS goes on every /api/v1 router (`APIRouter(responses=ERRORS, dependencies=GUARD)`), so
another system reading the document knows each status it may get: 400 a rule refused the
request, 401 no HR login or API token, 403 outside the caller's role or units, 404 no such row,
409 the state or version changed, 422 a value could not be read or is not allowed, 503 the
database or Prefect cannot be reached (with Retry-After). A file download declares its own
media type with `file_response(...)`.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from api.deps import lang_of

#: the range of the database's integer columns (PostgreSQL `integer` is 32-bit: a larger value
#: cannot even be compared with an id there, and SQLite cannot bind one beyond 64 bits)
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

#: an integer of a request body that is looked up or stored
DbInt = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]


class ApiError(BaseModel):
    """An error of /api/v1. `detail` is a sentence in the caller's language, or FastAPI's list
    of the values that could not be read (422); `error` names the kind of refusal."""

    detail: str | list[dict[str, Any]] = Field(
        description="the reason, or the list of values that could not be read")
    error: str | None = Field(default=None, description="e.g. NotFound, InvalidTransition")
    state: str | None = Field(default=None, description="409: the current state")
    problems: list[Any] | None = Field(default=None, description="every problem found (imports)")


_ERROR_SCHEMA = ApiError.model_json_schema()
_DESCRIPTIONS = {
    400: "Ditolak oleh aturan / refused by a rule",
    401: "Perlu login HR atau token API / an HR login or API token is needed",
    403: "Di luar peran atau unit Anda / outside your role or units",
    404: "Tidak ditemukan / not found",
    409: "Keadaan atau versi sudah berubah / the state or version changed",
    422: "Nilai tidak dapat dibaca atau tidak diizinkan / a value was not understood or allowed",
    413: "Terlalu besar / too large",
    503: "Basis data atau Prefect tidak dapat dihubungi; coba lagi (Retry-After) / the database or "
         "Prefect cannot be reached; try again (Retry-After)",
}


def error_response(status: int) -> dict[str, Any]:
    """The OpenAPI response of one error status (its body: ApiError)."""
    response: dict[str, Any] = {"description": _DESCRIPTIONS[status],
                                "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if status == 503:
        response["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return response


#: every error an /api/v1 route may answer (the bodies of api.app's exception handlers)
ERRORS: dict[int | str, dict[str, Any]] = {status: error_response(status)
                                           for status in (400, 401, 403, 404, 409, 422, 503)}


def file_response(media_type: str, description: str,
                  schema: dict[str, Any] | None = None) -> dict[int | str, dict[str, Any]]:
    """A download's 200 (with its media type instead of JSON) and the errors."""
    schema = schema or {"type": "string", "format": "binary"}
    return {200: {"description": description, "content": {media_type: {"schema": schema}}},
            **ERRORS}


CSV_RESPONSE = file_response("text/csv", "CSV (UTF-8 with BOM, ';'-separated)")


def _is_int(annotation: Any) -> bool:
    return annotation is int or int in typing.get_args(annotation)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _integer_errors(route: APIRoute, request: Request) -> list[dict[str, Any]]:
    errors = []
    for where, fields, values in (("path", route.dependant.path_params, request.path_params),
                                  ("query", route.dependant.query_params, request.query_params)):
        for f in fields:
            raw = values.get(f.alias)
            if raw is None or not _is_int(f.field_info.annotation):
                continue
            try:
                value = int(str(raw))
            except ValueError:
                continue  # not a number: FastAPI's own validation says so
            if not INT_MIN <= value <= INT_MAX:
                errors.append({"type": "less_than_equal" if value > 0 else "greater_than_equal",
                               "loc": (where, f.alias),
                               "msg": f"Input should be between {INT_MIN} and {INT_MAX}",
                               "input": str(raw)})
    return errors


async def _nul_errors(request: Request) -> list[dict[str, Any]]:
    found: list[tuple[str, str]] = [("path", k) for k, v in request.path_params.items()
                                    if _has_nul(str(v))]
    found += [("query", k) for k, v in request.query_params.multi_items() if _has_nul(k + v)]
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method in ("POST", "PUT", "PATCH"):
        if media == "application/json":
            body = await request.body()  # read once by FastAPI already: cached
            if b"\\u0000" in body:
                try:
                    if _has_nul(json.loads(body)):
                        found.append(("body", ""))
                except ValueError:
                    pass  # not JSON: FastAPI's own validation says so
        elif media in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for k, v in (await request.form()).multi_items():
                name = v if isinstance(v, str) else (v.filename or "")
                if _has_nul(k) or _has_nul(name):
                    found.append(("body", k))
    return [{"type": "string_pattern_mismatch", "loc": (where, name) if name else (where,),
             "msg": "Text must not contain a NUL character", "input": None}
            for where, name in found]


async def check_input(request: Request) -> None:
    """422 (FastAPI's shape) before any query runs for
    - an integer path or query value outside the columns' range: no row has such an id, and
      the database refuses to bind it (SQLite: OverflowError beyond 64 bits; PostgreSQL:
      integer out of range), which would be a 500;
    - a NUL character in a path, query, form or JSON value, or an uploaded file's name:
      PostgreSQL refuses it even in a comparison (another 500) and no name or text holds one.
    Runs before the route's other dependencies (the access policy reads the path's ids too)."""
    route = request.scope.get("route")
    errors = _integer_errors(route, request) if isinstance(route, APIRoute) else []
    errors += await _nul_errors(request)
    if errors:
        raise RequestValidationError(errors)


#: the dependencies of every router whose routes take integer ids
GUARD = [Depends(check_input)]


#: what any request body may weigh (the largest import is 20 MB; evidence files are smaller
#: unless KINERJA_EVIDENCE_MAX_BYTES says otherwise), with room for the multipart envelope
MAX_BODY_BYTES = 20 * 1024 * 1024 + 64 * 1024


class BodyLimitRoute(APIRoute):
    """A route that refuses (413) a body declared larger than the limit before it is read:
    FastAPI parses (and spools to disk) a whole multipart upload before the handler runs, so
    the handler's own size check comes too late to protect the disk."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            declared = request.headers.get("content-length", "")
            evidence = request.app.state.rt.evidence.max_bytes + 64 * 1024
            if declared.isdigit() and int(declared) > max(MAX_BODY_BYTES, evidence):
                raise HTTPException(413, "Berkas atau isi permintaan terlalu besar."
                                    if lang_of(request) == "id" else
                                    "The file or request body is too large.")
            return await handler(request)

        return limited
