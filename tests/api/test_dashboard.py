"""HR's dashboard: progress per unit and stage at a fixed clock, the drill-down to people, the
predikat mix against the curve, 360 and survey counts, overdue tasks per day, unit operators
limited to their units, auditors reading, CSV exports with formulas neutralised."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models.db import session_scope
from models.repo import penilaian
from models.repo.hr import create_hr_user
from models.rules.enums import HrRole, JenisJabatan, SkpStatus, TaskKind, TaskStatus
from models.tables import (
    Jawaban360,
    JawabanSurvei,
    NilaiUnit,
    Pegawai,
    Penilai360,
    PenilaianTahunan,
    Skp,
    Survei,
    Task,
    Unit,
)
from tests.api.conftest import AppEnv
from tests.api.helpers import hr_login
from tests.api.period_setup import approved_cycle
from tests.factories import T0, make_pegawai, make_unit

WIB = timedelta(hours=7)
SECRET_COMMENT = "komentar-rahasia-penilai"
HOSTILE_UNIT = '<script>alert("x")</script> =Unit Uji'
HOSTILE_NAME = '=HYPERLINK("http://x")'


def at(day: int, hour: int, month: int = 1) -> datetime:
    """A wall-clock time in WIB (UTC+7) in January 2027, as aware UTC."""
    return datetime(2027, month, day, hour, tzinfo=UTC) - WIB


NOW = at(11, 12)  # 11 January 2027, 12.00 WIB


@dataclass
class World:
    cycle_id: int
    a: int  # unit ids
    b: int
    c: int
    people: dict[str, Pegawai]


def _task(s, cycle_id: int, kind: TaskKind, who: Pegawai, due: datetime,  # type: ignore[no-untyped-def]
          done: datetime | None = None, periode: int = 0, created: datetime = T0,
          status: TaskStatus | None = None) -> None:
    s.add(Task(cycle_id=cycle_id, kind=kind, pegawai_id=who.id, periode=periode, due_at=due,
               created_at=created, done_at=done,
               status=status or (TaskStatus.DONE if done else TaskStatus.OPEN)))


def _world(env: AppEnv) -> World:
    """Unit A (Dinas Pendidikan: kadis, kabid, kasi, staf1, staf2), unit B (Dinas Kesehatan:
    kepala, b1, b2) and a unit with a hostile name; tasks in planning and two periods, annual
    ratings, 360 assignments and surveys; the clock at NOW."""
    case = approved_cycle(env.rt, open_first=False)  # planning opened 1 January 2027, 06.20 WIB
    p, cycle_id = dict(case.org), case.cycle_id
    with session_scope(env.rt.engine) as s:
        ua = s.get(Unit, p["kadis"].unit_id)
        ub, uc = make_unit(s, "Dinas Kesehatan"), make_unit(s, HOSTILE_UNIT)
        p["kepala_b"] = make_pegawai(s, ub, nama="Kepala Dinkes", jenis_jabatan=JenisJabatan.JPT)
        p["b1"] = make_pegawai(s, ub, nama="Bidan Satu", atasan_id=p["kepala_b"].id)
        p["b2"] = make_pegawai(s, ub, nama="Bidan Dua", atasan_id=p["kepala_b"].id)
        p["hostile"] = make_pegawai(s, uc, nama=HOSTILE_NAME)
        p["pensiun"] = make_pegawai(s, ua, nama="Pegawai Pensiun", active=False)
        K = TaskKind
        # unit A: planning 3 done (one never late, one late two days, one late two hours),
        # 1 overdue, 2 pending; period 1: 1 done late, 1 overdue; period 2: 1 pending
        _task(s, cycle_id, K.SUSUN_SKP, p["kadis"], at(5, 16), done=at(3, 10))
        _task(s, cycle_id, K.SUSUN_SKP, p["kabid"], at(5, 16), done=at(7, 9))
        _task(s, cycle_id, K.SUSUN_SKP, p["kasi"], at(5, 16), done=at(5, 18))
        _task(s, cycle_id, K.SUSUN_SKP, p["staf1"], at(5, 16))
        _task(s, cycle_id, K.SUSUN_SKP, p["staf2"], at(20, 16))
        _task(s, cycle_id, K.SETUJUI_SKP, p["kasi"], at(15, 16))
        _task(s, cycle_id, K.ISI_REALISASI, p["staf1"], at(9, 16), done=at(10, 8), periode=1)
        _task(s, cycle_id, K.ISI_REALISASI, p["staf2"], at(10, 16), periode=1)
        _task(s, cycle_id, K.ISI_REALISASI, p["staf1"], at(10, 16, month=4), periode=2)
        # never counted: a cancelled task, an inactive person's, a published-result notice
        _task(s, cycle_id, K.NILAI_PERIODIK, p["staf2"], at(2, 16), periode=1,
              status=TaskStatus.CANCELLED)
        _task(s, cycle_id, K.SUSUN_SKP, p["pensiun"], at(2, 16))
        _task(s, cycle_id, K.HASIL_KINERJA, p["staf1"], at(3, 16))
        # unit B: planning 2 done (one a day late), 2 overdue; period 1: 1 pending and one
        # created after its due date (overdue from its creation)
        _task(s, cycle_id, K.SUSUN_SKP, p["kepala_b"], at(5, 16), done=at(4, 10))
        _task(s, cycle_id, K.SUSUN_SKP, p["b1"], at(5, 16))
        _task(s, cycle_id, K.SUSUN_SKP, p["b2"], at(8, 16))
        _task(s, cycle_id, K.SETUJUI_SKP, p["kepala_b"], at(10, 16), done=at(11, 10))
        _task(s, cycle_id, K.ISI_REALISASI, p["b1"], at(30, 16), periode=1)
        _task(s, cycle_id, K.ISI_REALISASI, p["b2"], at(6, 16), periode=1, created=at(9, 12))
        # the hostile unit: one pending task
        _task(s, cycle_id, K.SUSUN_SKP, p["hostile"], at(20, 16))
        _ratings(s, cycle_id, ua.id, ub.id, p)
        _feedback(s, cycle_id, p)
        _surveys(s, cycle_id, ua.id, ub.id)
        ids = ua.id, ub.id, uc.id
    env.clock.at = NOW
    return World(cycle_id, *ids, p)


def _ratings(s, cycle_id: int, a: int, b: int, p: dict[str, Pegawai]) -> None:  # type: ignore[no-untyped-def]
    """A graded Baik with 4 Baik and 1 Sangat Baik (no Butuh Perbaikan: a breach); B graded
    Istimewa with 1 Sangat Baik, 1 Baik and one not rated yet (fits)."""
    mix = {"kadis": "Baik", "kabid": "Baik", "kasi": "Baik", "staf1": "Sangat Baik",
           "staf2": "Baik", "kepala_b": "Sangat Baik", "b1": "Baik", "b2": None}
    for key, pred in mix.items():
        skp = s.execute(select(Skp).where(
            Skp.pegawai_id == p[key].id)).scalar()
        if skp is None:
            skp = Skp(cycle_id=cycle_id, pegawai_id=p[key].id, status=SkpStatus.DISETUJUI,
                      approved_at=T0, created_at=T0, updated_at=T0, submissions=1)
            s.add(skp)
            s.flush()
        s.add(PenilaianTahunan(skp_id=skp.id, cycle_id=cycle_id, predikat=pred,
                               status="dipublikasi" if key == "kadis" else
                               ("dinilai" if pred else "draf")))
    for unit, grade in ((a, "Baik"), (b, "Istimewa")):
        s.add(NilaiUnit(cycle_id=cycle_id, unit_id=unit, grade=grade, ditetapkan_oleh="hr:test",
                        ditetapkan_at=T0))


def _feedback(s, cycle_id: int, p: dict[str, Pegawai]) -> None:  # type: ignore[no-untyped-def]
    """Raters in A: 3 active assignments, all confirmed, 2 answered (one inactive assignment
    left out); in B: 1 not confirmed yet."""
    rows = [("staf2", "staf1", True, True, True), ("staf1", "staf2", True, False, True),
            ("staf1", "kasi", True, True, True), ("kasi", "staf2", True, True, False),
            ("b2", "b1", False, False, True)]
    for dinilai, penilai, ditetapkan, selesai, aktif in rows:
        s.add(Penilai360(cycle_id=cycle_id, dinilai_id=p[dinilai].id, penilai_id=p[penilai].id,
                         peran="rekan", ditetapkan=ditetapkan, selesai=selesai, aktif=aktif))
    s.add(Jawaban360(id="a" * 32, cycle_id=cycle_id, dinilai_id=p["staf2"].id,
                     nilai="Akuntabel", penilaian="sesuai", komentar=SECRET_COMMENT))


def _surveys(s, cycle_id: int, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
    """B: an open survey of this cycle with 3 answers; A: a closed survey opened in 2027 with
    no cycle and no answers; a 2026 survey of A (another year: left out)."""
    sb = Survei(unit_id=b, cycle_id=cycle_id, judul="SKM Puskesmas", slug="s-b",
                dibuka_at=at(2, 8), created_at=at(2, 8))
    sa = Survei(unit_id=a, judul="SKM Loket", slug="s-a", dibuka_at=at(3, 8),
                ditutup_at=at(4, 8), created_at=at(3, 8))
    old = Survei(unit_id=a, judul="SKM 2026", slug="s-old", dibuka_at=datetime(2026, 6, 1, tzinfo=UTC),
                 created_at=datetime(2026, 6, 1, tzinfo=UTC))
    s.add_all([sb, sa, old])
    s.flush()
    for n in range(3):
        s.add(JawabanSurvei(survei_id=sb.id, nilai=[4] * 9, klien=f"k{n}", sidik=f"s{n}",
                            created_at=at(3, 9)))
    s.add(JawabanSurvei(survei_id=old.id, nilai=[3] * 9, klien="k", sidik="s",
                        created_at=datetime(2026, 6, 2, tzinfo=UTC)))


def _login(env: AppEnv, username: str, role: HrRole, unit_ids: list[int] | None = None) -> None:
    with session_scope(env.rt.engine) as s:
        create_hr_user(session=s, username=username, password="rahasia-unit-1", nama=username,
                       email=f"{username}@contoh.go.id", now=env.clock.now(), role=role,
                       unit_ids=unit_ids)
    r = hr_login(env.client, username, "rahasia-unit-1")
    assert r.status_code == 303, r.text


def _units(body: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {u["unit"]: u for u in body["unit"]}


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


# -- the tests ------------------------------------------------------------------------------------


def test_progress_per_unit_and_stage_at_a_fixed_clock(env: AppEnv) -> None:
    w = _world(env)
    env.login()
    assert f'href="/hr/cycles/{w.cycle_id}/dasbor"' in env.client.get(f"/hr/cycles/{w.cycle_id}").text
    body = env.client.get(f"/api/v1/cycles/{w.cycle_id}/dasbor").json()
    units = _units(body)
    a, b = units["Dinas Pendidikan"], units["Dinas Kesehatan"]
    assert a["tahap"] == {
        "perencanaan": {"done": 3, "pending": 2, "overdue": 1, "total": 6},
        "pemantauan-1": {"done": 1, "pending": 0, "overdue": 1, "total": 2},
        "pemantauan-2": {"done": 0, "pending": 1, "overdue": 0, "total": 1}}
    assert b["tahap"] == {
        "perencanaan": {"done": 2, "pending": 0, "overdue": 2, "total": 4},
        "pemantauan-1": {"done": 0, "pending": 1, "overdue": 1, "total": 2}}
    assert a["pegawai"] == 5 and b["pegawai"] == 3  # the inactive person is not counted
    stages = {s["kunci"]: s for s in body["tahap"]}
    assert stages["perencanaan"]["jumlah"] == {"done": 5, "pending": 3, "overdue": 3, "total": 11}
    assert stages["perencanaan"]["status"] == "ditutup"
    assert stages["pemantauan-1"]["label"] == "Pemantauan · Triwulan I"
    assert stages["penilaian"]["jumlah"]["total"] == 0  # not open yet: listed, no tasks
    assert body["per"].startswith("2027-01-11T12:00:00+07:00")
    # the page: totals, the charts with their labels, the table of the chosen stage
    page = env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor?tahap=perencanaan")
    assert page.status_code == 200
    html = page.text
    assert re.search(r'id="jumlah-selesai">6<', html) and re.search(r'id="jumlah-terlambat">5<', html)
    assert re.search(r'id="jumlah-menunggu">5<', html)
    for chart in ("grafik-tahap", "grafik-unit", "grafik-predikat", "grafik-360", "grafik-skm",
                  "grafik-terlambat", f"grafik-kurva-{w.a}"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart}" role="img"' in html
    row = re.search(rf'<tr id="unit-{w.a}">(.*?)</tr>', html, re.S).group(1)
    assert [int(n) for n in re.findall(r">(\d+)<", row)] == [5, 3, 2, 1]  # people, done, pending, overdue
    assert f'/dasbor/unit/{w.a}?tahap=perencanaan&amp;status=overdue' in row
    assert "Kemajuan per unit kerja: Perencanaan" in html
    english = env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor?lang=en").text
    assert "Progress per unit: Monitoring · Quarter 2" in english  # the latest stage with tasks
    assert env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor?tahap=rahasia").status_code == 422
    assert env.client.get("/hr/cycles/999/dasbor").status_code == 404


def test_hostile_names_are_escaped_everywhere(env: AppEnv) -> None:
    w = _world(env)
    env.login()
    html = env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor?tahap=perencanaan").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; =Unit Uji" in html
    drill = env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor/unit/{w.c}").text
    assert "<script>alert" not in drill and "=HYPERLINK(&#34;http://x&#34;)" in drill


def test_drill_down_lists_the_right_people(env: AppEnv) -> None:
    w = _world(env)
    env.login()
    base = f"/hr/cycles/{w.cycle_id}/dasbor/unit/{w.a}"
    html = env.client.get(f"{base}?tahap=perencanaan&status=overdue").text
    assert re.findall(r'data-nip="(\d+)"', html) == [w.people["staf1"].nip]
    person = f'/hr/pegawai/{w.people["staf1"].nip}?cycle_id={w.cycle_id}'
    assert f'href="{person}"' in html  # on to the person's page, where HR can act
    assert env.client.get(person).status_code == 200
    html = env.client.get(f"{base}?tahap=pemantauan&periode=1").text
    rows = re.findall(r'<tr class="tugas (\w+)" data-nip="(\d+)"', html)
    assert rows == [("overdue", w.people["staf2"].nip), ("done", w.people["staf1"].nip)]
    assert "10 Januari 2027 16.00 WIB" in html  # due dates in the agency's zone
    html = env.client.get(f"{base}?tahap=perencanaan&status=pending").text
    assert sorted(re.findall(r'data-nip="(\d+)"', html)) == sorted(
        [w.people["staf2"].nip, w.people["kasi"].nip])
    assert "Menyetujui SKP bawahan" in html and "Pegawai Pensiun" not in html
    everything = env.client.get(base).text  # every stage: overdue first
    states = re.findall(r'<tr class="tugas (\w+)"', everything)
    assert states == ["overdue"] * 2 + ["pending"] * 3 + ["done"] * 4
    body = env.client.get(f"/api/v1/cycles/{w.cycle_id}/dasbor/unit/{w.b}?tahap=perencanaan").json()
    assert body["jumlah"] == {"done": 2, "pending": 0, "overdue": 2, "total": 4}
    assert {(t["nama"], t["status"]) for t in body["tugas"]} == {
        ("Kepala Dinkes", "done"), ("Bidan Satu", "overdue"), ("Bidan Dua", "overdue")} and \
        len(body["tugas"]) == 4
    # a stage with no row yet (appeals open at publication): a valid filter with nobody in it
    html = env.client.get(f"{base}?tahap=keberatan").text
    assert "Tidak ada tugas yang cocok." in html and 'data-nip="' not in html
    for bad in ("?tahap=libur", "?status=semua", "?tahap=perencanaan&periode=1",
                "?tahap=pemantauan&periode=9"):
        assert env.client.get(base + bad).status_code == 422, bad
    assert env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor/unit/99999").status_code == 404


def test_predikat_against_the_curve(env: AppEnv) -> None:
    w = _world(env)
    env.login()
    body = env.client.get(f"/api/v1/cycles/{w.cycle_id}/dasbor").json()
    found = {u["unit"]: u for u in body["predikat"]}
    a, b = found["Dinas Pendidikan"], found["Dinas Kesehatan"]
    assert a["sebaran"] == {"Baik": 4, "Sangat Baik": 1}
    assert (a["total"], a["dinilai"], a["dipublikasi"], a["nilai_unit"]) == (5, 5, 1, "Baik")
    assert [(r["ditemukan"], r["sesuai"]) for r in a["kurva"]] == [(4, True), (0, False)]
    assert a["kurva"][0]["batas_bagian"] == 0.7 and a["kurva"][0]["bagian"] == 0.8
    assert a["sesuai_kurva"] is False
    assert (b["total"], b["dinilai"], b["sebaran"], b["sesuai_kurva"]) == (
        3, 2, {"Sangat Baik": 1, "Baik": 1}, True)
    # the same figures as the calibration page
    with session_scope(env.rt.engine) as s:
        checked = {u.unit_id: u for u in penilaian.check_units(session=s, cycle_id=w.cycle_id)}
    for unit_id, mine in ((w.a, a), (w.b, b)):
        assert checked[unit_id].counts == mine["sebaran"]
        assert [x.message("id") for x in checked[unit_id].breaches] == \
            [r["pesan"] for r in mine["kurva"] if r["pesan"]]
    html = env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor").text
    row = re.search(rf'<tr id="predikat-{w.a}">(.*?)</tr>', html, re.S).group(1)
    assert "ditemukan 0 dari 5" in row and "80%" in row
    curve = re.search(rf'<svg [^>]*id="grafik-kurva-{w.a}".*?</svg>', html, re.S).group(0)
    assert "≤ 70%" in curve and "≥ 1 orang" in curve and "4/5 (80%)" in curve


def test_overdue_series_360_and_survey_counts(env: AppEnv) -> None:
    w = _world(env)
    env.login()
    body = env.client.get(f"/api/v1/cycles/{w.cycle_id}/dasbor").json()
    series = [(x["tanggal"], x["terlambat"]) for x in body["terlambat_harian"]]
    assert series == [(f"2027-01-{d:02d}", n) for d, n in
                      zip(range(1, 12), [0, 0, 0, 0, 3, 3, 2, 3, 5, 6, 5], strict=True)]
    overdue = sum(u["jumlah"]["overdue"] for u in body["unit"])
    assert series[-1][1] == overdue  # today's point is the progress table's overdue count
    rates = {f["unit"]: f for f in body["umpan_balik_360"]}
    assert rates["Dinas Pendidikan"] | {"unit_id": 0} == {
        "unit_id": 0, "unit": "Dinas Pendidikan", "penugasan": 3, "ditetapkan": 3, "terjawab": 2,
        "tingkat_respons": 0.6667}
    assert (rates["Dinas Kesehatan"]["penugasan"], rates["Dinas Kesehatan"]["terjawab"]) == (1, 0)
    skm = {x["unit"]: (x["survei"], x["dibuka"], x["respons"]) for x in body["skm"]}
    assert skm == {"Dinas Pendidikan": (1, 0, 0), "Dinas Kesehatan": (1, 1, 3)}
    html = env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor").text
    assert SECRET_COMMENT not in html and SECRET_COMMENT not in str(body)
    assert "66,7% (2/3)" in html and re.search(r'id="terlambat-hari-ini">5<', html)


def test_operator_sees_only_their_unit_and_auditor_reads(env: AppEnv) -> None:
    w = _world(env)
    _login(env, "operator.a", HrRole.OPERATOR, [w.a])
    body = env.client.get(f"/api/v1/cycles/{w.cycle_id}/dasbor").json()
    assert [u["unit"] for u in body["unit"]] == ["Dinas Pendidikan"]
    assert [u["unit"] for u in body["predikat"]] == ["Dinas Pendidikan"]
    assert [u["unit"] for u in body["umpan_balik_360"]] == ["Dinas Pendidikan"]
    assert [u["unit"] for u in body["skm"]] == ["Dinas Pendidikan"]
    assert [x["terlambat"] for x in body["terlambat_harian"]] == [0, 0, 0, 0, 2, 2, 1, 1, 2, 2, 2]
    assert f'href="/hr/cycles/{w.cycle_id}/dasbor"' in env.client.get("/hr").text  # the way in
    html = env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor").text
    assert "Dinas Kesehatan" not in html and "hanya unit kerja Anda" in html
    assert env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor/unit/{w.a}").status_code == 200
    for path in (f"/hr/cycles/{w.cycle_id}/dasbor/unit/{w.b}",
                 f"/hr/cycles/{w.cycle_id}/dasbor/unit/{w.b}.csv",
                 f"/api/v1/cycles/{w.cycle_id}/dasbor/unit/{w.b}"):
        assert env.client.get(path).status_code == 403, path
    rows = _csv(env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor.csv"))
    assert {r[0] for r in rows[1:]} == {"Dinas Pendidikan"}
    env.client.post("/hr/logout")
    _login(env, "auditor", HrRole.AUDITOR)
    body = env.client.get(f"/api/v1/cycles/{w.cycle_id}/dasbor").json()
    assert {u["unit"] for u in body["unit"]} == {"Dinas Pendidikan", "Dinas Kesehatan",
                                                HOSTILE_UNIT}
    assert env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor/unit/{w.b}").status_code == 200
    env.client.post("/hr/logout")
    assert env.client.get(f"/api/v1/cycles/{w.cycle_id}/dasbor").status_code == 401
    r = env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor", follow_redirects=False)
    assert r.status_code in (302, 303, 307) and "/hr/login" in r.headers["location"]


def test_csv_exports_neutralise_formulas(env: AppEnv) -> None:
    w = _world(env)
    env.login()
    rows = _csv(env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor.csv"))
    assert rows[0] == ["Unit", "Tahap", "Pegawai", "Selesai", "Menunggu", "Terlambat", "Jumlah"]
    assert ["Dinas Pendidikan", "Perencanaan", "5", "3", "2", "1", "6"] in rows
    assert ["Dinas Kesehatan", "Pemantauan · Triwulan I", "3", "0", "1", "1", "2"] in rows
    assert all(not r[0].startswith(("=", "+", "-", "@")) for r in rows)
    rows = _csv(env.client.get(f"/api/v1/cycles/{w.cycle_id}/dasbor.csv?tabel=terlambat&lang=en"))
    assert rows[0] == ["Date", "Overdue tasks"] and rows[-1] == ["2027-01-11", "5"]
    rows = _csv(env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor.csv?tabel=umpan_balik"))
    assert ["Dinas Pendidikan", "3", "3", "2", "66,7"] in rows
    rows = _csv(env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor.csv?tabel=predikat"))
    line = next(r for r in rows if r[0] == "Dinas Pendidikan")
    assert line[1:8] == ["Baik", "5", "5", "1", "1", "4", "0"] and "ditemukan 0 dari 5" in line[-2]
    assert env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor.csv?tabel=gaji").status_code == 422
    rows = _csv(env.client.get(f"/hr/cycles/{w.cycle_id}/dasbor/unit/{w.c}.csv"))
    assert rows[1][1] == "'" + HOSTILE_NAME  # a formula becomes text
    rows = _csv(env.client.get(
        f"/api/v1/cycles/{w.cycle_id}/dasbor/unit/{w.a}.csv?tahap=perencanaan&status=overdue"))
    assert len(rows) == 2 and rows[1][0] == w.people["staf1"].nip and rows[1][5] == "terlambat"
    assert rows[1][6] == "2027-01-05 16:00"
    with session_scope(env.rt.engine) as s:
        from models.tables import AuditLog

        kinds = [a.after["jenis"] for a in s.execute(select(AuditLog).where(
            AuditLog.action == "ekspor")).scalars()]
    assert "dasbor_unit_csv" in kinds and "dasbor_kemajuan_csv" in kinds


def test_a_cycle_not_started_yet_shows_empty_charts(env: AppEnv) -> None:
    env.login()
    r = env.client.post("/hr/cycles", data={"tahun": "2027", "periodisasi": "bulanan"},
                        follow_redirects=False)
    assert r.status_code == 303
    cycle_id = int(r.headers["location"].rstrip("/").split("/")[-1])
    html = env.client.get(f"/hr/cycles/{cycle_id}/dasbor").text
    assert "Belum ada tugas." in html and "Siklus belum dimulai." in html
    body = env.client.get(f"/api/v1/cycles/{cycle_id}/dasbor").json()
    assert body["terlambat_harian"] == [] and body["predikat"] == []
    assert [s["kunci"] for s in body["tahap"]][:3] == ["perencanaan", "pemantauan-1",
                                                       "pemantauan-2"]
    assert len([s for s in body["tahap"] if s["kode"] == "pemantauan"]) == 12
    assert {s["status"] for s in body["tahap"]} == {"belum"}
