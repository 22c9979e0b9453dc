"""Task pages under load: wrk against uvicorn, GET the SKP page and POST an RHK, with a bare
endpoint reading one row as the baseline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from kinerja.bench.common import Figure, free_port
from kinerja.bench.workloads import new_cycle, open_direct
from kinerja.runtime import Runtime
from models.db import session_scope
from models.rules.enums import TaskKind
from models.tables import Task

UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def _seconds(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def wrk(url: str, seconds: int, connections: int, script: str | None = None) -> dict[str, float]:
    cmd = [shutil.which("wrk") or "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"\s(50|99)%\s+(\S+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": 1000 * _seconds(lat.get("50", "nan")),
            "p99_ms": 1000 * _seconds(lat.get("99", "nan")), "errors": float(bad.group(1)) if bad else 0}


def _serve(factory: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", factory, "--port",
                             str(port), "--log-level", "warning", "--no-access-log"], env=env)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return proc, port
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{factory} did not start")


def pages(rt: Runtime, n: int, port: int, label: str = "sqlite", seconds: int = 10) -> list[Figure]:
    open_direct(rt, new_cycle(rt, 2031))
    with session_scope(rt.engine) as s:
        tasks = list(s.execute(select(Task).where(Task.kind == TaskKind.SUSUN_SKP)
                               .order_by(Task.id).limit(2)).scalars())
    reader, writer = (rt.links.task(t.id, t.pegawai_id, rt.clock.now()).split("/t/", 1)[1]
                      for t in tasks)
    env = dict(os.environ, KINERJA_DATABASE_URL=rt.db.url, KINERJA_SECRET_KEY="bench",
               KINERJA_HOME=str(rt.api.home), KINERJA_DEV="false")
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = '
                      '"application/x-www-form-urlencoded"\nwrk.body = "jenis=utama&uraian=Hasil'
                      '+kerja&indikator=Dokumen&target=4&satuan=dokumen"\n')
    figures = []
    app, app_port = _serve("api.main:app", env)
    try:
        get = wrk(f"http://127.0.0.1:{app_port}/t/{reader}", seconds, 16)
        light = wrk(f"http://127.0.0.1:{app_port}/t/{reader}", seconds, 2)
        post = wrk(f"http://127.0.0.1:{app_port}/t/{writer}/rhk", seconds, 16, str(script))
    finally:
        app.terminate()
        app.wait(10)
    bare, bare_port = _serve("kinerja.bench.bare:app", env)
    try:
        base = wrk(f"http://127.0.0.1:{bare_port}/row/{tasks[0].pegawai_id}", seconds, 16)
    finally:
        bare.terminate()
        bare.wait(10)
    for name, r in (("get_skp", get), ("post_rhk", post)):
        figures.append(Figure(f"pages.{label}.{name}.throughput", n, r["rps"], "req/s",
                              base["rps"], "bare endpoint reading one row"))
        figures.append(Figure(f"pages.{label}.{name}.p50", n, r["p50_ms"], "ms", base["p50_ms"],
                              "bare endpoint p50"))
        figures.append(Figure(f"pages.{label}.{name}.p99", n, r["p99_ms"], "ms", base["p99_ms"],
                              "bare endpoint p99"))
    figures.append(Figure(f"pages.{label}.get_skp.p99_light_load", n, light["p99_ms"], "ms", None,
                          f"2 connections ({light['rps']:.0f} req/s)"))
    return figures
