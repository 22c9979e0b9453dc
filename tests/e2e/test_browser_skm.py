"""A real browser on the public satisfaction survey: HR opens a survey and prints the poster, a
respondent at the counter fills the form on a tablet and sees the thank-you, the next one
starts straight away, HR sees the count and the IKM."""

from __future__ import annotations

import re

import pytest

from models.db import session_scope
from models.repo.hr import create_hr_user
from models.rules import skm as rules
from tests.e2e.test_browser_planning import CHROMIUM, live  # noqa: F401 - the live server fixture
from tests.factories import make_org

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")]


def _launch(pw):  # type: ignore[no-untyped-def]
    return pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])


def _fill(page, answers: list[int], komentar: str = "") -> None:  # type: ignore[no-untyped-def]
    """Tap one big answer per element, the way a respondent does on a tablet."""
    for nomor, value in enumerate(answers, start=1):
        page.locator(f"#unsur-{nomor} label.opsi").nth(value - 1).click()
    if komentar:
        page.fill("#komentar", komentar)
    a, b = (int(x) for x in re.findall(r"\d+", page.locator("#soal").inner_text()))
    page.fill("#cek", str(a + b))
    page.wait_for_timeout(int(rules.MIN_FILL.total_seconds() * 1000) + 300)


def test_a_respondent_at_the_counter_and_hr_sees_the_count(live) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    rt, _ = live
    base = rt.api.public_url
    with session_scope(rt.engine) as s:
        make_org(s)
        create_hr_user(session=s, username="admin", password="rahasia-hr", nama="Admin BKPSDM",
                       email="hr@contoh.go.id", now=rt.clock.now())
    with sync_playwright() as pw:
        browser = _launch(pw)
        hr = browser.new_page()
        hr.goto(f"{base}/hr/skm")
        hr.fill("#username", "admin")
        hr.fill("#password", "rahasia-hr")
        hr.click("button[type=submit]")
        hr.select_option("#unit_id", label="Dinas Pendidikan")
        hr.fill("#judul", "SKM Loket Pelayanan")
        hr.click("form[action='/hr/skm'] button[type=submit]")
        assert "Survei dibuka" in hr.locator(".flash.notice").inner_text()
        public = hr.locator("#url-publik").inner_text()
        kiosk = hr.locator("#url-kios").inner_text()
        assert kiosk.startswith(public + "?kiosk=")
        with hr.expect_popup() as popup:
            hr.click("#poster")
        poster = popup.value
        poster.wait_for_load_state()
        assert poster.locator("#url").inner_text() == public
        assert poster.locator("img").evaluate("i => i.complete && i.naturalWidth > 0")

        tablet = browser.new_page(viewport={"width": 800, "height": 1280}, has_touch=True)
        tablet.goto(kiosk)
        assert tablet.locator("#unit").inner_text() == "Dinas Pendidikan"
        # a respondent who forgets one element is told which one, answers kept
        _fill(tablet, [4, 4, 3, 4, 4, 3, 4, 4, 3], komentar="Petugas ramah")
        tablet.evaluate("document.querySelector('#unsur-9 input:checked').checked = false")
        tablet.evaluate("document.getElementById('skm-form').noValidate = true")
        tablet.click("#kirim")
        assert "unsur 9 (Sarana dan prasarana) belum dijawab" in tablet.locator("#masalah").inner_text()
        assert tablet.locator("#unsur-1 input:checked").get_attribute("value") == "4"
        tablet.locator("#unsur-9 label.opsi").nth(2).click()
        a, b = (int(x) for x in re.findall(r"\d+", tablet.locator("#soal").inner_text()))
        tablet.fill("#cek", str(a + b))
        tablet.wait_for_timeout(3300)
        tablet.click("#kirim")
        assert tablet.locator("#terima-kasih").inner_text() == "Terima kasih!"
        # the kiosk goes straight to a fresh form for the next respondent, same answers welcome
        tablet.click("#baru")
        _fill(tablet, [4, 4, 3, 4, 4, 3, 4, 4, 3])
        tablet.click("#kirim")
        assert tablet.locator("#terima-kasih").is_visible()
        tablet.screenshot(path=str(rt.api.home / "skm-terima-kasih.png"))

        hr.goto(f"{base}/hr/skm")
        row = hr.locator("#daftar-skm tr[data-survei]")
        assert row.locator(".responden").inner_text() == "2"
        assert row.locator(".ikm").inner_text() == "91.67"
        assert row.locator(".mutu").inner_text().startswith("A")
        hr.click("text=Hasil")
        assert "Petugas ramah" in hr.locator("#komentar").inner_text()
        browser.close()
