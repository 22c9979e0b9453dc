"""First start: migrate, seed the demo agency and an HR login; remember the generated password."""

from __future__ import annotations

import secrets
from pathlib import Path

from kinerja.runtime import Runtime
from models.db import migrate, session_scope
from models.repo import kompetensi
from models.repo.hr import create_hr_user, hr_user_count
from models.repo.people import active_pegawai_ids


def prepare(rt: Runtime, *, demo: bool = True, demo_size: int = 300) -> dict[str, str]:
    """Bring the database up to date; on an empty one seed the demo agency and an admin."""
    migrate(rt.db.url)
    home = Path(rt.api.home)
    pw_file = home / "admin-password.txt"
    now = rt.clock.now()
    with session_scope(rt.engine) as s:
        if hr_user_count(session=s) == 0:
            password = secrets.token_urlsafe(9)
            create_hr_user(session=s, username="admin", password=password,
                           nama="Pengelola Kinerja", email="bkpsdm@contoh.go.id", now=now)
            home.mkdir(parents=True, exist_ok=True)
            pw_file.write_text(password)
            pw_file.chmod(0o600)
        kompetensi.ensure_defaults(session=s)
        if demo and not active_pegawai_ids(session=s):
            from kinerja.seed import seed_demo_agency

            seed_demo_agency(session=s, now=now, n=demo_size)
    password = pw_file.read_text().strip() if pw_file.exists() else "(lihat pengaturan Anda)"
    return {"username": "admin", "password": password}
