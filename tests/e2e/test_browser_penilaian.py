"""A real browser on the PPK's annual rating page: the year at a glance, suggestions, ratings."""

from __future__ import annotations

import pytest

from models.db import session_scope
from models.repo import penilaian
from models.tables import Cycle, SkpPeriode
from tests.api.helpers import last_mail
from tests.api.period_setup import approved_cycle
from tests.e2e.test_browser_planning import CHROMIUM, live  # noqa: F401 - the live server fixture

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")]


def test_annual_rating_in_a_browser(live) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    rt, maildir = live
    case = approved_cycle(rt, open_first=False)
    now = rt.clock.now()
    with session_scope(rt.engine) as s:
        cycle = s.get(Cycle, case.cycle_id)
        stage = penilaian.get_stage(session=s, cycle_id=cycle.id)
        stage.opens_at, stage.opened_at = now, now
        stage.due_at = stage.approve_due_at = stage.closes_at = now.replace(year=now.year + 1)
        for k in (1, 2):
            s.add(SkpPeriode(skp_id=case.skp["staf1"], periode=k, hasil_kerja="Sesuai Ekspektasi",
                             perilaku="Di Atas Ekspektasi", predikat="Baik", updated_at=now))
        penilaian.open_chunk(session=s, cycle=cycle, stage=stage,
                             pegawai_ids=[p.id for p in case.org.values()], now=now, mail=rt.mail)
    link = last_mail(rt, case.org["kasi"].email, "undangan_penilaian_tahunan").context["link"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(link)
        page.click(f"#tahunan-{case.skp['staf1']} >> text=Buka")
        assert "Triwulan II" in page.locator("main").inner_text()  # the periodic predikat
        assert "Di Atas Ekspektasi" in page.locator("#saran").inner_text()  # perilaku suggested
        page.select_option("#hasil_kerja", "Di Atas Ekspektasi")
        page.select_option("#perilaku", "Di Atas Ekspektasi")
        page.fill("#catatan", "Kinerja konsisten sepanjang tahun")
        page.click("#simpan-tahunan")
        assert "disimpan" in page.locator(".flash.notice").inner_text()
        assert page.locator("#predikat").inner_text() == "Sangat Baik"
        page.screenshot(path=str(maildir.parent / "penilaian-tahunan.png"), full_page=True)
        page.click("text=Semua bawahan")
        assert page.locator(f"#tahunan-{case.skp['staf1']} .predikat").inner_text() == "Sangat Baik"
        browser.close()
    with session_scope(rt.engine) as s:
        assert penilaian.record_of(session=s, skp_id=case.skp["staf1"]).status == "dinilai"
