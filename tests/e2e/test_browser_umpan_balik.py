"""A real browser on the 360 pages: the PPK confirms a list, a rater fills the anonymous form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.db import session_scope
from models.repo import umpan_balik
from models.tables import Cycle, Jawaban360
from tests.api.helpers import last_mail
from tests.api.period_setup import approved_cycle
from tests.e2e.test_browser_planning import CHROMIUM, live  # noqa: F401 - the live server fixture

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")]


def test_rater_form_in_a_browser(live) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    rt, maildir = live
    case = approved_cycle(rt, open_first=False)
    now = rt.clock.now()
    with session_scope(rt.engine) as s:
        cycle = s.get(Cycle, case.cycle_id)
        stage = umpan_balik.get_stage(session=s, cycle_id=cycle.id)
        stage.opens_at, stage.opened_at = now, now
        stage.due_at = stage.approve_due_at = stage.closes_at = now.replace(year=now.year + 1)
        umpan_balik.assign_raters(session=s, cycle=cycle)
        umpan_balik.open_chunk(session=s, cycle=cycle, stage=stage,
                               pegawai_ids=umpan_balik.participants(session=s, cycle_id=cycle.id),
                               now=now, mail=rt.mail)
    kasi, staf1 = case.org["kasi"], case.org["staf1"]
    confirm = last_mail(rt, kasi.email, "tetapkan_penilai").context["link"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(confirm)
        assert page.locator(f"#bawahan-{staf1.id}").is_visible()
        page.click("#tetapkan-semua")
        assert "ditetapkan" in page.locator(".flash.notice").inner_text()
        form_link = last_mail(rt, kasi.email, "undangan_360").context["link"]
        page.goto(form_link)
        assert "anonim" in page.locator("main").inner_text()
        card = page.locator(".form360", has_text="Staf Satu")
        card.locator("button[type=submit]").click()  # nothing chosen: refused, saying what
        assert "Pilih penilaian untuk" in page.locator(".flash.error").inner_text()
        card = page.locator(".form360", has_text="Staf Satu")
        for i in range(7):
            card.locator(f"input[name=v{i}][value={'di_atas' if i == 0 else 'sesuai'}]").check()
        card.locator("input[name=k0]").fill("Selalu sigap melayani")
        card.locator("button[type=submit]").click()
        assert "anonim" in page.locator(".flash.notice").inner_text()
        assert "terkirim" in page.locator(".form360", has_text="Staf Satu").inner_text()
        page.screenshot(path=str(maildir.parent / "umpan-balik-360.png"), full_page=True)
        browser.close()
    with session_scope(rt.engine) as s:
        assert s.execute(select(func.count()).select_from(Jawaban360).where(
            Jawaban360.dinilai_id == staf1.id)).scalar_one() == 7
