"""Plain factory functions for tests: make_unit, make_pegawai, make_org, runtime_for."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from kinerja.clock import FixedClock
from kinerja.runtime import Runtime
from kinerja.settings import ApiSettings, DatabaseSettings, PrefectSettings, SmtpSettings
from kinerja.storage import EvidenceSettings
from models.rules.enums import JenisJabatan
from models.tables import Pegawai, Unit

T0 = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
_nip = count(1)


def make_unit(session: Session, nama: str = "Dinas Pendidikan") -> Unit:
    unit = Unit(nama=nama)
    session.add(unit)
    session.flush()
    return unit


def make_pegawai(session: Session, unit: Unit, **overrides: object) -> Pegawai:
    n = next(_nip)
    values = {"nip": f"19800101200501{n:04d}", "nama": f"Pegawai {n}",
              "email": f"pegawai{n}@contoh.go.id", "jabatan": "Pengelola Data",
              "jenis_jabatan": JenisJabatan.PELAKSANA, "unit_id": unit.id, "updated_at": T0}
    p = Pegawai(**(values | overrides))
    session.add(p)
    session.flush()
    return p


def make_org(session: Session) -> dict[str, Pegawai]:
    """kadis (JPT) <- kabid (Administrator) <- kasi (Pengawas) <- staf1, staf2 (Pelaksana)."""
    unit = make_unit(session)
    kadis = make_pegawai(session, unit, nama="Kepala Dinas", jabatan="Kepala Dinas",
                         jenis_jabatan=JenisJabatan.JPT)
    kabid = make_pegawai(session, unit, nama="Kepala Bidang", jabatan="Kepala Bidang",
                         jenis_jabatan=JenisJabatan.ADMINISTRATOR, atasan_id=kadis.id)
    kasi = make_pegawai(session, unit, nama="Kepala Seksi", jabatan="Kepala Seksi",
                        jenis_jabatan=JenisJabatan.PENGAWAS, atasan_id=kabid.id)
    staf1 = make_pegawai(session, unit, nama="Staf Satu", atasan_id=kasi.id)
    staf2 = make_pegawai(session, unit, nama="Staf Dua", atasan_id=kasi.id)
    return {"kadis": kadis, "kabid": kabid, "kasi": kasi, "staf1": staf1, "staf2": staf2}


def runtime_for(engine: Engine, home: Path, clock: FixedClock | None = None,
                smtp_port: int = 9) -> Runtime:
    return Runtime(
        api=ApiSettings(home=home, secret_key="test-secret", base_url="http://testserver",
                        dev=True),
        db=DatabaseSettings(home=home, database_url=engine.url.render_as_string(hide_password=False)
                            if engine is not None else ""),
        smtp=SmtpSettings(port=smtp_port, dev_server=False),
        prefect=PrefectSettings(api_url="http://127.0.0.1:9/api", chunk_size=2),
        engine=engine, clock=clock or FixedClock(T0),
        evidence=EvidenceSettings(dir=home / "bukti", max_bytes=256 * 1024))
