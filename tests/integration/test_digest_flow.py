"""The `kirim-ringkasan` flow under a real Prefect server: chunked, counts only, one digest per
person and day however often it runs."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from flows.common import use_runtime
from flows.digest import send_digests
from flows.planning import open_planning
from kinerja.clock import FixedClock
from models.db import session_scope
from models.repo.cycles import create_cycle
from models.rules import calendar
from models.rules.enums import Ringkasan
from models.tables import OutboxMessage, Pegawai
from tests.factories import T0, make_org, make_pegawai, make_unit, runtime_for

pytestmark = pytest.mark.usefixtures("prefect_harness")

MORNING = T0 + timedelta(hours=23)  # 06:00 WIB the next day


@pytest.fixture
def setup(db: Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    rt = runtime_for(db, tmp_path, FixedClock(T0))  # chunks of 2 people
    with session_scope(db) as s:
        org = make_org(s)
        unit = make_unit(s, "Dinas Kesehatan")
        for _ in range(7):  # kadis: 8 subordinates in all
            make_pegawai(s, unit, atasan_id=org["kadis"].id)
        for key in ("kabid", "staf1", "staf2"):
            s.get(Pegawai, org[key].id).ringkasan = Ringkasan.HARIAN
        s.get(Pegawai, org["kasi"].id).ringkasan = Ringkasan.SETIAP
        cycle = create_cycle(session=s, tahun=2027, now=T0, actor="test",
                             planning=calendar.compressed_planning(T0, 10 * 1440))
        cycle.status = "launched"
    with use_runtime(rt):
        yield rt, cycle.id, org


def _digests(engine: Engine) -> Counter[int]:
    with session_scope(engine) as s:
        return Counter(s.execute(select(OutboxMessage.pegawai_id).where(
            OutboxMessage.kind == "ringkasan_harian")).scalars())


def test_two_runs_on_the_same_day_send_one_digest_each(setup) -> None:  # type: ignore[no-untyped-def]
    rt, cycle_id, org = setup
    open_planning(cycle_id, now=T0.isoformat())
    # harian: each has their own SKP to draft; kasi (setiap) and the other staff: nothing held
    first = send_digests(now=MORNING.isoformat())
    assert first["dikirim"] == 3 and first["butir"] == 3 and first["ditahan_terkirim"] == 3
    assert first["diperiksa"] >= 3 and first["sudah_hari_ini"] == 0
    want = {org[k].id: 1 for k in ("kabid", "staf1", "staf2")}
    assert _digests(rt.engine) == want

    again = send_digests(now=(MORNING + timedelta(hours=12)).isoformat())
    assert again["dikirim"] == 0 and again["sudah_hari_ini"] == 3
    assert _digests(rt.engine) == want

    # the next day the people still waiting get the next one
    third = send_digests(now=(MORNING + timedelta(days=1)).isoformat())
    assert third["dikirim"] == 3 and third["ditahan_terkirim"] == 0
    assert _digests(rt.engine) == {pid: 2 for pid in want}
