"""`kinerja simulate` reads the monitoring stage's mail: every period message, rendered by the
real templates and MIME builder into a Maildir, is told apart by its outbox key and subject, in
both languages, with its period; the evidence file it uploads passes the upload checks."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kinerja.simulate import Inbox, kind_of, subject_resolver, tiny_pdf
from models.rules import periods
from models.rules.evidence import check_upload
from notifications.mime import build_mime
from notifications.render import render

TAHUN = 2028
LINK = "http://127.0.0.1:8000/t/eyJ0IjoxfQ.c2lnbmF0dXJl"


def _context(label: str, **extra: object) -> dict[str, object]:
    """Every key any period kind may need (render passes on only the declared ones)."""
    return {"agency_name": "Pemerintah Kabupaten Contoh", "nama": "Sri Wahyuni", "tahun": TAHUN,
            "link": LINK, "periode_label": label, "due": "24 November 2026 16.00 WIB",
            "midyear": False, "pending": 3, "n": 1, "overdue": True, "ppk_nama": "Agus Santoso",
            "ppk_nip": "197001011990031001", "hasil_kerja": "Sesuai Ekspektasi",
            "perilaku": "Sesuai Ekspektasi", "predikat": "Baik",
            "console_link": "http://127.0.0.1:8000/hr/cycles/1", "total": 300,
            "dilaporkan": 290, "dinilai": 299, "missing_count": 1,
            "missing": ["196501011985031001 Bambang Utomo (Sekretariat Daerah)"],
            "pegawai_nama": "Dewi Lestari", "pegawai_nip": "199001012015042001",
            "ppk_lama_nama": "Heru Prasetyo", "alasan": "Penugasan baru"} | extra


#: (kind, outbox key as the repository builds it, period, extra context)
CASES = [
    ("undangan_realisasi", "invite:7:periode2:41", 2, {"midyear": True}),
    ("undangan_penilaian_periodik", "invite:7:periode2:ppk:12", 2, {"midyear": True}),
    ("undangan_penilaian_periodik", "invite:7:periode3:ppk:12:905", 3, {}),
    ("pengingat_realisasi", "remind-period:900:1795000000:0", 3, {"overdue": False}),
    ("pengingat_realisasi", "remind-period:901:1795000000:1", 1, {}),
    ("pengingat_penilaian_periodik", "remind-period:902:1795000600:0", 4, {"pending": 1}),
    ("eskalasi_penilaian_periodik", "escalate-period:7:4:12:boss@contoh.go.id", 4, {}),
    ("penilaian_periodik_diberikan", "rated:55:1:4", 1, {}),
    ("laporan_periode", "report:7:periode4:bkpsdm@contoh.go.id", 4, {}),
    ("ppk_baru", "ppk-baru:7:3:41:12", 3, {}),
]


def _deliver(box: mailbox.Maildir, kind: str, key: str, context: dict[str, object],
             language: str) -> None:
    mail = render(kind, context, language)
    box.add(build_mime(key=key, sender=("Kinerja BKPSDM", "kinerja@localhost"),
                       to=("Sri Wahyuni", "sri@contoh.go.id"), subject=mail.subject,
                       text=mail.text, html=mail.html, date=datetime(2026, 11, 24, tzinfo=UTC)))


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_period_message_is_told_apart(tmp_path: Path, language: str) -> None:
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    for kind, key, periode, extra in CASES:
        label = periods.label(periode, "triwulanan", language)
        _deliver(box, kind, key, _context(label, **extra), language)
    inbox = Inbox(tmp_path / "mail", periode_of_subject=subject_resolver("triwulanan", TAHUN))
    got = sorted((m.key, m.kind, m.periode, m.to, bool(m.link)) for m in inbox.messages())
    want = sorted((key, kind, periode, "sri@contoh.go.id", kind not in (
        "eskalasi_penilaian_periodik", "laporan_periode")) for kind, key, periode, _ in CASES)
    assert got == want
    assert inbox.messages() == []  # each message is read once


def test_period_messages_of_another_cycle_are_skipped(tmp_path: Path) -> None:
    """A retry of an earlier run's message (another cycle, another year) is not counted."""
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    for key, tahun in (("invite:8:periode2:41", TAHUN - 1), ("invite:7:periode2:41", TAHUN)):
        _deliver(box, "undangan_realisasi", key, _context("Triwulan II", tahun=tahun), "id")
    for tahun in (TAHUN - 1, TAHUN):
        _deliver(box, "penilaian_periodik_diberikan", f"rated:{tahun}:2:1",
                 _context("Triwulan II", tahun=tahun), "id")
    inbox = Inbox(tmp_path / "mail", periode_of_subject=subject_resolver("triwulanan", TAHUN),
                  cycle_id=7)
    assert sorted(m.key for m in inbox.messages()) == ["invite:7:periode2:41",
                                                       f"rated:{TAHUN}:2:1"]


def test_planning_keys_keep_their_kinds() -> None:
    assert kind_of("invite:7:perencanaan:41") == "undangan_skp"
    assert kind_of("report:7:perencanaan:bkpsdm@contoh.go.id") == "laporan_perencanaan"
    assert kind_of("escalate:9:1:boss@contoh.go.id") == "eskalasi_persetujuan"
    assert kind_of("revision:9:1") == "skp_revisi_dibuka"


def test_a_month_in_the_due_date_is_not_the_period(tmp_path: Path) -> None:
    """Monthly: 'Mei 2028' names the period, '24 November 2026' in the due date does not."""
    box = mailbox.Maildir(tmp_path / "mail", create=True)
    _deliver(box, "pengingat_realisasi", "remind-period:5:1795000000:0",
             _context("Mei", overdue=False), "id")
    _deliver(box, "pengingat_penilaian_periodik", "remind-period:6:1795000000:0",
             _context("May", due="November 24, 2026 4:00 PM WIB"), "en")
    inbox = Inbox(tmp_path / "mail", periode_of_subject=subject_resolver("bulanan", TAHUN))
    assert sorted((m.kind, m.periode) for m in inbox.messages()) == [
        ("pengingat_penilaian_periodik", 5), ("pengingat_realisasi", 5)]


def test_the_uploaded_evidence_passes_the_checks() -> None:
    data = tiny_pdf("Laporan periode 2")
    checked = check_upload("laporan-periode-2.pdf", data)
    assert checked.content_type == "application/pdf" and checked.size == len(data)
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")


def test_feedback_keys_have_their_kinds() -> None:
    from kinerja.simulate import FEEDBACK_KINDS

    assert kind_of("invite:7:umpan_balik:41") == "undangan_umpan_balik"
    assert kind_of("invite:7:umpan_balik:ppk:12") == "tetapkan_penilai"
    assert kind_of("invite:7:360:41") == "undangan_360"
    assert kind_of("invite:7:kompetensi:41") == "undangan_kompetensi"
    assert kind_of("report:7:umpan_balik:bkpsdm@contoh.go.id") == "laporan_360"
    assert kind_of("remind-kompetensi:5:1700000000:1") == "pengingat_kompetensi"
    assert kind_of("remind-360:5:1700000000:1", "Pengingat ke-1: 3 formulir umpan balik 360 "
                   "tahun 2028 belum Bapak/Ibu isi") == "pengingat_360"
    assert kind_of("remind-360:5:1700000000:1", "Pengingat ke-1: penilai 360 untuk 2 pegawai "
                   "menunggu penetapan Bapak/Ibu") == "pengingat_tetapkan_penilai"
    assert kind_of("remind-360:5:1700000000:1", "Reminder 1: the 360 raters of 2 employees "
                   "await your confirmation") == "pengingat_tetapkan_penilai"
    for kind in ("undangan_umpan_balik", "undangan_360", "laporan_360"):
        assert kind in FEEDBACK_KINDS
    # the period keys are unchanged
    assert kind_of("invite:7:periode2:ppk:12") == "undangan_penilaian_periodik"


def test_the_360_form_and_the_survey_form_are_parsed() -> None:
    from kinerja.simulate import form_actions, form_fields, skm_form

    page = ('<form method="post" action="/t/abc.def/formulir/17"><table>'
            + "".join(f'<tr><td><input type="radio" name="v{i}" value="{k}"></td>'
                      for i in range(7) for k in ("di_bawah", "sesuai", "di_atas"))
            + "".join(f'<td><input type="text" name="k{i}" maxlength="1000"></td>'
                      for i in range(7)) + "</table></form>")
    assert form_actions(page) == ["/t/abc.def/formulir/17"]
    values, comments = form_fields(page)
    assert values == [f"v{i}" for i in range(7)] and comments == [f"k{i}" for i in range(7)]
    survey = ('<input type="hidden" name="token" value="tok.en-1">'
              '<label for="cek">berapa <span id="soal">4 + 7</span>?</label>')
    assert skm_form(survey) == ("tok.en-1", 11)
    assert skm_form("<p>closed</p>") is None


def test_year_end_keys_have_their_kinds() -> None:
    from kinerja.simulate import PERIOD_KINDS, YEAR_END_KINDS

    assert kind_of("invite:7:penilaian:41") == "undangan_penilaian_tahunan"
    assert kind_of("report:7:penilaian:20281231235900:bkpsdm@contoh.go.id") == "laporan_penilaian"
    assert kind_of("hasil:7:41") == "hasil_kinerja"
    assert kind_of("keberatan:3:12") == "keberatan_diajukan"
    assert kind_of("keberatan-diputus:3") == "keberatan_diputus"
    assert kind_of("pembinaan:5:12") == "rencana_pembinaan"
    assert kind_of("remind-annual:9:1700000000:1") == "pengingat_penilaian_tahunan"
    for kind in ("undangan_penilaian_tahunan", "laporan_penilaian", "hasil_kinerja",
                 "keberatan_diajukan", "keberatan_diputus", "rencana_pembinaan"):
        assert kind in YEAR_END_KINDS and kind not in PERIOD_KINDS
    # the period and 360 keys are unchanged
    assert kind_of("invite:7:periode4:41") == "undangan_realisasi"
    assert kind_of("report:7:umpan_balik:x@contoh.go.id") == "laporan_360"


def test_the_year_end_plan_breaks_two_curves_and_fits_the_rest() -> None:
    from collections import Counter

    from kinerja.simulate import AIM, YearEndPlan
    from models.rules.scoring import check_distribution, predikat

    plan = YearEndPlan.of(Counter({"A": 10, "B": 6, "C": 5, "D": 4, "E": 3}))
    assert plan.grade == {"A": "Baik", "B": "Istimewa", "C": "Butuh Perbaikan",
                          "D": "Baik", "E": "Istimewa"}
    assert (plan.calibrate_unit, plan.override_unit) == ("A", "B")

    def breaks(unit: str, n: int) -> bool:
        got = [predikat(*AIM[plan.aim(unit, i)]) for i in range(n)]
        return bool(check_distribution(plan.grade[unit], got))
    assert breaks("A", 10) and breaks("B", 6)
    assert not any(breaks(u, n) for u, n in (("C", 5), ("D", 4), ("E", 3), ("D", 1)))
