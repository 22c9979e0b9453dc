"""A cycle whose planning is done and whose first monitoring period is open (no Prefect)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from kinerja.runtime import Runtime
from models.db import session_scope
from models.repo import monitoring
from models.repo.cycles import create_cycle, get_stage
from models.repo.people import active_pegawai_ids
from models.rules import calendar, periods
from models.rules.enums import ArahIki, CycleStatus, JenisIki, JenisRhk, SkpStatus, StageCode
from models.tables import Iki, Pegawai, Rhk, Skp, SkpVersi
from tests.api.helpers import last_mail, path_of
from tests.factories import make_org


@dataclass
class PeriodCase:
    cycle_id: int
    org: dict[str, Pegawai]
    skp: dict[str, int]  # person key -> skp id
    iki: dict[str, list[int]]  # person key -> [count IKI (naik), days IKI (turun), kualitatif]
    rhk: dict[str, int]  # person key -> rhk id


def approved_cycle(rt: Runtime, periodisasi: str = "triwulanan", open_first: bool = True) -> PeriodCase:
    """An org of five with approved SKPs (each: one RHK utama with three IKI), planning closed,
    periods on a compressed calendar from now, the first period opened."""
    now = rt.clock.now()
    with session_scope(rt.engine) as s:
        org = make_org(s)
        plan = calendar.compressed_planning(now - timedelta(minutes=100), 100)
        items = periods.compressed_periods(now, 100, periodisasi)
        cycle = create_cycle(session=s, tahun=now.year, now=now, actor="test", planning=plan,
                             periodisasi=periodisasi, period_dates=items)
        planning = get_stage(session=s, cycle_id=cycle.id, code=StageCode.PERENCANAAN)
        planning.opened_at, planning.closed_at = plan.opens_at, now
        cycle.status = CycleStatus.LAUNCHED
        skp, iki, rhk = {}, {}, {}
        for key, p in org.items():
            row = Skp(cycle_id=cycle.id, pegawai_id=p.id, status=SkpStatus.DISETUJUI,
                      approved_at=now, approved_by_id=p.atasan_id, created_at=now, updated_at=now,
                      submissions=1)
            s.add(row)
            s.flush()
            parent = next((rhk[k] for k, q in org.items() if q.id == p.atasan_id), None)
            r = Rhk(skp_id=row.id, jenis=JenisRhk.UTAMA, uraian=f"Hasil kerja {p.nama}",
                    intervensi_rhk_id=parent)
            s.add(r)
            s.flush()
            ikis = [Iki(rhk_id=r.id, indikator="Dokumen diselesaikan", target="10",
                        satuan="dokumen"),
                    Iki(rhk_id=r.id, indikator="Waktu layanan", target="5", satuan="hari",
                        arah=ArahIki.TURUN),
                    Iki(rhk_id=r.id, indikator="Kualitas laporan", target="Sesuai standar",
                        satuan="laporan", jenis=JenisIki.KUALITATIF)]
            s.add_all(ikis)
            s.flush()
            s.add(SkpVersi(skp_id=row.id, nomor=1, approved_at=now, data={"rhk": []}))
            skp[key], iki[key], rhk[key] = row.id, [i.id for i in ikis], r.id
        if open_first:
            stage = monitoring.get_period_stage(session=s, cycle_id=cycle.id, periode=1)
            monitoring.open_period_chunk(session=s, cycle=cycle, stage=stage,
                                         pegawai_ids=active_pegawai_ids(session=s), now=now,
                                         mail=rt.mail)
            stage.opened_at = now
        return PeriodCase(cycle.id, org, skp, iki, rhk)


def own_link(rt: Runtime, person: Pegawai) -> str:
    return path_of(last_mail(rt, person.email, "undangan_realisasi").context["link"])


def ppk_link(rt: Runtime, person: Pegawai) -> str:
    return path_of(last_mail(rt, person.email, "undangan_penilaian_periodik").context["link"])


def record(rt: Runtime, skp_id: int, periode: int = 1):  # type: ignore[no-untyped-def]
    with session_scope(rt.engine) as s:
        return monitoring.record_of(session=s, skp_id=skp_id, periode=periode)


def version_of(rt: Runtime, skp_id: int, periode: int = 1) -> int:
    return record(rt, skp_id, periode).version


def close_stage(rt: Runtime, cycle_id: int, periode: int = 1) -> None:
    with session_scope(rt.engine) as s:
        from models.tables import Cycle

        cycle = s.get(Cycle, cycle_id)
        stage = monitoring.get_period_stage(session=s, cycle_id=cycle_id, periode=periode)
        monitoring.close_period(session=s, cycle=cycle, stage=stage, now=rt.clock.now(),
                                console_link="http://testserver/hr", mail=rt.mail)


def skp_status(rt: Runtime, skp_id: int) -> str:
    with session_scope(rt.engine) as s:
        return s.execute(select(Skp.status).where(Skp.id == skp_id)).scalar_one()
