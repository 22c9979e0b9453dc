"""Pure rules of the planning stage: SKP transitions, completeness, calendar, reminders, links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.rules import calendar, tokens
from models.rules.enums import JenisRhk, SkpStatus, StageCode
from models.rules.errors import IncompleteSkp, InvalidInput, InvalidTransition, LinkRejected
from models.rules.passwords import hash_password, verify_password
from models.rules.reminders import escalation_due, reminder_due, review_due
from models.rules.skp import CascadeContext, IkiDraft, RhkDraft, check_submit, ensure_editable, next_status

T = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)
IKI = (IkiDraft("Dokumen tersusun", "12", "dokumen"),)


@pytest.mark.parametrize(("current", "action", "expected"), [
    (SkpStatus.DRAF, "ajukan", SkpStatus.DIAJUKAN),
    (SkpStatus.DIKEMBALIKAN, "ajukan", SkpStatus.DIAJUKAN),
    (SkpStatus.DIAJUKAN, "setujui", SkpStatus.DISETUJUI),
    (SkpStatus.DIAJUKAN, "kembalikan", SkpStatus.DIKEMBALIKAN),
])
def test_allowed_transitions(current: SkpStatus, action: str, expected: SkpStatus) -> None:
    assert next_status(current, action) == expected


@pytest.mark.parametrize(("current", "action"), [
    (SkpStatus.DRAF, "setujui"), (SkpStatus.DISETUJUI, "ajukan"),
    (SkpStatus.DISETUJUI, "kembalikan"), (SkpStatus.DIKEMBALIKAN, "setujui"),
])
def test_wrong_state_names_the_current_state(current: SkpStatus, action: str) -> None:
    with pytest.raises(InvalidTransition) as err:
        next_status(current, action)
    assert err.value.current == current.value
    assert "status SKP saat ini" in err.value.message("id")
    assert "currently" in err.value.message("en")


def test_submitted_skp_is_not_editable() -> None:
    ensure_editable(SkpStatus.DIKEMBALIKAN)
    with pytest.raises(InvalidTransition, match="diajukan"):
        ensure_editable(SkpStatus.DIAJUKAN)


def test_complete_skp_passes() -> None:
    ctx = CascadeContext(True, "Bu Kasi", frozenset({7}))
    check_submit([RhkDraft(JenisRhk.UTAMA, "Menyusun laporan", 7, IKI)], ctx)


def test_incomplete_skp_lists_every_missing_piece() -> None:
    ctx = CascadeContext(True, "Bu Kasi", frozenset({7}))
    rhk = [RhkDraft(JenisRhk.TAMBAHAN, "Membantu", None, ()),
           RhkDraft(JenisRhk.TAMBAHAN, "Lain", 99, (IkiDraft("x", "", "dokumen"),))]
    with pytest.raises(IncompleteSkp) as err:
        check_submit(rhk, ctx)
    text = err.value.message("id")
    assert "belum ada RHK utama" in text
    assert "belum memiliki IKI" in text
    assert "belum dikaitkan" in text
    assert "bukan milik atasan" in text
    assert "target dan satuan" in text


def test_superior_without_rhk_blocks_submit_and_says_why() -> None:
    ctx = CascadeContext(True, "Pak Kabid", frozenset())
    with pytest.raises(IncompleteSkp, match="Pak Kabid"):
        check_submit([RhkDraft(JenisRhk.UTAMA, "x", None, IKI)], ctx)


def test_jpt_needs_no_intervensi() -> None:
    check_submit([RhkDraft(JenisRhk.UTAMA, "Dari Perjanjian Kinerja", None, IKI)],
                 CascadeContext(False))


def test_default_calendar_is_january_in_jakarta() -> None:
    s = calendar.default_planning(2027)
    assert s.opens_at == datetime(2027, 1, 2, 1, 0, tzinfo=UTC)  # 08.00 WIB
    assert s.opens_at < s.due_at < s.approve_due_at < s.closes_at
    calendar.validate(s)


def test_calendar_out_of_order_is_rejected() -> None:
    s = calendar.default_planning(2027)
    bad = calendar.StageDates(StageCode.PERENCANAAN, s.opens_at, s.approve_due_at, s.due_at,
                              s.closes_at)
    with pytest.raises(InvalidInput, match="batas persetujuan"):
        calendar.validate(bad)


def test_stage_actions_follow_the_clock() -> None:
    s = calendar.compressed_planning(T, 10)
    assert calendar.stage_actions(s, False, False, T - timedelta(seconds=1)) == []
    assert calendar.stage_actions(s, False, False, T) == ["open"]
    assert calendar.stage_actions(s, True, False, s.closes_at) == ["close"]
    assert calendar.next_event(s, True, False) == s.closes_at
    assert calendar.next_event(s, True, True) is None


def test_offsets_parse_and_format() -> None:
    assert calendar.parse_offsets("-3d, -1d, 1d, 2h, 30m") == (-4320, -1440, 30, 120, 1440)
    assert calendar.format_offsets([-4320, 90, 120]) == "-3d, 90m, 2h"
    with pytest.raises(InvalidInput, match="tidak dikenali"):
        calendar.parse_offsets("besok")


def test_reminder_sends_only_the_latest_due_one() -> None:
    due = T
    offsets = (-4320, -1440, 1440)
    created = due - timedelta(days=10)
    assert reminder_due(due_at=due, offsets_minutes=offsets, sent=0, created_at=created,
                        now=due - timedelta(days=4)) is None
    assert reminder_due(due_at=due, offsets_minutes=offsets, sent=0, created_at=created,
                        now=due - timedelta(days=2)) == 0
    # a sweep that missed a day sends the newest reminder, not a burst
    assert reminder_due(due_at=due, offsets_minutes=offsets, sent=0, created_at=created,
                        now=due) == 1
    assert reminder_due(due_at=due, offsets_minutes=offsets, sent=2, created_at=created,
                        now=due) is None
    assert reminder_due(due_at=due, offsets_minutes=offsets, sent=2, created_at=created,
                        now=due + timedelta(days=2)) == 2


def test_no_reminder_from_before_the_task_existed() -> None:
    assert reminder_due(due_at=T, offsets_minutes=(-4320,), sent=0,
                        created_at=T - timedelta(days=1), now=T) is None


def test_review_due_gives_the_ppk_at_least_the_sla() -> None:
    late = T + timedelta(days=20)
    assert review_due(submitted_at=T, approve_due_at=T + timedelta(days=5), sla_minutes=4320) == \
        T + timedelta(days=5)
    assert review_due(submitted_at=late, approve_due_at=T, sla_minutes=4320) == \
        late + timedelta(days=3)
    assert not escalation_due(submitted_at=late, approve_due_at=T, sla_minutes=4320,
                              now=late + timedelta(days=2))
    assert escalation_due(submitted_at=late, approve_due_at=T, sla_minutes=4320,
                          now=late + timedelta(days=3, seconds=1))


def test_link_roundtrip_and_rejections() -> None:
    claims = tokens.LinkClaims(5, 9, T + timedelta(hours=1))
    token = tokens.sign(claims, "s3cret")
    assert tokens.verify(token, "s3cret", T) == claims
    with pytest.raises(LinkRejected) as err:
        tokens.verify(token, "s3cret", T + timedelta(hours=2))
    assert err.value.reason == "expired"
    assert tokens.verify(token, "s3cret", T + timedelta(hours=2), allow_expired=True) == claims
    body, mac = token.split(".")
    forged = tokens.sign(tokens.LinkClaims(5, 10, claims.expires_at), "other")
    for bad in (token + "x", f"{body}.{mac[::-1]}", "garbage", forged.split(".")[0] + "." + mac):
        with pytest.raises(LinkRejected) as err:
            tokens.verify(bad, "s3cret", T)
        assert err.value.reason == "tampered"


def test_password_hash() -> None:
    stored = hash_password("rahasia")
    assert verify_password("rahasia", stored)
    assert not verify_password("salah", stored)
    assert not verify_password("rahasia", "garbage")


def test_a_flow_time_without_zone_is_agency_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from flows.common import now_of
    from tests.factories import runtime_for

    rt = runtime_for(None, tmp_path)  # type: ignore[arg-type]
    assert now_of(rt, "2027-02-07T16:00") == datetime(2027, 2, 7, 9, 0, tzinfo=UTC)
    assert now_of(rt, "2027-02-07T16:00+00:00") == datetime(2027, 2, 7, 16, 0, tzinfo=UTC)


def test_a_closed_stage_refuses_changes() -> None:
    from models.rules.skp import ensure_stage_open

    ensure_stage_open(False)
    with pytest.raises(InvalidTransition, match="sudah ditutup"):
        ensure_stage_open(True)
