"""A real browser on HR's dashboard: log in, read the charts of a cycle with work in several
stages (planning done, periods late or running, 360 open, annual ratings coming in, a survey),
choose a stage, drill down to one unit's overdue people; full-page screenshots are kept as test
artifacts (dasbor.png, dasbor-unit.png, dasbor-en.png)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from models.db import session_scope
from models.repo.cycles import create_cycle, get_stage
from models.repo.hr import create_hr_user
from models.rules import periods
from models.rules.calendar import StageDates
from models.rules.enums import (
    CycleStatus,
    JenisJabatan,
    SkpStatus,
    StageCode,
    TaskKind,
    TaskStatus,
)
from models.tables import (
    JawabanSurvei,
    NilaiUnit,
    Pegawai,
    Penilai360,
    PenilaianTahunan,
    Skp,
    Survei,
    Task,
)
from tests.e2e.test_browser_planning import CHROMIUM, live  # noqa: F401 - the live server fixture
from tests.factories import make_pegawai, make_unit

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")]

UNITS = {"Dinas Pendidikan": 14, "Dinas Kesehatan": 12, "Badan Keuangan Daerah": 9,
         "Dinas Pekerjaan Umum dan Penataan Ruang": 10}
NAMES = ("Siti Rahmawati", "Agus Santoso", "Dewi Lestari", "Budi Hartono", "Rina Marlina",
         "Hendra Wijaya", "Yuni Astuti", "Fajar Nugroho", "Lina Susanti", "Rudi Hermawan",
         "Maya Sari", "Eko Prasetyo", "Wulan Dari", "Joko Susilo", "Intan Permata")
DAY = timedelta(days=1)


@dataclass
class Seeded:
    cycle_id: int
    units: dict[str, int]
    late_unit: str  # the unit with the most overdue planning and period tasks


def _calendar(now: datetime) -> tuple[StageDates, list[periods.Period], StageDates, StageDates]:
    """Planning 60 to 40 days ago, four 15-day periods from 40 days ago (the first two past their
    report dates, the third running, the fourth to come), 360 open, the annual rating open."""
    planning = StageDates(StageCode.PERENCANAAN, now - 60 * DAY, now - 50 * DAY, now - 45 * DAY,
                          now - 40 * DAY)
    items = periods.compressed_periods(now - 40 * DAY, 54000, "triwulanan")  # a step of 3.75 days
    feedback = StageDates(StageCode.UMPAN_BALIK, now - 20 * DAY, now - 12 * DAY, now - 8 * DAY,
                          now + 10 * DAY)
    annual = StageDates(StageCode.PENILAIAN, now - 3 * DAY, now + 5 * DAY, now + 10 * DAY,
                        now + 20 * DAY)
    return planning, items, feedback, annual


def _task(s, rng: random.Random, cycle_id: int, kind: TaskKind, who: Pegawai,  # type: ignore[no-untyped-def]
          due: datetime, created: datetime, now: datetime, late: float, periode: int = 0,
          done_share: float = 0.85) -> None:
    """Done (on time, or late by up to a week) with `done_share`; else still open."""
    done = None
    if rng.random() < done_share:
        done = due - rng.uniform(0.2, 6) * DAY if rng.random() > late else \
            due + rng.uniform(0.3, 7) * DAY
        done = min(max(done, created + DAY / 4), now - DAY / 24)
    s.add(Task(cycle_id=cycle_id, kind=kind, pegawai_id=who.id, periode=periode, due_at=due,
               created_at=created, done_at=done,
               status=TaskStatus.DONE if done else TaskStatus.OPEN))


def _seed(rt) -> Seeded:  # type: ignore[no-untyped-def]
    rng = random.Random(2026)
    now = rt.clock.now()
    planning, items, feedback, annual = _calendar(now)
    with session_scope(rt.engine) as s:
        create_hr_user(session=s, username="admin", password="rahasia-hr", nama="Admin BKPSDM",
                       email="hr@contoh.go.id", now=now)
        cycle = create_cycle(session=s, tahun=now.year, now=planning.opens_at - DAY, actor="test",
                             planning=planning, period_dates=items, feedback_dates=feedback,
                             annual_dates=annual)
        cycle.status = CycleStatus.LAUNCHED
        for stage_code, k in ((StageCode.PERENCANAAN, 0), (StageCode.PEMANTAUAN, 1),
                              (StageCode.PEMANTAUAN, 2), (StageCode.PEMANTAUAN, 3),
                              (StageCode.UMPAN_BALIK, 0), (StageCode.PENILAIAN, 0)):
            stage = get_stage(session=s, cycle_id=cycle.id, code=stage_code, periode=k)
            stage.opened_at = stage.opens_at
            if stage.closes_at <= now:
                stage.closed_at = stage.closes_at
        p = {k.periode: k.stage for k in items}
        units, n = {}, 0
        for u_index, (nama, size) in enumerate(UNITS.items()):
            unit = make_unit(s, nama)
            units[nama] = unit.id
            late = 0.5 if u_index == 1 else 0.15  # Dinas Kesehatan runs late
            share = 0.6 if u_index == 1 else 0.9
            head = make_pegawai(s, unit, nama=f"{NAMES[n % 15]}, S.H.", jabatan=f"Kepala {nama}",
                                jenis_jabatan=JenisJabatan.JPT)
            n += 1
            people = [head]
            for i in range(size - 1):
                boss = people[0] if i < 2 else people[1 + i % 2]
                people.append(make_pegawai(
                    s, unit, nama=NAMES[n % 15] + f" {chr(65 + i)}.", atasan_id=boss.id,
                    jabatan="Kepala Seksi" if i < 2 else "Analis Kebijakan",
                    jenis_jabatan=JenisJabatan.PENGAWAS if i < 2 else JenisJabatan.PELAKSANA))
                n += 1
            ppk = people[:3]
            for who in people:
                _task(s, rng, cycle.id, TaskKind.SUSUN_SKP, who, planning.due_at,
                      planning.opens_at, now, late, done_share=max(share, 0.9))
                for k in (1, 2, 3):
                    _task(s, rng, cycle.id, TaskKind.ISI_REALISASI, who, p[k].due_at,
                          p[k].opens_at, now, late, periode=k,
                          done_share=share if p[k].due_at < now else 0.35)
                _task(s, rng, cycle.id, TaskKind.KOMPETENSI, who, feedback.due_at,
                      feedback.opens_at, now, late, done_share=share)
            for who in ppk:
                _task(s, rng, cycle.id, TaskKind.SETUJUI_SKP, who, planning.approve_due_at,
                      planning.opens_at, now, late)
                _task(s, rng, cycle.id, TaskKind.NILAI_PERIODIK, who, p[1].approve_due_at,
                      p[1].opens_at, now, late, periode=1, done_share=share)
                _task(s, rng, cycle.id, TaskKind.NILAI_TAHUNAN, who, annual.approve_due_at,
                      annual.opens_at, now, late, done_share=0.3)
            _feedback(s, rng, cycle.id, people, share)
            _ratings(s, rng, cycle.id, unit.id, people, u_index, now)
        _survey(s, rng, cycle.id, units["Dinas Kesehatan"], now)
        return Seeded(cycle.id, units, "Dinas Kesehatan")


def _feedback(s, rng: random.Random, cycle_id: int, people: list[Pegawai], share: float) -> None:  # type: ignore[no-untyped-def]
    for i, who in enumerate(people):
        for peer in (people[(i + 1) % len(people)], people[(i + 2) % len(people)]):
            s.add(Penilai360(cycle_id=cycle_id, dinilai_id=who.id, penilai_id=peer.id,
                             peran="rekan", ditetapkan=True, selesai=rng.random() < share))


def _ratings(s, rng: random.Random, cycle_id: int, unit_id: int, people: list[Pegawai],  # type: ignore[no-untyped-def]
             u_index: int, now: datetime) -> None:
    """Every unit graded; the first unit's mix breaks the Baik curve (nobody below Baik)."""
    grade = ("Baik", "Istimewa", "Butuh Perbaikan", "Baik")[u_index]
    mixes = (("Baik", "Sangat Baik"), ("Sangat Baik", "Baik", "Baik"),
             ("Butuh Perbaikan", "Butuh Perbaikan", "Baik"), ("Baik", "Butuh Perbaikan", "Sangat Baik"))
    s.add(NilaiUnit(cycle_id=cycle_id, unit_id=unit_id, grade=grade, ditetapkan_oleh="hr:admin",
                    ditetapkan_at=now - DAY))
    for i, who in enumerate(people):
        skp = Skp(cycle_id=cycle_id, pegawai_id=who.id, status=SkpStatus.DISETUJUI,
                  approved_at=now - 44 * DAY, created_at=now - 55 * DAY,
                  updated_at=now - 44 * DAY, submissions=1)
        s.add(skp)
        s.flush()
        rated = i < len(people) - 2 or u_index == 0  # a few still waiting for their PPK
        s.add(PenilaianTahunan(skp_id=skp.id, cycle_id=cycle_id,
                               predikat=rng.choice(mixes[u_index]) if rated else None,
                               status="dinilai" if rated else "draf"))


def _survey(s, rng: random.Random, cycle_id: int, unit_id: int, now: datetime) -> None:  # type: ignore[no-untyped-def]
    survei = Survei(unit_id=unit_id, cycle_id=cycle_id, judul="SKM Puskesmas Kota",
                    slug="skm-puskesmas", dibuka_at=now - 30 * DAY, created_at=now - 30 * DAY)
    s.add(survei)
    s.flush()
    for n in range(37):
        s.add(JawabanSurvei(survei_id=survei.id, nilai=[rng.randint(2, 4) for _ in range(9)],
                            klien=f"klien{n}", sidik=f"sidik{n}", created_at=now - n * DAY / 2))


def _launch(pw):  # type: ignore[no-untyped-def]
    return pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"])


def _svg_texts(page, chart_id: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f"svg#{chart_id}").evaluate(
        "svg => Array.from(svg.querySelectorAll('text')).map(t => t.textContent).join('|')")


def test_hr_reads_the_dashboard_and_drills_down(live, artifacts: Path) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    rt, _ = live
    seeded = _seed(rt)
    base = rt.api.public_url
    with sync_playwright() as pw:
        browser = _launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/hr")
        page.fill("#username", "admin")  # the login page, then the list of cycles
        page.fill("#password", "rahasia-hr")
        page.click("button[type=submit]")
        page.click(f"a[href='/hr/cycles/{seeded.cycle_id}/dasbor']")
        page.wait_for_url(f"**/hr/cycles/{seeded.cycle_id}/dasbor")
        assert page.locator("h1").inner_text().startswith("Dasbor SKP")
        for chart in ("grafik-tahap", "grafik-unit", "grafik-predikat", "grafik-360",
                      "grafik-skm", "grafik-terlambat"):
            svg = page.locator(f"svg#{chart}")
            assert svg.is_visible(), chart
            assert svg.get_attribute("role") == "img" and svg.get_attribute("aria-label")
            box = svg.bounding_box()
            assert box and box["width"] > 700 and box["height"] > 30, chart
        stages = _svg_texts(page, "grafik-tahap")
        for label in ("Perencanaan", "Pemantauan · Triwulan I", "Pemantauan · Triwulan III",
                      "Umpan balik 360 dan kompetensi", "Penilaian tahunan", "Selesai",
                      "Terlambat"):
            assert label in stages, label
        units = _svg_texts(page, "grafik-unit")
        assert "Dinas Pendidikan" in units and "Dinas Kesehatan" in units
        assert "Badan Keuangan Daerah" in _svg_texts(page, "grafik-predikat")
        assert "Dinas Kesehatan" in _svg_texts(page, "grafik-skm")
        assert "37" in _svg_texts(page, "grafik-skm")
        breach = f"svg#grafik-kurva-{seeded.units['Dinas Pendidikan']} rect[fill='#b3261e']"
        assert page.locator(breach).count() >= 1  # the Baik curve broken
        today = int(page.locator("#terlambat-hari-ini").inner_text())
        assert today == int(page.locator("#jumlah-terlambat").inner_text()) > 0
        assert page.locator("svg#grafik-terlambat polyline").count() == 1
        page.screenshot(path=str(artifacts / "dasbor.png"), full_page=True)

        # choose the first period from the stage chart (a link inside the SVG)
        page.locator("svg#grafik-tahap a", has_text="Pemantauan · Triwulan I").first \
            .locator("text").first.click()
        page.wait_for_url("**tahap=pemantauan&periode=1**")
        assert "Pemantauan · Triwulan I" in page.locator("#per-unit h2").inner_text()
        row = page.locator(f"#unit-{seeded.units[seeded.late_unit]}")
        overdue = int(row.locator("td.n").nth(3).inner_text())
        assert overdue > 0
        # drill down to the late unit's overdue people from its bar in the chart
        page.locator("svg#grafik-unit a", has_text=seeded.late_unit).locator("text").first.click()
        page.wait_for_url(f"**/dasbor/unit/{seeded.units[seeded.late_unit]}?tahap=pemantauan"
                          "&periode=1")
        assert page.locator("h1").inner_text() == seeded.late_unit
        assert page.locator("svg#grafik-unit-tahap").is_visible()
        page.locator("#filter-status a", has_text="terlambat").click()
        page.wait_for_url("**status=overdue**")
        rows = page.locator("#tabel-pegawai tr.tugas")
        assert rows.count() == overdue
        assert all("terlambat" in rows.nth(i).locator(".badge").inner_text()
                   for i in range(rows.count()))
        assert "Mengisi realisasi" in page.locator("#tabel-pegawai").inner_text()
        page.screenshot(path=str(artifacts / "dasbor-unit.png"), full_page=True)

        page.goto(f"{base}/hr/cycles/{seeded.cycle_id}/dasbor?lang=en")
        assert page.locator("svg#grafik-tahap").get_attribute("aria-label") == "Progress per stage"
        assert "Planning" in _svg_texts(page, "grafik-tahap")
        assert "Overdue tasks over time" in page.locator("#terlambat h2").inner_text()
        page.screenshot(path=str(artifacts / "dasbor-en.png"), full_page=True)
        browser.close()
    for name in ("dasbor.png", "dasbor-unit.png", "dasbor-en.png"):
        assert (artifacts / name).stat().st_size > 20_000, name
