"""The public satisfaction survey (SKM): the public form and its abuse checks, the unit head's
and HR's results, the IKM applied as an IKI's realisasi, the console and the JSON API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models.db import session_scope
from models.repo import skm as repo
from models.rules import skm as rules
from models.tables import AuditLog, JawabanSurvei, OutboxMessage, Pegawai, Realisasi, Survei, Unit
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, path_of
from tests.api.period_setup import approved_cycle, close_stage
from tests.factories import make_org, make_unit
from tests.unit.test_skm_rules import rows_with_total

ALL4 = (4,) * 9


# -- helpers --------------------------------------------------------------------------------------


def _org(env: AppEnv) -> dict[str, Pegawai]:
    with session_scope(env.rt.engine) as s:
        return make_org(s)


def _open(env: AppEnv, **body: object) -> dict:  # type: ignore[type-arg]
    env.login()
    r = env.client.post("/api/v1/skm", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _survey(env: AppEnv) -> tuple[dict, dict[str, Pegawai]]:  # type: ignore[type-arg]
    org = _org(env)
    return _open(env, unit_id=org["kadis"].unit_id), org


def _form(env: AppEnv, slug: str, **params: str) -> dict[str, str]:
    r = env.client.get(f"/s/{slug}", params=params)
    assert r.status_code == 200, r.text
    token = re.search(r'name="token" value="([^"]+)"', r.text)
    soal = re.search(r'id="soal">(\d+) \+ (\d+)<', r.text)
    assert token and soal
    return {"token": token.group(1), "cek": str(int(soal.group(1)) + int(soal.group(2)))}


def _data(form: dict[str, str], nilai: tuple[object, ...] = ALL4,
          komentar: str = "", **extra: str) -> dict[str, str]:
    values = {f"u{i}": str(v) for i, v in enumerate(nilai, start=1)}
    return form | values | {"komentar": komentar, "website": ""} | extra


def _answer(env: AppEnv, slug: str, nilai: tuple[object, ...] = ALL4, komentar: str = "",
            wait: float = 5, headers: dict[str, str] | None = None, params: dict | None = None,  # type: ignore[type-arg]
            **extra: str):  # type: ignore[no-untyped-def]
    form = _form(env, slug, **(params or {}))
    env.clock.advance(seconds=wait)
    return env.client.post(f"/s/{slug}", data=_data(form, nilai, komentar, **extra),
                           headers=headers or {})


def _answers(env: AppEnv) -> list[JawabanSurvei]:
    with session_scope(env.rt.engine) as s:
        return list(s.execute(select(JawabanSurvei).order_by(JawabanSurvei.id)).scalars())


def _varied(i: int) -> tuple[int, ...]:
    """Different answers for respondent i (a busy counter: no two alike)."""
    return tuple(1 + (i + k * (i // 4 + 1)) % 4 for k in range(9))


# -- the public form ------------------------------------------------------------------------------


def test_a_respondent_answers_and_only_a_keyed_client_hash_is_kept(env: AppEnv) -> None:
    survey, _ = _survey(env)
    page = env.client.get(f"/s/{survey['slug']}")
    assert page.status_code == 200
    assert "Dinas Pendidikan" in page.text and page.text.count('type="radio"') == 36
    assert 'name="website"' in page.text and "Pertanyaan pemeriksaan" in page.text
    assert "Kesesuaian persyaratan".lower() in page.text.lower()
    assert page.headers["cache-control"] == "no-store"
    r = _answer(env, survey["slug"], (4, 4, 3, 4, 3, 4, 4, 2, 3), komentar="  Ruang tunggu panas ")
    assert r.status_code == 200, r.text
    assert "Terima kasih" in r.text and f'href="/s/{survey["slug"]}?lang=id"' in r.text
    [row] = _answers(env)
    assert row.nilai == [4, 4, 3, 4, 3, 4, 4, 2, 3] and row.komentar == "Ruang tunggu panas"
    assert len(row.klien) == 64 and row.klien == rules.client_key("test-secret", "testclient",
                                                                  "testclient")
    assert "testclient" not in (row.klien, row.sidik)


def test_the_form_in_english(env: AppEnv) -> None:
    survey, _ = _survey(env)
    r = env.client.get(f"/s/{survey['slug']}?lang=en")
    assert "Public Satisfaction Survey" in r.text and "Staff conduct" in r.text
    assert "Check question" in r.text and "Send my answers" in r.text
    ok = _answer(env, survey["slug"], params={"lang": "en"})
    assert "Thank you!" in ok.text


@pytest.mark.parametrize(("change", "named"), [
    ({"u3": ""}, "unsur 3 (Waktu penyelesaian) belum dijawab"),
    ({"u5": "0"}, "unsur 5 (Produk spesifikasi jenis pelayanan) harus dijawab dengan nilai 1 sampai 4"),
    ({"u1": "5"}, "unsur 1 (Persyaratan) harus dijawab dengan nilai 1 sampai 4"),
    ({"u9": "sangat baik"}, "unsur 9 (Sarana dan prasarana) harus dijawab dengan nilai 1 sampai 4"),
])
def test_malformed_answers_are_refused_naming_the_element(env: AppEnv, change: dict[str, str],
                                                          named: str) -> None:
    survey, _ = _survey(env)
    form = _form(env, survey["slug"])
    env.clock.advance(seconds=20)
    data = _data(form, (2, 3, 4, 2, 3, 4, 2, 3, 4)) | change
    r = env.client.post(f"/s/{survey['slug']}", data=data)
    assert r.status_code == 422
    assert named in r.text
    assert _answers(env) == []
    # the form comes back with the other answers kept and a fresh check question
    assert re.search(r'name="u2" value="3" checked', r.text)
    assert form["token"] not in r.text


def test_missing_element_in_english(env: AppEnv) -> None:
    survey, _ = _survey(env)
    form = _form(env, survey["slug"])
    env.clock.advance(seconds=20)
    data = _data(form)
    del data["u4"]
    r = env.client.post(f"/s/{survey['slug']}?lang=en", data=data)
    assert r.status_code == 422 and "element 4 (Cost/fee) is not answered" in r.text


def test_the_same_answers_again_from_the_same_device_are_a_duplicate(env: AppEnv) -> None:
    survey, _ = _survey(env)
    assert _answer(env, survey["slug"], komentar="Bagus").status_code == 200
    again = _answer(env, survey["slug"], komentar=" bagus ")
    assert again.status_code == 422
    assert "sudah kami terima" in again.text and "tidak dicatat dua kali" in again.text
    assert len(_answers(env)) == 1
    # other answers, or another device, or after ten minutes: fine
    assert _answer(env, survey["slug"], komentar="Bagus sekali").status_code == 200
    assert _answer(env, survey["slug"], komentar="Bagus",
                   headers={"user-agent": "Ponsel lain"}).status_code == 200
    env.clock.advance(minutes=10)
    assert _answer(env, survey["slug"], komentar="Bagus").status_code == 200
    assert len(_answers(env)) == 4


def test_the_same_loaded_form_sent_twice_is_a_duplicate(env: AppEnv) -> None:
    survey, _ = _survey(env)
    form = _form(env, survey["slug"])
    env.clock.advance(seconds=10)
    first = env.client.post(f"/s/{survey['slug']}", data=_data(form))
    second = env.client.post(f"/s/{survey['slug']}", data=_data(form))
    assert (first.status_code, second.status_code) == (200, 422)
    assert len(_answers(env)) == 1


def test_the_21st_answer_in_ten_minutes_from_one_client_must_wait(env: AppEnv) -> None:
    survey, _ = _survey(env)
    for i in range(20):
        assert _answer(env, survey["slug"], _varied(i), komentar=f"r{i}").status_code == 200, i
    r = _answer(env, survey["slug"], _varied(20), komentar="r20")
    assert r.status_code == 429
    assert "Terlalu banyak jawaban dari perangkat ini" in r.text and "tunggu" in r.text
    assert 0 < int(r.headers["retry-after"]) <= 600
    assert len(_answers(env)) == 20
    # another device is not blocked; this one may go on once the window has moved
    assert _answer(env, survey["slug"], _varied(20), headers={"user-agent": "Tablet 2"}
                   ).status_code == 200
    env.clock.advance(seconds=int(r.headers["retry-after"]))
    assert _answer(env, survey["slug"], _varied(21), komentar="r21").status_code == 200


def test_a_busy_counter_is_not_blocked(env: AppEnv) -> None:
    """Fifteen respondents in a row at one kiosk, about a minute each, different answers."""
    survey, _ = _survey(env)
    for i in range(15):
        r = _answer(env, survey["slug"], _varied(i), wait=40)
        assert r.status_code == 200, (i, r.text[:300])
    assert len(_answers(env)) == 15


def test_kiosk_mode_takes_identical_answers_from_successive_respondents(env: AppEnv) -> None:
    survey, _ = _survey(env)
    key = rules.kiosk_key("test-secret", survey["id"])
    first = env.client.get(f"/s/{survey['slug']}?kiosk={key}")
    assert "skm_kiosk" in first.headers["set-cookie"]
    for _ in range(12):  # the cookie keeps kiosk mode without the parameter
        r = _answer(env, survey["slug"], ALL4, wait=30)
        assert r.status_code == 200 and "kiosk-lanjut" in r.text
    assert len(_answers(env)) == 12
    # a double tap on the same loaded form is still one answer
    form = _form(env, survey["slug"])
    env.clock.advance(seconds=10)
    assert env.client.post(f"/s/{survey['slug']}", data=_data(form)).status_code == 200
    assert env.client.post(f"/s/{survey['slug']}", data=_data(form)).status_code == 422
    # a wrong kiosk key is no kiosk: the same answers again are a duplicate
    env.client.cookies.clear()
    r = _answer(env, survey["slug"], ALL4, params={"kiosk": "salah"})
    assert r.status_code == 200 and "kiosk-lanjut" not in r.text
    assert _answer(env, survey["slug"], ALL4, params={"kiosk": "salah"}).status_code == 422


def test_human_check_too_fast_wrong_sum_tampered_and_honeypot(env: AppEnv) -> None:
    survey, _ = _survey(env)
    slug = survey["slug"]
    fast = _answer(env, slug, (1, 2, 3, 4, 1, 2, 3, 4, 1), wait=1)
    assert fast.status_code == 422 and "terlalu cepat" in fast.text
    assert re.search(r'name="u4" value="4" checked', fast.text)  # nothing to retype
    wrong = _answer(env, slug, cek="99")
    assert wrong.status_code == 422 and "pertanyaan pemeriksaan" in wrong.text
    other = _open(env, unit_id=survey["unit_id"], judul="Survei lain")
    stolen = _form(env, other["slug"])
    env.clock.advance(seconds=10)
    r = env.client.post(f"/s/{slug}", data=_data(stolen))
    assert r.status_code == 422 and "tidak sah" in r.text
    honey = _answer(env, slug, website="http://spam.example")
    assert honey.status_code == 422 and "kolom tersembunyi terisi" in honey.text
    env.clock.advance(hours=13)  # a form left open past its age
    old = _form(env, slug)
    env.clock.advance(hours=13)
    r = env.client.post(f"/s/{slug}", data=_data(old))
    assert r.status_code == 422 and "terlalu lama terbuka" in r.text
    assert _answers(env) == []


def test_a_closed_survey_says_so_and_refuses_answers(env: AppEnv) -> None:
    survey, _ = _survey(env)
    form = _form(env, survey["slug"])
    r = env.client.post(f"/api/v1/skm/{survey['id']}/close")
    assert r.status_code == 200 and r.json()["status"] == "ditutup"
    page = env.client.get(f"/s/{survey['slug']}")
    assert "sudah ditutup" in page.text and 'type="radio"' not in page.text
    env.clock.advance(seconds=10)
    refused = env.client.post(f"/s/{survey['slug']}", data=_data(form))
    assert refused.status_code == 409 and "sudah ditutup" in refused.text
    assert _answers(env) == []
    twice = env.client.post(f"/api/v1/skm/{survey['id']}/close")
    assert twice.status_code == 409 and "sudah ditutup" in twice.json()["detail"]
    assert env.client.post(f"/api/v1/skm/{survey['id']}/reopen").json()["status"] == "dibuka"
    assert _answer(env, survey["slug"]).status_code == 200


def test_unknown_or_rotated_address(env: AppEnv) -> None:
    survey, _ = _survey(env)
    assert env.client.get("/s/tidak-ada").status_code == 404
    r = env.client.post(f"/api/v1/skm/{survey['id']}/rotate-slug")
    new = r.json()["slug"]
    assert new != survey["slug"] and len(new) >= 12
    gone = env.client.get(f"/s/{survey['slug']}")
    assert gone.status_code == 404 and "pindai kode QR terbaru" in gone.text
    assert env.client.get(f"/s/{new}").status_code == 200


def test_qr_code_and_poster(env: AppEnv) -> None:
    survey, _ = _survey(env)
    qr = env.client.get(f"/s/{survey['slug']}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.lstrip().startswith("<svg") and "<path" in qr.text
    poster = env.client.get(f"/s/{survey['slug']}/cetak")
    assert poster.status_code == 200
    assert f"http://testserver/s/{survey['slug']}" in poster.text
    assert "Dinas Pendidikan" in poster.text and "size: A4" in poster.text
    assert f'src="/s/{survey["slug"]}/qr.svg"' in poster.text
    import io

    import segno

    # the QR encodes the short public URL: encoding it again gives the same picture
    assert survey["url"] == f"http://testserver/s/{survey['slug']}"
    out = io.BytesIO()
    segno.make(survey["url"], error="m", micro=False).save(out, kind="svg", scale=10, border=2,
                                                            xmldecl=False, title="QR")
    assert qr.content == out.getvalue()


def test_public_pages_never_show_other_respondents_data(env: AppEnv) -> None:
    survey, _ = _survey(env)
    slug = survey["slug"]
    _answer(env, slug, (1,) * 9, komentar="Rahasia-ABC petugas judes")
    env.client.cookies.clear()
    pages = [env.client.get(f"/s/{slug}"), _answer(env, slug, (3,) * 9, komentar="lain"),
             _answer(env, slug, (3,) * 9, komentar="lain"),  # the duplicate page
             env.client.get(f"/s/{slug}/cetak"), env.client.get(f"/s/{slug}?lang=en")]
    for page in pages:
        assert "Rahasia-ABC" not in page.text
        assert "IKM" not in page.text and "Responden" not in page.text
        assert "25.00" not in page.text and "id=\"responden\"" not in page.text
    # results are not under the public address
    assert env.client.get(f"/s/{slug}/hasil").status_code in (404, 405)


# -- results --------------------------------------------------------------------------------------


def test_the_unit_head_gets_a_signed_results_link(env: AppEnv) -> None:
    survey, org = _survey(env)
    mail = last_mail(env.rt, org["kadis"].email, "hasil_skm")
    assert mail.context["unit"] == "Dinas Pendidikan" and mail.context["judul"] == survey["judul"]
    assert set(mail.context) >= {"agency_name", "nama", "tahun", "link", "unit", "judul"}
    link = path_of(mail.context["link"])
    assert link.startswith("/s/hasil/")
    with session_scope(env.rt.engine) as s:
        others = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "hasil_skm")).all()
    assert len(others) == 1  # only the head
    _answer(env, survey["slug"], (4, 4, 4, 4, 4, 4, 4, 4, 4), komentar="Cepat dan ramah")
    _answer(env, survey["slug"], (3, 3, 3, 2, 3, 3, 3, 3, 3), komentar="")
    env.client.cookies.clear()
    page = env.client.get(link)
    assert page.status_code == 200
    assert 'id="responden">2<' in page.text and 'id="ikm">86.11<' in page.text
    assert 'id="mutu">B<' in page.text and "Cepat dan ramah" in page.text
    assert org["kadis"].nama in page.text
    bad = env.client.get(link[:-3] + "xyz")
    assert bad.status_code == 403 and "tidak sah" in bad.text


def test_a_head_who_moved_loses_the_link_and_an_expired_link_can_be_renewed(env: AppEnv) -> None:
    survey, org = _survey(env)
    link = path_of(last_mail(env.rt, org["kadis"].email, "hasil_skm").context["link"])
    env.clock.advance(days=401)
    expired = env.client.get(link)
    assert expired.status_code == 403 and "kedaluwarsa" in expired.text
    assert f'action="{link}/baru"' in expired.text
    renewed = env.client.post(f"{link}/baru")
    assert renewed.status_code == 200 and "dikirim" in renewed.text
    fresh = path_of(last_mail(env.rt, org["kadis"].email, "hasil_skm").context["link"])
    assert fresh != link and env.client.get(fresh).status_code == 200
    with session_scope(env.rt.engine) as s:  # the kadis moves to another unit
        other = make_unit(s, "Dinas Kesehatan")
        s.get(Pegawai, org["kadis"].id).unit_id = other.id
    moved = env.client.get(fresh)
    assert moved.status_code == 403 and "bukan lagi kepala unit" in moved.text


def test_hr_sees_count_ikm_grade_and_comments(env: AppEnv) -> None:
    survey, _ = _survey(env)
    _answer(env, survey["slug"], ALL4, komentar="Mantap")
    _answer(env, survey["slug"], (2,) * 9)
    listing = env.client.get("/hr/skm")
    assert listing.status_code == 200
    row = re.search(rf'data-survei="{survey["id"]}">(.*?)</tr>', listing.text, re.S)
    assert row and 'class="n responden">2<' in row.group(1) and "75.00" in row.group(1)
    assert "C <span" in row.group(1)
    detail = env.client.get(f"/hr/skm/{survey['id']}")
    assert "Mantap" in detail.text and 'id="ikm">75.00<' in detail.text
    assert "?kiosk=" in detail.text
    api = env.client.get(f"/api/v1/skm/{survey['id']}").json()
    assert (api["responden"], api["ikm"], api["mutu"]) == (2, 75.0, "C")
    assert [u["rata_rata"] for u in api["unsur"]] == [3.0] * 9
    assert api["komentar"] == [{"tanggal": "2027-01-01", "isi": "Mantap"}]
    assert [s["id"] for s in env.client.get("/api/v1/skm").json()] == [survey["id"]]


@pytest.mark.parametrize(("n", "total", "value", "grade"), [
    (24, 763, 88.31, "A"), (19, 604, 88.30, "B"), (19, 524, 76.61, "B"),
    (26, 717, 76.60, "C"), (5, 117, 65.00, "C"), (38, 889, 64.99, "D")])
def test_ikm_and_grade_through_the_results(env: AppEnv, n: int, total: int, value: float,
                                           grade: str) -> None:
    survey, _ = _survey(env)
    with session_scope(env.rt.engine) as s:
        for i, nilai in enumerate(rows_with_total(n, total)):
            s.add(JawabanSurvei(survei_id=survey["id"], nilai=nilai, klien=f"k{i}", sidik=f"s{i}",
                                created_at=env.clock.now()))
    with session_scope(env.rt.engine) as s:
        hasil = repo.results(session=s, survei=s.get(Survei, survey["id"]))
    assert (hasil.count, hasil.ikm, hasil.grade) == (n, value, grade)
    assert round(sum(m for _, m in hasil.means) / 9 * 25, 1) == round(value, 1)


def test_hr_api_needs_login_or_token(env: AppEnv) -> None:
    assert env.client.get("/api/v1/skm").status_code == 401
    assert env.client.post("/api/v1/skm", json={"unit_id": 1}).status_code == 401
    r = env.client.get("/hr/skm", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/hr/login")


# -- opening and the IKI ---------------------------------------------------------------------------


def test_console_opens_a_survey_and_reports_bad_input(env: AppEnv) -> None:
    org = _org(env)
    env.login()
    page = env.client.get("/hr/skm")
    assert "Dinas Pendidikan" in page.text and "Belum ada survei" in page.text
    bad = env.client.post("/hr/skm", data={"unit_id": org["kadis"].unit_id, "periode": "2"})
    assert bad.status_code == 422 and "Pilih siklus" in bad.text
    bad = env.client.post("/hr/skm", data={"unit_id": org["kadis"].unit_id, "kode_iki": "IKI-999"})
    assert bad.status_code == 422 and "IKI-999" in bad.text and 'value="IKI-999"' in bad.text
    r = env.client.post("/hr/skm", data={"unit_id": org["kadis"].unit_id, "judul": "SKM loket"},
                        follow_redirects=False)
    assert r.status_code == 303
    detail = env.client.get(r.headers["location"])
    assert "Survei dibuka" in detail.text and "SKM loket" in detail.text
    assert 'id="kosong"' in detail.text
    with session_scope(env.rt.engine) as s:
        [audit] = s.execute(select(AuditLog).where(AuditLog.action == "skm.buka")).scalars()
        assert audit.actor == "hr:admin"
    closed = env.client.post(detail.url.path + "/close", follow_redirects=False)
    assert closed.status_code == 303
    again = env.client.post(detail.url.path + "/close")
    assert again.status_code == 409 and "sudah ditutup" in again.text


def test_an_inactive_unit_or_unknown_name_is_refused(env: AppEnv) -> None:
    org = _org(env)
    env.login()
    r = env.client.post("/api/v1/skm", json={"unit": "Dinas Pendidikan"})
    assert r.status_code == 201 and r.json()["unit_id"] == org["kadis"].unit_id
    assert r.json()["judul"] == "Survei Kepuasan Masyarakat Dinas Pendidikan"
    assert env.client.post("/api/v1/skm", json={"unit": "Dinas Fiktif"}).status_code == 422
    with session_scope(env.rt.engine) as s:
        s.get(Unit, org["kadis"].unit_id).active = False
    assert env.client.post("/api/v1/skm", json={"unit_id": org["kadis"].unit_id}
                           ).status_code == 422


def test_apply_the_ikm_to_the_unit_heads_iki(env: AppEnv) -> None:
    case = approved_cycle(env.rt)
    env.login()
    kode = f"IKI-{case.iki['kadis'][0]}"
    for bad, says in (({"kode_iki": f"IKI-{case.iki['kadis'][2]}"}, "kualitatif"),
                      ({"kode_iki": kode}, "Pilih periode"),
                      ({"kode_iki": kode, "periode": 9}, "tidak punya periode 9"),
                      ({"kode_iki": "bukan kode"}, "tidak ditemukan")):
        r = env.client.post("/api/v1/skm", json={"unit_id": case.org["kadis"].unit_id, **bad})
        assert r.status_code == 422 and says in r.json()["detail"], (bad, r.json())
    survey = _open(env, unit_id=case.org["kadis"].unit_id, kode_iki=kode.lower(), periode=1)
    assert (survey["cycle_id"], survey["kode_iki"], survey["periode_label"]) == (
        case.cycle_id, kode, "Triwulan I")
    empty = env.client.post(f"/api/v1/skm/{survey['id']}/apply-iki")
    assert empty.status_code == 422 and "Belum ada jawaban" in empty.json()["detail"]
    _answer(env, survey["slug"], ALL4)
    _answer(env, survey["slug"], (3,) * 9)
    r = env.client.post(f"/hr/skm/{survey['id']}/apply-iki", follow_redirects=False)
    assert r.status_code == 303
    with session_scope(env.rt.engine) as s:
        row = s.execute(select(Realisasi).where(Realisasi.iki_id == case.iki["kadis"][0],
                                                Realisasi.periode == 1)).scalar_one()
        assert (row.nilai, row.sumber, row.skp_id) == (87.5, "skm", case.skp["kadis"])
    _answer(env, survey["slug"], (1,) * 9)  # applying again replaces the value
    assert env.client.post(f"/api/v1/skm/{survey['id']}/apply-iki").status_code == 200
    with session_scope(env.rt.engine) as s:
        assert s.execute(select(Realisasi.nilai).where(
            Realisasi.iki_id == case.iki["kadis"][0])).scalar_one() == 66.67
    close_stage(env.rt, case.cycle_id, 1)
    refused = env.client.post(f"/api/v1/skm/{survey['id']}/apply-iki")
    assert refused.status_code == 409 and "sudah ditutup" in refused.json()["detail"]
    page = env.client.post(f"/hr/skm/{survey['id']}/apply-iki")
    assert page.status_code == 409 and "Triwulan I sudah ditutup" in page.text
    plain = _open(env, unit_id=case.org["kadis"].unit_id)
    r = env.client.post(f"/api/v1/skm/{plain['id']}/apply-iki")
    assert r.status_code == 422 and "tidak terhubung ke IKI" in r.json()["detail"]


def test_no_head_no_mail(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        unit = make_unit(s, "UPT Kosong")
    _open(env, unit_id=unit.id)
    with session_scope(env.rt.engine) as s:
        assert s.execute(select(OutboxMessage)).first() is None
    assert timedelta(minutes=10) == rules.RATE_WINDOW
