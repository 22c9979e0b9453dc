"""Competency self-assessment through task links and the HR console: self-ratings, the PPK's
ratings of current subordinates only, recommendations from the catalogue at close, HR's list
and catalogue, the CSV export, reminders."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update

from models.db import session_scope
from models.repo import kompetensi as repo
from models.repo.cycles import create_cycle, get_stage
from models.repo.hr import create_api_token
from models.repo.people import active_pegawai_ids
from models.rules import feedback
from models.rules import kompetensi as rules
from models.rules.enums import StageCode, TaskKind
from models.tables import (
    AuditLog,
    Cycle,
    HrUser,
    Kompetensi,
    OutboxMessage,
    Pegawai,
    Pelatihan,
    PenilaianKompetensi,
    RekomendasiPelatihan,
    Task,
)
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, outbox_count, path_of
from tests.factories import make_org


@dataclass
class Case:
    cycle_id: int
    org: dict[str, Pegawai]
    k: dict[str, int]  # competency name -> id


def _open(env: AppEnv) -> Case:
    """Default list and catalogue, an org of five, the umpan_balik stage opened now."""
    now = env.clock.now()
    with session_scope(env.rt.engine) as s:
        assert repo.ensure_defaults(session=s) > 0
        org = make_org(s)
        cycle = create_cycle(session=s, tahun=now.year, now=now, actor="test",
                             feedback_dates=feedback.compressed_stage(now, 100))
        stage = get_stage(session=s, cycle_id=cycle.id, code=StageCode.UMPAN_BALIK)
        stage.opened_at = now
        n = repo.open_kompetensi_chunk(session=s, cycle=cycle, stage=stage,
                                       pegawai_ids=active_pegawai_ids(session=s), now=now,
                                       mail=env.rt.mail)
        assert n == 5
        k = dict(s.execute(select(Kompetensi.nama, Kompetensi.id)).all())
        return Case(cycle.id, org, k)


def _link(env: AppEnv, person: Pegawai) -> str:
    return path_of(last_mail(env.rt, person.email, "undangan_kompetensi").context["link"])


def _rating(env: AppEnv, person: Pegawai, k_id: int) -> tuple[int | None, int | None]:
    with session_scope(env.rt.engine) as s:
        row = s.execute(select(PenilaianKompetensi).where(
            PenilaianKompetensi.pegawai_id == person.id,
            PenilaianKompetensi.kompetensi_id == k_id)).scalar_one()
        return row.nilai_diri, row.nilai_ppk


def _task(env: AppEnv, person: Pegawai) -> Task:
    with session_scope(env.rt.engine) as s:
        return s.execute(select(Task).where(Task.kind == TaskKind.KOMPETENSI,
                                            Task.pegawai_id == person.id)).scalar_one()


def _close(env: AppEnv, case: Case) -> int:
    with session_scope(env.rt.engine) as s:
        stage = get_stage(session=s, cycle_id=case.cycle_id, code=StageCode.UMPAN_BALIK)
        stage.closed_at = env.clock.now()
        return repo.close_kompetensi(session=s, cycle=s.get(Cycle, case.cycle_id),
                                     now=env.clock.now())


def _count(env: AppEnv, model, *where) -> int:  # type: ignore[no-untyped-def]
    with session_scope(env.rt.engine) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _bearer(env: AppEnv) -> dict[str, str]:
    with session_scope(env.rt.engine) as s:
        user = s.execute(select(HrUser)).scalar_one()
        token = create_api_token(session=s, user=user, name="simpeg", now=env.clock.now())
    return {"Authorization": f"Bearer {token}"}


def test_opening_gives_rows_tasks_and_one_invitation_each_and_runs_twice_safely(env: AppEnv) -> None:
    case = _open(env)
    active = _count(env, Kompetensi, Kompetensi.aktif)
    assert active == 12 and _count(env, PenilaianKompetensi) == 5 * active
    with session_scope(env.rt.engine) as s:
        stage = get_stage(session=s, cycle_id=case.cycle_id, code=StageCode.UMPAN_BALIK)
    # a PPK's task is due at the PPK's date, a staff member's at the pegawai's
    assert _task(env, case.org["kasi"]).due_at == stage.approve_due_at
    assert _task(env, case.org["staf1"]).due_at == stage.due_at
    invite = last_mail(env.rt, case.org["kasi"].email, "undangan_kompetensi")
    assert invite.key == f"invite:{case.cycle_id}:kompetensi:{case.org['kasi'].id}"
    assert invite.context["bawahan"] == 2
    assert last_mail(env.rt, case.org["staf1"].email, "undangan_kompetensi").context["bawahan"] == 0
    before = outbox_count(env.rt)
    with session_scope(env.rt.engine) as s:
        cycle = s.get(Cycle, case.cycle_id)
        repo.open_kompetensi_chunk(session=s, cycle=cycle, stage=stage,
                                   pegawai_ids=active_pegawai_ids(session=s),
                                   now=env.clock.advance(minutes=5), mail=env.rt.mail)
    assert outbox_count(env.rt) == before and _count(env, PenilaianKompetensi) == 5 * active
    assert _count(env, Task, Task.kind == TaskKind.KOMPETENSI) == 5


def test_self_rating_is_saved_and_bad_values_change_nothing(env: AppEnv) -> None:
    case = _open(env)
    staf1, integritas, komunikasi = case.org["staf1"], case.k["Integritas"], case.k["Komunikasi"]
    link = _link(env, staf1)
    page = env.client.get(f"{link}/kompetensi")
    assert page.status_code == 200 and "Integritas" in page.text and "Perekat Bangsa" in page.text
    r = env.client.post(f"{link}/kompetensi", data={f"k_{integritas}": "4"},
                        follow_redirects=False)
    assert r.status_code == 303 and _rating(env, staf1, integritas) == (4, None)
    assert "disimpan" in env.client.get(r.headers["location"]).text
    for bad in ("0", "6", "tiga"):
        r = env.client.post(f"{link}/kompetensi",
                            data={f"k_{integritas}": "2", f"k_{komunikasi}": bad})
        assert r.status_code == 422, bad
        assert "Nilai Komunikasi harus bilangan bulat 1 sampai 5" in r.text
        assert f"(diisi: {bad})" in r.text
        assert _rating(env, staf1, integritas) == (4, None)  # the good value was not kept either
        assert _rating(env, staf1, komunikasi) == (None, None)
    r = env.client.post(f"{link}/kompetensi?lang=en", data={f"k_{komunikasi}": "9"})
    assert r.status_code == 422 and "must be a whole number from 1 to 5" in r.text
    # a competency that is not on the list is refused too
    r = env.client.post(f"{link}/kompetensi", data={"k_999999": "3"})
    assert r.status_code == 422
    # rating everything ends the task (no more reminders)
    assert _task(env, staf1).status == "open"
    r = env.client.post(f"{link}/kompetensi", data={f"k_{k}": "3" for k in case.k.values()},
                        follow_redirects=False)
    assert r.status_code == 303
    task = _task(env, staf1)
    assert task.status == "done" and task.next_reminder_at is None
    # clearing a rating opens it again
    env.client.post(f"{link}/kompetensi", data={f"k_{integritas}": ""})
    assert _task(env, staf1).status == "open" and _rating(env, staf1, integritas) == (None, None)


def test_ppk_rates_current_direct_subordinates_only(env: AppEnv) -> None:
    case = _open(env)
    kasi, staf1, staf2 = case.org["kasi"], case.org["staf1"], case.org["staf2"]
    integritas = case.k["Integritas"]
    link = _link(env, kasi)
    page = env.client.get(f"{link}/kompetensi")
    assert page.status_code == 200 and "Staf Satu" in page.text and "Staf Dua" in page.text
    env.client.post(f"{_link(env, staf1)}/kompetensi", data={f"k_{integritas}": "5"})
    page = env.client.get(f"{link}/kompetensi/{staf1.id}?lang=en")
    assert page.status_code == 200 and "Staf Satu" in page.text and "Your rating (PPK)" in page.text
    env.client.get(f"{link}/kompetensi?lang=id")
    r = env.client.post(f"{link}/kompetensi/{staf1.id}", data={f"k_{integritas}": "2"},
                        follow_redirects=False)
    assert r.status_code == 303 and _rating(env, staf1, integritas) == (5, 2)
    r = env.client.post(f"{link}/kompetensi/{staf1.id}", data={f"k_{integritas}": "6"})
    assert r.status_code == 422 and _rating(env, staf1, integritas) == (5, 2)
    # the PPK's own superior, the top of the tree, a colleague's link: all refused
    for other in (case.org["kabid"], case.org["kadis"]):
        assert env.client.get(f"{link}/kompetensi/{other.id}").status_code == 403
        r = env.client.post(f"{link}/kompetensi/{other.id}", data={f"k_{integritas}": "1"})
        assert r.status_code == 403 and _rating(env, other, integritas) == (None, None)
    assert env.client.get(f"{_link(env, staf1)}/kompetensi/{staf2.id}").status_code == 403
    assert env.client.get(f"{link}/kompetensi/999999").status_code == 403
    # while the stage is open, the pegawai does not see the PPK's rating yet
    assert "Nilai PPK" not in env.client.get(f"{_link(env, staf1)}/kompetensi").text
    # staf2 moves to another superior: the old PPK's link stops working for them at once
    with session_scope(env.rt.engine) as s:
        s.execute(update(Pegawai).where(Pegawai.id == staf2.id)
                  .values(atasan_id=case.org["kabid"].id))
    assert env.client.get(f"{link}/kompetensi/{staf2.id}").status_code == 403
    assert env.client.get(f"{_link(env, case.org['kabid'])}/kompetensi/{staf2.id}").status_code == 200
    # the PPK's task is done once their own and every subordinate's competencies are rated
    every = {f"k_{k}": "3" for k in case.k.values()}
    env.client.post(f"{link}/kompetensi", data=every)
    assert _task(env, kasi).status == "open"
    env.client.post(f"{link}/kompetensi/{staf1.id}", data=every)
    assert _task(env, kasi).status == "done"


def test_closing_recommends_training_for_gaps_from_the_catalogue(env: AppEnv) -> None:
    case = _open(env)
    env.login()
    staf1, staf2, kasi = case.org["staf1"], case.org["staf2"], case.org["kasi"]
    k = case.k
    r = env.client.post(f"/hr/kompetensi/siklus/{case.cycle_id}/ambang",
                        data={"ambang_gap": "2"}, follow_redirects=False)
    assert r.status_code == 303
    env.client.post(f"{_link(env, staf1)}/kompetensi", data={
        f"k_{k['Integritas']}": "2",  # gap 1: below the threshold of 2
        f"k_{k['Komunikasi']}": "5",  # the PPK's 1 counts: gap 2
        f"k_{k['Pelayanan Publik']}": "1",  # the PPK's 3 counts: no gap
        f"k_{k['Orientasi pada Hasil']}": "1"})  # no PPK rating: self 1, gap 2
    ppk = _link(env, kasi)
    env.client.post(f"{ppk}/kompetensi/{staf1.id}", data={
        f"k_{k['Komunikasi']}": "1", f"k_{k['Pelayanan Publik']}": "3"})
    env.client.post(f"{ppk}/kompetensi/{staf2.id}", data={f"k_{k['Integritas']}": "1"})
    with session_scope(env.rt.engine) as s:  # a deactivated training is not recommended
        s.execute(update(Pelatihan).where(Pelatihan.nama == "Teknik presentasi")
                  .values(aktif=False))
    assert _close(env, case) == 3
    assert _task(env, staf2).status == "cancelled" and _task(env, kasi).status == "cancelled"
    with session_scope(env.rt.engine) as s:
        got = {(r.pegawai_id, r.kompetensi_id): r for r in s.execute(
            select(RekomendasiPelatihan)).scalars()}
        names = dict(s.execute(select(Pelatihan.id, Pelatihan.nama)).all())
    assert set(got) == {(staf1.id, k["Komunikasi"]), (staf1.id, k["Orientasi pada Hasil"]),
                        (staf2.id, k["Integritas"])}
    assert got[(staf1.id, k["Komunikasi"])].gap == 2
    assert [names[i] for i in got[(staf1.id, k["Komunikasi"])].pelatihan_ids] == [
        "Komunikasi efektif"]
    assert [names[i] for i in got[(staf1.id, k["Orientasi pada Hasil"])].pelatihan_ids] == [
        "Manajemen waktu", "Penetapan target dan pengukuran kinerja"]
    # closing again changes nothing; the threshold cannot move any more
    assert _close(env, case) == 0 and _count(env, RekomendasiPelatihan) == 3
    r = env.client.post(f"/hr/kompetensi/siklus/{case.cycle_id}/ambang", data={"ambang_gap": "1"})
    assert r.status_code == 409
    # the pegawai now sees the PPK's ratings and the recommendations, read-only
    with session_scope(env.rt.engine) as s:
        recs = repo.recommendations_for(session=s, cycle_id=case.cycle_id, pegawai_id=staf1.id)
    assert [(x.kompetensi.nama, x.gap) for x in recs] == [("Komunikasi", 2),
                                                          ("Orientasi pada Hasil", 2)]
    page = env.client.get(f"{_link(env, staf1)}/kompetensi")
    assert "Nilai PPK" in page.text and "Manajemen waktu" in page.text
    assert "Komunikasi efektif" in page.text and 'name="k_' not in page.text
    page = env.client.get(f"{_link(env, staf1)}/kompetensi?lang=en")
    assert page.status_code == 200 and "Training recommendations" in page.text
    env.client.get(f"{_link(env, staf1)}/kompetensi?lang=id")  # back to Indonesian
    r = env.client.post(f"{_link(env, staf1)}/kompetensi", data={f"k_{k['Integritas']}": "5"})
    assert r.status_code == 409 and "sudah ditutup" in r.text
    assert _rating(env, staf1, k["Integritas"]) == (2, None)
    r = env.client.post(f"{ppk}/kompetensi/{staf1.id}", data={f"k_{k['Integritas']}": "5"})
    assert r.status_code == 409
    assert env.client.get(f"{ppk}/kompetensi/{staf1.id}").status_code == 200


def test_hr_edits_the_list_and_the_catalogue(env: AppEnv) -> None:
    case = _open(env)
    env.login()
    page = env.client.get("/hr/kompetensi")
    assert page.status_code == 200 and "Integritas" in page.text and "Manajemen waktu" in page.text
    assert env.client.get("/hr/kompetensi?lang=en").status_code == 200
    env.client.get("/hr/kompetensi?lang=id")
    assert f'href="/hr/kompetensi/siklus/{case.cycle_id}"' in page.text
    r = env.client.post("/hr/kompetensi", data={"kode": "tek-04", "nama": "Analisis Kebijakan",
                                                "jenis": "teknis", "level_standar": "4"},
                        follow_redirects=False)
    assert r.status_code == 303
    with session_scope(env.rt.engine) as s:
        new = s.execute(select(Kompetensi).where(Kompetensi.kode == "TEK-04")).scalar_one()
    assert (new.nama, new.level_standar, new.jenis) == ("Analisis Kebijakan", 4, "teknis")
    r = env.client.post("/hr/kompetensi", data={"kode": "TEK-04", "nama": "Lagi",
                                                "jenis": "teknis", "level_standar": "3"})
    assert r.status_code == 422 and "sudah dipakai" in r.text
    r = env.client.post("/hr/kompetensi", data={"kode": "TEK-05", "nama": "X", "jenis": "teknis",
                                                "level_standar": "6"})
    assert r.status_code == 422 and _count(env, Kompetensi, Kompetensi.kode == "TEK-05") == 0
    # rename, change the standard level, deactivate
    integritas = case.k["Integritas"]
    r = env.client.post(f"/hr/kompetensi/{integritas}", data={
        "nama": "Integritas ASN", "jenis": "manajerial", "level_standar": "4", "aktif": "1"},
        follow_redirects=False)
    assert r.status_code == 303
    r = env.client.post(f"/hr/kompetensi/{case.k['Perekat Bangsa']}", data={
        "nama": "Perekat Bangsa", "jenis": "sosial_kultural", "level_standar": "3"},
        follow_redirects=False)
    assert r.status_code == 303
    with session_scope(env.rt.engine) as s:
        row = s.get(Kompetensi, integritas)
        assert (row.nama, row.level_standar) == ("Integritas ASN", 4)
        assert s.get(Kompetensi, case.k["Perekat Bangsa"]).aktif is False
    page = env.client.get(f"{_link(env, case.org['staf1'])}/kompetensi")
    assert "Integritas ASN" in page.text and "Perekat Bangsa" not in page.text
    # order: the second moves up
    second = case.k["Kerja Sama"]
    assert env.client.post(f"/hr/kompetensi/{second}/naik", follow_redirects=False).status_code == 303
    with session_scope(env.rt.engine) as s:
        order = [x.id for x in repo.active_kompetensi(session=s)]
    assert order[:2] == [second, integritas]
    # the catalogue: add, edit, deactivate
    r = env.client.post("/hr/kompetensi/pelatihan", data={
        "kompetensi_id": str(new.id), "nama": "Analisis kebijakan publik",
        "penyelenggara": "BPSDM Provinsi"}, follow_redirects=False)
    assert r.status_code == 303
    with session_scope(env.rt.engine) as s:
        pel = s.execute(select(Pelatihan).where(Pelatihan.kompetensi_id == new.id)).scalar_one()
    assert pel.penyelenggara == "BPSDM Provinsi"
    r = env.client.post(f"/hr/kompetensi/pelatihan/{pel.id}", data={
        "kompetensi_id": str(new.id), "nama": "Analisis kebijakan", "keterangan": "3 hari"},
        follow_redirects=False)
    assert r.status_code == 303
    with session_scope(env.rt.engine) as s:
        pel = s.get(Pelatihan, pel.id)
    assert (pel.nama, pel.keterangan, pel.penyelenggara, pel.aktif) == (
        "Analisis kebijakan", "3 hari", None, False)
    r = env.client.post("/hr/kompetensi/pelatihan", data={"kompetensi_id": str(new.id), "nama": ""})
    assert r.status_code == 422 and "wajib diisi" in r.text
    assert _count(env, AuditLog, AuditLog.action.like("kompetensi.%")) >= 4
    assert _count(env, AuditLog, AuditLog.action.like("pelatihan.%")) == 2
    # the console needs a login
    env.client.post("/hr/logout")
    assert env.client.get("/hr/kompetensi", follow_redirects=False).status_code == 303


def test_hr_json_api(env: AppEnv) -> None:
    _open(env)
    h = _bearer(env)
    assert env.client.get("/api/v1/kompetensi").status_code == 401
    items = env.client.get("/api/v1/kompetensi", headers=h).json()
    assert len(items) == 12 and items[0]["kode"] == "MNJ-01"
    r = env.client.post("/api/v1/kompetensi", headers=h, json={
        "kode": "TEK-09", "nama": "Pengadaan Barang/Jasa", "jenis": "teknis", "level_standar": 2})
    assert r.status_code == 201, r.text
    kid = r.json()["id"]
    r = env.client.post("/api/v1/kompetensi", headers=h, json={
        "kode": "TEK-10", "nama": "X", "jenis": "lain", "level_standar": 2})
    assert r.status_code == 422 and "teknis, manajerial" in r.json()["detail"]
    r = env.client.patch(f"/api/v1/kompetensi/{kid}", headers=h, json={"level_standar": 3,
                                                                      "aktif": False})
    assert r.status_code == 200 and r.json()["level_standar"] == 3 and r.json()["aktif"] is False
    assert r.json()["nama"] == "Pengadaan Barang/Jasa"
    assert env.client.patch("/api/v1/kompetensi/999999", headers=h,
                            json={"nama": "x"}).status_code == 404
    r = env.client.post("/api/v1/kompetensi/pelatihan", headers=h, json={
        "kompetensi_id": kid, "nama": "Sertifikasi pengadaan"})
    assert r.status_code == 201
    pid = r.json()["id"]
    r = env.client.put(f"/api/v1/kompetensi/pelatihan/{pid}", headers=h, json={
        "kompetensi_id": kid, "nama": "Sertifikasi PBJ tingkat dasar", "aktif": False})
    assert r.status_code == 200 and r.json()["aktif"] is False
    names = [p["nama"] for p in env.client.get("/api/v1/kompetensi/pelatihan", headers=h).json()]
    assert "Sertifikasi PBJ tingkat dasar" in names and "Manajemen waktu" in names


def test_recommendations_table_csv_and_json(env: AppEnv) -> None:
    case = _open(env)
    env.login()
    staf1 = case.org["staf1"]
    k = case.k
    with session_scope(env.rt.engine) as s:  # a name that a spreadsheet would run as a formula
        s.execute(update(Pelatihan).where(Pelatihan.kompetensi_id == k["Integritas"])
                  .values(nama='=HYPERLINK("http://x")'))
    env.client.post(f"{_link(env, staf1)}/kompetensi", data={f"k_{k['Integritas']}": "1"})
    page = env.client.get(f"/hr/kompetensi/siklus/{case.cycle_id}")
    assert page.status_code == 200 and "Belum ada rekomendasi" in page.text
    _close(env, case)
    page = env.client.get(f"/hr/kompetensi/siklus/{case.cycle_id}")
    assert staf1.nip in page.text and "HYPERLINK" in page.text
    r = env.client.get(f"/hr/kompetensi/siklus/{case.cycle_id}/rekomendasi.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeffNIP;Nama;Unit Kerja;")
    lines = text.strip().split("\r\n")
    assert len(lines) == 2
    cells = lines[1].split(";")
    assert cells[0] == staf1.nip and cells[1] == "Staf Satu" and "Integritas" in cells
    assert cells[7:11] == ["3", "1", "", "2"]  # standard, self, PPK, gap
    assert "'=HYPERLINK" in lines[1] and ";=HYPERLINK" not in lines[1]
    data = env.client.get(f"/api/v1/kompetensi/siklus/{case.cycle_id}/rekomendasi",
                          headers=_bearer(env)).json()
    assert data["ambang_gap"] == 1 and data["progress"]["rekomendasi"] == 1
    assert data["rekomendasi"][0]["nip"] == staf1.nip and data["rekomendasi"][0]["gap"] == 2


def test_reminders_go_only_to_who_still_has_something_to_rate(env: AppEnv) -> None:
    case = _open(env)
    every = {f"k_{k}": "3" for k in case.k.values()}
    env.client.post(f"{_link(env, case.org['staf1'])}/kompetensi", data=every)  # done
    env.client.post(f"{_link(env, case.org['kadis'])}/kompetensi", data=every)  # kabid unrated

    def sweep() -> int:
        with session_scope(env.rt.engine) as s:
            cycle = s.get(Cycle, case.cycle_id)
            stage = get_stage(session=s, cycle_id=case.cycle_id, code=StageCode.UMPAN_BALIK)
            return repo.sweep_kompetensi(session=s, cycle=cycle, stage=stage, now=env.clock.now(),
                                         mail=env.rt.mail)

    assert sweep() == 0
    env.clock.advance(minutes=100 + 1440)  # a day past every due date
    assert sweep() == 4  # staf2, kasi, kabid (own), kadis (kabid not rated by them)
    assert sweep() == 0
    with session_scope(env.rt.engine) as s:
        sent = {m.to_email: m for m in s.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "pengingat_kompetensi")).scalars()}
    assert case.org["staf1"].email not in sent and case.org["kadis"].email in sent
    msg = sent[case.org["staf2"].email]
    task = _task(env, case.org["staf2"])
    assert msg.key == f"remind-kompetensi:{task.id}:{int(task.due_at.timestamp())}:2"
    assert msg.context["overdue"] is True and msg.context["n"] == 3
    # once the stage is closed, no more reminders
    env.clock.advance(days=3)
    _close(env, case)
    assert sweep() == 0


def test_defaults_are_seeded_once(env: AppEnv) -> None:
    with session_scope(env.rt.engine) as s:
        assert repo.ensure_defaults(session=s) > 12
        assert repo.ensure_defaults(session=s) == 0
    assert _count(env, Kompetensi) == 12
    assert _count(env, Pelatihan) == len(rules.DEFAULT_PELATIHAN)


def test_a_rating_saved_as_the_stage_closes_leaves_the_task_cancelled(env: AppEnv) -> None:
    """The soak year: a request loaded its task (its own link's) while the stage was open; the
    closing cancelled the task before the request saved its last rating. The save must not
    write the task's old state back as done (it did, with no audit line)."""
    from sqlmodel import Session

    from models.repo.audit import close_open_tasks

    case = _open(env)
    staf = case.org["staf1"]
    values = {k_id: "3" for k_id in case.k.values()}
    with Session(env.rt.engine, expire_on_commit=False) as request:
        stage = get_stage(session=request, cycle_id=case.cycle_id, code=StageCode.UMPAN_BALIK)
        mine = request.execute(select(Task).where(  # what the link check loads
            Task.kind == TaskKind.KOMPETENSI, Task.pegawai_id == staf.id)).scalar_one()
        assert mine.status == "open"
        with session_scope(env.rt.engine) as s:  # meanwhile the stage's closing cancels it
            assert close_open_tasks(session=s, now=env.clock.now(), cycle_id=case.cycle_id,
                                    where=[Task.kind == TaskKind.KOMPETENSI]) == 5
        repo.save_ratings(session=request, cycle_id=case.cycle_id, stage=stage,
                          pegawai_id=staf.id, values=values, by_ppk=False, actor_id=staf.id,
                          now=env.clock.now())
        request.commit()
    assert _task(env, staf).status == "cancelled"
