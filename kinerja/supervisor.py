"""`kinerja run`: every process of the embedded default, started and stopped together."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kinerja.bootstrap import prepare
from kinerja.runtime import Runtime


def _wait_http(url: str, seconds: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"process exited early ({proc.returncode}) while waiting for {url}")
        with contextlib.suppress(httpx.HTTPError):  # not listening yet
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {url}")


def _spawn(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
    """A child that reacts to SIGINT even if ours was ignored when we were started."""
    return subprocess.Popen(args, env=env, cwd=cwd,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def child_env(rt: Runtime) -> dict[str, str]:
    """Environment for children: Prefect's home and API under KINERJA_HOME; dev intervals."""
    home = Path(rt.api.home).resolve()
    env = dict(os.environ)
    env.setdefault("KINERJA_HOME", str(home))
    env.setdefault("PREFECT_HOME", str(home / "prefect"))
    env.setdefault("PREFECT_API_DATABASE_CONNECTION_URL",
                   f"sqlite+aiosqlite:///{home / 'prefect' / 'prefect.db'}")
    env["PREFECT_API_URL"] = rt.prefect.api
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_UI_URL", rt.prefect.ui)
    if rt.api.dev:  # the demo moves in minutes, not days
        env.setdefault("KINERJA_PREFECT_DISPATCH_INTERVAL_SECONDS", "15")
        env.setdefault("KINERJA_PREFECT_REMINDER_CRON", "* * * * *")
        env.setdefault("KINERJA_PREFECT_ORCHESTRATOR_POLL_SECONDS", "10")
    return env


def run() -> int:
    rt = Runtime.from_env()
    login = prepare(rt, demo=rt.api.dev)  # the demo agency only in development
    env = child_env(rt)
    procs: list[subprocess.Popen] = []
    smtp = None
    owns_prefect = not rt.prefect.api_url

    def stop(*_: object) -> None:
        # the API and the flow server first (they talk to Prefect while shutting down), then
        # the Prefect server
        for group in (procs[1:] if owns_prefect else procs, procs[:1] if owns_prefect else []):
            for p in group:
                if p.poll() is None:  # SIGINT: Prefect's runner shuts down cleanly on it
                    p.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 10
            for p in group:
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
        if smtp is not None:
            smtp.stop()

    # Ctrl-C and a service manager's TERM both stop everything, even when started in the
    # background (where a shell leaves SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if owns_prefect:
            Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
            procs.append(_spawn(
                [sys.executable, "-m", "prefect", "server", "start", "--host", rt.prefect.host,
                 "--port", str(rt.prefect.port)], env))
        _wait_http(f"{rt.prefect.api}/health", 120, procs[0] if procs else None)
        ensure_automation(rt)
        if rt.smtp.dev_server:
            from notifications.devsmtp import start_dev_smtp

            smtp = start_dev_smtp(Path(rt.api.home).resolve() / "mail", rt.smtp.host, rt.smtp.port)
        procs.extend(_flow_processes(rt, env))
        procs.append(_spawn(
            [sys.executable, "-m", "uvicorn", "--factory", "api.main:app", "--host", rt.api.host,
             "--port", str(rt.api.port), "--log-level", "warning",
             "--workers", str(rt.api.api_workers)], env))
        _wait_http(f"http://{rt.api.host}:{rt.api.port}/healthz", 60, procs[-1])
        base = rt.api.public_url
        print(f"""
Kinerja berjalan / is running
  Konsol HR / HR console : {base}/hr   (login: {login['username']} / {login['password']})
  API (OpenAPI)          : {base}/docs
  Kotak surat / Mailbox  : {base}/dev/mailbox
  Prefect UI             : {rt.prefect.ui}
  Data                   : {Path(rt.api.home).resolve()}
Tekan Ctrl-C untuk berhenti / Ctrl-C stops everything.
""", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print("a child process stopped; shutting down", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


def _flow_processes(rt: Runtime, env: dict[str, str]) -> list[subprocess.Popen]:
    """Who runs the flows: this machine's `serve-flows` (the embedded default), or, with
    KINERJA_PREFECT_WORKERS=N, N Prefect workers on the process work pool after the deployments
    of prefect.yaml are registered there (the production profile on one machine)."""
    if rt.prefect.workers == 0:
        return [_spawn([sys.executable, "-m", "kinerja.cli", "serve-flows"], env)]
    from kinerja.deploy import APP_DIR, DeployFailed, deploy

    try:
        names = deploy(rt)
    except DeployFailed as exc:
        raise SystemExit(f"deploy gagal / failed: {exc}") from exc
    print(f"{len(names)} deployment di work pool / in work pool {rt.prefect.work_pool!r}; "
          f"{rt.prefect.workers} pekerja / workers", flush=True)
    return [_spawn([sys.executable, "-m", "prefect", "worker", "start", "--pool",
                    rt.prefect.work_pool, "--type", "process", "--name", f"kinerja-{n + 1}"],
                   env, cwd=APP_DIR) for n in range(rt.prefect.workers)]


def ensure_automation(rt: Runtime) -> None:
    """The Prefect automation that emails the operators when a flow run fails; a warning (not a
    stop) when Prefect refuses it, since everything else still works without it."""
    from kinerja.operations import (
        PrefectUnavailable,
        ensure_failure_automation,
        ops_secret,
        webhook_url,
    )

    try:
        ensure_failure_automation(rt.prefect.api, webhook_url(rt.api, rt.ops), ops_secret(rt.api))
    except PrefectUnavailable as exc:
        print(f"peringatan/warning: otomasi email kegagalan flow tidak dibuat / the flow failure "
              f"email automation was not set up ({exc}); run `kinerja ensure-automation`",
              file=sys.stderr, flush=True)


def serve_flows() -> None:
    """Serve the deployments in this process (the local alternative to a Prefect worker)."""
    from prefect import serve

    from flows.deployments import local_deployments

    rt = Runtime.from_env()
    # schedules keep running in Prefect while this process restarts
    serve(*local_deployments(rt.prefect, rt.api), print_starting_message=False,
          pause_on_shutdown=False)
