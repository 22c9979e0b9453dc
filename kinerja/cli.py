"""The `kinerja` command: run, import, simulate, migrate, create-token, serve-flows, deploy,
status, ensure-automation, backup, restore."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _import(args: argparse.Namespace) -> int:
    from kinerja.runtime import Runtime
    from models.db import migrate, session_scope
    from models.importer import ImportRejected, import_organisation

    rt = Runtime.from_env()
    migrate(rt.db.url)
    path = Path(args.file)
    if not path.exists():
        print(f"berkas tidak ditemukan / file not found: {path}", file=sys.stderr)
        return 2
    try:
        with session_scope(rt.engine) as s:
            r = import_organisation(session=s, data=path.read_bytes(), filename=path.name,
                                    now=rt.clock.now(), actor="cli")
    except ImportRejected as exc:
        print(f"Ditolak, tidak ada yang disimpan / Rejected, nothing saved: "
              f"{len(exc.problems)} masalah", file=sys.stderr)
        for p in exc.problems:
            print(f"  baris {p.row}, kolom {p.column}: {p.message_id}", file=sys.stderr)
        return 1
    print(f"ditambahkan/added {r.added}, diperbarui/updated {r.updated}, "
          f"tidak berubah/unchanged {r.unchanged}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from kinerja.runtime import Runtime
    from models.db import migrate, session_scope
    from models.repo.hr import create_api_token
    from models.tables import HrUser

    rt = Runtime.from_env()
    migrate(rt.db.url)
    with session_scope(rt.engine) as s:
        user = s.execute(select(HrUser).where(HrUser.username == args.user)).scalar()
        if user is None:
            print(f"pengguna HR '{args.user}' tidak ada / no such HR user", file=sys.stderr)
            return 1
        print(create_api_token(session=s, user=user, name=args.name, now=rt.clock.now()))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kinerja", description="Kinerja: siklus SKP ASN")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="start everything (database, Prefect, flows, API, dev SMTP)")
    p_imp = sub.add_parser("import", help="import the organisation from CSV or XLSX")
    p_imp.add_argument("file")
    sub.add_parser("migrate", help="bring the database schema up to date (on an empty database "
                   "also the first HR admin, password in KINERJA_HOME/admin-password.txt)")
    p_tok = sub.add_parser("create-token", help="create an API token for another HR system")
    p_tok.add_argument("--user", default="admin")
    p_tok.add_argument("--name", default="simpeg")
    p_sim = sub.add_parser("simulate", help="play a compressed year (planning and every "
                           "monitoring period) against a running Kinerja")
    p_sim.add_argument("--url", default="")
    p_sim.add_argument("--minutes", type=float, default=8.0,
                       help="length of the compressed planning stage (at least 3)")
    p_sim.add_argument("--periodisasi", choices=("triwulanan", "bulanan"), default="triwulanan",
                       help="monitoring periods: quarterly (4) or monthly (12)")
    p_sim.add_argument("--period-minutes", type=float, default=2.0,
                       help="compressed length of one period slot: a period runs 40%% of it "
                       "before the next opens and closes at 100%% (at least 2 for certain "
                       "reminders)")
    p_sim.add_argument("--return-share", type=float, default=0.2)
    p_sim.add_argument("--late-share", type=float, default=0.1)
    p_sim.add_argument("--seed", type=int, default=1)
    p_sim.add_argument("--parallel", type=int, default=1,
                       help="simulated people acting at once (planning, periods); above 1 only "
                       "for a server on PostgreSQL: it also lifts the gate that sends SQLite's "
                       "slow writes one at a time")
    p_sim.add_argument("--feedback-minutes", type=float, default=4.0,
                       help="the 360 stage (and the competency self-assessment), from the second "
                       "period's opening")
    p_sim.add_argument("--survey-respondents", type=int, default=300,
                       help="answers to the public survey (SKM); 0: no survey")
    p_sim.add_argument("--annual-minutes", type=float, default=3.0,
                       help="the annual rating stage's length (opens .. closes), minutes")
    p_sim.add_argument("--keberatan-days", type=float, default=0.004,
                       help="the appeal window after publication, days (0.004: ~6 minutes)")
    sub.add_parser("serve-flows", help="serve the Prefect deployments in this process")
    sub.add_parser("deploy", help="register the deployments of prefect.yaml in the Prefect work "
                   "pool for workers (production; exit 3: Prefect unreachable)")
    p_real = sub.add_parser("import-realisasi", help="import realisasi (NIP, Kode IKI, Periode, "
                            "Realisasi) from CSV or XLSX into a cycle")
    p_real.add_argument("--cycle", type=int, required=True, help="the cycle's id")
    p_real.add_argument("file")
    p_status = sub.add_parser("status", help="the cycle's stages, the last run of each flow and "
                              "recent failures (exit 1: a run failed, 3: Prefect unreachable)")
    p_status.add_argument("--cycle", type=int, default=None, help="the cycle's id (default: latest)")
    p_status.add_argument("--days", type=float, default=1.0,
                          help="failed or crashed runs of the last DAYS count (default 1)")
    p_status.add_argument("--json", action="store_true", help="print JSON instead of text")
    p_status.add_argument("--lang", choices=("id", "en"), default=None)
    p_auto = sub.add_parser("ensure-automation", help="create or update the Prefect automation "
                            "that emails the operators when a flow run fails")
    p_auto.add_argument("--webhook-url", default="",
                        help="where Prefect reaches the app (default: KINERJA_OPS_WEBHOOK_URL "
                        "or the app's URL)")
    p_bak = sub.add_parser("backup", help="write one archive of the database (and the bukti "
                           "dukung files) that restores into SQLite or PostgreSQL")
    p_bak.add_argument("--out", default="", help="the archive, or a folder for it (default: "
                       "KINERJA_HOME/backups/kinerja-<UTC time>.tar.gz)")
    p_bak.add_argument("--without-files", action="store_true",
                       help="leave the evidence files out (the database only)")
    p_bak.add_argument("--database-url", default="",
                       help="the database to back up (default: KINERJA_DATABASE_URL or the "
                       "SQLite file under KINERJA_HOME)")
    p_res = sub.add_parser("restore", help="restore an archive of `kinerja backup` into an empty "
                           "database (exit 2: refused, nothing changed)")
    p_res.add_argument("file")
    p_res.add_argument("--force", action="store_true",
                       help="replace the contents of a database that is not empty")
    p_res.add_argument("--without-files", action="store_true",
                       help="do not restore the evidence files")
    p_res.add_argument("--database-url", default="",
                       help="the database to restore into (default: KINERJA_DATABASE_URL or the "
                       "SQLite file under KINERJA_HOME)")
    from kinerja import pengguna

    pengguna.add_parser(sub)
    args = parser.parse_args(argv)
    if args.cmd == "pengguna":
        return pengguna.run(args)
    if args.cmd == "status":
        return _status(args)
    if args.cmd == "backup":
        return _backup(args)
    if args.cmd == "restore":
        return _restore(args)
    if args.cmd == "ensure-automation":
        return _ensure_automation(args)
    if args.cmd == "run":
        from kinerja.supervisor import run
        return run()
    if args.cmd == "import":
        return _import(args)
    if args.cmd == "migrate":
        return _migrate()
    if args.cmd == "create-token":
        return _token(args)
    if args.cmd == "simulate":
        from kinerja.simulate import simulate
        return simulate(args)
    if args.cmd == "import-realisasi":
        return _import_realisasi(args)
    if args.cmd == "deploy":
        from kinerja.deploy import main as deploy_main
        return deploy_main()
    if args.cmd == "serve-flows":
        from kinerja.supervisor import serve_flows
        serve_flows()
        return 0
    return 2


def _migrate() -> int:
    """The schema up to date, the default competencies, and on a database without HR users the
    first admin login, its generated password kept in KINERJA_HOME/admin-password.txt."""
    from kinerja.bootstrap import prepare
    from kinerja.runtime import Runtime

    rt = Runtime.from_env()
    prepare(rt, demo=False)
    pw_file = Path(rt.api.home).resolve() / "admin-password.txt"
    print("skema basis data mutakhir / database schema up to date")
    if pw_file.exists():
        print(f"login HR pertama / first HR login: admin, kata sandi / password in {pw_file}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from kinerja.backup import BackupRefused, backup, default_archive
    from kinerja.clock import SystemClock
    from kinerja.settings import DatabaseSettings, HomeSettings
    from kinerja.storage import EvidenceSettings

    now = SystemClock().now()
    url = args.database_url or DatabaseSettings().url
    out = Path(args.out) if args.out else HomeSettings().home / "backups"
    if not args.out or out.is_dir():
        out = default_archive(out, now)
    evidence = None if args.without_files else EvidenceSettings().root()
    try:
        manifest = backup(url, out, now=now, evidence_root=evidence)
    except BackupRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"Basis data tidak dapat dibaca / the database cannot be read: {exc}",
              file=sys.stderr)
        return 1
    rows = sum(t["rows"] for t in manifest["tables"])
    files = manifest["files"]
    print(f"cadangan/backup: {out} ({out.stat().st_size} bytes)\n"
          f"  revisi/revision {manifest['alembic_revision']}, {len(manifest['tables'])} tabel/tables, "
          f"{rows} baris/rows, "
          + (f"{files['count']} berkas bukti/evidence files" if files["included"]
             else "tanpa berkas bukti/without evidence files"))
    return 0


def _restore(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from kinerja.backup import BackupRefused, restore
    from kinerja.settings import DatabaseSettings
    from kinerja.storage import EvidenceSettings

    url = args.database_url or DatabaseSettings().url
    evidence = None if args.without_files else EvidenceSettings().root()
    try:
        manifest = restore(Path(args.file), url, force=args.force, evidence_root=evidence)
    except BackupRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"Pemulihan gagal, tidak ada yang disimpan / the restore failed, nothing was "
              f"saved: {exc}", file=sys.stderr)
        return 1
    rows = sum(t["rows"] for t in manifest["tables"])
    files = manifest["files"]["count"] if evidence is not None else 0
    print(f"dipulihkan/restored: {rows} baris/rows in {len(manifest['tables'])} tabel/tables, "
          f"{files} berkas bukti/evidence files (revisi/revision {manifest['alembic_revision']}, "
          f"dari/from {manifest['dialect']}, {manifest['created_at']})")
    return 0


def _status(args: argparse.Namespace) -> int:
    import json

    from kinerja.runtime import Runtime
    from kinerja.status import EXIT_NO_CYCLE, as_json, format_text, gather
    from models.repo.cycles import NotFound

    rt = Runtime.from_env()
    try:
        report = gather(rt, cycle_id=args.cycle, days=args.days)
    except NotFound as exc:
        print(exc.message(args.lang or rt.api.language), file=sys.stderr)
        return EXIT_NO_CYCLE
    if args.json:
        print(json.dumps(as_json(report), indent=2, ensure_ascii=False))
    else:
        print(format_text(report, rt.api.timezone, args.lang or rt.api.language))
    return report.exit_code


def _ensure_automation(args: argparse.Namespace) -> int:
    from kinerja.operations import (
        AUTOMATION_NAME,
        PrefectUnavailable,
        ensure_failure_automation,
        ops_secret,
        webhook_url,
    )
    from kinerja.runtime import Runtime

    rt = Runtime.from_env()
    url = args.webhook_url or webhook_url(rt.api, rt.ops)
    try:
        automation_id = ensure_failure_automation(rt.prefect.api, url, ops_secret(rt.api))
    except PrefectUnavailable as exc:
        print(f"Prefect tidak dapat dihubungi / cannot be reached at {rt.prefect.api}: {exc}",
              file=sys.stderr)
        return 3
    print(f"otomasi/automation '{AUTOMATION_NAME}' {automation_id} -> {url}")
    return 0


def _import_realisasi(args: argparse.Namespace) -> int:
    from kinerja.runtime import Runtime
    from models.db import migrate, session_scope
    from models.importer import ImportRejected
    from models.repo.cycles import NotFound
    from models.repo.realisasi_import import import_realisasi

    rt = Runtime.from_env()
    migrate(rt.db.url)
    path = Path(args.file)
    if not path.exists():
        print(f"berkas tidak ditemukan / file not found: {path}", file=sys.stderr)
        return 2
    try:
        with session_scope(rt.engine) as s:
            r = import_realisasi(session=s, cycle_id=args.cycle, data=path.read_bytes(),
                                 filename=path.name, now=rt.clock.now(), actor="cli")
    except NotFound as exc:
        print(exc.message(), file=sys.stderr)
        return 2
    except ImportRejected as exc:
        print(f"Ditolak, tidak ada yang disimpan / Rejected, nothing saved: "
              f"{len(exc.problems)} masalah", file=sys.stderr)
        for p in exc.problems:
            print(f"  baris {p.row}, kolom {p.column}: {p.message_id}", file=sys.stderr)
        return 1
    print(f"baris/rows {r.rows}: baru/created {r.created}, diperbarui/updated {r.updated}, "
          f"tidak berubah/unchanged {r.unchanged}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
