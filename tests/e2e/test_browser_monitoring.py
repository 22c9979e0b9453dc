"""A real browser on the monitoring pages: the pegawai reports a period with evidence, the PPK
gives feedback, records a dialog and rates, one by one and from the list."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.helpers import last_mail
from tests.api.period_setup import approved_cycle, record
from tests.e2e.test_browser_planning import CHROMIUM, live  # noqa: F401 - the live server fixture

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")]


def _launch(pw):  # type: ignore[no-untyped-def]
    return pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])


def test_periodic_rating_in_a_browser(live, tmp_path: Path) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    rt, maildir = live
    case = approved_cycle(rt)
    own = last_mail(rt, case.org["staf1"].email, "undangan_realisasi").context["link"]
    ppk = last_mail(rt, case.org["kasi"].email, "undangan_penilaian_periodik").context["link"]
    evidence = tmp_path / "notulen-rapat.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    a, b, c = case.iki["staf1"]
    with sync_playwright() as pw:
        browser = _launch(pw)
        page = browser.new_page()
        # the pegawai: realisasi, a file as evidence, report
        page.goto(own)
        page.fill(f"#ra_{case.rhk['staf1']}", "Rapat koordinasi bulanan")
        page.fill(f"input[name=r_{a}]", "9")
        page.fill(f"input[name=r_{b}]", "4")
        page.fill(f"textarea[name=r_{c}]", "Laporan sesuai standar")
        page.click("#simpan")
        assert "Tersimpan." in page.locator(".flash.notice").inner_text()
        assert page.locator(f"tr[data-iki='{a}'] .capaian").inner_text() == "90.0%"
        page.select_option("#iki_id", value=str(a))
        page.set_input_files("#berkas", str(evidence))
        page.click("#tambah-bukti")
        assert "Bukti dukung ditambahkan." in page.locator(".flash.notice").inner_text()
        page.click("#laporkan")
        assert "dilaporkan" in page.locator("#status-laporan").inner_text()
        # the PPK: open the subordinate, see the evidence, feedback, dialog, rating
        page.goto(ppk)
        page.click(f"#bawahan-{case.skp['staf1']} >> text=Buka")
        assert page.locator("text=notulen-rapat.pdf").is_visible()
        page.fill(f"#ub_{case.rhk['staf1']}", "Waktu layanan sudah baik, pertahankan.")
        page.click("text=Kirim umpan balik")
        assert "Umpan balik disimpan" in page.locator(".flash.notice").inner_text()
        page.fill("#catatan_dialog", "Dialog kinerja triwulan I")
        page.fill("#tindak_lanjut", "Ikut pelatihan analisis data")
        page.click("#simpan-dialog")
        assert "Catatan sesi disimpan." in page.locator(".flash.notice").inner_text()
        assert page.locator("#saran").is_visible()  # a suggestion from the capaian
        page.select_option("#hasil_kerja", "Di Atas Ekspektasi")
        page.select_option("#perilaku", "Di Atas Ekspektasi")
        page.click("#simpan-nilai")
        assert page.locator("#predikat").inner_text() == "Sangat Baik"
        page.screenshot(path=str(maildir.parent / "ppk-periode.png"), full_page=True)
        # the next subordinate, from the list in one go
        page.click("text=Semua bawahan")
        row = f"#bawahan-{case.skp['staf2']}"
        page.select_option(f"{row} select[name^=hk_]", "Sesuai Ekspektasi")
        page.select_option(f"{row} select[name^=pk_]", "Di Bawah Ekspektasi")
        page.click("#simpan-semua")
        assert page.locator(f"{row} .predikat").inner_text() == "Kurang/Misconduct"
        page.screenshot(path=str(maildir.parent / "ppk-daftar.png"), full_page=True)
        # the pegawai sees what was given, with dates
        page.goto(own)
        assert page.locator("#riwayat-nilai >> text=Sangat Baik").is_visible()
        assert page.locator("#riwayat-umpan-balik >> text=pertahankan").is_visible()
        assert page.locator("#riwayat-dialog >> text=Ikut pelatihan analisis data").is_visible()
        browser.close()
    assert record(rt, case.skp["staf1"]).predikat == "Sangat Baik"
    assert record(rt, case.skp["staf2"]).predikat == "Kurang/Misconduct"
