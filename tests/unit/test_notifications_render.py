"""Rendering every message kind in both languages, escaping, and context checks."""

from __future__ import annotations

import pytest

from notifications.kinds import KINDS, required_keys
from notifications.render import RenderError, render

SAMPLE = {
    "agency_name": "Pemerintah Kabupaten Contoh",
    "nama": "Siti Nurhaliza, S.E.",
    "tahun": 2027,
    "link": "https://kinerja.example.go.id/t/abc123",
    "console_link": "https://kinerja.example.go.id/hr/cycles/1",
    "due": "20 Januari 2027 16.00 WIB",
    "submitted": "10 Januari 2027 09.00 WIB",
    "n": 2,
    "overdue": False,
    "pending": 3,
    "pegawai_nama": "Budi Santoso",
    "pegawai_nip": "198501012010011001",
    "ppk_nama": "Dr. Ahmad Yani",
    "ppk_nip": "197001011995031001",
    "comment": "RHK 2 belum terukur.\nMohon tambahkan target kuantitas.",
    "task_label": "Penyusunan SKP 2027",
    "bawahan_nama": "Rina Marlina",
    "total": 120,
    "approved": 100,
    "without_approved_count": 52,
    "without_approved": ["199001012015011001 Andi (Bagian Umum)",
                         "199101012015011002 Dewi (Bagian Keuangan)"],
    "periode_label": "Triwulan II",
    "midyear": True,
    "hasil_kerja": "Sesuai Ekspektasi",
    "perilaku": "Di Atas Ekspektasi",
    "predikat": "Baik",
    "dilaporkan": 110,
    "dinilai": 96,
    "missing_count": 26,
    "missing": ["199201012016011003 Eko (Bagian Umum)",
                "199301012017011004 Fitri (Bagian Perencanaan)"],
    "ppk_lama_nama": "Drs. Hendra Wijaya",
    "alasan": "Perubahan tugas sejak Juli.\nRHK 3 perlu disesuaikan.",
    "penilai": ["Andi Wijaya (rekan kerja)", "Dewi Lestari (bawahan)", "Dr. Ahmad Yani (PPK)"],
    "jumlah": 4,
    "cukup": 81,
    "kurang": 15,
    "jawaban": 402,
    "penugasan": 480,
    "bawahan": 5,
    "unit": "Dinas Kependudukan dan Pencatatan Sipil",
    "judul": "SKM Pelayanan KTP-el Semester I 2027",
    "pelanggaran": ["Predikat Baik diberikan kepada 8 dari 10 pegawai (80%), melebihi batas 70%.",
                    "Tidak ada pegawai dengan predikat Butuh Perbaikan atau Kurang/Misconduct."],
    "pelanggaran_count": 2,
    "batas_keberatan": "15 Februari 2028 16.00 WIB",
    "status": "tetap",
    "flow_name": "buka-periode",
    "run_name": "buka-periode-2-siklus-7",
    "state_name": "Failed",
    "state_message": "Flow run encountered an exception: OperationalError: database is locked",
    "occurred": "1 April 2027 08.00 WIB",
    "run_link": "https://prefect.example.go.id/runs/flow-run/0b9f5b4e-1d2c-4a4e-9f3a-6c1d2e3f4a5b",
    "quiet_minutes": 60,
    "tanggal": "21 Januari 2027",
    "baru": 2,
    "ringkasan": "otomatis",
    "kelompok": [
        {"jenis": "setujui_skp", "butir": [
            {"nama": "Budi <Santoso>", "nip": "198501012010011001", "periode_label": "",
             "jumlah": 1, "batas": "31 Januari 2027 16.00 WIB", "terlambat": False, "baru": True,
             "link": "https://kinerja.example.go.id/t/skp1"}]},
        {"jenis": "nilai_periodik", "butir": [
            {"nama": "", "nip": "", "periode_label": "Triwulan I", "jumlah": 7,
             "batas": "15 April 2027 16.00 WIB", "terlambat": True, "baru": False,
             "link": "https://kinerja.example.go.id/t/periode1"}]}],
}
ALL = [(kind, lang) for kind in KINDS for lang in ("id", "en")]


def context_for(kind: str, **overrides: object) -> dict[str, object]:
    return {**{k: SAMPLE[k] for k in required_keys(kind)}, **overrides}


def test_sample_covers_every_declared_key() -> None:
    assert {k for kind in KINDS for k in required_keys(kind)} <= set(SAMPLE)


@pytest.mark.parametrize(("kind", "language"), ALL)
def test_every_kind_renders_in_both_languages(kind: str, language: str) -> None:
    email = render(kind, context_for(kind), language)
    assert email.subject and "\n" not in email.subject
    for part in (email.subject, email.text, email.html):
        assert "{{" not in part and "{%" not in part and "None" not in part
    greeting = "Yth. Bapak/Ibu Siti Nurhaliza, S.E.," if language == "id" \
        else "Dear Siti Nurhaliza, S.E.,"
    assert email.text.startswith(greeting)
    assert greeting in email.html
    assert SAMPLE["agency_name"] in email.html and SAMPLE["agency_name"] in email.text
    assert f'<html lang="{language}">' in email.html
    for url_key in ("link", "console_link"):
        if url_key in KINDS[kind]:
            assert SAMPLE[url_key] in email.text
            assert f'href="{SAMPLE[url_key]}"' in email.html


@pytest.mark.parametrize(("kind", "language"), ALL)
def test_personal_link_footer_only_where_there_is_a_link(kind: str, language: str) -> None:
    email = render(kind, context_for(kind), language)
    personal = "bersifat pribadi" if language == "id" else "is personal"
    assert (personal in email.text) == ("link" in KINDS[kind])
    assert (personal in email.html) == ("link" in KINDS[kind])


@pytest.mark.parametrize("language", ["id", "en"])
def test_reminder_wording_changes_when_overdue(language: str) -> None:
    before = render("pengingat_skp", context_for("pengingat_skp", overdue=False), language)
    after = render("pengingat_skp", context_for("pengingat_skp", overdue=True), language)
    assert before.subject != after.subject
    assert ("terlewati" if language == "id" else "has passed") in after.text
    assert SAMPLE["due"] in before.subject


def test_english_plural_follows_pending() -> None:
    one = render("pengingat_persetujuan", context_for("pengingat_persetujuan", pending=1), "en")
    many = render("pengingat_persetujuan", context_for("pengingat_persetujuan"), "en")
    assert "1 SKP awaiting" in one.subject and "3 SKPs awaiting" in many.subject


def test_report_lists_employees_and_how_many_more() -> None:
    email = render("laporan_perencanaan", context_for("laporan_perencanaan"), "id")
    assert "199001012015011001 Andi (Bagian Umum)" in email.text
    assert "dan 50 pegawai lainnya" in email.text
    assert "<li>199101012015011002 Dewi (Bagian Keuangan)</li>" in email.html


@pytest.mark.parametrize(("kind", "language"), ALL)
def test_subjects_stay_short(kind: str, language: str) -> None:
    for flags in ({"overdue": False, "midyear": False}, {"overdue": True, "midyear": True}):
        context = context_for(kind, **{k: v for k, v in flags.items() if k in KINDS[kind]})
        assert len(render(kind, context, language).subject) <= 120


@pytest.mark.parametrize("kind", ["undangan_realisasi", "undangan_penilaian_periodik",
                                  "pengingat_realisasi", "pengingat_penilaian_periodik"])
@pytest.mark.parametrize("language", ["id", "en"])
def test_midyear_period_asks_for_a_dialog_kinerja(kind: str, language: str) -> None:
    regular = render(kind, context_for(kind, midyear=False), language)
    midyear = render(kind, context_for(kind, midyear=True), language)
    for email in (regular, midyear):
        assert SAMPLE["periode_label"] in email.text and SAMPLE["due"] in email.text
    word = "tengah tahun" if language == "id" else "mid-year"
    assert word not in regular.text and word in midyear.text and word in midyear.html
    assert "dialog kinerja" in midyear.text


@pytest.mark.parametrize("language", ["id", "en"])
def test_period_reminders_change_when_overdue(language: str) -> None:
    for kind in ("pengingat_realisasi", "pengingat_penilaian_periodik"):
        before = render(kind, context_for(kind, overdue=False), language)
        after = render(kind, context_for(kind, overdue=True), language)
        assert before.subject != after.subject
        assert ("terlewati" if language == "id" else "passed") in after.text


def test_english_plural_follows_pending_for_periodic_ratings() -> None:
    for kind in ("undangan_penilaian_periodik", "pengingat_penilaian_periodik",
                 "eskalasi_penilaian_periodik"):
        one = render(kind, context_for(kind, pending=1), "en")
        many = render(kind, context_for(kind), "en")
        assert "1 employee " in one.subject and "3 employees " in many.subject


def test_period_report_lists_employees_and_how_many_more() -> None:
    email = render("laporan_periode", context_for("laporan_periode"), "id")
    assert "- 199201012016011003 Eko (Bagian Umum)" in email.text
    assert "dan 24 pegawai lainnya" in email.text
    assert "<li>199301012017011004 Fitri (Bagian Perencanaan)</li>" in email.html
    complete = render("laporan_periode", context_for("laporan_periode", missing_count=0,
                                                     missing=[]), "en")
    assert "<ul" not in complete.html and "more" not in complete.text


@pytest.mark.parametrize("language", ["id", "en"])
def test_new_ppk_without_a_previous_one(language: str) -> None:
    named = render("ppk_baru", context_for("ppk_baru"), language)
    unnamed = render("ppk_baru", context_for("ppk_baru", ppk_lama_nama=""), language)
    assert SAMPLE["ppk_lama_nama"] in named.text and SAMPLE["ppk_lama_nama"] in named.html
    assert f'{SAMPLE["pegawai_nama"]} (NIP {SAMPLE["pegawai_nip"]}).' in unnamed.text
    assert f'{SAMPLE["pegawai_nama"]} (NIP {SAMPLE["pegawai_nip"]}).' in unnamed.html


@pytest.mark.parametrize("language", ["id", "en"])
def test_periodic_rating_shows_the_three_values(language: str) -> None:
    email = render("penilaian_periodik_diberikan", context_for("penilaian_periodik_diberikan"),
                   language)
    for key in ("hasil_kerja", "perilaku", "predikat"):
        assert str(SAMPLE[key]) in email.text and str(SAMPLE[key]) in email.html
    assert SAMPLE["predikat"] in email.subject


def test_html_is_escaped_and_text_is_raw() -> None:
    evil = "<script>alert(1)</script>"
    email = render("skp_dikembalikan", context_for("skp_dikembalikan", nama=evil,
                                                   comment='a & b "c"'), "id")
    assert evil not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "a &amp; b &#34;c&#34;" in email.html
    assert evil in email.text and 'a & b "c"' in email.text


def test_subject_is_not_escaped() -> None:
    email = render("skp_diajukan", context_for("skp_diajukan", pegawai_nama="A & B <c>"), "id")
    assert email.subject.startswith("SKP A & B <c> menunggu")
    assert "<title>SKP A &amp; B &lt;c&gt; menunggu" in email.html


def test_missing_keys_are_named() -> None:
    context = context_for("skp_diajukan")
    del context["due"], context["nama"]
    with pytest.raises(RenderError, match="skp_diajukan.*missing: nama, due"):
        render("skp_diajukan", context)


def test_unknown_kind_and_language_are_errors() -> None:
    with pytest.raises(RenderError, match="unknown message kind 'nope'"):
        render("nope", SAMPLE)
    with pytest.raises(RenderError, match="unsupported language 'fr'"):
        render("undangan_skp", context_for("undangan_skp"), "fr")


def test_extra_context_is_ignored() -> None:
    email = render("tautan_baru", context_for("tautan_baru", unrelated="x", language="en"), "id")
    assert email.text.startswith("Yth.")


@pytest.mark.parametrize("language", ["id", "en"])
def test_rater_invitation_states_anonymity(language: str) -> None:
    for kind in ("undangan_360", "pengingat_360"):
        email = render(kind, context_for(kind), language)
        for part in (email.text, email.html):
            assert ("anonim" if language == "id" else "anonymous") in part
            assert ("batas minimal" if language == "id" else "minimum number") in part
            assert ("mengenali Bapak/Ibu" if language == "id" else "identify you") in part
    one = render("undangan_360", context_for("undangan_360", jumlah=1), "en")
    assert "1 anonymous form by" in one.subject and "4 anonymous forms" in render(
        "undangan_360", context_for("undangan_360"), "en").subject


@pytest.mark.parametrize("language", ["id", "en"])
def test_feedback_invitation_lists_the_raters_or_says_there_are_none(language: str) -> None:
    email = render("undangan_umpan_balik", context_for("undangan_umpan_balik"), language)
    assert "- Dewi Lestari (bawahan)" in email.text
    assert "<li>Dr. Ahmad Yani (PPK)</li>" in email.html
    empty = render("undangan_umpan_balik", context_for("undangan_umpan_balik", penilai=[]),
                   language)
    assert "<ul" not in empty.html and "\n- " not in empty.text
    assert SAMPLE["due"] in empty.text


@pytest.mark.parametrize("language", ["id", "en"])
def test_360_report_shows_counts_and_response_rate(language: str) -> None:
    email = render("laporan_360", context_for("laporan_360"), language)
    for key in ("dinilai", "cukup", "kurang", "jawaban", "penugasan"):
        assert str(SAMPLE[key]) in email.text and str(SAMPLE[key]) in email.html
    assert "(84%)" in email.text and "(84%)" in email.html
    none = render("laporan_360", context_for("laporan_360", jawaban=0, penugasan=0), language)
    assert "%" not in none.text


@pytest.mark.parametrize("language", ["id", "en"])
def test_competency_invitation_mentions_subordinates_only_for_a_ppk(language: str) -> None:
    ppk = render("undangan_kompetensi", context_for("undangan_kompetensi"), language)
    staff = render("undangan_kompetensi", context_for("undangan_kompetensi", bawahan=0), language)
    word = "5 pegawai" if language == "id" else "5 employees"
    assert word in ppk.text and word in ppk.html
    marker = "Selaku Pejabat Penilai Kinerja" if language == "id" else "As the rater (PPK)"
    assert marker in ppk.text and marker in ppk.html
    assert marker not in staff.text and marker not in staff.html


@pytest.mark.parametrize("language", ["id", "en"])
def test_feedback_reminders_change_when_overdue(language: str) -> None:
    for kind in ("pengingat_tetapkan_penilai", "pengingat_360", "pengingat_kompetensi"):
        before = render(kind, context_for(kind, overdue=False), language)
        after = render(kind, context_for(kind, overdue=True), language)
        assert before.subject != after.subject
        assert ("terlewati" if language == "id" else "passed") in after.text
        assert ("terlewati" if language == "id" else "passed") not in before.text


@pytest.mark.parametrize("language", ["id", "en"])
def test_skm_result_names_the_survey_and_unit(language: str) -> None:
    email = render("hasil_skm", context_for("hasil_skm"), language)
    for part in (email.text, email.html):
        assert SAMPLE["judul"] in part and SAMPLE["unit"] in part and "IKM" in part
    assert SAMPLE["unit"] in email.subject


@pytest.mark.parametrize("language", ["id", "en"])
def test_annual_reminders_change_when_overdue(language: str) -> None:
    for kind in ("pengingat_penilaian_tahunan", "pengingat_keberatan", "pengingat_pembinaan"):
        before = render(kind, context_for(kind, overdue=False), language)
        after = render(kind, context_for(kind, overdue=True), language)
        assert before.subject != after.subject
        assert ("terlewati" if language == "id" else "passed") in after.text
        assert ("terlewati" if language == "id" else "passed") not in before.text
        assert SAMPLE["due"] in before.text and SAMPLE["due"] in after.text


def test_english_plural_follows_pending_for_annual_ratings() -> None:
    for kind in ("undangan_penilaian_tahunan", "pengingat_penilaian_tahunan",
                 "eskalasi_penilaian_tahunan"):
        one = render(kind, context_for(kind, pending=1), "en")
        many = render(kind, context_for(kind), "en")
        assert "1 employee " in one.subject and "3 employees " in many.subject


@pytest.mark.parametrize("language", ["id", "en"])
def test_published_result_shows_the_ratings_and_the_keberatan_deadline(language: str) -> None:
    email = render("hasil_kinerja", context_for("hasil_kinerja"), language)
    for part in (email.text, email.html):
        for key in ("hasil_kerja", "perilaku", "predikat", "batas_keberatan"):
            assert str(SAMPLE[key]) in part
        assert "Dokumen Evaluasi Kinerja" in part
        assert ("keberatan" if language == "id" else "appeal") in part
        assert ("menjadi final" if language == "id" else "becomes final") in part
    assert SAMPLE["predikat"] in email.subject


@pytest.mark.parametrize("language", ["id", "en"])
def test_keberatan_decision_says_kept_or_changed_with_the_reason(language: str) -> None:
    kept = render("keberatan_diputus", context_for("keberatan_diputus"), language)
    changed = render("keberatan_diputus", context_for("keberatan_diputus", status="diubah",
                                                      predikat="Sangat Baik"), language)
    word_kept, word_changed = ("tetap", "diubah menjadi") if language == "id" \
        else ("stays", "changed to")
    assert word_kept in kept.subject and word_changed not in kept.subject
    assert "Sangat Baik" in changed.subject and word_changed in changed.subject
    for email in (kept, changed):
        assert SAMPLE["alasan"] in email.text
        assert "Perubahan tugas sejak Juli." in email.html
        assert "final" in email.text and "final" in email.html
    assert f"{word_changed} Sangat Baik" in changed.text


@pytest.mark.parametrize("language", ["id", "en"])
def test_calibration_lists_the_breaches(language: str) -> None:
    email = render("kalibrasi", context_for("kalibrasi"), language)
    first, second = SAMPLE["pelanggaran"]
    assert f"- {first}" in email.text and f"- {second}" in email.text
    assert f"<li>{first}</li>" in email.html
    assert SAMPLE["unit"] in email.subject and SAMPLE["unit"] in email.text
    assert ("alasan tertulis" if language == "id" else "written reason") in email.text
    empty = render("kalibrasi", context_for("kalibrasi", pelanggaran=[]), language)
    assert "<ul" not in empty.html and "\n- " not in empty.text


@pytest.mark.parametrize("language", ["id", "en"])
def test_rating_report_mentions_breaches_only_when_there_are_some(language: str) -> None:
    email = render("laporan_penilaian", context_for("laporan_penilaian"), language)
    clean = render("laporan_penilaian", context_for("laporan_penilaian", pelanggaran_count=0),
                   language)
    for key in ("total", "dinilai", "pelanggaran_count"):
        assert str(SAMPLE[key]) in email.text and str(SAMPLE[key]) in email.html
    word = "kalibrasi" if language == "id" else "calibration"
    assert word in email.text and word not in clean.text
    assert email.subject != clean.subject


@pytest.mark.parametrize("language", ["id", "en"])
def test_digest_lists_each_line_with_due_date_link_and_new_mark(language: str) -> None:
    email = render("ringkasan_harian", context_for("ringkasan_harian"), language)
    new = "[BARU]" if language == "id" else "[NEW]"
    assert f"- {new} SKP" in email.text and "Budi <Santoso> (NIP 198501012010011001)" in email.text
    assert "Budi &lt;Santoso&gt;" in email.html and "Budi <Santoso>" not in email.html
    for line in SAMPLE["kelompok"]:  # type: ignore[attr-defined]
        for b in line["butir"]:
            assert b["link"] in email.text and f'href="{b["link"]}"' in email.html
            assert b["batas"] in email.text and b["batas"] in email.html
    assert "Triwulan I: 7" in email.text
    assert ("sudah lewat" if language == "id" else "(passed)") in email.text
    assert f": {SAMPLE['jumlah']} " in email.subject and f"({SAMPLE['baru']} " in email.subject
