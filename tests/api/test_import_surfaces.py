"""The organisation import through its three doors: console page, JSON API, `kinerja import`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from models.db import session_scope
from models.tables import Pegawai
from tests.api.conftest import AppEnv
from tests.integration.test_org_import import organisation, to_csv


def _people(env: AppEnv) -> int:
    with session_scope(env.rt.engine) as s:
        return s.execute(select(func.count()).select_from(Pegawai)).scalar_one()


def _bad_file() -> bytes:
    rows = organisation()
    rows[1][0] = "12345"  # NIP too short
    rows[2][2] = "bukan-email"
    return to_csv(rows)


def test_console_import_lists_problems_by_row_and_saves_nothing(env: AppEnv) -> None:
    env.login()
    r = env.client.post("/hr/import", files={"file": ("pegawai.csv", _bad_file(), "text/csv")})
    assert r.status_code == 422
    assert "tidak ada data yang disimpan" in r.text
    assert "<td class=\"n\">3</td><td>NIP</td>" in r.text  # row 3 (header is row 1), column NIP
    assert "<td class=\"n\">4</td><td>Email</td>" in r.text
    assert _people(env) == 0
    ok = env.client.post("/hr/import", files={"file": ("pegawai.csv", to_csv(organisation()),
                                                       "text/csv")})
    assert ok.status_code == 200 and "4 ditambahkan" in ok.text
    assert _people(env) == 4


def test_api_import(env: AppEnv) -> None:
    env.login()
    r = env.client.post("/api/v1/import", files={"file": ("p.csv", _bad_file(), "text/csv")})
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert {(p["row"], p["column"]) for p in problems} >= {(3, "NIP"), (4, "Email")}
    assert _people(env) == 0
    r = env.client.post("/api/v1/import", files={"file": ("p.csv", to_csv(organisation()), "text/csv")})
    assert r.json() == {"added": 4, "updated": 0, "unchanged": 0}
    r = env.client.post("/api/v1/import", files={"file": ("p.csv", to_csv(organisation()), "text/csv")})
    assert r.json() == {"added": 0, "updated": 0, "unchanged": 4}
    assert len(env.client.get("/api/v1/pegawai").json()) == 4


def test_command_line_import(env: AppEnv, tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_bytes(_bad_file())
    good.write_bytes(to_csv(organisation()))
    cmd_env = os.environ | {"KINERJA_DATABASE_URL": env.rt.db.url, "KINERJA_HOME": str(tmp_path)}
    run = lambda f: subprocess.run([sys.executable, "-m", "kinerja.cli", "import", str(f)],  # noqa: E731
                                   capture_output=True, text=True, env=cmd_env, timeout=120)
    r = run(bad)
    assert r.returncode == 1 and "baris 3, kolom NIP" in r.stderr
    assert _people(env) == 0
    r = run(good)
    assert r.returncode == 0 and "ditambahkan/added 4" in r.stdout
    assert _people(env) == 4
