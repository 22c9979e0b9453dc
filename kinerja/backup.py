"""`kinerja backup` and `kinerja restore`: one self-describing archive of the application database
(and the bukti dukung files), restorable into SQLite or PostgreSQL alike.

The archive is a gzipped tar:

    manifest.json            format, Kinerja version, Alembic revision, source dialect, created_at,
                             every table in insertion (foreign key) order with its columns, row
                             count and the SHA-256 of its data file; the evidence files' count
    data/<table>.jsonl       one JSON array per row, values in the manifest's column order
    files/aa/bb/<sha256>     the evidence files, named by the SHA-256 of their content

Values are portable: a datetime is {"$dt": ISO 8601 with offset}, a date {"$date": ...}, a time
{"$time": ...}, a decimal {"$dec": "..."}, bytes {"$b64": "..."}; an enum is the name the database
stores; a JSON column holds its JSON text as a string (null is SQL NULL, "null" is JSON null).

The copy is one consistent snapshot: on PostgreSQL every table is read in one REPEATABLE READ,
read-only transaction; on SQLite in one read transaction (WAL lets the app keep writing). Rows are
streamed in chunks, never a whole table in memory. Evidence files are written once and never
changed (content-addressed), and are copied after the snapshot, so every file a row of the
snapshot names is already there.

A restore refuses, changing nothing, a database that is not empty (unless `force`), an archive
made at another Alembic revision than this code's head, and an archive whose checksums do not
match. It migrates the empty schema, then inserts every table in foreign key order in chunks,
resets PostgreSQL's sequences, and commits once: all or nothing.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Enum,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    cast,
    inspect,
    null,
    select,
    type_coerce,
    update,
)
from sqlalchemy import text as sql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

FORMAT = "kinerja-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK_ROWS = 1000
_FILE_MEMBER = re.compile(r"files/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_DATA_MEMBER = re.compile(r"data/([A-Za-z0-9_]+)\.jsonl")

Progress = Callable[[str, int], None]


class BackupRefused(Exception):
    """A refusal with nothing changed (the CLI's exit code 2); the message is bilingual."""


# -- helpers ---------------------------------------------------------------------------------

def tables() -> list[Table]:
    """Every table of the application, parents before children."""
    import models.tables  # noqa: F401  (registers every table)

    return list(SQLModel.metadata.sorted_tables)


def code_head() -> str:
    """The Alembic head revision of this code."""
    from alembic.script import ScriptDirectory

    from models.db import alembic_config

    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return ",".join(sorted(heads))


def kinerja_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kinerja")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def default_archive(folder: Path, now: datetime) -> Path:
    """folder/kinerja-<UTC time>.tar.gz (a suffix if that name is taken); the CLI's folder is
    KINERJA_HOME/backups."""
    folder = Path(folder)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"kinerja-{stamp}.tar.gz"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"kinerja-{stamp}-{n}.tar.gz"
    return path


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(sql("SELECT version_num FROM alembic_version")).scalars().all()
    return ",".join(sorted(rows)) or None


def _is_json(col: Any) -> bool:
    t = col.type
    return isinstance(t, JSON) or (isinstance(t, TypeDecorator) and isinstance(t.impl_instance, JSON))


def _is_enum(col: Any) -> bool:
    t = col.type
    return isinstance(t, Enum) or (isinstance(t, TypeDecorator) and isinstance(t.impl_instance, Enum))


def _single_int_pk(table: Table) -> Any | None:
    pk = list(table.primary_key.columns)
    if len(pk) == 1 and isinstance(pk[0].type, Integer):
        return pk[0]
    return None


@contextmanager
def _transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """One real database transaction. On SQLite the driver's own transaction handling would
    leave SELECTs and DDL outside it, so BEGIN and COMMIT are issued explicitly."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                with suppress(Exception):
                    conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT" if write else "ROLLBACK")
        return
    options: dict[str, Any] = {}
    if not write and engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect() as conn:
        conn = conn.execution_options(**options)
        with conn.begin() as txn:
            yield conn
            if not write:
                txn.rollback()


# -- values ----------------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


_TAGS: dict[str, Callable[[str], Any]] = {
    "$dt": datetime.fromisoformat, "$date": date.fromisoformat, "$time": time.fromisoformat,
    "$dec": Decimal, "$b64": base64.b64decode,
}


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        ((tag, raw),) = value.items()
        return _TAGS[tag](raw)
    return value


def _decode_json(value: str | None) -> Any:
    # SQL NULL stays SQL NULL; JSON null (None after loads) is stored as JSON null
    return null() if value is None else json.loads(value)


def _columns_read(table: Table) -> list[Any]:
    """What a backup selects: JSON as its stored text, an enum as the stored name."""
    out = []
    for col in table.columns:
        if _is_json(col):
            out.append(cast(col, Text).label(col.name))
        elif _is_enum(col):
            out.append(type_coerce(col, String()).label(col.name))
        else:
            out.append(col)
    return out


# -- backup ----------------------------------------------------------------------------------

@dataclass
class _Spooled:
    name: str
    path: Path
    columns: list[str]
    rows: int
    sha256: str


def backup(url: str, out: Path, *, now: datetime, evidence_root: Path | None = None,
           on_table: Progress | None = None) -> dict[str, Any]:
    """Write the archive to `out` (atomically: a partial file is never left under that name) and
    return its manifest. `evidence_root` None leaves the files out."""
    from models.db import make_engine

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".kinerja-backup-") as tmp:
            spooled, revision = _dump(engine, Path(tmp), on_table)
            manifest: dict[str, Any] = {
                "format": FORMAT, "format_version": FORMAT_VERSION,
                "kinerja_version": kinerja_version(), "alembic_revision": revision,
                "dialect": engine.dialect.name, "created_at": now.isoformat(),
                "tables": [{"name": s.name, "file": f"data/{s.name}.jsonl", "columns": s.columns,
                            "rows": s.rows, "sha256": s.sha256} for s in spooled],
            }
            partial = out.with_name(out.name + ".partial")
            try:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as raw, \
                        tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                    # the manifest goes first, but its file facts are known only after the
                    # files: they are counted before writing, the bytes copied after
                    files = (_evidence_files(Path(evidence_root)) if evidence_root is not None
                             else [])
                    manifest["files"] = {"included": evidence_root is not None,
                                         "count": len(files),
                                         "bytes": sum(size for _, _, size in files)}
                    _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False)
                               .encode(), now)
                    for s in spooled:
                        info = tarfile.TarInfo(f"data/{s.name}.jsonl")
                        info.size, info.mode, info.mtime = s.path.stat().st_size, 0o600, int(
                            now.timestamp())
                        with s.path.open("rb") as f:
                            tar.addfile(info, f)
                        s.path.unlink()
                    for sha, path, size in files:
                        info = tarfile.TarInfo(f"files/{sha[:2]}/{sha[2:4]}/{sha}")
                        info.size, info.mode, info.mtime = size, 0o600, int(now.timestamp())
                        with path.open("rb") as f:
                            tar.addfile(info, f)
                    raw.flush()
                    os.fsync(raw.fileno())
                os.replace(partial, out)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
    finally:
        engine.dispose()
    return manifest


def _dump(engine: Engine, tmp: Path, on_table: Progress | None) -> tuple[list[_Spooled], str]:
    """Every table into a JSON-lines file, inside one read transaction."""
    head = code_head()
    spooled: list[_Spooled] = []
    with _transaction(engine, write=False) as conn:
        revision = _revision(conn)
        if revision is None:
            raise BackupRefused(
                "Basis data belum berskema Kinerja (tidak ada alembic_version) / the database has "
                "no Kinerja schema (no alembic_version): nothing to back up.")
        if revision != head:
            raise BackupRefused(
                f"Skema basis data pada revisi {revision}, kode ini {head}: jalankan "
                f"`kinerja migrate` dulu / the database is at revision {revision}, this code at "
                f"{head}: run `kinerja migrate` first.")
        for table in tables():
            columns = [c.name for c in table.columns]
            stmt = select(*_columns_read(table)).order_by(*table.primary_key.columns)
            path = tmp / f"{table.name}.jsonl"
            digest = hashlib.sha256()
            rows = 0
            with path.open("wb") as f:
                result = conn.execution_options(yield_per=CHUNK_ROWS).execute(stmt)
                for chunk in result.partitions():
                    data = b"".join(
                        json.dumps([_encode(v) for v in row], ensure_ascii=False,
                                   separators=(",", ":")).encode() + b"\n" for row in chunk)
                    digest.update(data)
                    f.write(data)
                    rows += len(chunk)
            spooled.append(_Spooled(table.name, path, columns, rows, digest.hexdigest()))
            if on_table is not None:
                on_table(table.name, rows)
    return spooled, revision


def _evidence_files(root: Path) -> list[tuple[str, Path, int]]:
    """(sha256, path, size) of every well-formed evidence file under root (a file whose content
    does not match its name is left out: a restore would refuse it)."""
    found: list[tuple[str, Path, int]] = []
    if not root.is_dir():
        return found
    for path in sorted(root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")):
        sha = path.name
        if not path.is_file() or not re.fullmatch(r"[0-9a-f]{64}", sha) \
                or path.parent.name != sha[2:4] or path.parent.parent.name != sha[:2]:
            continue
        if _sha256_of(path) != sha:
            continue
        found.append((sha, path, path.stat().st_size))
    return found


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, now: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(now.timestamp())
    tar.addfile(info, io.BytesIO(data))


# -- restore ---------------------------------------------------------------------------------

def read_manifest(archive: Path) -> dict[str, Any]:
    """The manifest alone (it is the archive's first member)."""
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                if member.name == MANIFEST:
                    return _load_manifest(tar.extractfile(member))
                break
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupRefused(f"Bukan arsip Kinerja yang terbaca / not a readable Kinerja archive: "
                            f"{exc}") from exc
    raise BackupRefused("Arsip tanpa manifest.json / the archive has no manifest.json")


def _load_manifest(f: IO[bytes] | None) -> dict[str, Any]:
    try:
        manifest = json.loads(f.read() if f is not None else b"")
    except ValueError as exc:
        raise BackupRefused(f"manifest.json rusak / is corrupt: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused("Bukan arsip Kinerja / not a Kinerja archive (manifest format)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupRefused(
            f"Format arsip versi {manifest.get('format_version')} tidak dikenal kode ini "
            f"(versi {FORMAT_VERSION}) / unknown archive format version")
    entries = manifest.get("tables")
    if not isinstance(entries, list) or not all(
            isinstance(t, dict) and isinstance(t.get("name"), str)
            and isinstance(t.get("columns"), list) and isinstance(t.get("rows"), int)
            and isinstance(t.get("sha256"), str) for t in entries) \
            or not isinstance(manifest.get("files", {}), dict):
        raise BackupRefused("manifest.json tidak lengkap / is incomplete (tables)")
    return manifest


def verify(archive: Path) -> dict[str, Any]:
    """Read the whole archive once: every table's row count and checksum, every file's content
    against its name, the member order. Returns the manifest or raises BackupRefused."""
    manifest: dict[str, Any] | None = None
    seen: list[str] = []
    files = 0
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                f = tar.extractfile(member)
                if manifest is None:
                    if member.name != MANIFEST:
                        raise BackupRefused("Arsip tanpa manifest.json di awal / the archive does "
                                            "not start with manifest.json")
                    manifest = _load_manifest(f)
                    continue
                m = _DATA_MEMBER.fullmatch(member.name)
                if m and f is not None:
                    seen.append(m.group(1))
                    entry = _entry(manifest, m.group(1))
                    digest, rows = hashlib.sha256(), 0
                    for line in f:
                        digest.update(line)
                        rows += 1
                    if digest.hexdigest() != entry["sha256"] or rows != entry["rows"]:
                        raise BackupRefused(
                            f"Arsip rusak: data tabel {entry['name']} tidak cocok dengan "
                            f"checksum-nya / corrupt archive: table {entry['name']} does not "
                            f"match its checksum ({rows} rows read, {entry['rows']} expected)")
                    continue
                m = _FILE_MEMBER.fullmatch(member.name)
                if m and f is not None:
                    sha = m.group(3)
                    if m.group(1) != sha[:2] or m.group(2) != sha[2:4] \
                            or hashlib.sha256(f.read()).hexdigest() != sha:
                        raise BackupRefused(f"Arsip rusak: berkas bukti {sha[:12]}… tidak cocok "
                                            f"/ corrupt archive: evidence file does not match "
                                            f"its name")
                    files += 1
                    continue
                raise BackupRefused(f"Isi arsip tak dikenal / unexpected archive member: "
                                    f"{member.name}")
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise BackupRefused(f"Arsip rusak atau terpotong / corrupt or truncated archive: "
                            f"{exc}") from exc
    if manifest is None:
        raise BackupRefused("Arsip kosong / empty archive")
    expected = [t["name"] for t in manifest["tables"]]
    missing = [name for name in expected if name not in seen]
    if missing:
        raise BackupRefused(
            f"Arsip rusak atau terpotong: {len(missing)} tabel tidak ada / corrupt or truncated "
            f"archive: {len(missing)} tables missing ({', '.join(missing[:5])}"
            f"{', …' if len(missing) > 5 else ''})")
    if seen != expected:
        raise BackupRefused("Urutan tabel arsip tidak sesuai manifest / the archive's tables are "
                            "not in the manifest's order")
    if files != manifest.get("files", {}).get("count", 0):
        raise BackupRefused(f"Arsip tidak lengkap: {files} berkas bukti, manifest menyebut "
                            f"{manifest['files']['count']} / incomplete archive: evidence files")
    return manifest


def _entry(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    for entry in manifest["tables"]:
        if entry["name"] == name:
            return entry
    raise BackupRefused(f"Tabel {name} tidak ada di manifest / table not in the manifest")


def _check_compatible(manifest: dict[str, Any]) -> None:
    head = code_head()
    revision = manifest.get("alembic_revision")
    if revision != head:
        raise BackupRefused(
            f"Revisi skema berbeda: arsip {revision} (Kinerja {manifest.get('kinerja_version')}), "
            f"kode ini {head}. Pulihkan dengan versi Kinerja yang membuat arsip, lalu jalankan "
            f"`kinerja migrate` dengan versi ini / schema revision mismatch: the archive is at "
            f"{revision} (made by Kinerja {manifest.get('kinerja_version')}), this code at {head}. "
            f"Restore with the Kinerja version that made it, then run `kinerja migrate` with "
            f"this one.")
    known = {t.name: {c.name for c in t.columns} for t in tables()}
    archived = {t["name"]: set(t["columns"]) for t in manifest["tables"]}
    if known != archived:
        diff = sorted(set(known) ^ set(archived)) or sorted(
            n for n in known if known[n] != archived.get(n))
        raise BackupRefused(f"Tabel arsip tidak sama dengan skema kode / the archive's tables "
                            f"differ from this code's schema: {', '.join(diff)}")


def non_empty_tables(conn: Connection) -> list[str]:
    """The application tables that hold rows (missing tables count as empty)."""
    existing = set(inspect(conn).get_table_names())
    return [t.name for t in tables() if t.name in existing
            and conn.execute(select(1).select_from(t).limit(1)).first() is not None]


def _refuse_not_empty(busy: list[str]) -> None:
    raise BackupRefused(
        f"Basis data tujuan tidak kosong ({', '.join(busy[:5])}{'…' if len(busy) > 5 else ''} "
        f"berisi data); tidak ada yang diubah. Pakai --force untuk menggantinya / the target "
        f"database is not empty; nothing was changed. Use --force to replace its contents.")


def restore(archive: Path, url: str, *, force: bool = False, evidence_root: Path | None = None,
            on_table: Progress | None = None) -> dict[str, Any]:
    """Restore `archive` into the database at `url` (and its files into `evidence_root`, when
    given and the archive has them). Returns the manifest; raises BackupRefused with nothing
    changed."""
    from alembic.util import CommandError

    from models.db import make_engine, migrate

    archive = Path(archive)
    if not archive.is_file():
        raise BackupRefused(f"Berkas tidak ditemukan / file not found: {archive}")
    manifest = verify(archive)
    _check_compatible(manifest)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            busy = non_empty_tables(conn)
        if busy and not force:
            _refuse_not_empty(busy)
        try:
            migrate(url)
        except CommandError as exc:  # e.g. a database migrated by a newer Kinerja
            raise BackupRefused(f"Skema basis data tujuan tidak dapat dinaikkan ke {code_head()} "
                                f"/ the target's schema cannot be brought to {code_head()}: "
                                f"{exc}") from exc
        with _transaction(engine, write=True) as conn:
            if conn.dialect.name == "postgresql":  # SQLite: BEGIN IMMEDIATE did the same
                names = ", ".join(conn.dialect.identifier_preparer.format_table(t)
                                  for t in tables())
                conn.execute(sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
            busy = non_empty_tables(conn)  # again, now that no one else can write
            if busy and not force:
                _refuse_not_empty(busy)
            if busy:
                _clear(conn)
            _load(conn, archive, manifest, evidence_root, on_table)
    finally:
        engine.dispose()
    return manifest


def _clear(conn: Connection) -> None:
    """Empty every application table; the audit log's append-only guard is lifted for this and
    put back in the same transaction."""
    from models.repo.audit import drop_guard, restore_guard

    drop_guard(conn)
    ordered = tables()
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.format_table(t) for t in ordered)
        conn.execute(sql(f"TRUNCATE {names} RESTART IDENTITY"))
    else:
        for t in reversed(ordered):
            conn.execute(t.delete())
    restore_guard(conn)


def _load(conn: Connection, archive: Path, manifest: dict[str, Any], evidence_root: Path | None,
          on_table: Progress | None) -> None:
    from kinerja.storage import EvidenceStore

    by_name = {t.name: t for t in tables()}
    order = {name: i for i, name in enumerate(t["name"] for t in manifest["tables"])}
    store = EvidenceStore(evidence_root) if evidence_root is not None else None
    deferred: list[tuple[Table, str, list[dict[str, Any]]]] = []
    with tarfile.open(archive, mode="r|gz") as tar:
        for member in tar:
            m = _DATA_MEMBER.fullmatch(member.name)
            f = tar.extractfile(member)
            if m and f is not None:
                entry = _entry(manifest, m.group(1))
                table = by_name[entry["name"]]
                rows = _load_table(conn, table, entry, f, order, deferred)
                if on_table is not None:
                    on_table(table.name, rows)
                continue
            m = _FILE_MEMBER.fullmatch(member.name)
            if m and f is not None and store is not None:
                data = f.read()
                if hashlib.sha256(data).hexdigest() != m.group(3):
                    raise BackupRefused("Arsip berubah saat dipulihkan / the archive changed "
                                        "during the restore")
                store.put(data)
    for table, column, values in deferred:
        pk = _single_int_pk(table)
        assert pk is not None
        stmt = update(table).where(pk == bindparam("b_pk")).values({column: bindparam("b_v")})
        for i in range(0, len(values), CHUNK_ROWS):
            conn.execute(stmt, values[i:i + CHUNK_ROWS])
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn)


def _load_table(conn: Connection, table: Table, entry: dict[str, Any], f: IO[bytes],
                order: dict[str, int], deferred: list[tuple[Table, str, list[dict[str, Any]]]]
                ) -> int:
    """Insert one table's rows in chunks. A foreign key to a row not inserted yet (a superior
    with a higher id, or a table later in the order) is inserted empty and set afterwards."""
    columns: list[str] = entry["columns"]
    decoders = [_decode_json if _is_json(table.c[name]) else _decode for name in columns]
    pk = _single_int_pk(table)
    later: dict[str, tuple[bool, list[dict[str, Any]]]] = {}
    for fk in table.foreign_keys:
        target = fk.column.table
        if target is table or order.get(target.name, -1) >= order[table.name]:
            if pk is None or not fk.parent.nullable:
                raise BackupRefused(f"Tabel {table.name}: kunci asing {fk.parent.name} tidak "
                                    f"dapat dipulihkan berurutan / cannot be restored in order")
            # a self-reference to the table's own id needs deferring only when it points ahead
            later[fk.parent.name] = (target is table and fk.column is pk, [])
    digest = hashlib.sha256()
    stmt = table.insert()
    batch: list[dict[str, Any]] = []
    count = 0
    for line in f:
        digest.update(line)
        values = json.loads(line)
        row = {name: dec(v) for name, dec, v in zip(columns, decoders, values, strict=True)}
        for name, (own_pk, pending) in later.items():
            v = row[name]
            if v is not None and not (own_pk and v < row[pk.name]):  # type: ignore[union-attr]
                pending.append({"b_pk": row[pk.name], "b_v": v})  # type: ignore[union-attr]
                row[name] = None
        batch.append(row)
        if len(batch) >= CHUNK_ROWS:
            conn.execute(stmt, batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(stmt, batch)
        count += len(batch)
    if digest.hexdigest() != entry["sha256"] or count != entry["rows"]:
        raise BackupRefused("Arsip berubah saat dipulihkan / the archive changed during the "
                            "restore")
    for name, (_own, pending) in later.items():
        if pending:
            deferred.append((table, name, pending))
    return count


def _reset_sequences(conn: Connection) -> None:
    """Each serial id's next value becomes max(id)+1 (1 for an empty table)."""
    prep = conn.dialect.identifier_preparer
    for table in tables():
        pk = _single_int_pk(table)
        if pk is None:
            continue
        qt, qc = prep.format_table(table), prep.quote(pk.name)
        conn.execute(sql(
            f"SELECT setval(seq, COALESCE((SELECT MAX({qc}) FROM {qt}), 0) + 1, false) "
            f"FROM pg_get_serial_sequence(:t, :c) AS seq WHERE seq IS NOT NULL"),
            {"t": qt, "c": pk.name})
