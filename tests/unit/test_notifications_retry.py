"""The outbox retry policy (models.rules.outbox) and the recording mailer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.rules.outbox import MAX_BACKOFF_SECONDS, after_failure, backoff_seconds, next_attempt_at
from notifications.mailer import Outcome, OutgoingMessage, RecordingMailer, classify

NOW = datetime(2027, 1, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("attempts", "seconds"), [(0, 0), (1, 60), (2, 120), (3, 240),
                                                   (6, 1920), (9, 15360), (10, 21600),
                                                   (500, 21600)])
def test_backoff_doubles_up_to_six_hours(attempts: int, seconds: float) -> None:
    assert backoff_seconds(attempts, 60) == seconds
    assert next_attempt_at(attempts, 60, NOW) == NOW + timedelta(seconds=seconds)


def test_backoff_cap_is_configurable() -> None:
    assert MAX_BACKOFF_SECONDS == 6 * 3600
    assert next_attempt_at(5, 60, NOW, cap_seconds=300) == NOW + timedelta(minutes=5)


def test_backoff_is_monotonic() -> None:
    waits = [backoff_seconds(n, 30) for n in range(1, 40)]
    assert waits == sorted(waits)


@pytest.mark.parametrize(("attempts", "permanent", "decision"), [
    (1, False, "retry"), (5, False, "retry"), (6, False, "park"), (7, False, "park"),
    (1, True, "park"),
])
def test_after_failure(attempts: int, permanent: bool, decision: str) -> None:
    assert after_failure(attempts, 6, permanent) == decision


@pytest.mark.parametrize(("code", "outcome"), [(421, Outcome.TEMPORARY), (451, Outcome.TEMPORARY),
                                               (550, Outcome.PERMANENT),
                                               (554, Outcome.PERMANENT)])
def test_classify_reply_codes(code: int, outcome: Outcome) -> None:
    assert classify(code) is outcome


def _message(key: str) -> OutgoingMessage:
    return OutgoingMessage(key=key, sender="k@x.id", recipients=(f"{key}@x.id",), mime=b"x")


async def test_recording_mailer_records_and_fails_on_request() -> None:
    mailer = RecordingMailer()
    mailer.fail(["b"])
    mailer.fail(["c"], permanent=True)
    outcomes = await mailer.send_batch([_message(k) for k in "abc"])
    assert [o.outcome for o in outcomes] == [Outcome.SENT, Outcome.TEMPORARY, Outcome.PERMANENT]
    assert [m.key for m in mailer.sent] == ["a"] and mailer.batches == [["a", "b", "c"]]
    mailer.heal(["b"])
    assert (await mailer.send_batch([_message("b")]))[0].ok
