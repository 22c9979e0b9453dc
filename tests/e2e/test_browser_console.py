"""A real browser in the HR console: log in, move a stage date, reassign a PPK, find both in the
audit log. Screenshots are kept under the test artifacts folder."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import Engine

from api.app import create_app
from kinerja.clock import SystemClock
from models.db import session_scope
from models.repo.cycles import get_stage
from models.repo.hr import create_hr_user
from models.rules.calendar import to_local
from models.rules.enums import StageCode
from models.tables import Pegawai
from tests.api.helpers import open_planning_now
from tests.factories import T0, make_org, runtime_for

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")]
PASSWORD = "rahasia-konsol-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def console(db: Engine, tmp_path: Path) -> Iterator[tuple]:
    port = _free_port()
    rt = runtime_for(db, tmp_path, SystemClock())
    rt.api.base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield rt, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_stage_date_ppk_reassignment_and_audit_search(console, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    rt, base = console
    with session_scope(rt.engine) as s:
        org = make_org(s)
        nips = {k: p.nip for k, p in org.items()}
        create_hr_user(session=s, username="pengelola", password=PASSWORD, nama="Pengelola Kinerja",
                       email="pk@contoh.go.id", now=T0)
    cycle_id = open_planning_now(rt, minutes=600)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/hr/cycles/{cycle_id}")
        assert "/hr/login" in page.url
        page.fill("#username", "pengelola")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"**/hr/cycles/{cycle_id}")

        # 1. move the planning stage's close one day later (the last date, so the order holds)
        closes = page.locator("#closes_at")
        old = datetime.fromisoformat(closes.input_value())
        new_value = (old + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        closes.fill(new_value)
        page.click("text=Simpan kalender")
        page.wait_for_load_state()
        assert page.locator("#closes_at").input_value() == new_value
        page.screenshot(path=str(artifacts / "konsol-kalender.png"), full_page=True)
        with session_scope(rt.engine) as s:
            stage = get_stage(session=s, cycle_id=cycle_id, code=StageCode.PERENCANAAN)
            assert to_local(stage.closes_at, "Asia/Jakarta").strftime("%Y-%m-%dT%H:%M") == new_value

        # 2. reassign staf1's PPK to the kabid from the person's page
        page.goto(f"{base}/hr")
        page.fill("#q", nips["staf1"])
        page.click("form[action='/hr/pegawai'] button[type=submit]")
        page.wait_for_url(f"**/hr/pegawai/{nips['staf1']}")
        page.fill("#atasan_nip", nips["kabid"])
        page.click("text=Ganti PPK")
        page.wait_for_load_state()
        assert page.locator("[role=status]").inner_text().startswith("Atasan (PPK) sekarang")
        assert "Kepala Bidang" in page.locator("text=Atasan (PPK)").first.inner_text()
        page.screenshot(path=str(artifacts / "konsol-pegawai.png"), full_page=True)
        with session_scope(rt.engine) as s:
            staf1 = s.execute(select(Pegawai).where(Pegawai.nip == nips["staf1"])).scalar_one()
            kabid = s.execute(select(Pegawai).where(Pegawai.nip == nips["kabid"])).scalar_one()
            assert staf1.atasan_id == kabid.id

        # 3. find both changes in the audit log: by person, then by action
        page.click("text=Riwayat perubahan")
        page.wait_for_url("**/hr/audit?nip=*")
        rows = page.locator("#entri-audit tr")
        assert "pegawai.atasan" in rows.all_inner_texts().__str__()
        assert "hr:pengelola" in page.locator("#entri-audit").inner_text()
        page.fill("#orang", "pengelola")
        page.fill("#aksi", "kalender")
        page.click("#cari-audit button[type=submit]")
        page.wait_for_load_state()
        table = page.locator("#entri-audit").inner_text()
        assert "kalender.ubah" in table and "sesi:" in table
        page.screenshot(path=str(artifacts / "konsol-audit.png"), full_page=True)

        # 4. any table shown downloads as CSV (formula-looking cells neutralised)
        with page.expect_download() as download:
            page.click("main p.unduh button")
        body = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert body.splitlines()[0].startswith("Waktu,Oleh,Dari,Aksi")
        assert "kalender.ubah" in body
        browser.close()
