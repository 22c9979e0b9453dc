"""Task-link routes (LinkRoute): the link is checked and the transaction committed in the
handler's own trip to the thread pool, never skipped, and nothing is committed on an error."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Annotated, Any

import anyio.to_thread
import pytest
from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute
from sqlmodel import Session

from api.deps import SessionDep
from api.routes.tasks import LinkRoute, TaskLinkDep, task_link
from models.db import session_scope
from models.tables import Pegawai
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, open_planning_now, path_of
from tests.factories import make_org


def _uses_task_link(dependant: Any) -> bool:
    return any(d.call is task_link or _uses_task_link(d) for d in dependant.dependencies)


def _all_routes() -> list[APIRoute]:
    """Every route of every router in api.routes (the app holds included routers lazily)."""
    import api.routes

    routes = []
    for info in pkgutil.iter_modules(api.routes.__path__):
        module = importlib.import_module(f"api.routes.{info.name}")
        for value in vars(module).values():
            if isinstance(value, APIRouter):
                routes += [r for r in value.routes if isinstance(r, APIRoute)]
    return routes


def test_every_route_taking_a_task_link_checks_it_in_its_handler() -> None:
    routes = [r for r in _all_routes() if _uses_task_link(r.dependant)]
    assert len(routes) > 30  # the pages and actions of every stage
    assert [r.path for r in routes if not isinstance(r, LinkRoute)] == []


def test_an_async_or_generator_handler_cannot_take_a_task_link() -> None:
    router = APIRouter(route_class=LinkRoute)
    with pytest.raises(TypeError, match="plain def"):
        @router.get("/t/{token}/x")
        async def page(link: TaskLinkDep) -> None: ...
    with pytest.raises(TypeError, match="plain def"):
        @router.get("/t/{token}/y")
        def stream(link: TaskLinkDep) -> Iterator[str]:
            yield link.token


def _inner(link: TaskLinkDep) -> int:  # a dependency taking the link (module level: the
    return 1  # annotations are strings, resolved in the module)


def test_a_task_link_anywhere_but_the_handler_is_refused_when_declared() -> None:
    with pytest.raises(TypeError, match="parameter of the handler"):
        APIRouter(route_class=LinkRoute).get("/t/{token}/a", dependencies=[Depends(task_link)])(
            lambda: None)

    with pytest.raises(TypeError, match="parameter of the handler"):
        @APIRouter(route_class=LinkRoute).get("/t/{token}/b")
        def page(n: Annotated[int, Depends(_inner)]) -> None: ...


def test_a_task_link_on_another_route_class_is_refused(env: AppEnv) -> None:
    router = APIRouter(prefix="/t")

    @router.get("/{token}/lain")
    def unchecked(link: TaskLinkDep) -> str:
        return link.token  # would be the token unchecked

    env.client.app.include_router(router)
    with pytest.raises(RuntimeError, match="outside a LinkRoute"):
        env.client.get("/t/apa-saja/lain")


def _count_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    trips: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return trips


def test_a_task_page_and_an_action_cost_one_trip_each_and_commit(
        env: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(env.rt.engine) as s:
        org = make_org(s)
    open_planning_now(env.rt)
    staf = path_of(last_mail(env.rt, org["staf1"].email, "undangan_skp").context["link"])
    trips = _count_trips(monkeypatch)

    page = env.client.get(staf)
    assert page.status_code == 200
    assert len(trips) == 1, trips
    # the page's own write (the superior is told that the cascade waits) was committed
    assert last_mail(env.rt, org["kasi"].email, "menunggu_rhk_atasan")

    trips.clear()
    r = env.client.post(f"{staf}/rhk", data={"jenis": "utama", "uraian": "Mengolah data"},
                        follow_redirects=False)
    assert r.status_code == 303, r.text
    assert len(trips) == 1, trips
    assert "Mengolah data" in env.client.get(staf).text

    trips.clear()
    bad = env.client.get(staf[:-3] + ("AAA" if not staf.endswith("AAA") else "BBB"))
    assert bad.status_code == 403  # a tampered link is refused as before


def test_nothing_is_committed_when_the_handler_fails(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        org = make_org(s)
    open_planning_now(env.rt)
    staf = path_of(last_mail(env.rt, org["staf1"].email, "undangan_skp").context["link"])
    router = APIRouter(prefix="/t", route_class=LinkRoute)

    @router.post("/{token}/gagal")
    def fails(link: TaskLinkDep, session: SessionDep) -> None:
        link.person.nama = "Diubah"
        session.add(link.person)
        session.flush()
        raise RuntimeError("after a write")

    env.client.app.include_router(router)
    with pytest.raises(RuntimeError, match="after a write"):
        env.client.post(f"{staf}/gagal")
    with Session(env.rt.engine) as s:
        assert s.get(Pegawai, org["staf1"].id).nama == org["staf1"].nama
