"""Task pages under load: wrk against uvicorn, GET the SKP page and POST the SKP submit, with a
bare endpoint reading one row as the baseline, and the page's reads alone in that same bare
endpoint (what the page costs before it renders anything)."""

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


#: connections for the paced run: enough that one slow response does not stall the pace
HALF_CONNECTIONS = 8
#: rounds of the page and its baselines in turns (see pages)
ROUNDS = 3


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run of median throughput (its latencies with it)."""
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def _paced(folder: Path, gap_ms: float) -> Path:
    """A wrk script where each connection waits `gap_ms` after a response (wrk's delay())."""
    path = folder / "paced.lua"
    path.write_text(f"function delay()\n  return {max(0.0, gap_ms):.1f}\nend\n")
    return path


def paced_run(url: str, seconds: int, rate: float, folder: Path) -> dict[str, float]:
    """wrk holding the offered load near `rate` req/s: HALF_CONNECTIONS connections, each
    waiting between its requests. A short first run measures the response time at that pace,
    the gap is corrected by it, then the measured run."""
    cycle_ms = HALF_CONNECTIONS * 1000.0 / max(rate, 1.0)  # each connection's period
    trial = wrk(url, max(3, seconds // 3), HALF_CONNECTIONS, str(_paced(folder, cycle_ms)))
    service_ms = max(0.0, HALF_CONNECTIONS * 1000.0 / max(trial["rps"], 1.0) - cycle_ms)
    return wrk(url, seconds, HALF_CONNECTIONS, str(_paced(folder, cycle_ms - service_ms)))


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


#: SKPs made ready to submit: enough for the submit run never to reach one already submitted
SUBMITTERS = 6000


def _ready_to_submit(rt: Runtime, cycle_id: int, limit: int) -> list[tuple[int, int]]:
    """Give the first `limit` people, superiors first, a complete SKP (one main RHK linked to the
    superior's, with an IKI) through the repository, as they would through the page; returns
    their SUSUN_SKP (task id, pegawai id) in that order."""
    from models.repo import skp as skp_repo
    from models.tables import Pegawai

    with session_scope(rt.engine) as s:
        boss = dict(s.execute(select(Pegawai.id, Pegawai.atasan_id).where(Pegawai.active)).all())

    def depth(pid: int) -> int:
        d = 0
        while boss.get(pid):
            pid, d = boss[pid], d + 1
        return d

    chosen = sorted(boss, key=lambda pid: (depth(pid), pid))[:limit]
    for i in range(0, len(chosen), 500):
        with session_scope(rt.engine) as s:
            for pid in chosen[i:i + 500]:
                skp = skp_repo.skp_of(session=s, cycle_id=cycle_id, pegawai_id=pid)
                view = skp_repo.load_view(session=s, skp=skp)
                link = view.atasan_rhk[0].id if view.cascade.needs_intervensi else None
                skp_repo.add_rhk(session=s, view=view, jenis="utama", uraian="Hasil kerja utama",
                                 intervensi_rhk_id=link, now=rt.clock.now(),
                                 iki=skp_repo.IkiInput("Dokumen selesai", "4", "dokumen"))
                s.flush()
    with session_scope(rt.engine) as s:
        tasks = dict(s.execute(select(Task.pegawai_id, Task.id).where(
            Task.kind == TaskKind.SUSUN_SKP)).all())
    return [(tasks[pid], pid) for pid in chosen]


def _submit_script(folder: Path, tokens: list[str]) -> Path:
    """wrk: each request submits the next SKP of the list (the two threads take turns), so no
    SKP is submitted twice while the list lasts (past its end the repeats are refused, 409,
    and counted as errors)."""
    path = folder / "submit.lua"
    listed = ",\n".join(f'"{t}"' for t in tokens)
    path.write_text(f"""tokens = {{\n{listed}\n}}
local threads = 0
function setup(thread)
  thread:set("first", threads)
  threads = threads + 1
end
function init(args)
  i = first
end
function request()
  i = i + 2
  local t = tokens[((i - 1) % #tokens) + 1]
  return wrk.format("POST", "/t/" .. t .. "/ajukan",
    {{["Content-Type"] = "application/x-www-form-urlencoded"}}, "")
end
""")
    return path


def pages(rt: Runtime, n: int, port: int, label: str = "sqlite", seconds: int = 10) -> list[Figure]:
    cycle_id = new_cycle(rt, 2031)
    open_direct(rt, cycle_id)
    ready = _ready_to_submit(rt, cycle_id, min(n, SUBMITTERS + 1))
    now = rt.clock.now()
    # the page read: the deepest person made ready (a superior with RHK to link to, their own
    # RHK and IKI), kept out of the submit run so that it stays a draft
    reader = rt.links.task(*ready[-1], now).split("/t/", 1)[1]
    submitters = [rt.links.task(t, p, now).split("/t/", 1)[1] for t, p in ready[:-1]]
    env = dict(os.environ, KINERJA_DATABASE_URL=rt.db.url, KINERJA_SECRET_KEY="bench",
               KINERJA_HOME=str(rt.api.home), KINERJA_DEV="false")
    script = _submit_script(Path(tempfile.mkdtemp()), submitters)
    figures = []
    app, app_port = _serve("api.main:app", env)
    bare, bare_port = _serve("kinerja.bench.bare:app", env)
    try:
        page_url = f"http://127.0.0.1:{app_port}/t/{reader}"
        # the page and its baselines in turns, three rounds, the median of each: this machine's
        # speed drifts by a fifth within minutes, so one run after the other compared moments
        rounds: dict[str, list[dict[str, float]]] = {"get": [], "base": [], "reads": []}
        wrk(page_url, 2, 16)
        wrk(f"http://127.0.0.1:{bare_port}/row/{ready[-1][1]}", 2, 16)  # both warm
        for _ in range(ROUNDS):
            rounds["base"].append(wrk(f"http://127.0.0.1:{bare_port}/row/{ready[-1][1]}",
                                      seconds, 16))
            rounds["get"].append(wrk(page_url, seconds, 16))
            rounds["reads"].append(wrk(f"http://127.0.0.1:{bare_port}/reads/{reader}",
                                       seconds, 16))
        get, base, reads = (_median(rounds[k]) for k in ("get", "base", "reads"))
        light = wrk(page_url, seconds, 2)
        half = paced_run(page_url, seconds, get["rps"] / 2, script.parent)
        post = wrk(f"http://127.0.0.1:{app_port}/", seconds, 16, str(script))
    finally:
        for proc in (app, bare):
            proc.terminate()
            proc.wait(10)
    for name, r in (("get_skp", get), ("submit_skp", post)):
        refused = f"; {r['errors']:.0f} answers not 2xx/3xx" if r["errors"] else ""
        figures.append(Figure(f"pages.{label}.{name}.throughput", n, r["rps"], "req/s",
                              base["rps"], "bare endpoint reading one row (medians of 3 rounds "
                              "in turns)" + refused))
        figures.append(Figure(f"pages.{label}.{name}.p50", n, r["p50_ms"], "ms", base["p50_ms"],
                              "bare endpoint p50"))
        figures.append(Figure(f"pages.{label}.{name}.p99", n, r["p99_ms"], "ms", base["p99_ms"],
                              "bare endpoint p99"))
    figures.append(Figure(f"pages.{label}.get_skp.reads_only.throughput", n, reads["rps"], "req/s",
                          base["rps"], "the page's reads alone (link check and SKP view) in the "
                          "bare endpoint, against the bare endpoint reading one row"
                          + (f"; {reads['errors']:.0f} answers not 2xx" if reads["errors"] else "")))
    figures.append(Figure(f"pages.{label}.get_skp.throughput_vs_reads_only", n, get["rps"],
                          "req/s", reads["rps"], "the page against its reads alone"))
    figures.append(Figure(f"pages.{label}.get_skp.p99_light_load", n, light["p99_ms"], "ms", None,
                          f"2 connections ({light['rps']:.0f} req/s)"))
    figures.append(Figure(f"pages.{label}.get_skp.p99_half_load", n, half["p99_ms"], "ms", None,
                          f"paced to half the maximum: {half['rps']:.0f} of {get['rps']:.0f} "
                          f"req/s, {HALF_CONNECTIONS} connections"))
    return figures
