"""Every route, called as every role, answers as its declared policy says.

The route list comes from the app itself: a new route that declares no policy (and is not one
of the few public ones) fails `test_every_route_declares_one_policy`, and every declared route
is then called anonymously, as an auditor, as a unit operator of the data's unit, as a unit
operator of another unit, and as an admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.access import ROLES, Policy, policy_of
from api.app import create_app
from models.db import session_scope
from models.repo.hr import create_hr_user
from models.rules.enums import HrRole, TaskKind
from models.tables import Skp, Task
from tests.api.conftest import AppEnv
from tests.api.helpers import hr_login, open_planning_now
from tests.factories import T0, make_pegawai, make_unit

#: routes anyone may call: task links and the public survey carry their own signed token, the
#: login page is the way in, health is for the load balancer, the Prefect webhook is signed
PUBLIC = re.compile(r"^(/|/healthz|/t/.*|/s/.*|/hr/login.*|/hr/logout|/dev/.*|"
                    r"/api/v1/ops/prefect-event)$")
SCOPED = ("unit_id", "pegawai_id", "skp_id", "task_id", "nip")
PASSWORD = "rahasia-panjang-1"


def app_routes(app) -> Iterator[APIRoute]:  # type: ignore[no-untyped-def]
    def walk(routes):  # type: ignore[no-untyped-def]
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI's included router
                yield from walk(route.original_router.routes)
            elif isinstance(route, APIRoute):
                yield route
    yield from walk(app.routes)


@dataclass
class World:
    env: AppEnv
    clients: dict[str, TestClient]
    values: dict[str, str]


@pytest.fixture
def world(env: AppEnv) -> Iterator[World]:
    with session_scope(env.rt.engine) as s:
        a, b = make_unit(s, "Dinas A"), make_unit(s, "Dinas B")
        head_a = make_pegawai(s, a, nama="Kepala A", jabatan="Kepala Dinas A",
                              nip="198001012005011001")
        staff_a = make_pegawai(s, a, nama="Staf A", atasan_id=head_a.id, nip="199001012015011002")
        make_pegawai(s, b, nama="Kepala B", jabatan="Kepala Dinas B", nip="198101012005011003")
        for name, role, units in (("auditor", HrRole.AUDITOR, None),
                                  ("op_a", HrRole.OPERATOR, [a.id]),
                                  ("op_b", HrRole.OPERATOR, [b.id])):
            create_hr_user(session=s, username=name, password=PASSWORD, nama=name,
                           email=f"{name}@contoh.go.id", now=T0, role=role, unit_ids=units)
        ids = {"unit": a.id, "pegawai": staff_a.id, "nip": staff_a.nip}
    cycle_id = open_planning_now(env.rt)
    with session_scope(env.rt.engine) as s:
        from sqlalchemy import select

        skp_id = s.execute(select(Skp.id).where(Skp.pegawai_id == ids["pegawai"])).scalar_one()
        task_id = s.execute(select(Task.id).where(Task.pegawai_id == ids["pegawai"],
                                                  Task.kind == TaskKind.SUSUN_SKP)).scalar_one()
    values = {"cycle_id": str(cycle_id), "unit_id": str(ids["unit"]),
              "pegawai_id": str(ids["pegawai"]), "skp_id": str(skp_id), "task_id": str(task_id),
              "nip": str(ids["nip"]), "periode": "1", "arah": "naik", "action": "tutup",
              "user_id": "1"}
    app = env.client.app
    # a server error is an answer to report with the others, not an exception that stops the run
    clients: dict[str, TestClient] = {"anonim": TestClient(app, base_url="http://testserver",
                                                          raise_server_exceptions=False)}
    for name in ("admin", "auditor", "op_a", "op_b"):
        client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
        password = "rahasia-hr" if name == "admin" else PASSWORD
        r = hr_login(client, name, password)
        assert r.status_code == 303, r.text
        clients[name] = client
    yield World(env, clients, values)


def _url(route: APIRoute, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), route.path)


def test_every_route_declares_one_policy(env: AppEnv) -> None:
    missing, doubled = [], []
    for route in app_routes(env.client.app):
        if PUBLIC.match(route.path):
            continue
        found = set(policy_of(route.dependant))
        if not found:
            missing.append(f"{sorted(route.methods)} {route.path}")
        elif len(found) > 1:
            doubled.append(f"{sorted(route.methods)} {route.path}: {found}")
    assert not missing, "routes without a policy (api/access.py):\n" + "\n".join(missing)
    assert not doubled, "routes with more than one policy:\n" + "\n".join(doubled)


EXPECT_ROLE = {"admin": HrRole.ADMIN, "auditor": HrRole.AUDITOR, "op_a": HrRole.OPERATOR,
               "op_b": HrRole.OPERATOR}


def test_every_route_as_every_role(world: World) -> None:
    checked, wrong = 0, []
    for route in app_routes(world.env.client.app):
        if PUBLIC.match(route.path):
            continue
        policy: Policy = policy_of(route.dependant)[0]
        url = _url(route, world.values)
        scoped = any(f"{{{p}}}" in route.path for p in SCOPED)
        for method in sorted(route.methods):
            for who in ("anonim", "auditor", "op_b", "op_a", "admin"):
                client = world.clients[who]
                kwargs = {"json": {}} if url.startswith("/api/") and method in (
                    "POST", "PUT", "PATCH") else {"data": {}} if method != "GET" else {}
                r = client.request(method, url, follow_redirects=False, **kwargs)
                checked += 1
                if who == "anonim":
                    ok = (r.status_code == 401 if url.startswith("/api/") else
                          r.status_code == 303 and "/hr/login" in r.headers.get("location", ""))
                elif EXPECT_ROLE[who] not in ROLES[policy]:
                    ok = r.status_code == 403
                elif who == "op_b" and scoped:
                    ok = r.status_code == 403
                else:
                    ok = r.status_code not in (401, 403) and r.status_code < 500
                if not ok:
                    wrong.append(f"{who:8} {method:6} {url} ({policy.value}): {r.status_code} "
                                 f"{r.text[:160]!r}")
    assert checked > 500
    assert not wrong, f"{len(wrong)} unexpected answers:\n" + "\n".join(wrong)


def test_operator_lists_only_their_units(world: World) -> None:
    people = world.clients["op_b"].get("/api/v1/pegawai").json()
    assert [p["nama"] for p in people] == ["Kepala B"]
    page = world.clients["op_b"].get("/hr/pegawai", params={"q": "Staf A"})
    assert page.status_code == 200 and "199001012015011002" not in page.text
    found = world.clients["op_a"].get("/hr/pegawai", params={"q": "Staf A"},
                                      follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"].endswith("199001012015011002")


def test_operator_cannot_move_another_units_person_through_the_form(world: World) -> None:
    r = world.clients["op_b"].post("/hr/pegawai/atasan", data={
        "nip": "199001012015011002", "atasan_nip": "198101012005011003"})
    assert r.status_code == 403
    with session_scope(world.env.rt.engine) as s:
        from sqlalchemy import select

        from models.tables import Pegawai

        atasan = s.execute(select(Pegawai.atasan_id).where(
            Pegawai.nip == "199001012015011002")).scalar_one()
        head = s.execute(select(Pegawai.id).where(Pegawai.nip == "198001012005011001")).scalar_one()
    assert atasan == head


def test_auditor_sees_no_write_forms(world: World) -> None:
    page = world.clients["auditor"].get("/hr/pegawai/199001012015011002")
    assert page.status_code == 200
    assert "Tutup atas nama" not in page.text and "/atasan" not in page.text
    admin = world.clients["admin"].get("/hr/pegawai/199001012015011002")
    assert "Kirim ulang tautan" in admin.text


def test_api_token_acts_with_its_users_role(world: World) -> None:
    with session_scope(world.env.rt.engine) as s:
        from sqlalchemy import select

        from models.repo.hr import create_api_token
        from models.tables import HrUser

        auditor = s.execute(select(HrUser).where(HrUser.username == "auditor")).scalar_one()
        token = create_api_token(session=s, user=auditor, name="laporan", now=T0)
    client = TestClient(create_app(world.env.rt, launcher=world.env.launcher))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/cycles", headers=headers).status_code == 200
    r = client.post(f"/api/v1/cycles/{world.values['cycle_id']}/launch", headers=headers)
    assert r.status_code == 403 and "admin" in r.json()["detail"]


def test_operator_chooses_a_ppk_or_rater_only_in_their_units(world: World) -> None:
    """A new PPK or a rater from another unit is refused the same way as an unknown NIP."""
    op_a = world.clients["op_a"]
    for url, field in (("/hr/pegawai/199001012015011002/atasan", "atasan_nip"),
                       ("/hr/pegawai/199001012015011002/penilai", "penilai_nip")):
        other = op_a.post(url, data={field: "198101012005011003", "cycle_id": "1"})
        unknown = op_a.post(url, data={field: "199912312020121999", "cycle_id": "1"})
        assert other.status_code == unknown.status_code == 422
        assert "di unit Anda" in other.text and "Kepala B" not in other.text
    api = op_a.put("/api/v1/pegawai/199001012015011002/atasan",
                   json={"atasan_nip": "198101012005011003"})
    assert api.status_code == 422
    with session_scope(world.env.rt.engine) as s:
        from sqlalchemy import select

        from models.tables import Pegawai

        atasan = s.execute(select(Pegawai.atasan_id).where(
            Pegawai.nip == "199001012015011002")).scalar_one()
        head = s.execute(select(Pegawai.id).where(Pegawai.nip == "198001012005011001")).scalar_one()
    assert atasan == head


def test_a_cycle_summary_is_for_the_whole_agency_readers(world: World) -> None:
    assert world.clients["op_b"].get(f"/api/v1/cycles/{world.values['cycle_id']}").status_code == 403
    assert world.clients["auditor"].get(f"/api/v1/cycles/{world.values['cycle_id']}").status_code == 200
