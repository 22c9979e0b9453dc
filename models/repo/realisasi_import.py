"""HR's bulk realisasi import (CSV or XLSX): check every row, then write everything or nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models.importer import read_sheet
from models.repo.audit import record
from models.repo.cycles import get_cycle
from models.rules.enums import StageCode
from models.rules.realisasi_import import (
    IkiRef,
    RealisasiLookup,
    RealisasiRow,
    SkpRef,
    nips_in,
    parse_realisasi,
)
from models.tables import Cycle, CycleStage, Iki, Pegawai, Realisasi, Rhk, Skp

__all__ = ["RealisasiImportResult", "import_realisasi"]

SUMBER = "impor"
_CHUNK = 900  # values per IN (...): under SQLite's parameter limit


@dataclass(frozen=True)
class RealisasiImportResult:
    rows: int
    created: int
    updated: int
    unchanged: int


def import_realisasi(*, session: Session, cycle_id: int, data: bytes, filename: str,
                     now: datetime, actor: str) -> RealisasiImportResult:
    """Record the file's realisasi (sumber 'impor') for the cycle; flushes, never commits.

    Any problem raises ImportRejected and writes nothing. A realisasi already recorded for the
    same IKI and period (by the pegawai or an earlier import) is replaced; one AuditLog row
    records the import with its counts.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    cycle = get_cycle(session=session, cycle_id=cycle_id)
    sheet = read_sheet(data, filename)
    session.flush()
    lookup = _lookup(session, cycle, nips_in(sheet.header, sheet.rows))
    rows = parse_realisasi(sheet.header, sheet.rows, lookup)
    result = _write(session, rows, now)
    record(session=session, now=now, actor=actor, action="realisasi.impor", entity="cycle",
           entity_id=cycle_id, after={"berkas": filename, "baris": result.rows,
                                      "dibuat": result.created, "diperbarui": result.updated,
                                      "tidak_berubah": result.unchanged})
    session.flush()
    return result


def _lookup(session: Session, cycle: Cycle, nips: set[str]) -> RealisasiLookup:
    """The cycle's closed periods and, for the file's NIPs, who exists and their SKP with IKI."""
    closed = session.execute(select(CycleStage.periode).where(
        CycleStage.cycle_id == cycle.id, CycleStage.code == StageCode.PEMANTAUAN,
        CycleStage.closed_at.is_not(None))).scalars()  # type: ignore[union-attr]
    people = dict(_chunked(session, select(Pegawai.nip, Pegawai.id), Pegawai.nip, nips))
    nip_of = {pid: nip for nip, pid in people.items()}
    skps = {sid: (nip_of[pid], approved is not None) for sid, pid, approved in _chunked(
        session, select(Skp.id, Skp.pegawai_id, Skp.approved_at).where(Skp.cycle_id == cycle.id),
        Skp.pegawai_id, nip_of)}
    iki: dict[int, list[IkiRef]] = {sid: [] for sid in skps}
    for iid, sid, uraian, indikator, jenis in _chunked(
            session, select(Iki.id, Rhk.skp_id, Rhk.uraian, Iki.indikator, Iki.jenis)
            .join(Rhk, Iki.rhk_id == Rhk.id).order_by(Iki.id), Rhk.skp_id, skps):
        iki[sid].append(IkiRef(iid, uraian, indikator, jenis))
    return RealisasiLookup(
        tahun=cycle.tahun, periodisasi=cycle.periodisasi, closed=frozenset(closed),
        pegawai=frozenset(people),
        skp={nip: SkpRef(sid, approved, tuple(iki[sid])) for sid, (nip, approved) in skps.items()})


def _chunked(session: Session, query: Any, column: Any, values: Iterable[Any]) -> list[Any]:
    """The rows of `query` where `column` is one of `values`, a few hundred values a query."""
    wanted = sorted(set(values))
    out: list[Any] = []
    for i in range(0, len(wanted), _CHUNK):
        out.extend(session.execute(query.where(column.in_(wanted[i:i + _CHUNK]))).all())
    return out


def _write(session: Session, rows: Sequence[RealisasiRow], now: datetime,
           ) -> RealisasiImportResult:
    """Insert the new (IKI, periode) pairs, update the changed ones, leave the rest alone."""
    stored = {(iki_id, periode): (rid, nilai, uraian) for rid, iki_id, periode, nilai, uraian
              in _chunked(session, select(Realisasi.id, Realisasi.iki_id, Realisasi.periode,
                                          Realisasi.nilai, Realisasi.uraian),
                          Realisasi.iki_id, {r.iki_id for r in rows})}
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for r in rows:
        old = stored.get((r.iki_id, r.periode))
        values = {"nilai": r.nilai, "uraian": r.uraian, "sumber": SUMBER, "updated_at": now}
        if old is None:
            new.append({"skp_id": r.skp_id, "iki_id": r.iki_id, "periode": r.periode, **values})
        elif (old[1], old[2]) != (r.nilai, r.uraian):
            changed.append({"id": old[0], **values})
    if new:
        session.execute(_upsert(session), new)
    if changed:
        session.execute(update(Realisasi), changed)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Realisasi):
            session.expire(obj)  # bulk statements bypass loaded objects
    return RealisasiImportResult(len(rows), len(new), len(changed),
                                 len(rows) - len(new) - len(changed))


def _upsert(session: Session) -> Any:
    """INSERT .. ON CONFLICT (iki_id, periode) DO UPDATE: a pegawai saving the same IKI and
    period between our read and this write is overwritten, not a failed import."""
    postgres = session.get_bind().dialect.name == "postgresql"
    stmt = (postgresql.insert if postgres else sqlite.insert)(_table())
    return stmt.on_conflict_do_update(
        index_elements=["iki_id", "periode"],
        set_={c: stmt.excluded[c] for c in ("nilai", "uraian", "sumber", "updated_at")})


def _table() -> Table:
    return Realisasi.__table__  # type: ignore[attr-defined, no-any-return]
