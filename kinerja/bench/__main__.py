"""python -m kinerja.bench [--size N] [--only launch,dispatch,...] [--out FILE] [--pg URL]

Each workload runs in its own process (so its peak RSS is its own) on a fresh database, against
Postfix's smtp-sink started here; one JSON line per figure goes to stdout and to the results file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kinerja.bench.common import runtime, seed, smtp_sink

ORDER = ["launch", "dispatch", "sweep", "scoring", "overhead", "pages"]


def one(args: argparse.Namespace) -> None:
    """Run one workload in this process and print its figures."""
    from kinerja.bench.pages import pages
    from kinerja.bench.workloads import WORKLOADS

    rt = runtime(Path(args.home), args.db, args.port, datetime.now(UTC).replace(microsecond=0))
    if args.one == "seed":  # its own process, so a workload's peak RSS is the workload's
        seed(rt, args.size)
        return
    if args.one == "pages":
        figures = pages(rt, args.size, args.port, args.label)
    else:
        figures = WORKLOADS[args.one](rt, args.size, args.port)
    for f in figures:
        print(f.line(), flush=True)


def _database(pg: str, home: Path, name: str) -> tuple[str, object]:
    if not pg:
        return f"sqlite:///{home / (name + '.db')}", None
    import psycopg

    db = f"kinerja_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    return pg.rsplit("/", 1)[0] + "/" + db, (pg, db)


def _drop(handle: object) -> None:
    if handle is None:
        return
    import psycopg

    pg, db = handle  # type: ignore[misc]
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=%s", (db,))
        conn.execute(f'DROP DATABASE IF EXISTS "{db}"')


def main() -> int:
    ap = argparse.ArgumentParser(prog="kinerja-bench")
    ap.add_argument("--size", type=int, default=2000)
    ap.add_argument("--only", default=",".join(ORDER))
    ap.add_argument("--out", default="bench-results.jsonl")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                    help="server for the PostgreSQL page figures ('' to skip)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--home", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--label", default="sqlite", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args)
        return 0
    wanted = [w for w in ORDER if w in args.only.split(",")]
    runs = [(w, "") for w in wanted] + ([("pages", args.pg)] if "pages" in wanted and args.pg else [])
    status = 0
    with smtp_sink() as port, open(args.out, "a") as out:
        for workload, pg in runs:
            home = Path(tempfile.mkdtemp(prefix=f"kinerja-bench-{workload}-"))
            url, handle = _database(pg, home, workload)
            try:
                common = ["--size", str(args.size), "--db", url, "--home", str(home),
                          "--port", str(port), "--label", "postgresql" if pg else "sqlite"]
                subprocess.run([sys.executable, "-m", "kinerja.bench", "--one", "seed", *common],
                               check=True, capture_output=True)
                proc = subprocess.run([sys.executable, "-m", "kinerja.bench", "--one", workload,
                                       *common], capture_output=True, text=True)
            finally:
                _drop(handle)
            for line in proc.stdout.splitlines():
                if line.startswith("{"):
                    json.loads(line)
                    print(line, flush=True)
                    out.write(line + "\n")
            if proc.returncode:
                status = 1
                print(f"{workload} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
