"""Hostile input through the JSON API: schemathesis generates requests for every operation of
the app's OpenAPI document (valid and invalid data) as an HR admin with a bearer API token, on
a database with real rows behind the path ids, and checks that nothing answers 5xx and that
every response (status code, content type, headers, body) is what the document declares.

One app and one seeded database serve every operation (module scope), in the document's order,
so the writes of one operation are the data of the next, as in real use. Reproducible:
derandomized Hypothesis, no example database."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from api.app import create_app
from kinerja import operations
from kinerja.clock import FixedClock
from kinerja.operations import SECRET_HEADER
from models.db import session_scope
from models.repo.hr import create_api_token, create_hr_user
from models.repo.skm import open_survey
from models.rules.enums import HrRole
from models.rules.errors import InvalidInput
from models.tables import KandidatPenghargaan, Keberatan, Pegawai, Pelatihan, Skp, Task
from tests.api.conftest import AppEnv, FakeLauncher
from tests.api.test_exports import _setup
from tests.conftest import _empty
from tests.factories import T0, make_org, runtime_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
MAX_EXAMPLES = 12  # per operation and mode (valid, invalid)


def _operation_labels() -> list[str]:
    """Every operation of the document (read from an app without a database)."""
    app = create_app(runtime_for(None, Path(tempfile.gettempdir())),  # type: ignore[arg-type]
                     launcher=FakeLauncher())
    doc = app.openapi()
    return [f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops]


def _seed(env: AppEnv) -> dict[str, Any]:
    """A cycle with approved SKPs and results (published, final after a keberatan, rated), an
    award candidate, a competency with a training, an open SKM survey: ids behind the paths."""
    case = _setup(env)
    now = env.clock.now()
    with session_scope(env.rt.engine) as s:
        s.add(KandidatPenghargaan(cycle_id=case.cycle_id, pegawai_id=case.ids["staf1"]))
        survei = open_survey(session=s, unit_id=case.unit_id, now=now, actor="test",
                             mail=env.rt.mail, cycle_id=case.cycle_id, periode=1)
        s.flush()
        ids: dict[str, Any] = {
            "cycle_id": case.cycle_id,
            "unit_id": case.unit_id,
            "pegawai_id": case.ids["staf1"],
            "nip": case.nip["staf1"],
            "periode": 1,
            "keberatan_id": s.execute(select(Keberatan.id)).scalar(),
            "kandidat_id": s.execute(select(KandidatPenghargaan.id)).scalar(),
            "pelatihan_id": s.execute(select(Pelatihan.id)).scalar(),
            "kompetensi_id": s.execute(select(Pelatihan.kompetensi_id)).scalar(),
            "survei_id": survei.id,
            "task_id": s.execute(select(Task.id)).scalar(),
            "skp_id": s.execute(select(Skp.id).where(Skp.pegawai_id == case.ids["staf1"])).scalar(),
        }
        user = create_hr_user(session=s, username="simpeg", password="rahasia-simpeg",
                              nama="SIMPEG", email="simpeg@contoh.go.id", now=now)
        ids["token"] = create_api_token(session=s, user=user, name="schemathesis", now=now)
    return ids


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict]]:
    """The app on a seeded database, shared by every operation; the schema read from it."""
    _empty(engine)
    clock = FixedClock(T0)
    rt = runtime_for(engine, tmp_path_factory.mktemp("schemathesis"), clock)
    with session_scope(engine) as s:
        create_hr_user(session=s, username="admin", password="rahasia-hr", nama="Admin BKPSDM",
                       email="hr@contoh.go.id", now=T0)
    with TestClient(create_app(rt, launcher=FakeLauncher()), base_url="http://testserver") as client:
        env = AppEnv(client, rt, clock, FakeLauncher())
        ids = _seed(env)
        ids["ops_secret"] = operations.ops_secret(rt.api)
        schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        yield schema, ids
    _empty(engine)


@pytest.mark.pg_only  # PostgreSQL is the stricter database (integer ranges, NUL in text)
@pytest.mark.parametrize("label", _operation_labels())
def test_operation_conforms_and_never_fails(label: str, world: tuple[Any, dict]) -> None:
    schema, ids = world
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    cases = st.one_of(operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
                      operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
    # the HR systems' token, and the webhook's shared secret (Prefect's credential)
    headers = {"Authorization": f"Bearer {ids['token']}", SECRET_HEADER: ids["ops_secret"]}

    @given(case=cases, real=st.booleans())
    @settings(max_examples=2 * MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    def run(case: schemathesis.Case, real: bool) -> None:
        # half of the examples name real rows in the path (where the id is not under test)
        if real and case.path_parameters:
            for name in case.path_parameters:
                if name in ids:
                    case.path_parameters[name] = ids[name]
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


# -- what schemathesis found, pinned down -------------------------------------------------------------


def _bearer(env: AppEnv, role: HrRole = HrRole.ADMIN, unit_ids: list[int] | None = None) -> dict:
    with session_scope(env.rt.engine) as s:
        user = create_hr_user(session=s, username=f"u{role.value}", password="rahasia-panjang",
                              nama="Pengguna", email=f"{role.value}@contoh.go.id",
                              now=env.clock.now(), role=role, unit_ids=unit_ids)
        return {"Authorization": "Bearer " + create_api_token(session=s, user=user, name="t",
                                                                now=env.clock.now())}


@pytest.mark.parametrize("url", [
    "/api/v1/cycles/3632449459235811468633754828800",  # beyond 64 bits: SQLite OverflowError
    "/api/v1/cycles/2147483648/periode",  # beyond 32 bits: PostgreSQL integer out of range
    "/api/v1/cycles/-9999999999/ekspor/hasil",
    "/api/v1/audit?cycle_id=180362250088808022016",
    "/api/v1/cycles/1/dasbor/unit/99999999999",
])
def test_integers_no_column_holds_are_422_not_500(env: AppEnv, url: str) -> None:
    r = env.client.get(url, headers=_bearer(env))
    assert r.status_code == 422 and r.json()["detail"][0]["type"].endswith("than_equal")


def test_an_operators_huge_unit_id_is_422_before_the_scope_check_queries(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        unit_id = make_org(s)["staf1"].unit_id
    h = _bearer(env, HrRole.OPERATOR, [unit_id])
    r = env.client.get("/api/v1/cycles/1/dasbor/unit/99999999999999999999999", headers=h)
    assert r.status_code == 422


@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", "/api/v1/audit?orang=a%00b", None),
    ("GET", "/api/v1/pegawai/1980%00/tugas", None),
    ("PUT", "/api/v1/pegawai/198001012005010001/atasan", {"atasan_nip": "x\x00"}),
    ("POST", "/api/v1/skm", {"unit": "Dinas\x00"}),
])
def test_a_nul_character_is_422_not_a_database_error(env: AppEnv, method: str, url: str,
                                                    body: dict | None) -> None:
    r = env.client.request(method, url, json=body, headers=_bearer(env))
    assert r.status_code == 422 and "NUL" in r.json()["detail"][0]["msg"]


def test_text_with_a_nul_is_refused_before_it_is_written(env: AppEnv) -> None:
    """Whatever route or flow it comes through (PostgreSQL cannot store it)."""
    with pytest.raises(InvalidInput, match="NUL"), session_scope(env.rt.engine) as s:
        make_org(s)["staf1"].nama = "Siti\x00"
        s.flush()
    with session_scope(env.rt.engine) as s:
        assert s.execute(select(func.count()).select_from(Pegawai)).scalar_one() == 0


@pytest.mark.parametrize(("method", "path", "body"), [
    ("PUT", "/umpan-balik/pengaturan", {}),  # was an IntegrityError (the settings row's FK)
    ("PUT", "/penilaian/keberatan", {"hari": 7}),  # was an AttributeError on None
])
def test_settings_of_an_unknown_cycle_are_404(env: AppEnv, method: str, path: str,
                                              body: dict) -> None:
    r = env.client.request(method, f"/api/v1/cycles/4242{path}", json=body, headers=_bearer(env))
    assert r.status_code == 404 and r.json()["error"] == "NotFound"


@pytest.mark.parametrize(("method", "url", "body"), [
    ("POST", "/api/v1/kompetensi/pelatihan", {"kompetensi_id": 2**70, "nama": "Latihan"}),
    ("PATCH", "/api/v1/kompetensi/1", {"urutan": 2**40}),
    ("POST", "/api/v1/skm", {"unit_id": 2**40}),
])
def test_body_integers_beyond_the_columns_are_422(env: AppEnv, method: str, url: str,
                                                  body: dict) -> None:
    r = env.client.request(method, url, json=body, headers=_bearer(env))
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)


def test_the_document_declares_errors_and_file_types() -> None:
    doc = create_app(runtime_for(None, Path(tempfile.gettempdir())),  # type: ignore[arg-type]
                     launcher=FakeLauncher()).openapi()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if path.startswith("/api/v1/") and path != "/api/v1/ops/prefect-event":
                assert {"401", "403", "404", "409", "422", "503"} <= set(op["responses"]), \
                    (method, path)
                error = op["responses"]["422"]["content"]["application/json"]["schema"]
                assert error["properties"]["detail"]["anyOf"], (method, path)
    ekspor = "/api/v1/cycles/{cycle_id}/ekspor"
    for path, media in ((f"{ekspor}/hasil.csv", "text/csv"),
                        (f"{ekspor}/unit/{{unit_id}}.zip", "application/zip"),
                        (f"{ekspor}/pegawai/{{pegawai_id}}/dek.pdf", "application/pdf"),
                        ("/api/v1/audit.csv", "text/csv"),
                        ("/api/v1/cycles/{cycle_id}/dasbor.csv", "text/csv")):
        assert list(doc["paths"][path]["get"]["responses"]["200"]["content"]) == [media], path
