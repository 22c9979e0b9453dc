"""Organisation import from CSV or XLSX: check every row, then write everything or nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, update
from sqlmodel import Session, SQLModel, select

from models.rules.errors import InvalidInput
from models.rules.evidence import check_office_zip
from models.rules.org import ImportProblem, ImportRejected, PegawaiRow, Row, check_rows
from models.tables import AuditLog, Pegawai, Unit

__all__ = ["ImportRejected", "ImportResult", "Sheet", "import_organisation", "read_sheet"]

FIELDS = ("nama", "email", "jabatan", "jenis_jabatan", "status", "jenjang", "unit",
          "nip_atasan", "active")  # what the audit log compares and records


@dataclass(frozen=True)
class Sheet:
    header: list[str]
    rows: list[Row]


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    problems: list[ImportProblem] = field(default_factory=list)  # only filled by a dry run


def read_sheet(data: bytes, filename: str) -> Sheet:
    """The header and non-blank rows (with spreadsheet row numbers) of a .csv or .xlsx file."""
    name = filename.lower()
    zipped = data[:4] == b"PK\x03\x04"
    if name.endswith((".xlsx", ".xlsm")) or (zipped and not name.endswith(".csv")):
        return read_xlsx(data)
    if name.endswith((".csv", ".txt")):
        return read_csv(data)
    raise ImportRejected([ImportProblem(
        1, "", f"format berkas '{filename}' tidak didukung; unggah .xlsx atau .csv",
        f"unsupported file type '{filename}'; upload a .xlsx or .csv file")])


def read_csv(data: bytes) -> Sheet:
    """UTF-8 (BOM optional) CSV separated by commas, semicolons or tabs (taken from the header)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ImportRejected([ImportProblem(
            line, "", "berkas bukan teks UTF-8; simpan ulang sebagai 'CSV UTF-8'",
            "the file is not UTF-8 text; save it again as 'CSV UTF-8'")]) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _sheet(enumerate(records, start=1))
    except csv.Error as e:  # a field longer than the csv module allows (128 KiB)
        raise ImportRejected([ImportProblem(
            records.line_num, "", f"baris tidak dapat dibaca: {e}",
            f"the row cannot be read: {e}")]) from None


def read_xlsx(data: bytes) -> Sheet:
    """The first (active) worksheet of an XLSX workbook, values only. A zip that would unpack
    into too much (a zip bomb) is refused before anything is unpacked."""
    from openpyxl import load_workbook

    try:
        check_office_zip(data)
    except InvalidInput as e:
        raise ImportRejected([ImportProblem(1, "", e.message("id"), e.message("en"))]) from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.active
            if sheet is None:
                return Sheet([], [])
            return _sheet(enumerate(sheet.iter_rows(values_only=True), start=1))
        finally:
            book.close()
    except ImportRejected:
        raise
    except Exception as e:  # noqa: BLE001 - hostile bytes: any parser error means unreadable
        raise ImportRejected([ImportProblem(
            1, "", "berkas XLSX tidak dapat dibaca (rusak atau bukan .xlsx)",
            f"the XLSX file cannot be read (damaged or not .xlsx): {type(e).__name__}")]) from None


def _sheet(numbered: Any) -> Sheet:
    """Rows by spreadsheet number; a cell with a NUL character is a problem naming its row and
    column (no name or value holds one, and PostgreSQL cannot store it)."""
    header: list[str] = []
    rows: list[Row] = []
    problems: list[ImportProblem] = []
    for number, cells in numbered:
        if number == 1:
            header = [str(c).strip() if c is not None else "" for c in cells]
        elif any(c is not None and str(c).strip() for c in cells):
            rows.append((number, {h: c for h, c in zip(header, cells, strict=False) if h}))
        for i, c in enumerate(cells):
            if isinstance(c, str) and "\x00" in c:
                column = header[i] if number > 1 and i < len(header) else f"#{i + 1}"
                problems.append(ImportProblem(number, column, "berisi karakter NUL",
                                              "contains a NUL character"))
    if problems:
        raise ImportRejected(problems)
    return Sheet(header, rows)


@dataclass
class _Org:
    """The organisation as stored: units by folded name, people by NIP (audit-shaped fields)."""

    units: dict[str, tuple[int, str, bool]]
    people: dict[str, tuple[int, dict[str, Any]]]


@dataclass
class _Plan:
    new: list[tuple[PegawaiRow, dict[str, Any]]] = field(default_factory=list)
    #: (id, row, full target, before and after of the changed fields only)
    changed: list[tuple[int, PegawaiRow, dict[str, Any], dict[str, Any], dict[str, Any]]] = (
        field(default_factory=list))
    unchanged: int = 0
    new_units: dict[str, str] = field(default_factory=dict)  # folded -> name as first written


def import_organisation(*, session: Session, data: bytes, filename: str, now: datetime,
                        actor: str, dry_run: bool = False) -> ImportResult:
    """Add or update (by NIP) everyone in the file, all or nothing; flushes, never commits.

    Any problem raises ImportRejected and writes nothing (a dry run writes nothing either and
    returns the problems, or the counts when there are none). People listed in the file become
    active; people missing from the file are left as they are (not deactivated), so a file may
    hold part of the organisation. Units named in the file are created when new. Each added or
    changed person gets one AuditLog row with the changed fields only.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    sheet = read_sheet(data, filename)
    session.flush()
    org = _load(session)
    existing = {nip: f["nip_atasan"] for nip, (_, f) in org.people.items() if f["active"]}
    closed = [name for _, name, active in org.units.values() if not active]
    people, problems = check_rows(sheet.header, sheet.rows, existing=existing,
                                  inactive_units=closed)
    if problems and not dry_run:
        raise ImportRejected(problems)
    plan = _plan(people, org) if not problems else _Plan()
    if not dry_run:
        _write(session, plan, org, now=now, actor=actor)
    return ImportResult(len(plan.new), len(plan.changed), plan.unchanged, problems)


def _load(session: Session) -> _Org:
    """Every unit and every employee (active or not), in two queries."""
    units = {nama.casefold(): (uid, nama, active)
             for uid, nama, active in session.exec(select(Unit.id, Unit.nama, Unit.active))}
    unit_name = {uid: nama for uid, nama, _ in units.values()}
    rows = session.exec(select(
        Pegawai.id, Pegawai.nip, Pegawai.nama, Pegawai.email, Pegawai.jabatan,
        Pegawai.jenis_jabatan, Pegawai.status, Pegawai.jenjang, Pegawai.unit_id,
        Pegawai.atasan_id, Pegawai.active)).all()
    nip_of = {r[0]: r[1] for r in rows}
    people: dict[str, tuple[int, dict[str, Any]]] = {}
    for pid, nip, nama, email, jabatan, jenis, status, jenjang, unit_id, atasan_id, active in rows:
        people[nip] = (pid, {
            "nama": nama, "email": email, "jabatan": jabatan, "jenis_jabatan": str(jenis),
            "status": str(status), "jenjang": jenjang, "unit": unit_name[unit_id],
            "nip_atasan": nip_of.get(atasan_id) if atasan_id is not None else None,
            "active": active})
    return _Org(units, people)


def _plan(people: Sequence[PegawaiRow], org: _Org) -> _Plan:
    """Who is new, who changed (and which fields), who is unchanged."""
    plan = _Plan()
    for p in people:
        folded = p.unit.casefold()
        if folded in org.units:
            unit = org.units[folded][1]
        else:
            unit = plan.new_units.setdefault(folded, p.unit)
        target = {"nama": p.nama, "email": p.email, "jabatan": p.jabatan,
                  "jenis_jabatan": str(p.jenis_jabatan), "status": str(p.status),
                  "jenjang": p.jenjang, "unit": unit, "nip_atasan": p.atasan_nip, "active": True}
        if p.nip not in org.people:
            plan.new.append((p, target))
            continue
        pid, current = org.people[p.nip]
        changed = [k for k in FIELDS if current[k] != target[k]]
        if changed:
            plan.changed.append((pid, p, target, {k: current[k] for k in changed},
                                 {k: target[k] for k in changed}))
        else:
            plan.unchanged += 1
    return plan


def _write(session: Session, plan: _Plan, org: _Org, *, now: datetime, actor: str) -> None:
    """Units, then people, then superiors (which may come later in the file), then the audit."""
    unit_id = {k: uid for k, (uid, _, _) in org.units.items()}
    if plan.new_units:
        made = session.exec(insert(_table(Unit)).returning(Unit.id, Unit.nama),
                            params=[{"nama": n, "active": True} for n in plan.new_units.values()])
        unit_id.update({nama.casefold(): uid for uid, nama in made})
    id_of = {nip: pid for nip, (pid, _) in org.people.items()}
    if plan.new:
        made = session.exec(insert(_table(Pegawai)).returning(Pegawai.id, Pegawai.nip), params=[
            _columns(p, target, unit_id, {}, now) for p, target in plan.new])
        id_of.update({nip: pid for pid, nip in made})
    links = [{"id": id_of[p.nip], "atasan_id": id_of[p.atasan_nip]}
             for p, _ in plan.new if p.atasan_nip is not None]
    changes = [{"id": pid, **_columns(p, target, unit_id, id_of, now)}
               for pid, p, target, _, _ in plan.changed]
    for params in (links, changes):
        if params:
            session.exec(update(Pegawai), params=params)
    audit = [_audit(id_of[p.nip], "pegawai.tambah", None, {"nip": p.nip, **target}, now, actor)
             for p, target in plan.new]
    audit += [_audit(pid, "pegawai.ubah", before, after, now, actor)
              for pid, _, _, before, after in plan.changed]
    if audit:
        session.exec(insert(_table(AuditLog)), params=audit)
    session.flush()
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Pegawai | Unit):
            session.expire(obj)  # bulk statements bypass loaded objects


def _table(model: type[SQLModel]) -> Table:
    """The Core table: ORM bulk INSERT .. RETURNING is quadratic in the row count here."""
    return model.__table__  # type: ignore[attr-defined, no-any-return]


def _columns(p: PegawaiRow, target: dict[str, Any], unit_id: dict[str, int],
             id_of: dict[str, int], now: datetime) -> dict[str, Any]:
    """Table columns for one person; superiors left empty when `id_of` is not given."""
    atasan = target["nip_atasan"]
    return {"nip": p.nip, "nama": target["nama"], "email": target["email"],
            "jabatan": target["jabatan"], "jenis_jabatan": p.jenis_jabatan, "status": p.status,
            "jenjang": target["jenjang"], "unit_id": unit_id[target["unit"].casefold()],
            "atasan_id": id_of[atasan] if id_of and atasan is not None else None,
            "active": True, "updated_at": now}


def _audit(pid: int, action: str, before: dict[str, Any] | None, after: dict[str, Any],
           now: datetime, actor: str) -> dict[str, Any]:
    return {"at": now, "actor": actor, "action": action, "entity": "pegawai", "entity_id": pid,
            "before": before, "after": after}
