"""A real browser on the keberatan flow: the pegawai opens the emailed result, files a keberatan,
the atasan PPK opens their emailed link and changes the predikat with a reason, the pegawai
sees the outcome."""

from __future__ import annotations

import mailbox
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from kinerja.simulate import LINK
from models.db import session_scope
from models.repo import keberatan as repo
from models.tables import Cycle
from tests.api.test_keberatan import rated_cycle
from tests.e2e.test_browser_planning import CHROMIUM, _deliver, live  # noqa: F401 - the live server fixture

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")]


def _launch(pw):  # type: ignore[no-untyped-def]
    return pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])


def emailed_link(maildir: Path, key_prefix: str, to: str) -> str:
    """The task link in the one delivered message with this outbox key prefix to `to`."""
    box = mailbox.Maildir(maildir, create=False)
    found = []
    for key in box.keys():
        msg = message_from_bytes(box.get_bytes(key), policy=policy.default)
        if str(msg["X-Kinerja-Key"] or "").startswith(key_prefix) and to in str(msg["To"]):
            body = msg.get_body(preferencelist=("plain",))
            found += LINK.findall(body.get_content() if body else "")[:1]
    assert len(found) == 1, f"{len(found)} {key_prefix} mails to {to}"
    return found[0]


def test_keberatan_in_a_browser(live) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    rt, maildir = live
    case = rated_cycle(rt)
    with session_scope(rt.engine) as s:
        repo.publish(session=s, cycle=s.get(Cycle, case.cycle_id), now=rt.clock.now(),
                     mail=rt.mail)
    _deliver(rt)
    staf2, kabid = case.org["staf2"], case.org["kabid"]
    result = emailed_link(maildir, "hasil:", staf2.email)
    with sync_playwright() as pw:
        browser = _launch(pw)
        page = browser.new_page()
        # the pegawai: the Dokumen Evaluasi Kinerja, then the keberatan with reasons
        page.goto(result)
        assert page.locator("#predikat").inner_text() == "Butuh Perbaikan"
        assert "Kepala Seksi" in page.locator("#identitas").inner_text()  # the PPK
        page.fill("#alasan", "Singkat.")
        page.click("#ajukan-keberatan")
        assert "minimal 20 karakter" in page.locator(".flash.error").inner_text()
        page.fill("#alasan", "Realisasi bulan Desember belum diperhitungkan; target dokumen "
                             "sebenarnya tercapai.")
        page.click("#ajukan-keberatan")
        assert "Keberatan Anda diajukan" in page.locator(".flash.notice").inner_text()
        assert "menunggu putusan" in page.locator("#status-keberatan").inner_text()
        # the atasan PPK: the emailed link, the subordinate's reasons and DEK, the decision
        _deliver(rt)
        page.goto(emailed_link(maildir, "keberatan:", kabid.email))
        page.click("#menunggu >> text=Periksa")
        assert "Desember belum diperhitungkan" in page.locator("#alasan-keberatan").inner_text()
        page.check("#keputusan-diubah")
        page.select_option("#hasil_kerja", "Sesuai Ekspektasi")
        page.select_option("#perilaku", "Sesuai Ekspektasi")
        page.fill("#alasan", "Setelah realisasi Desember diperhitungkan target tercapai.")
        page.click("#putus")
        assert "Putusan disimpan" in page.locator(".flash.notice").inner_text()
        assert page.locator("#diputus >> text=Butuh Perbaikan").is_visible()
        page.screenshot(path=str(maildir.parent / "keberatan-putus.png"), full_page=True)
        # the pegawai: told by email, the outcome and the reason on the same result page
        _deliver(rt)
        page.goto(emailed_link(maildir, "keberatan-diputus:", staf2.email))
        assert page.locator("#predikat").inner_text() == "Baik"
        assert "Butuh Perbaikan" in page.locator("#status-keberatan").inner_text()
        assert "target tercapai" in page.locator("#alasan-putusan").inner_text()
        page.screenshot(path=str(maildir.parent / "keberatan-hasil.png"), full_page=True)
        browser.close()
    with session_scope(rt.engine) as s:
        assert repo.hasil_of(session=s, cycle_id=case.cycle_id,
                             pegawai_id=staf2.id).record.status == "final"
