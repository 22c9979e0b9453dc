"""Monitoring through task links: the pegawai's realisasi and evidence, the PPK's feedback,
dialogs and periodic ratings, what the pegawai sees, and who may see what."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from models.db import session_scope
from models.tables import Bukti, Dialog, OutboxMessage, Realisasi, RencanaAksi, Task, UmpanBalik
from tests.api.conftest import AppEnv
from tests.api.helpers import last_mail, path_of
from tests.api.period_setup import (
    approved_cycle,
    close_stage,
    own_link,
    ppk_link,
    record,
    version_of,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _count(env: AppEnv, model, *where) -> int:  # type: ignore[no-untyped-def]
    with session_scope(env.rt.engine) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _fill(env: AppEnv, link: str, case, key: str, **extra: str):  # type: ignore[no-untyped-def]
    a, b, c = case.iki[key]
    data = {f"ra_{case.rhk[key]}": "Menyusun jadwal", f"r_{a}": "8", f"r_{b}": "4,5",
            f"r_{c}": "Laporan lengkap", "catatan": "Lancar", "aksi": "simpan",
            "version": str(version_of(env.rt, case.skp[key]))} | extra
    return env.client.post(f"{link}/realisasi", data=data, follow_redirects=False)


def test_pegawai_records_realisasi_and_sees_capaian_as_a_suggestion(env: AppEnv) -> None:
    case = approved_cycle(env.rt)
    link = own_link(env.rt, case.org["staf1"])
    page = env.client.get(link)
    assert page.status_code == 200 and "Triwulan I" in page.text
    assert f"IKI-{case.iki['staf1'][0]}" in page.text  # the code HR's import uses
    a, b, _ = case.iki["staf1"]
    # reporting with an IKI empty: refused, naming what is missing, nothing written
    r = env.client.post(f"{link}/realisasi", data={f"r_{a}": "8", "aksi": "laporkan"})
    assert r.status_code == 422 and "belum diisi untuk 2 IKI" in r.text
    assert _count(env, Realisasi) == 0
    # a bad number: the whole form is refused (the rencana aksi is not saved either)
    r = _fill(env, link, case, "staf1", **{f"r_{a}": "delapan"})
    assert r.status_code == 422 and "delapan" in r.text
    assert _count(env, Realisasi) == 0 and _count(env, RencanaAksi) == 0
    assert _fill(env, link, case, "staf1").status_code == 303
    page = env.client.get(link)
    assert "80.0%" in page.text  # 8 of 10 documents
    assert "110.0%" in page.text  # 4,5 days against 5, lower is better: (2x5-4.5)/5
    assert _count(env, Realisasi) == 3 and record(env.rt, case.skp["staf1"]).dilaporkan_at is None
    r = _fill(env, link, case, "staf1", aksi="laporkan")
    assert r.status_code == 303
    assert record(env.rt, case.skp["staf1"]).dilaporkan_at is not None
    with session_scope(env.rt.engine) as s:  # the task is done: no more reminders
        task = s.execute(select(Task).where(Task.kind == "isi_realisasi",
                                            Task.pegawai_id == case.org["staf1"].id)).scalar_one()
        assert task.status == "done" and task.next_reminder_at is None
    # a stale form (another tab saved meanwhile) gets a 409 that says so
    r = _fill(env, link, case, "staf1", version="1")
    assert r.status_code == 409 and "baru saja diubah" in r.text


def test_evidence_links_and_files_are_checked_and_only_served_to_who_may_see_them(env: AppEnv) -> None:
    case = approved_cycle(env.rt)
    link = own_link(env.rt, case.org["staf1"])
    a = case.iki["staf1"][0]
    r = env.client.post(f"{link}/bukti", data={"iki_id": str(a), "url": "javascript:alert(1)"})
    assert r.status_code == 422 and "http" in r.text
    r = env.client.post(f"{link}/bukti", data={"iki_id": str(a), "url": "https://drive.example/x"},
                        follow_redirects=False)
    assert r.status_code == 303
    r = env.client.post(f"{link}/bukti", data={"iki_id": str(a)},
                        files={"berkas": ("program.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert r.status_code == 422 and "pdf" in r.text.lower()
    r = env.client.post(f"{link}/bukti", data={"iki_id": str(a)},
                        files={"berkas": ("palsu.pdf", b"<html>hi</html>", "application/pdf")})
    assert r.status_code == 422 and "bukan PDF" in r.text
    big = PDF + b"0" * (env.rt.evidence.max_bytes + 10)
    r = env.client.post(f"{link}/bukti", data={"iki_id": str(a)},
                        files={"berkas": ("besar.pdf", big, "application/pdf")})
    assert r.status_code == 422 and "terlalu besar" in r.text
    assert _count(env, Bukti) == 1
    r = env.client.post(f"{link}/bukti", data={"iki_id": str(a), "keterangan": "Notulen"},
                        files={"berkas": ("..\\..\\<img src=x onerror=alert(1)>.pdf", PDF,
                                                 "application/pdf")},
                        follow_redirects=False)
    assert r.status_code == 303
    with session_scope(env.rt.engine) as s:
        row = s.execute(select(Bukti).where(Bukti.jenis == "berkas")).scalar_one()
    digest = hashlib.sha256(PDF).hexdigest()
    assert row.sha256 == digest and row.nama_berkas == "<img src=x onerror=alert(1)>.pdf"
    stored = env.rt.evidence.root() / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == PDF  # kept by content hash, never under the uploaded name
    page = env.client.get(link)
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page.text and "<img src" not in page.text
    got = env.client.get(f"{link}/bukti/{row.id}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    # the PPK sees it through their own link; a colleague's link cannot reach it
    ppk = ppk_link(env.rt, case.org["kasi"])
    assert env.client.get(f"{ppk}/pegawai/{case.skp['staf1']}/bukti/{row.id}").content == PDF
    other = own_link(env.rt, case.org["staf2"])
    assert env.client.get(f"{other}/bukti/{row.id}").status_code == 403
    assert env.client.get(f"{ppk}/pegawai/{case.skp['staf2']}/bukti/{row.id}").status_code == 403
    assert env.client.get(f"/t/garbage.token/bukti/{row.id}").status_code == 403


def test_ppk_gives_feedback_dialog_and_ratings_and_the_pegawai_sees_them(env: AppEnv) -> None:
    case = approved_cycle(env.rt)
    _fill(env, own_link(env.rt, case.org["staf1"]), case, "staf1", aksi="laporkan")
    ppk = ppk_link(env.rt, case.org["kasi"])
    listing = env.client.get(ppk)
    assert "Staf Satu" in listing.text and "Staf Dua" in listing.text
    assert "Kepala Bidang" not in listing.text  # not a subordinate
    sid = case.skp["staf1"]
    page = env.client.get(f"{ppk}/pegawai/{sid}")
    assert page.status_code == 200 and "Saran rating hasil kerja" in page.text
    r = env.client.post(f"{ppk}/pegawai/{sid}/umpan-balik",
                        data={"rhk_id": str(case.rhk["staf1"]), "isi": "Pertahankan ketepatan."},
                        follow_redirects=False)
    assert r.status_code == 303
    today = env.clock.now().date().isoformat()
    r = env.client.post(f"{ppk}/pegawai/{sid}/dialog", data={
        "jenis": "dialog", "tanggal": today, "catatan": "Membahas kendala data",
        "tindak_lanjut": "Pelatihan pengolahan data"}, follow_redirects=False)
    assert r.status_code == 303
    r = env.client.post(f"{ppk}/pegawai/{sid}/dialog", data={
        "jenis": "dialog", "tanggal": "2099-01-01", "catatan": "x"})
    assert r.status_code == 422 and "masa depan" in r.text
    r = env.client.post(f"{ppk}/pegawai/{sid}/nilai", data={
        "hasil_kerja": "Di Atas Ekspektasi", "perilaku": "Di Bawah Ekspektasi"},
        follow_redirects=False)
    assert r.status_code == 303
    assert record(env.rt, sid).predikat == "Kurang/Misconduct"  # the official matrix
    mail = last_mail(env.rt, case.org["staf1"].email, "penilaian_periodik_diberikan")
    assert mail.context["predikat"] == "Kurang/Misconduct"
    # the bulk list: one row with only one rating is refused, naming the person; nothing saved
    r = env.client.post(f"{ppk}/nilai", data={
        f"hk_{case.skp['staf2']}": "Sesuai Ekspektasi", f"pk_{case.skp['staf2']}": "",
        f"hk_{sid}": "Sesuai Ekspektasi", f"pk_{sid}": "Sesuai Ekspektasi"})
    assert r.status_code == 422 and "Staf Dua" in r.text
    assert record(env.rt, sid).predikat == "Kurang/Misconduct"
    r = env.client.post(f"{ppk}/nilai", data={
        f"hk_{case.skp['staf2']}": "Sesuai Ekspektasi", f"pk_{case.skp['staf2']}": "Di Atas Ekspektasi",
        f"hk_{sid}": "Sesuai Ekspektasi", f"pk_{sid}": "Sesuai Ekspektasi"}, follow_redirects=False)
    assert r.status_code == 303
    assert record(env.rt, sid).predikat == "Baik"
    assert record(env.rt, case.skp["staf2"]).predikat == "Baik"
    with session_scope(env.rt.engine) as s:  # everyone rated: the PPK's task is done
        task = s.execute(select(Task).where(Task.kind == "nilai_periodik",
                                            Task.pegawai_id == case.org["kasi"].id)).scalar_one()
        assert task.status == "done"
    own = env.client.get(own_link(env.rt, case.org["staf1"]))
    for seen in ("Pertahankan ketepatan.", "Membahas kendala data", "Pelatihan pengolahan data",
                 "Baik", "1 Januari 2027"):
        assert seen in own.text
    assert _count(env, UmpanBalik) == 1 and _count(env, Dialog) == 1


def test_a_ppk_cannot_see_or_rate_someone_who_is_not_or_no_longer_their_subordinate(env: AppEnv) -> None:
    case = approved_cycle(env.rt)
    ppk = ppk_link(env.rt, case.org["kasi"])
    for path in (f"{ppk}/pegawai/{case.skp['kabid']}", f"{ppk}/pegawai/999999"):
        assert env.client.get(path).status_code == 403
    r = env.client.post(f"{ppk}/pegawai/{case.skp['kabid']}/nilai",
                        data={"hasil_kerja": "Sesuai Ekspektasi", "perilaku": "Sesuai Ekspektasi"})
    assert r.status_code == 403 and record(env.rt, case.skp["kabid"]).predikat is None
    # a pegawai's own link is not a PPK link
    own = own_link(env.rt, case.org["staf1"])
    assert env.client.get(f"{own}/pegawai/{case.skp['staf2']}").status_code == 403
    # transfer: staf1 moves under kabid; kasi's link stops working for staf1 at once
    from models.repo.transfer import change_atasan

    with session_scope(env.rt.engine) as s:
        change_atasan(session=s, nip=case.org["staf1"].nip, atasan_nip=case.org["kabid"].nip,
                      now=env.clock.now(), actor="hr:test", mail=env.rt.mail)
    assert env.client.get(f"{ppk}/pegawai/{case.skp['staf1']}").status_code == 403
    assert "Staf Satu" not in env.client.get(ppk).text
    moved = last_mail(env.rt, case.org["kabid"].email, "ppk_baru")
    assert moved.context["pegawai_nama"] == "Staf Satu" and moved.context["ppk_lama_nama"] == "Kepala Seksi"
    new = path_of(moved.context["link"])
    assert env.client.get(f"{new}/pegawai/{case.skp['staf1']}").status_code == 200


def test_a_transfer_mid_year_moves_the_tasks(env: AppEnv) -> None:
    case = approved_cycle(env.rt)
    from models.repo.transfer import change_atasan

    with session_scope(env.rt.engine) as s:  # kasi's two subordinates both move to kabid
        for key in ("staf1", "staf2"):
            change_atasan(session=s, nip=case.org[key].nip, atasan_nip=case.org["kabid"].nip,
                          now=env.clock.now(), actor="hr:test", mail=env.rt.mail)
    with session_scope(env.rt.engine) as s:
        tasks = {t.pegawai_id: t.status for t in s.execute(select(Task).where(
            Task.kind == "nilai_periodik", Task.periode == 1)).scalars()}
    assert tasks[case.org["kasi"].id] == "cancelled"  # no one left to rate: no more reminders
    assert tasks[case.org["kabid"].id] == "open"
    assert env.client.get(ppk_link(env.rt, case.org["kasi"])).status_code == 200  # an empty list


def test_a_closed_period_is_read_only_and_hr_gets_the_report(env: AppEnv) -> None:
    case = approved_cycle(env.rt)
    link = own_link(env.rt, case.org["staf1"])
    ppk = ppk_link(env.rt, case.org["kasi"])
    env.clock.advance(minutes=100)
    close_stage(env.rt, case.cycle_id)
    r = _fill(env, link, case, "staf1")
    assert r.status_code == 409 and "sudah ditutup" in r.text
    r = env.client.post(f"{ppk}/pegawai/{case.skp['staf1']}/nilai",
                        data={"hasil_kerja": "Sesuai Ekspektasi", "perilaku": "Sesuai Ekspektasi"})
    assert r.status_code == 409 and "sudah ditutup" in r.text
    r = env.client.post(f"{ppk}/nilai", data={f"hk_{case.skp['staf1']}": "Sesuai Ekspektasi",
                                              f"pk_{case.skp['staf1']}": "Sesuai Ekspektasi"})
    assert r.status_code == 409
    assert env.client.get(link).status_code == 200  # still readable
    report = last_mail(env.rt, "hr@contoh.go.id", "laporan_periode")
    assert report.context["total"] == 5 and report.context["missing_count"] == 5
    with session_scope(env.rt.engine) as s:
        assert not s.execute(select(Task).where(Task.periode == 1, Task.status == "open")).first()
    close_stage(env.rt, case.cycle_id)  # a second close changes nothing
    assert _count(env, OutboxMessage, OutboxMessage.kind == "laporan_periode") == 1


def test_an_skp_revision_goes_back_through_approval_with_its_history_kept(env: AppEnv) -> None:
    case = approved_cycle(env.rt)
    link = own_link(env.rt, case.org["staf1"])
    _fill(env, link, case, "staf1")
    r = env.client.post(f"{link}/revisi", data={"alasan": ""})
    assert r.status_code == 422 and "Alasan perubahan wajib diisi" in r.text
    r = env.client.post(f"{link}/revisi", data={"alasan": "Penugasan baru: tim SPBE"},
                        follow_redirects=False)
    assert r.status_code == 303
    skp_page = path_of(r.headers["location"])
    page = env.client.get(skp_page)
    assert page.status_code == 200 and "Penugasan baru: tim SPBE" in page.text
    assert last_mail(env.rt, case.org["staf1"].email, "skp_revisi_dibuka")
    # the planning stage closed long ago, but a revision may be edited
    a = case.iki["staf1"][0]
    r = env.client.post(f"{skp_page}/iki/{a}/hapus")
    assert r.status_code == 409 and "sudah memiliki 1 realisasi" in r.text
    r = env.client.post(f"{skp_page}/rhk/{case.rhk['staf1']}/iki", data={
        "indikator": "Modul SPBE", "target": "2", "satuan": "modul"}, follow_redirects=False)
    assert r.status_code == 303
    assert env.client.post(f"{skp_page}/ajukan", follow_redirects=False).status_code == 303
    review = path_of(last_mail(env.rt, case.org["kasi"].email, "skp_diajukan").context["link"])
    r = env.client.post(f"{review}/skp/{case.skp['staf1']}/setujui", follow_redirects=False)
    assert r.status_code == 303
    from models.tables import SkpVersi

    with session_scope(env.rt.engine) as s:
        versions = s.execute(select(SkpVersi).where(SkpVersi.skp_id == case.skp["staf1"])
                             .order_by(SkpVersi.nomor)).scalars().all()
        assert [v.nomor for v in versions] == [1, 2]
        assert versions[1].alasan == "Penugasan baru: tim SPBE"
        assert any(i["indikator"] == "Modul SPBE" for i in versions[1].data["rhk"][0]["iki"])
    assert "Modul SPBE" in env.client.get(link).text  # the period page follows the new SKP


def test_an_expired_period_link_can_be_renewed_by_email(env: AppEnv) -> None:
    case = approved_cycle(env.rt)
    link = own_link(env.rt, case.org["staf1"])
    env.clock.advance(hours=env.rt.api.link_ttl_hours + 1)
    r = env.client.get(link)
    assert r.status_code == 403 and "/t/renew" in r.text
    assert env.client.post("/t/renew", data={"token": link.rsplit("/", 1)[1]}).status_code == 200
    fresh = last_mail(env.rt, case.org["staf1"].email, "tautan_baru")
    assert fresh.context["task_label"] == "Realisasi kinerja periodik"
    page = env.client.get(path_of(fresh.context["link"]))
    assert page.status_code == 200 and "Triwulan I" in page.text


def test_the_sweep_keeps_ppk_tasks_in_step_and_tells_each_ppk_once(env: AppEnv) -> None:
    """sync_ppk_tasks (the period sweep): a PPK with subordinates to rate keeps an open task, a
    finished task reopens when someone is left unrated (one invitation, however often the sweep
    runs), a task with no one left to rate is cancelled, and a PPK without a task gets one."""
    from models.repo.monitoring import sync_ppk_tasks
    from models.tables import Cycle, CycleStage

    case = approved_cycle(env.rt)
    kasi, kabid, staf1 = case.org["kasi"], case.org["kabid"], case.org["staf1"]

    def sync() -> tuple[int, int]:
        with session_scope(env.rt.engine) as s:
            stage = s.execute(select(CycleStage).where(
                CycleStage.cycle_id == case.cycle_id, CycleStage.code == "pemantauan",
                CycleStage.periode == 1)).scalar_one()
            return sync_ppk_tasks(session=s, cycle=s.get(Cycle, case.cycle_id), stage=stage,
                                  now=env.clock.now(), mail=env.rt.mail)

    def ppk_task(pid: int) -> Task | None:
        with session_scope(env.rt.engine) as s:
            return s.execute(select(Task).where(Task.kind == "nilai_periodik", Task.periode == 1,
                                                Task.pegawai_id == pid)).scalar_one_or_none()

    def invitations(email: str) -> int:
        return _count(env, OutboxMessage, OutboxMessage.to_email == email,
                      OutboxMessage.kind == "undangan_penilaian_periodik")

    assert sync() == (0, 0)  # as the period opened: nothing to fix
    assert ppk_task(kasi.id).status == "open" and invitations(kasi.email) == 1
    with session_scope(env.rt.engine) as s:  # kasi's task ended while staf are still unrated
        task = s.get(Task, ppk_task(kasi.id).id)
        task.status = "done"
        # staf1 holds a PPK task with no one under them; kabid's task is gone
        s.add(Task(cycle_id=case.cycle_id, kind="nilai_periodik", pegawai_id=staf1.id, periode=1,
                   due_at=task.due_at, created_at=env.clock.now()))
        s.delete(s.get(Task, ppk_task(kabid.id).id))
    assert sync() == (2, 1)  # kasi's reopened, kabid's made again, staf1's cancelled
    assert ppk_task(kasi.id).status == "open" and ppk_task(kabid.id).status == "open"
    assert ppk_task(staf1.id).status == "cancelled"
    assert invitations(kasi.email) == 2 and invitations(kabid.email) == 2
    assert sync() == (0, 0) and sync() == (0, 0)  # later sweeps change nothing, tell no one
    assert invitations(kasi.email) == 2 and invitations(kabid.email) == 2
