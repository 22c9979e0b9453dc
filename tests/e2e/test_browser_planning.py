"""A real browser (Debian chromium via Playwright) follows emailed links: draft, submit, approve."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from api.app import create_app
from kinerja.clock import SystemClock
from kinerja.simulate import Inbox, _address
from models.db import session_scope
from models.repo import skp as skp_repo
from notifications.devsmtp import start_dev_smtp
from notifications.dispatch import dispatch_due
from notifications.mailer import SmtpMailer
from tests.api.helpers import open_planning_now, skp_row
from tests.factories import make_org, runtime_for

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(db: Engine, tmp_path: Path) -> Iterator[tuple]:
    smtp_port, http_port = _free_port(), _free_port()
    rt = runtime_for(db, tmp_path, SystemClock(), smtp_port=smtp_port)
    rt.api.base_url = f"http://127.0.0.1:{http_port}"
    controller = start_dev_smtp(tmp_path / "mail", "127.0.0.1", smtp_port)
    server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=http_port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield rt, tmp_path / "mail"
    finally:
        server.should_exit = True
        thread.join(10)
        controller.stop()


def _deliver(rt) -> None:  # type: ignore[no-untyped-def]
    """Run the outbox dispatcher (in its own thread: Playwright's sync API owns this one's loop)."""
    job = threading.Thread(target=lambda: asyncio.run(dispatch_due(
        engine=rt.engine, mailer=SmtpMailer(rt.smtp), smtp=rt.smtp, now=rt.clock.now(),
        limit=1000)))
    job.start()
    job.join(60)


def _link(inbox: Inbox, mails: dict, email: str, kind: str) -> str:
    for to, k, link in inbox.new_mail():
        mails[(_address(to), k)] = link
    return mails[(email.lower(), kind)]


def test_invitation_to_approval_in_a_browser(live) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    rt, maildir = live
    with session_scope(rt.engine) as s:
        org = make_org(s)
    open_planning_now(rt)
    with session_scope(rt.engine) as s:  # the JPT's RHK exist, so the kabid can cascade from them
        view = skp_repo.load_view(session=s, skp=skp_row(rt, org["kadis"].id))
        skp_repo.add_rhk(session=s, view=view, jenis="utama", uraian="Meningkatnya mutu layanan",
                         intervensi_rhk_id=None, iki=None, now=rt.clock.now())
    _deliver(rt)
    inbox, mails = Inbox(maildir), {}
    invite = _link(inbox, mails, org["kabid"].email, "undangan_skp")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(invite)
        page.select_option("#intervensi", label="Meningkatnya mutu layanan")
        page.fill("#uraian", "Tersusunnya kurikulum muatan lokal")
        page.fill("#new-indikator", "Dokumen kurikulum")
        page.fill("#new-target", "2")
        page.fill("#new-satuan", "dokumen")
        page.click("text=Simpan RHK")
        assert page.locator("text=RHK disimpan.").is_visible()
        page.click("#ajukan")
        assert "diajukan" in page.locator("#skp-status").inner_text()
        _deliver(rt)
        review = _link(inbox, mails, org["kadis"].email, "skp_diajukan")
        page.goto(review)
        page.click("text=Periksa")
        page.click("#setujui")
        assert page.locator("#skp-status").inner_text() == "disetujui"
        page.screenshot(path=str(maildir.parent / "approved.png"))
        browser.close()
    assert skp_row(rt, org["kabid"].id).status == "disetujui"
    _deliver(rt)
    assert _link(inbox, mails, org["kabid"].email, "skp_disetujui")
