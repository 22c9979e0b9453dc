"""Publication, keberatan and follow-up: the pegawai's result page and appeal, the atasan PPK's
decision, the window's end (final results, awards, coaching plans, angka kredit), coaching plan
actions, reminders, HR's console, JSON and the payroll CSV."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from kinerja.runtime import Runtime
from models.db import session_scope
from models.repo import keberatan as repo
from models.rules.enums import JenisJabatan, Rating, TaskKind
from models.rules.texts import format_datetime
from models.tables import (
    Cycle,
    CycleStage,
    KandidatPenghargaan,
    Keberatan,
    Kompetensi,
    OutboxMessage,
    Pegawai,
    Pelatihan,
    PenilaianTahunan,
    PerubahanNilai,
    Realisasi,
    RekomendasiPelatihan,
    RencanaPembinaan,
    SkpPeriode,
    Task,
)
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, path_of
from tests.api.period_setup import PeriodCase, approved_cycle

A, S, B = Rating.DI_ATAS.value, Rating.SESUAI.value, Rating.DI_BAWAH.value
#: person -> (hasil kerja, perilaku): staf1 Baik, staf2 Butuh Perbaikan, kasi Sangat Baik,
#: kabid Kurang/Misconduct, kadis Baik
RATINGS = {"staf1": (S, S), "staf2": (B, S), "kasi": (A, A), "kabid": (S, B), "kadis": (A, S)}
REASONS = "Realisasi triwulan IV belum diperhitungkan oleh PPK saat menilai."


def _count(env: AppEnv, model, *where) -> int:  # type: ignore[no-untyped-def]
    with session_scope(env.rt.engine) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _mails(env: AppEnv, kind: str) -> list[OutboxMessage]:
    with session_scope(env.rt.engine) as s:
        return list(s.execute(select(OutboxMessage).where(OutboxMessage.kind == kind)
                              .order_by(OutboxMessage.id)).scalars())


def rated_cycle(rt: Runtime) -> PeriodCase:
    """The five of the test org rated for the year ('dinilai'); staf1 and staf2 are JF; staf1
    has a realisasi and a periodic predikat."""
    case = approved_cycle(rt)
    now = rt.clock.now()
    with session_scope(rt.engine) as s:
        for key, jenjang in (("staf1", "Ahli Muda"), ("staf2", "Ahli Pertama")):
            p = s.get(Pegawai, case.org[key].id)
            p.jenis_jabatan, p.jenjang, p.jabatan = JenisJabatan.FUNGSIONAL, jenjang, "Analis"
        s.add(Realisasi(skp_id=case.skp["staf1"], iki_id=case.iki["staf1"][0], periode=1,
                        nilai=12, updated_at=now))
        rec = s.execute(select(SkpPeriode).where(SkpPeriode.skp_id == case.skp["staf1"])).scalar()
        rec.hasil_kerja, rec.perilaku, rec.predikat = S, S, "Baik"
        for key, (hk, pk) in RATINGS.items():
            from models.rules.scoring import predikat

            s.add(PenilaianTahunan(skp_id=case.skp[key], cycle_id=case.cycle_id, hasil_kerja=hk,
                                   perilaku=pk, predikat=predikat(hk, pk), status="dinilai",
                                   dinilai_at=now, dinilai_oleh_id=case.org[key].atasan_id))
    return case


def publish(env: AppEnv, case: PeriodCase) -> int:
    with session_scope(env.rt.engine) as s:
        return repo.publish(session=s, cycle=s.get(Cycle, case.cycle_id), now=env.rt.clock.now(),
                            mail=env.rt.mail)


def close(env: AppEnv, case: PeriodCase):  # type: ignore[no-untyped-def]
    with session_scope(env.rt.engine) as s:
        return dict(repo.close_appeals(
            session=s, cycle=s.get(Cycle, case.cycle_id),
            stage=repo.keberatan_stage(session=s, cycle_id=case.cycle_id),
            now=env.rt.clock.now(), mail=env.rt.mail).data)


def sweep(env: AppEnv, case: PeriodCase):  # type: ignore[no-untyped-def]
    with session_scope(env.rt.engine) as s:
        return repo.sweep(session=s, cycle=s.get(Cycle, case.cycle_id), now=env.rt.clock.now(),
                          mail=env.rt.mail)


def result_link(env: AppEnv, case: PeriodCase, key: str) -> str:
    return path_of(last_mail(env.rt, case.org[key].email, "hasil_kinerja").context["link"])


def file(env: AppEnv, case: PeriodCase, key: str, alasan: str = REASONS):  # type: ignore[no-untyped-def]
    return env.client.post(f"{result_link(env, case, key)}/hasil/keberatan",
                           data={"alasan": alasan}, follow_redirects=False)


def annual(env: AppEnv, case: PeriodCase, key: str) -> PenilaianTahunan:
    with session_scope(env.rt.engine) as s:
        return s.execute(select(PenilaianTahunan).where(
            PenilaianTahunan.skp_id == case.skp[key])).scalar_one()


def keberatan_of(env: AppEnv, case: PeriodCase, key: str) -> Keberatan:
    with session_scope(env.rt.engine) as s:
        return s.execute(select(Keberatan).where(Keberatan.skp_id == case.skp[key])).scalar_one()


def test_publishing_twice_publishes_and_sends_once(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    now = env.rt.clock.now()
    assert publish(env, case) == 5
    assert publish(env, case) == 0
    mails = _mails(env, "hasil_kinerja")
    assert len(mails) == 5
    staf2 = next(m for m in mails if m.to_email == case.org["staf2"].email)
    batas = now + timedelta(days=14)
    assert staf2.context["predikat"] == "Butuh Perbaikan"
    assert staf2.context["batas_keberatan"] == format_datetime(batas, "Asia/Jakarta")
    with session_scope(env.rt.engine) as s:
        stage = repo.keberatan_stage(session=s, cycle_id=case.cycle_id)
        assert (stage.opened_at, stage.closes_at, stage.due_at) == (now, batas, batas)
        assert s.execute(select(func.count()).select_from(CycleStage).where(
            CycleStage.code == "keberatan")).scalar_one() == 1
        tasks = list(s.execute(select(Task).where(Task.kind == TaskKind.HASIL_KINERJA)).scalars())
        assert len(tasks) == 5 and {t.due_at for t in tasks} == {batas}
        assert {t.next_reminder_at for t in tasks} == {None}  # nothing to chase: no reminders
    assert {annual(env, case, k).status for k in RATINGS} == {"dipublikasi"}


def test_the_pegawai_sees_the_dek_and_files_a_keberatan_once_within_the_window(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    publish(env, case)
    link = result_link(env, case, "staf1")
    page = env.client.get(link)
    assert page.status_code == 200
    for text in ("Dokumen Evaluasi Kinerja", case.org["staf1"].nip, "Kepala Seksi", "Kepala Bidang",
                 "Dokumen diselesaikan", "120.0%", "Triwulan I", "Baik", "ajukan-keberatan",
                 "/hasil/dek.pdf"):
        assert text in page.text, text
    pdf = env.client.get(f"{link}/hasil/dek.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert env.client.get(f"{result_link(env, case, 'staf2')}/hasil/dek.pdf").headers[
        "content-disposition"] == f'attachment; filename="DEK-{case.org["staf2"].nip}-2027.pdf"'
    # the reasons are required and at least 20 characters; nothing is kept when refused
    for short in ("", "Tidak setuju."):
        r = file(env, case, "staf1", short)
        assert r.status_code == 422 and "minimal 20 karakter" in r.text
        assert short in r.text  # the form keeps what was typed
    assert _count(env, Keberatan) == 0
    assert file(env, case, "staf1").status_code == 303
    k = keberatan_of(env, case, "staf1")
    assert (k.status, k.predikat_sebelum, k.alasan) == ("diajukan", "Baik", REASONS)
    # the atasan PPK (kasi's superior, the kabid) gets a task and an email
    mail = last_mail(env.rt, case.org["kabid"].email, "keberatan_diajukan")
    assert mail.context["pegawai_nip"] == case.org["staf1"].nip
    with session_scope(env.rt.engine) as s:
        task = repo.task_of(session=s, cycle_id=case.cycle_id, kind=TaskKind.PUTUS_KEBERATAN,
                            pegawai_id=case.org["kabid"].id)
        assert task.due_at == env.rt.clock.now() + timedelta(days=14)
        own = repo.task_of(session=s, cycle_id=case.cycle_id, kind=TaskKind.HASIL_KINERJA,
                           pegawai_id=case.org["staf1"].id)
        assert own.status == "done"
    # once only
    r = file(env, case, "staf1")
    assert r.status_code == 409 and "hanya dapat diajukan satu kali" in r.text
    page = env.client.get(link)
    assert "menunggu putusan" in page.text and "ajukan-keberatan" not in page.text


def test_a_keberatan_after_the_window_is_refused_saying_the_date(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    publish(env, case)
    batas = format_datetime(env.rt.clock.now() + timedelta(days=14), "Asia/Jakarta")
    env.clock.advance(days=14)
    assert file(env, case, "staf2").status_code == 303  # the last moment still counts
    env.clock.advance(seconds=1)
    r = file(env, case, "staf1")
    assert r.status_code == 409 and batas in r.text and "sudah lewat" in r.text
    assert _count(env, Keberatan) == 1
    assert "ajukan-keberatan" not in env.client.get(result_link(env, case, "staf1")).text


def test_the_atasan_ppk_keeps_one_and_changes_another(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    publish(env, case)
    file(env, case, "staf1")
    file(env, case, "staf2")
    link = path_of(last_mail(env.rt, case.org["kabid"].email, "keberatan_diajukan").context["link"])
    page = env.client.get(link)
    assert page.status_code == 200 and "Staf Satu" in page.text and "Staf Dua" in page.text
    k1, k2 = keberatan_of(env, case, "staf1"), keberatan_of(env, case, "staf2")
    detail = env.client.get(f"{link}/putusan/{k1.id}")
    assert detail.status_code == 200 and REASONS in detail.text and "120.0%" in detail.text
    # a reason is required; a 'change' to the same ratings is refused
    r = env.client.post(f"{link}/putusan/{k1.id}", data={"keputusan": "tetap", "alasan": " "})
    assert r.status_code == 422 and "Alasan putusan wajib diisi" in r.text
    r = env.client.post(f"{link}/putusan/{k2.id}", data={
        "keputusan": "diubah", "hasil_kerja": B, "perilaku": S, "alasan": "Sama saja."})
    assert r.status_code == 422 and "sama dengan sebelumnya" in r.text
    assert keberatan_of(env, case, "staf1").status == "diajukan"
    r = env.client.post(f"{link}/putusan/{k1.id}", data={
        "keputusan": "tetap", "alasan": "Realisasi triwulan IV sudah diperhitungkan."},
        follow_redirects=False)
    assert r.status_code == 303
    r = env.client.post(f"{link}/putusan/{k2.id}", data={
        "keputusan": "diubah", "hasil_kerja": S, "perilaku": S,
        "alasan": "Target dokumen tercapai setelah realisasi Desember diperhitungkan."},
        follow_redirects=False)
    assert r.status_code == 303
    one, two = annual(env, case, "staf1"), annual(env, case, "staf2")
    assert (one.status, one.predikat) == ("final", "Baik")
    assert (two.status, two.predikat, two.hasil_kerja) == ("final", "Baik", S)
    assert keberatan_of(env, case, "staf2").predikat_sesudah == "Baik"
    with session_scope(env.rt.engine) as s:
        changes = list(s.execute(select(PerubahanNilai)).scalars())
    assert len(changes) == 1 and changes[0].jenis == "keberatan"
    assert changes[0].sebelum["predikat"] == "Butuh Perbaikan"
    assert changes[0].sesudah["predikat"] == "Baik"
    assert changes[0].oleh == f"pegawai:{case.org['kabid'].id}" and "Desember" in changes[0].alasan
    told = {m.to_email: m.context for m in _mails(env, "keberatan_diputus")}
    assert (told[case.org["staf1"].email]["status"], told[case.org["staf1"].email]["predikat"]) \
        == ("tetap", "Baik")
    assert (told[case.org["staf2"].email]["status"], told[case.org["staf2"].email]["predikat"]) \
        == ("diubah", "Baik")
    # final, so the follow-up ran for both: angka kredit of the JF at their final predikat
    assert one.angka_kredit == 25.0 and two.angka_kredit == 12.5
    assert _count(env, RencanaPembinaan) == 0  # staf2 is Baik now: no coaching plan
    # decided once; the pegawai sees the outcome; the atasan PPK's task is done
    r = env.client.post(f"{link}/putusan/{k1.id}", data={"keputusan": "tetap", "alasan": "Lagi."})
    assert r.status_code == 409 and "sudah diputus" in r.text
    page = env.client.get(result_link(env, case, "staf2"))
    assert "Target dokumen tercapai" in page.text and 'id="putusan"' in page.text
    assert "diubah melalui keberatan" in page.text
    with session_scope(env.rt.engine) as s:
        assert repo.task_of(session=s, cycle_id=case.cycle_id, kind=TaskKind.PUTUS_KEBERATAN,
                            pegawai_id=case.org["kabid"].id).status == "done"


def test_only_the_current_atasan_ppk_may_decide(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    publish(env, case)
    file(env, case, "staf1")
    file(env, case, "kasi")  # kasi's atasan PPK is the kadis
    kadis = path_of(last_mail(env.rt, case.org["kadis"].email, "keberatan_diajukan").context["link"])
    kabid = path_of(last_mail(env.rt, case.org["kabid"].email, "keberatan_diajukan").context["link"])
    k1 = keberatan_of(env, case, "staf1")
    assert env.client.get(f"{kadis}/putusan/{k1.id}").status_code == 403
    r = env.client.post(f"{kadis}/putusan/{k1.id}", data={"keputusan": "tetap", "alasan": "x" * 30})
    assert r.status_code == 403 and keberatan_of(env, case, "staf1").status == "diajukan"
    # the pegawai's own link is not a decision link
    own = result_link(env, case, "staf1")
    assert env.client.get(f"{own}/putusan/{k1.id}").status_code == 403
    # HR moves the kasi under the kadis: the kadis now decides staf1's keberatan, the kabid not
    with session_scope(env.rt.engine) as s:
        s.get(Pegawai, case.org["kasi"].id).atasan_id = case.org["kadis"].id
    assert env.client.get(f"{kabid}/putusan/{k1.id}").status_code == 403
    assert "Staf Satu" not in env.client.get(kabid).text
    sweep(env, case)  # the kadis already has a task: no new one, but staf1's is on their page
    assert "Staf Satu" in env.client.get(kadis).text
    r = env.client.post(f"{kadis}/putusan/{k1.id}", data={
        "keputusan": "tetap", "alasan": "Sudah sesuai."}, follow_redirects=False)
    assert r.status_code == 303 and keberatan_of(env, case, "staf1").pemutus_id == case.org["kadis"].id


def test_a_new_atasan_ppk_gets_a_task_and_an_email_from_the_sweep(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    publish(env, case)
    file(env, case, "staf1")
    with session_scope(env.rt.engine) as s:  # the kasi now reports to the kadis directly
        s.get(Pegawai, case.org["kasi"].id).atasan_id = case.org["kadis"].id
    sweep(env, case)
    mail = last_mail(env.rt, case.org["kadis"].email, "keberatan_diajukan")
    assert mail.context["pegawai_nip"] == case.org["staf1"].nip
    sweep(env, case)
    assert len(_mails(env, "keberatan_diajukan")) == 2  # kabid's, then kadis's: once each


def test_hr_decides_when_there_is_no_atasan_ppk(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    publish(env, case)
    assert file(env, case, "kabid").status_code == 303  # PPK: the kadis, who has no superior
    mail = last_mail(env.rt, "hr@contoh.go.id", "keberatan_diajukan")
    assert "/tindak-lanjut#keberatan-" in mail.context["link"]
    assert _count(env, Task, Task.kind == TaskKind.PUTUS_KEBERATAN) == 0
    file(env, case, "staf1")
    env.login()
    k = keberatan_of(env, case, "kabid")
    page = env.client.get(f"/hr/cycles/{case.cycle_id}/tindak-lanjut")
    assert page.status_code == 200 and f"/keberatan/{k.id}/putus" in page.text
    k1 = keberatan_of(env, case, "staf1")
    assert f"/keberatan/{k1.id}/putus" not in page.text  # the kabid decides that one
    r = env.client.post(f"/hr/cycles/{case.cycle_id}/tindak-lanjut/keberatan/{k1.id}/putus",
                        data={"keputusan": "tetap", "alasan": "Tetap."})
    assert r.status_code == 409 and "Kepala Bidang" in r.text
    r = env.client.post(f"/hr/cycles/{case.cycle_id}/tindak-lanjut/keberatan/{k.id}/putus",
                        data={"keputusan": "diubah", "hasil_kerja": S, "perilaku": S,
                              "alasan": "Catatan disiplin sudah dicabut."}, follow_redirects=False)
    assert r.status_code == 303
    assert (annual(env, case, "kabid").predikat, annual(env, case, "kabid").status) == ("Baik", "final")
    with session_scope(env.rt.engine) as s:
        change = s.execute(select(PerubahanNilai)).scalar_one()
    assert change.oleh == "hr:admin" and change.jenis == "keberatan"
    rows = env.client.get(f"/api/v1/cycles/{case.cycle_id}/tindak-lanjut/keberatan").json()
    assert {r["nip"]: r["status"] for r in rows} == {case.org["kabid"].nip: "diubah",
                                                      case.org["staf1"].nip: "diajukan"}
    assert last_mail(env.rt, case.org["kabid"].email, "keberatan_diputus").context["status"] == "diubah"


def test_closing_the_window_finalises_and_starts_the_follow_up_once(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    publish(env, case)
    file(env, case, "staf2")  # pending at the window's end: stays published
    env.clock.advance(days=14, minutes=1)
    data = close(env, case)
    assert {k: data[k] for k in ("dipublikasi", "final", "keberatan_menunggu",
                                 "kandidat_penghargaan", "rencana_pembinaan", "angka_kredit")} == {
        "dipublikasi": 1, "final": 4, "keberatan_menunggu": 1, "kandidat_penghargaan": 1,
        "rencana_pembinaan": 1, "angka_kredit": 1}
    assert data["run"]["difinalkan"] == 4
    assert all("nama" not in row and "nip" not in row for row in data["per_unit"])
    assert annual(env, case, "staf2").status == "dipublikasi"
    assert annual(env, case, "staf1").angka_kredit == 25.0  # Ahli Muda, Baik: 25 x 100%
    with session_scope(env.rt.engine) as s:
        award = s.execute(select(KandidatPenghargaan)).scalar_one()
        assert award.pegawai_id == case.org["kasi"].id and award.status == "kandidat"
        plan = s.execute(select(RencanaPembinaan)).scalar_one()
        assert (plan.pegawai_id, plan.pemilik_id, plan.predikat) == (
            case.org["kabid"].id, case.org["kadis"].id, "Kurang/Misconduct")
        task = repo.task_of(session=s, cycle_id=case.cycle_id, kind=TaskKind.PEMBINAAN,
                            pegawai_id=case.org["kadis"].id)
        assert task.status == "open" and task.due_at == plan.created_at + timedelta(days=14)
        assert repo.keberatan_stage(session=s, cycle_id=case.cycle_id).closed_at is not None
        assert s.execute(select(func.count()).select_from(Task).where(
            Task.kind == TaskKind.HASIL_KINERJA, Task.status == "open")).scalar_one() == 0
    assert last_mail(env.rt, case.org["kadis"].email, "rencana_pembinaan").context[
        "pegawai_nama"] == "Kepala Bidang"
    before = _count(env, OutboxMessage)
    again = close(env, case)
    assert again["run"] == {"difinalkan": 0, "kandidat_baru": 0, "rencana_baru": 0,
                            "angka_kredit_baru": 0}
    assert _count(env, OutboxMessage) == before and _count(env, RencanaPembinaan) == 1
    # the pending keberatan decided later (kept): final, a coaching plan owned by the kasi
    link = path_of(last_mail(env.rt, case.org["kabid"].email, "keberatan_diajukan").context["link"])
    k = keberatan_of(env, case, "staf2")
    r = env.client.post(f"{link}/putusan/{k.id}", data={
        "keputusan": "tetap", "alasan": "Target memang tidak tercapai."}, follow_redirects=False)
    assert r.status_code == 303
    two = annual(env, case, "staf2")
    assert (two.status, two.angka_kredit) == ("final", 9.375)  # Ahli Pertama 12.5 x 75%
    assert last_mail(env.rt, case.org["kasi"].email, "rencana_pembinaan").context[
        "predikat"] == "Butuh Perbaikan"


def _coaching(env: AppEnv) -> tuple[PeriodCase, str, int]:
    case = rated_cycle(env.rt)
    publish(env, case)
    env.clock.advance(days=15)
    close(env, case)
    with session_scope(env.rt.engine) as s:
        plan = s.execute(select(RencanaPembinaan).where(
            RencanaPembinaan.pegawai_id == case.org["kabid"].id)).scalar_one()
        komp = Kompetensi(kode="MNJ-09", nama="Integritas", jenis="manajerial")
        s.add(komp)
        s.flush()
        course = Pelatihan(kompetensi_id=komp.id, nama="Pelatihan integritas")
        s.add(course)
        s.flush()
        s.add(RekomendasiPelatihan(cycle_id=case.cycle_id, pegawai_id=case.org["kabid"].id,
                                   kompetensi_id=komp.id, pelatihan_ids=[course.id], gap=2,
                                   created_at=env.rt.clock.now()))
    link = path_of(last_mail(env.rt, case.org["kadis"].email, "rencana_pembinaan").context["link"])
    return case, link, plan.id


def test_a_coaching_plan_runs_to_completion(env: AppEnv) -> None:
    case, link, plan_id = _coaching(env)
    page = env.client.get(link)
    assert page.status_code == 200 and "Kepala Bidang" in page.text
    assert "Pelatihan integritas" in page.text  # the competency gap's training, as a suggestion
    r = env.client.post(f"{link}/pembinaan/{plan_id}/selesai")
    assert r.status_code == 409 and "paling sedikit satu tindakan" in r.text
    today = env.clock.now().date()
    r = env.client.post(f"{link}/pembinaan/{plan_id}/aksi", data={
        "uraian": "Coaching disiplin", "batas": (today - timedelta(days=1)).isoformat()})
    assert r.status_code == 422 and "masa lalu" in r.text
    for uraian, days in (("Coaching disiplin", 10), ("Pelatihan integritas", 30)):
        r = env.client.post(f"{link}/pembinaan/{plan_id}/aksi", data={
            "uraian": uraian, "batas": (today + timedelta(days=days)).isoformat()},
            follow_redirects=False)
        assert r.status_code == 303
    with session_scope(env.rt.engine) as s:
        plan = repo.plan_for_owner(session=s, cycle_id=case.cycle_id,
                                   owner_id=case.org["kadis"].id, rencana_id=plan_id)
        first, second = (a.id for a in plan.aksi)
        task = repo.task_of(session=s, cycle_id=case.cycle_id, kind=TaskKind.PEMBINAAN,
                            pegawai_id=case.org["kadis"].id)
        assert task.due_at == plan.aksi[0].batas_at  # the earliest open action
    r = env.client.post(f"{link}/pembinaan/{plan_id}/aksi/{first}/selesai", data={"catatan": ""})
    assert r.status_code == 422 and "Catatan penyelesaian wajib diisi" in r.text
    r = env.client.post(f"{link}/pembinaan/{plan_id}/aksi/{first}/selesai",
                        data={"catatan": "Dua sesi coaching"}, follow_redirects=False)
    assert r.status_code == 303
    r = env.client.post(f"{link}/pembinaan/{plan_id}/selesai")
    assert r.status_code == 409 and "1 tindakan" in r.text
    env.client.post(f"{link}/pembinaan/{plan_id}/aksi/{second}/selesai",
                    data={"catatan": "Sertifikat diterima"})
    assert env.client.post(f"{link}/pembinaan/{plan_id}/selesai",
                           follow_redirects=False).status_code == 303
    with session_scope(env.rt.engine) as s:
        assert s.get(RencanaPembinaan, plan_id).status == "selesai"
        assert repo.task_of(session=s, cycle_id=case.cycle_id, kind=TaskKind.PEMBINAAN,
                            pegawai_id=case.org["kadis"].id).status == "done"
    r = env.client.post(f"{link}/pembinaan/{plan_id}/aksi", data={
        "uraian": "Lagi", "batas": (today + timedelta(days=3)).isoformat()})
    assert r.status_code == 409 and "sudah selesai" in r.text
    # another PPK's coaching link (the kasi runs staf2's plan) cannot touch this plan
    other = path_of(last_mail(env.rt, case.org["kasi"].email, "rencana_pembinaan").context["link"])
    assert "Staf Dua" in env.client.get(other).text
    assert env.client.post(f"{other}/pembinaan/{plan_id}/selesai").status_code == 403


def test_reminders_and_one_escalation(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    publish(env, case)
    file(env, case, "staf1")
    assert sweep(env, case).reminders == 0
    env.clock.advance(days=11, minutes=1)  # 3 days before the decision is due
    assert sweep(env, case).reminders == 1
    assert sweep(env, case).reminders == 0
    m = last_mail(env.rt, case.org["kabid"].email, "pengingat_keberatan")
    assert (m.context["pending"], m.context["overdue"]) == (1, False)
    env.clock.advance(days=4)  # a day past due: the overdue reminder and HR told once
    result = sweep(env, case)
    assert (result.reminders, result.escalations) == (1, 1)
    assert sweep(env, case).escalations == 0
    hr = last_mail(env.rt, "hr@contoh.go.id", "pengingat_keberatan")
    assert hr.context["overdue"] is True and "/tindak-lanjut#keberatan-" in hr.context["link"]
    kabid = path_of(last_mail(env.rt, case.org["kabid"].email, "keberatan_diajukan").context["link"])
    env.client.post(f"{kabid}/putusan/{keberatan_of(env, case, 'staf1').id}",
                    data={"keputusan": "tetap", "alasan": "Sudah sesuai."})
    # coaching: reminded while an action is overdue, weekly, not before
    env.clock.advance(days=1)
    close(env, case)  # the kabid (Kurang) gets a plan owned by the kadis, staf2 one by the kasi
    link = path_of(last_mail(env.rt, case.org["kadis"].email, "rencana_pembinaan").context["link"])
    with session_scope(env.rt.engine) as s:
        plan_id = s.execute(select(RencanaPembinaan.id).where(
            RencanaPembinaan.pegawai_id == case.org["kabid"].id)).scalar_one()
    day = (env.clock.now() + timedelta(days=3)).date().isoformat()
    env.client.post(f"{link}/pembinaan/{plan_id}/aksi", data={"uraian": "Konseling", "batas": day})
    assert _mails(env, "pengingat_pembinaan") == [] and sweep(env, case).reminders == 0
    env.clock.advance(days=4)
    assert sweep(env, case).reminders == 1
    assert sweep(env, case).reminders == 0
    env.clock.advance(days=7, minutes=1)
    assert sweep(env, case).reminders == 1
    m = last_mail(env.rt, case.org["kadis"].email, "pengingat_pembinaan")
    assert (m.context["n"], m.context["pending"], m.context["overdue"]) == (2, 1, True)
    with session_scope(env.rt.engine) as s:
        aksi = repo.plan_for_owner(session=s, cycle_id=case.cycle_id, owner_id=case.org["kadis"].id,
                                   rencana_id=plan_id).aksi[0].id
    env.client.post(f"{link}/pembinaan/{plan_id}/aksi/{aksi}/selesai", data={"catatan": "Selesai"})
    env.client.post(f"{link}/pembinaan/{plan_id}/selesai")
    env.clock.advance(days=8)
    # the kadis is done; the kasi wrote no action on staf2's plan in 14 days: reminded
    assert sweep(env, case).reminders == 1
    assert len([m for m in _mails(env, "pengingat_pembinaan")
                if m.to_email == case.org["kadis"].email]) == 2
    assert last_mail(env.rt, case.org["kasi"].email, "pengingat_pembinaan").context["pending"] == 1
    with session_scope(env.rt.engine) as s:
        assert repo.cycles_with_follow_up(session=s) == [case.cycle_id]  # staf2's plan is open


def test_hr_console_awards_tunjangan_and_the_payroll_csv(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    with session_scope(env.rt.engine) as s:  # a name a spreadsheet would run as a formula
        s.get(Pegawai, case.org["staf1"].id).nama = "=HYPERLINK(\"http://x\")"
    publish(env, case)
    env.clock.advance(days=15)
    close(env, case)
    assert env.client.get(f"/hr/cycles/{case.cycle_id}/tindak-lanjut",
                          follow_redirects=False).status_code == 303  # login first
    env.login()
    base = f"/hr/cycles/{case.cycle_id}/tindak-lanjut"
    page = env.client.get(base)
    assert page.status_code == 200
    for text in ("Kepala Seksi", "Kurang/Misconduct", "nilai awal, belum disimpan", "tunjangan.csv"):
        assert text in page.text, text
    with session_scope(env.rt.engine) as s:
        award = s.execute(select(KandidatPenghargaan)).scalar_one()
    r = env.client.post(f"{base}/penghargaan/{award.id}", data={"keputusan": "tidak"})
    assert r.status_code == 422 and "Catatan wajib diisi" in r.text
    r = env.client.post(f"{base}/penghargaan/{award.id}", data={"keputusan": "ditetapkan"},
                        follow_redirects=False)
    assert r.status_code == 303
    api = f"/api/v1/cycles/{case.cycle_id}/tindak-lanjut"
    assert env.client.get(f"{api}/penghargaan").json()[0]["status"] == "ditetapkan"
    r = env.client.post(f"{api}/penghargaan/{award.id}", json={"keputusan": "tidak",
                                                                "catatan": "Sanksi disiplin"})
    assert r.status_code == 200 and r.json()["status"] == "tidak"
    # the tunjangan table: defaults, one bad value refuses it all, then HR's own
    assert env.client.get(f"{api}/tunjangan").json() == {"tersimpan": False, "persen": {
        "Sangat Baik": 100.0, "Baik": 100.0, "Butuh Perbaikan": 80.0, "Kurang/Misconduct": 60.0,
        "Sangat Kurang": 40.0}}
    form = {"persen_0": "100", "persen_1": "95", "persen_2": "80", "persen_3": "lima", "persen_4": "25"}
    r = env.client.post(f"{base}/tunjangan", data=form)
    assert r.status_code == 422 and "Kurang/Misconduct" in r.text
    r = env.client.post(f"{base}/tunjangan", data=form | {"persen_3": "62,5"}, follow_redirects=False)
    assert r.status_code == 303
    assert env.client.get(f"{api}/tunjangan").json()["persen"]["Kurang/Misconduct"] == 62.5
    r = env.client.put(f"{api}/tunjangan", json={"Sangat Baik": 110, "Baik": 95})
    assert r.status_code == 422 and "Butuh Perbaikan" in r.json()["detail"]
    csv_text = env.client.get(f"{base}/tunjangan.csv").text
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0] == "NIP;Nama;Unit Kerja;Predikat;Persen Tunjangan Kinerja"
    assert len(lines) == 1 + 5
    assert f'{case.org["staf1"].nip};"\'=HYPERLINK(""http://x"")";Dinas Pendidikan;Baik;95' in lines
    assert f"{case.org['kabid'].nip};Kepala Bidang;Dinas Pendidikan;Kurang/Misconduct;62,5" in lines
    assert env.client.get(f"{api}/tunjangan.csv").text == csv_text
    summary = env.client.get(api).json()
    assert summary["final"] == 5 and summary["rencana_terbuka"] == 2
    plans = env.client.get(f"{api}/pembinaan").json()
    assert plans[0]["nip"] == case.org["kabid"].nip and plans[0]["aksi_terlambat"] == 0


def test_hr_runs_the_coaching_plan_of_someone_with_no_ppk_in_the_data(env: AppEnv) -> None:
    case = rated_cycle(env.rt)
    with session_scope(env.rt.engine) as s:  # the kadis (top of the tree) is Sangat Kurang
        rec = s.execute(select(PenilaianTahunan).where(
            PenilaianTahunan.skp_id == case.skp["kadis"])).scalar_one()
        rec.hasil_kerja, rec.perilaku, rec.predikat = B, B, "Sangat Kurang"
    publish(env, case)
    env.clock.advance(days=15)
    close(env, case)
    mail = last_mail(env.rt, "hr@contoh.go.id", "rencana_pembinaan")
    assert mail.context["pegawai_nama"] == "Kepala Dinas"
    assert "/tindak-lanjut#rencana-" in mail.context["link"]
    with session_scope(env.rt.engine) as s:
        plan = s.execute(select(RencanaPembinaan).where(
            RencanaPembinaan.pegawai_id == case.org["kadis"].id)).scalar_one()
    assert plan.pemilik_id is None
    env.login()
    base = f"/hr/cycles/{case.cycle_id}/tindak-lanjut"
    assert f"/rencana/{plan.id}/aksi" in env.client.get(base).text
    day = (env.clock.now() + timedelta(days=5)).date().isoformat()
    r = env.client.post(f"{base}/rencana/{plan.id}/aksi", data={"uraian": "Konseling pimpinan",
                                                               "batas": day}, follow_redirects=False)
    assert r.status_code == 303
    with session_scope(env.rt.engine) as s:
        aksi = repo.plan_for_owner(session=s, cycle_id=case.cycle_id, owner_id=None,
                                   rencana_id=plan.id).aksi[0]
    env.client.post(f"{base}/rencana/{plan.id}/aksi/{aksi.id}/selesai", data={"catatan": "Selesai"})
    assert env.client.post(f"{base}/rencana/{plan.id}/selesai",
                           follow_redirects=False).status_code == 303
    with session_scope(env.rt.engine) as s:
        assert s.get(RencanaPembinaan, plan.id).status == "selesai"
    # a plan a PPK owns is not HR's to run
    with session_scope(env.rt.engine) as s:
        kabid_plan = s.execute(select(RencanaPembinaan.id).where(
            RencanaPembinaan.pegawai_id == case.org["kabid"].id)).scalar_one()
    r = env.client.post(f"{base}/rencana/{kabid_plan}/selesai")
    assert r.status_code == 403
    assert env.client.get(f"{base}?lang=en").status_code == 200
    assert "Performance result" in env.client.get(
        f"{result_link(env, case, 'staf1')}?lang=en").text
