"""`kinerja backup` and `kinerja restore`: an archive of realistic data restored into brand-new
SQLite and PostgreSQL databases is the same row for row (ids included) with the same evidence
files, across dialects both ways; refusals change nothing; PostgreSQL's sequences are reset.

The source is the session's test database (SQLite, then PostgreSQL in the suite's second pass);
the targets are created here: a SQLite file and a database on the local PostgreSQL server."""

from __future__ import annotations

import io
import json
import os
import tarfile
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, null, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from kinerja.backup import backup as backup_db
from kinerja.backup import code_head, read_manifest
from kinerja.cli import main
from kinerja.storage import EvidenceStore
from models.db import make_engine, session_scope
from models.repo.audit import record
from models.repo.hr import create_hr_user
from models.rules.enums import JenisBukti, JenisDialog, JenisJabatan, JenisRhk
from models.tables import AuditLog, Bukti, Dialog, Iki, Pegawai, Realisasi, Rhk, Skp, Unit
from tests.api.helpers import open_planning_now
from tests.conftest import PG_ADMIN_DEFAULT, _pg_admin
from tests.factories import T0, make_org, make_pegawai, runtime_for

PG_SERVER = os.environ.get("KINERJA_TEST_PG_URL", PG_ADMIN_DEFAULT)
PDF = b"%PDF-1.4\n% bukti dukung: laporan kegiatan triwulan I\n%%EOF\n"


@pytest.fixture
def new_pg() -> Iterator[Callable[[], str]]:
    """Creates brand-new empty PostgreSQL databases on the local server; drops them after."""
    names: list[str] = []

    def create() -> str:
        name = f"kinerja_bk_{uuid.uuid4().hex[:10]}"
        with _pg_admin(PG_SERVER) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return PG_SERVER.rsplit("/", 1)[0] + "/" + name

    yield create
    with _pg_admin(PG_SERVER) as conn:
        for name in names:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _build(engine: Engine, home: Path) -> None:
    """Realistic data through the app's own functions: an organisation, an HR user, a cycle
    with planning open (SKP drafts, tasks, outbox), RHK cascaded to a superior's RHK with a
    higher id, a superior added after their subordinate, audit rows (ORM, record, SQL NULL),
    a dialog (a date), a realisasi (a float) and an uploaded evidence file."""
    rt = runtime_for(engine, home)
    with session_scope(engine) as s:
        org = make_org(s)
        create_hr_user(session=s, username="admin", password="rahasia-hr-panjang",
                       nama="Admin BKPSDM", email="hr@contoh.go.id", now=T0)
    open_planning_now(rt)
    with session_scope(engine) as s:
        unit = s.get(Unit, org["kadis"].unit_id)
        assert unit is not None
        sekda = make_pegawai(s, unit, nama="Sekretaris Daerah — Ñoman Ütama",
                             jabatan="Sekretaris Daerah", jenis_jabatan=JenisJabatan.JPT)
        kadis = s.get(Pegawai, org["kadis"].id)
        assert kadis is not None
        kadis.atasan_id = sekda.id  # points ahead: restored after the row it points to
        skp_of = {p: s.execute(select(Skp).where(Skp.pegawai_id == org[p].id)).scalar_one()
                  for p in ("kadis", "kabid", "staf1")}
        rhk_kabid = Rhk(skp_id=skp_of["kabid"].id, uraian="Meningkatnya layanan")
        s.add(rhk_kabid)
        s.flush()
        rhk_kadis = Rhk(skp_id=skp_of["kadis"].id, uraian="Indeks pendidikan \"naik\"")
        s.add(rhk_kadis)
        s.flush()
        rhk_kabid.intervensi_rhk_id = rhk_kadis.id
        rhk_staf = Rhk(skp_id=skp_of["staf1"].id, jenis=JenisRhk.TAMBAHAN, uraian="Data valid",
                       intervensi_rhk_id=rhk_kabid.id)
        s.add(rhk_staf)
        s.flush()
        iki = Iki(rhk_id=rhk_staf.id, indikator="Persentase data valid", target="95",
                  satuan="%")
        s.add(iki)
        s.flush()
        s.add(Realisasi(skp_id=skp_of["staf1"].id, iki_id=iki.id, periode=1, nilai=97.25,
                        uraian="Baris 1\nbaris 2 — selesai", updated_at=T0))
        s.add(Dialog(skp_id=skp_of["staf1"].id, periode=2, jenis=JenisDialog.COACHING,
                     tanggal=date(2027, 7, 1), catatan="Tindak lanjut data",
                     ppk_id=org["kasi"].id, created_at=T0))
        digest = EvidenceStore(home / "bukti").put(PDF)
        s.add(Bukti(skp_id=skp_of["staf1"].id, periode=1, iki_id=iki.id, jenis=JenisBukti.BERKAS,
                    sha256=digest, nama_berkas="laporan.pdf", content_type="application/pdf",
                    size=len(PDF), created_at=T0))
        record(session=s, now=T0, actor="hr:admin", action="cycle.luncurkan", entity="cycle",
               entity_id=1, before={"status": "DRAFT"}, after={"status": "LAUNCHED", "n": [1.5]},
               via="cli")
        # a row written by SQL rather than the ORM: SQL NULL (not JSON null) in the JSON columns
        s.execute(AuditLog.__table__.insert().values(
            at=T0, actor="sistem", action="impor", entity="pegawai", before=null(), after=null(),
            via="sistem"))


def _snapshot(engine: Engine) -> dict[str, Any]:
    """Every table's rows in id order, as the app reads them; and how many JSON cells of the
    audit log are SQL NULL."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            out[table.name] = [tuple(r) for r in conn.execute(
                select(table).order_by(*table.primary_key.columns))]
        audit = AuditLog.__table__
        out["sql-null json"] = conn.execute(select(func.count()).select_from(audit).where(
            audit.c.before.is_(None))).scalar_one()
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _cli(monkeypatch: pytest.MonkeyPatch, evidence: Path, *argv: str) -> int:
    monkeypatch.setenv("KINERJA_EVIDENCE_DIR", str(evidence))
    return main(list(argv))


def _compare(source: dict[str, Any], url: str) -> None:
    target = make_engine(url)
    try:
        got = _snapshot(target)
    finally:
        target.dispose()
    assert got.keys() == source.keys()
    for name in source:
        assert got[name] == source[name], name


def test_round_trip_into_new_sqlite_and_postgresql(db: Engine, db_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   new_pg: Callable[[], str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("KINERJA_HOME", str(home))
    _build(db, home)
    source = _snapshot(db)
    assert source["pegawai"] and source["skp"] and source["task"] and source["outboxmessage"]
    assert source["sql-null json"] == 1 and len(source["auditlog"]) >= 4

    archive = tmp_path / "a.tar.gz"
    assert _cli(monkeypatch, home / "bukti", "backup", "--database-url", db_url,
                "--out", str(archive)) == 0
    assert str(archive) in capsys.readouterr().out
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data and password hashes
    manifest = read_manifest(archive)
    assert manifest["alembic_revision"] == code_head()
    assert manifest["dialect"] == db.dialect.name
    assert manifest["kinerja_version"] and manifest["created_at"]
    assert {t["name"]: t["rows"] for t in manifest["tables"]} == {
        t.name: len(source[t.name]) for t in SQLModel.metadata.sorted_tables}
    assert all(len(t["sha256"]) == 64 for t in manifest["tables"])
    assert manifest["files"] == {"included": True, "count": 1, "bytes": len(PDF)}
    with tarfile.open(archive) as tar:
        line = tar.extractfile("data/dialog.jsonl").read()  # type: ignore[union-attr]
    assert {"$date": "2027-07-01"} in json.loads(line)

    # into a brand-new PostgreSQL database
    pg_url = new_pg()
    assert _cli(monkeypatch, tmp_path / "pg-bukti", "restore", str(archive),
                "--database-url", pg_url) == 0
    assert "dipulihkan/restored" in capsys.readouterr().out
    _compare(source, pg_url)
    assert _files(tmp_path / "pg-bukti") == _files(home / "bukti")

    # and back: the PostgreSQL copy's own archive into a brand-new SQLite file
    again = tmp_path / "b.tar.gz"
    assert _cli(monkeypatch, tmp_path / "pg-bukti", "backup", "--database-url", pg_url,
                "--out", str(again)) == 0
    assert read_manifest(again)["dialect"] == "postgresql"
    lite_url = f"sqlite:///{tmp_path / 'restored.db'}"
    assert _cli(monkeypatch, tmp_path / "lite-bukti", "restore", str(again),
                "--database-url", lite_url) == 0
    _compare(source, lite_url)
    assert _files(tmp_path / "lite-bukti") == _files(home / "bukti")

    # new rows in the restored databases get fresh ids (PostgreSQL's sequences were reset)
    for url in (pg_url, lite_url):
        eng = make_engine(url)
        try:
            with session_scope(eng) as s:
                unit = s.get(Unit, source["unit"][0][0])
                assert unit is not None
                p = make_pegawai(s, unit, nip="199901012020011001")
                record(session=s, now=T0, actor="hr:admin", action="uji", entity="pegawai",
                       entity_id=p.id)
                s.flush()
                assert p.id == max(r[0] for r in source["pegawai"]) + 1
                new_audit = s.execute(select(func.max(AuditLog.id))).scalar_one()
                assert new_audit == max(r[0] for r in source["auditlog"]) + 1
        finally:
            eng.dispose()


def test_a_database_with_data_is_replaced_only_with_force(db: Engine, db_url: str,
                                                          tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          new_pg: Callable[[], str],
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    """On SQLite the clear deletes (the audit log's guard lifted and put back in the same
    transaction); on PostgreSQL it truncates. Either way the guard is there afterwards."""
    home = tmp_path / "home"
    monkeypatch.setenv("KINERJA_HOME", str(home))
    _build(db, home)
    source = _snapshot(db)
    archive = tmp_path / "a.tar.gz"
    assert _cli(monkeypatch, home / "bukti", "backup", "--database-url", db_url,
                "--out", str(archive)) == 0
    for url in (f"sqlite:///{tmp_path / 'target.db'}", new_pg()):
        evidence = tmp_path / f"bukti-{url[:6]}"
        assert _cli(monkeypatch, evidence, "restore", str(archive), "--database-url", url) == 0
        target = make_engine(url)
        try:
            with session_scope(target) as s:  # the target lives on: new people, audit lines
                p = make_pegawai(s, s.get(Unit, source["unit"][0][0]), nip="199901012020011002")
                record(session=s, now=T0, actor="hr:admin", action="uji", entity="pegawai",
                       entity_id=p.id)
            before = _snapshot(target)
            capsys.readouterr()

            assert _cli(monkeypatch, evidence, "restore", str(archive), "--database-url",
                        url) == 2
            err = capsys.readouterr().err
            assert "tidak kosong" in err and "not empty" in err and "--force" in err
            assert _snapshot(target) == before

            assert _cli(monkeypatch, evidence, "restore", str(archive), "--database-url", url,
                        "--force") == 0
            _compare(source, url)
            assert _files(evidence) == _files(home / "bukti")
            # the audit log's guard was lifted for the clear only: it is back
            with pytest.raises(Exception, match="append-only"), target.begin() as conn:
                conn.execute(text("DELETE FROM auditlog"))
            with pytest.raises(Exception, match="append-only"), target.begin() as conn:
                conn.execute(text("UPDATE auditlog SET actor = 'x'"))
        finally:
            target.dispose()


def _rewrite(src: Path, dst: Path, change: Callable[[str, bytes], bytes]) -> None:
    with tarfile.open(src) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(dst, "w:gz") as out:
        for member, data in members:
            data = change(member.name, data)
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


def test_corrupt_archives_and_other_revisions_are_refused_with_nothing_written(
        db: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("KINERJA_HOME", str(home))
    monkeypatch.setenv("KINERJA_DATABASE_URL", db_url)
    _build(db, home)
    assert _cli(monkeypatch, home / "bukti", "backup") == 0  # the default place and name
    (archive,) = (home / "backups").glob("kinerja-*.tar.gz")
    capsys.readouterr()
    target = tmp_path / "target.db"
    evidence = tmp_path / "target-bukti"

    def refused(path: Path, *words: str) -> None:
        assert _cli(monkeypatch, evidence, "restore", str(path), "--database-url",
                    f"sqlite:///{target}") == 2
        err = capsys.readouterr().err
        for word in words:
            assert word in err, err
        assert not target.exists() and not evidence.exists()  # nothing written, not even a schema

    def one_name_changed(name: str, data: bytes) -> bytes:
        return data.replace(b"Staf Satu", b"Staf Palsu") if name == "data/pegawai.jsonl" else data

    corrupt = tmp_path / "corrupt.tar.gz"
    _rewrite(archive, corrupt, one_name_changed)
    refused(corrupt, "pegawai", "checksum")

    def one_row_dropped(name: str, data: bytes) -> bytes:
        return b"".join(data.splitlines(keepends=True)[1:]) if name == "data/task.jsonl" else data

    _rewrite(archive, corrupt, one_row_dropped)
    refused(corrupt, "task", "checksum")

    def evidence_changed(name: str, data: bytes) -> bytes:
        return data + b"x" if name.startswith("files/") else data

    _rewrite(archive, corrupt, evidence_changed)
    refused(corrupt, "bukti", "evidence")

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused(truncated, "corrupt or truncated")

    def older_revision(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["alembic_revision"] = "0005"
        return json.dumps(manifest).encode()

    older = tmp_path / "older.tar.gz"
    _rewrite(archive, older, older_revision)
    refused(older, "0005", code_head(), "kinerja migrate", "Kinerja 0")

    refused(tmp_path / "missing.tar.gz", "not found")

    # the untouched archive restores, without its files when asked
    assert _cli(monkeypatch, evidence, "restore", str(archive), "--database-url",
                f"sqlite:///{target}", "--without-files") == 0
    _compare(_snapshot(db), f"sqlite:///{target}")
    assert not evidence.exists()


def test_backup_is_one_consistent_snapshot(db: Engine, db_url: str, tmp_path: Path) -> None:
    """A row committed by someone else while the backup runs is not in it (every table is read
    in the same transaction), and the backup finishes without waiting for that writer."""
    with session_scope(db) as s:
        org = make_org(s)
    units = len(_snapshot(db)["unit"])
    seen: list[str] = []

    def meanwhile(table: str, rows: int) -> None:
        seen.append(table)
        if table == "auditlog":  # the first table: everything else is still to be read
            with session_scope(db) as s:
                extra = Unit(nama="Dinas Baru")
                s.add(extra)
                s.flush()
                make_pegawai(s, extra, atasan_id=org["kadis"].id)

    archive = tmp_path / "snap.tar.gz"
    manifest = backup_db(db_url, archive, now=T0, evidence_root=None, on_table=meanwhile)
    assert seen == [t.name for t in SQLModel.metadata.sorted_tables]
    counts = {t["name"]: t["rows"] for t in manifest["tables"]}
    assert counts["unit"] == units and counts["pegawai"] == 5
    assert manifest["files"] == {"included": False, "count": 0, "bytes": 0}
    assert len(_snapshot(db)["pegawai"]) == 6
