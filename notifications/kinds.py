"""Every kind of message Kinerja sends, with the context keys its templates may use.

Every context also has: agency_name, nama (the recipient's name), tahun (cycle year) and
language ('id' or 'en'); dates are already formatted strings in the agency's time zone.
"""

from __future__ import annotations

COMMON = ("agency_name", "nama", "tahun")

KINDS: dict[str, tuple[str, ...]] = {
    # planning opened: the pegawai is asked to draft and submit the SKP
    "undangan_skp": ("link", "due"),
    # a reminder to the pegawai; n is 1-based, overdue True after the due date
    "pengingat_skp": ("link", "due", "n", "overdue"),
    # a subordinate submitted an SKP: the PPK is asked to review
    "skp_diajukan": ("link", "pegawai_nama", "pegawai_nip", "due"),
    # reminder to the PPK: `pending` SKPs wait for a decision
    "pengingat_persetujuan": ("link", "pending", "due", "n", "overdue"),
    # escalation to the atasan PPK: the PPK has not decided an SKP in time
    "eskalasi_persetujuan": ("ppk_nama", "ppk_nip", "pegawai_nama", "pegawai_nip", "submitted",
                             "due"),
    # the PPK returned the SKP with a comment: fix and resubmit
    "skp_dikembalikan": ("link", "ppk_nama", "comment", "due"),
    # the PPK approved the SKP
    "skp_disetujui": ("link", "ppk_nama"),
    # a fresh task link, asked for from an expired link page
    "tautan_baru": ("link", "task_label"),
    # a subordinate cannot link RHK because the superior has none yet
    "menunggu_rhk_atasan": ("link", "bawahan_nama"),
    # planning closed: HR gets the counts; without_approved lists up to 50 "NIP nama (unit)"
    "laporan_perencanaan": ("console_link", "total", "approved", "without_approved_count",
                            "without_approved"),
    # --- monitoring periods (periode_label e.g. "Triwulan I" / "Januari"; midyear True for the
    # mid-year review period, which also asks for a dialog kinerja with the PPK)
    # a period opened: record rencana aksi, realisasi and bukti dukung by `due`
    "undangan_realisasi": ("link", "periode_label", "due", "midyear"),
    # reminder to the pegawai: the period's realisasi is not reported yet
    "pengingat_realisasi": ("link", "periode_label", "due", "n", "overdue", "midyear"),
    # a period opened: the PPK gives feedback and periodic ratings to `pending` subordinates
    "undangan_penilaian_periodik": ("link", "periode_label", "due", "pending", "midyear"),
    # reminder to the PPK: `pending` subordinates not yet rated for the period
    "pengingat_penilaian_periodik": ("link", "periode_label", "due", "pending", "n", "overdue",
                                     "midyear"),
    # escalation to the atasan PPK (or HR): the PPK has not rated `pending` subordinates in time
    "eskalasi_penilaian_periodik": ("ppk_nama", "ppk_nip", "periode_label", "pending", "due"),
    # the PPK rated the pegawai for a period (predikat is the official spelling)
    "penilaian_periodik_diberikan": ("link", "periode_label", "ppk_nama", "hasil_kerja",
                                     "perilaku", "predikat"),
    # a period closed: HR gets the counts; missing lists up to 50 "NIP nama (unit)"
    "laporan_periode": ("console_link", "periode_label", "total", "dilaporkan", "dinilai",
                        "missing_count", "missing"),
    # HR changed the pegawai's superior: the new PPK takes over the open tasks
    "ppk_baru": ("link", "pegawai_nama", "pegawai_nip", "ppk_lama_nama"),
    # the pegawai opened a revision of the approved SKP (the PPK will be asked to approve it)
    "skp_revisi_dibuka": ("link", "alasan", "due"),
    # --- 360 feedback and competencies (the umpan_balik stage)
    # the stage opened: the pegawai sees the raters chosen by the rule and may propose others
    # by `due`; `penilai` lists "nama (peran)"
    "undangan_umpan_balik": ("link", "due", "penilai"),
    # the PPK confirms or changes the raters of `pending` subordinates by `due`
    "tetapkan_penilai": ("link", "due", "pending"),
    "pengingat_tetapkan_penilai": ("link", "due", "pending", "n", "overdue"),
    # a rater has `jumlah` anonymous 360 forms to fill by `due` (one link for all of them)
    "undangan_360": ("link", "due", "jumlah"),
    "pengingat_360": ("link", "due", "jumlah", "n", "overdue"),
    # the stage closed: HR gets response rates (counts only)
    "laporan_360": ("console_link", "dinilai", "cukup", "kurang", "jawaban", "penugasan"),
    # competency self-assessment: rate own competencies by `due`; `bawahan` subordinates too
    "undangan_kompetensi": ("link", "due", "bawahan"),
    "pengingat_kompetensi": ("link", "due", "n", "overdue"),
    # SKM: a unit head gets the link to their unit's survey results (IKM)
    "hasil_skm": ("link", "unit", "judul"),
    # --- the year's end: annual rating, calibration, publication, keberatan, follow-up
    # the PPK sets the annual ratings of `pending` subordinates by `due` (one list)
    "undangan_penilaian_tahunan": ("link", "due", "pending"),
    "pengingat_penilaian_tahunan": ("link", "due", "pending", "n", "overdue"),
    # to the atasan PPK (or HR): the PPK has not rated `pending` subordinates by `due`
    "eskalasi_penilaian_tahunan": ("ppk_nama", "ppk_nip", "pending", "due"),
    # HR asks a PPK to revisit ratings in a unit whose predikat mix breaks its curve;
    # `pelanggaran` lists the breaches as sentences
    "kalibrasi": ("link", "unit", "pelanggaran"),
    # to HR: final scoring done; `pelanggaran_count` units break their curve; decide publication
    "laporan_penilaian": ("console_link", "total", "dinilai", "pelanggaran_count"),
    # to the pegawai: the published predikat; the link shows the Dokumen Evaluasi Kinerja and
    # the keberatan form until `batas_keberatan`
    "hasil_kinerja": ("link", "predikat", "hasil_kerja", "perilaku", "batas_keberatan"),
    # to the atasan PPK: a keberatan to decide by `due`
    "keberatan_diajukan": ("link", "pegawai_nama", "pegawai_nip", "due"),
    "pengingat_keberatan": ("link", "due", "pending", "n", "overdue"),
    # to the pegawai: the decision (status 'tetap' or 'diubah'), its reason and the predikat now
    "keberatan_diputus": ("link", "status", "alasan", "predikat"),
    # to the PPK: a coaching plan to run for `pegawai_nama` (predikat) with actions and dates
    "rencana_pembinaan": ("link", "pegawai_nama", "predikat"),
    "pengingat_pembinaan": ("link", "pending", "due", "n", "overdue"),
    # --- the daily digest (models/rules/digest.py): everything waiting for one person, `jumlah`
    # items (`baru` of them new since the previous digest) as of `tanggal`; `kelompok` lists
    # {"jenis": task kind, "butir": [{"nama", "nip", "periode_label", "jumlah", "batas",
    # "terlambat", "baru", "link"}]}; `ringkasan` is the person's choice (why it came) and
    # `link` opens the page where they change it
    "ringkasan_harian": ("link", "tanggal", "jumlah", "baru", "kelompok", "ringkasan"),
    # --- operations
    # to the operators: a Kinerja flow run failed, crashed or timed out (from the Prefect
    # automation). Ids and names only; state_message has email addresses and long numbers
    # hidden; run_link opens the run in the Prefect UI; further failures of the same flow within
    # quiet_minutes (0: none) are not emailed
    "kegagalan_flow": ("flow_name", "run_name", "state_name", "state_message", "occurred",
                       "run_link", "console_link", "quiet_minutes"),
}


def required_keys(kind: str) -> tuple[str, ...]:
    return COMMON + KINDS[kind]
