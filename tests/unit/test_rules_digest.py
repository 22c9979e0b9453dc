"""The daily digest's rules: which messages it replaces, who is in digest mode, one a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from models.rules import digest as rules
from models.rules.enums import Ringkasan, TaskKind
from models.rules.errors import InvalidInput
from notifications.kinds import KINDS

OTOMATIS, HARIAN, SETIAP = Ringkasan.OTOMATIS, Ringkasan.HARIAN, Ringkasan.SETIAP


def test_every_message_kind_is_either_digestible_or_immediate() -> None:
    assert rules.DIGESTIBLE <= set(KINDS)
    assert not rules.DIGESTIBLE & set(rules.IMMEDIATE)
    assert set(KINDS) <= rules.DIGESTIBLE | set(rules.IMMEDIATE)


@pytest.mark.parametrize("kind", ["skp_diajukan", "undangan_penilaian_periodik", "tetapkan_penilai",
                                  "undangan_360", "keberatan_diajukan", "ppk_baru", "pengingat_skp",
                                  "pengingat_persetujuan", "pengingat_360", "rencana_pembinaan"])
def test_notices_of_waiting_work_are_digestible(kind: str) -> None:
    assert kind in rules.DIGESTIBLE


@pytest.mark.parametrize("kind", ["skp_dikembalikan", "skp_disetujui", "hasil_kinerja",
                                  "keberatan_diputus", "tautan_baru", "penilaian_periodik_diberikan",
                                  "eskalasi_persetujuan", "laporan_perencanaan", "kalibrasi",
                                  "ringkasan_harian"])
def test_results_requests_escalations_and_reports_always_go_at_once(kind: str) -> None:
    assert kind not in rules.DIGESTIBLE
    for preference in Ringkasan:
        assert not rules.holds(kind, preference, 100)


@pytest.mark.parametrize(("preference", "waiting", "digest"), [
    (OTOMATIS, 0, False), (OTOMATIS, 5, False), (OTOMATIS, 6, True), (OTOMATIS, 40, True),
    (HARIAN, 0, True), (HARIAN, 1, True), (SETIAP, 6, False), (SETIAP, 500, False),
    ("otomatis", 6, True), ("harian", 1, True), (None, 100, False)])
def test_digest_mode_follows_the_choice_and_the_count(preference: Ringkasan | str | None,
                                                     waiting: int, digest: bool) -> None:
    assert rules.in_digest_mode(preference, waiting) is digest
    assert rules.holds("skp_diajukan", preference, waiting) is digest


def test_the_threshold_is_more_than_five() -> None:
    assert rules.AMBANG_OTOMATIS == 5


@pytest.mark.parametrize(("preference", "waiting", "held", "due"), [
    (OTOMATIS, 6, 0, True),    # in digest mode: the day's digest
    (OTOMATIS, 3, 0, False),   # each event was emailed on its own
    (OTOMATIS, 3, 2, True),    # held while over 5, handled down to 3: still told
    (HARIAN, 1, 0, True),
    (SETIAP, 4, 0, False),
    (SETIAP, 4, 1, True),      # held before switching to `setiap`: nothing is lost
    (HARIAN, 0, 3, False),     # nothing waits any more: no digest at all
    (OTOMATIS, 0, 0, False)])
def test_a_digest_is_due_when_something_waits_and_is_owed(preference: Ringkasan, waiting: int,
                                                           held: int, due: bool) -> None:
    assert rules.digest_due(preference, waiting, held) is due


def test_the_local_day_is_the_agencys() -> None:
    # 23:30 UTC on the 4th is 06:30 on the 5th in Jakarta
    late = datetime(2027, 3, 4, 23, 30, tzinfo=UTC)
    assert rules.local_day(late, "Asia/Jakarta") == date(2027, 3, 5)
    assert rules.local_day(late, "UTC") == date(2027, 3, 4)


def test_at_most_one_digest_per_local_day() -> None:
    morning = datetime(2027, 3, 4, 23, 0, tzinfo=UTC)  # 06:00 WIB on the 5th
    assert not rules.sent_today(None, morning, "Asia/Jakarta")
    assert rules.sent_today(morning, morning + timedelta(hours=16), "Asia/Jakarta")  # 22:00 WIB
    assert not rules.sent_today(morning, morning + timedelta(hours=18), "Asia/Jakarta")  # next day
    assert rules.digest_key(41, date(2027, 3, 5)) == "ringkasan:41:2027-03-05"


def test_new_items_are_those_after_the_previous_digest() -> None:
    last = datetime(2027, 3, 4, 23, 0, tzinfo=UTC)
    assert rules.is_new(last + timedelta(minutes=1), last)
    assert not rules.is_new(last - timedelta(minutes=1), last)
    assert rules.is_new(last - timedelta(days=30), None)  # a first digest: everything is new


@pytest.mark.parametrize("value", ["harian", " Harian ", "SETIAP", "otomatis"])
def test_choices_are_read_loosely(value: str) -> None:
    assert rules.parse_ringkasan(value) == Ringkasan(value.strip().lower())


@pytest.mark.parametrize("value", ["", "mingguan", "daily", None, 5])
def test_an_unknown_choice_is_refused_naming_the_three(value: object) -> None:
    with pytest.raises(InvalidInput) as err:
        rules.parse_ringkasan(value)
    assert "otomatis, harian, setiap" in err.value.message("id")
    assert "otomatis, harian, setiap" in err.value.message("en")


def test_every_listed_kind_of_work_is_a_task_kind_and_results_are_not_listed() -> None:
    assert len(set(rules.GROUPS)) == len(rules.GROUPS)
    assert TaskKind.HASIL_KINERJA not in rules.GROUPS
    assert set(rules.GROUPS) | {TaskKind.HASIL_KINERJA} == set(TaskKind)
