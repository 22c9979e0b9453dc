"""SKM rules: the nine elements, answer checks, the signed form token (the human check), client
and submission fingerprints, the rate limit, the unit head, the results link, IKM and grades."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.rules import skm
from models.rules.errors import InvalidInput, LinkRejected
from models.rules.scoring import SKM_ELEMENTS, ikm, ikm_grade

SECRET = "rahasia-uji"
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _form(**over: str) -> dict[str, str]:
    return {f"u{i}": "3" for i in range(1, 10)} | over


def _sum(token: skm.FormToken) -> int:
    a, b = skm.question(SECRET, token.nonce)
    return a + b


# -- elements and answers -------------------------------------------------------------------------


def test_nine_elements_in_the_regulation_order_with_both_languages() -> None:
    assert [e.kode for e in skm.ELEMENTS] == list(SKM_ELEMENTS)
    assert [e.field for e in skm.ELEMENTS] == [f"u{i}" for i in range(1, 10)]
    for e in skm.ELEMENTS:
        assert e.label("id") and e.label("en") and e.tanya("id").endswith("?")
        assert len(e.pilihan("id")) == len(e.pilihan("en")) == 4


def test_valid_answers_parse_to_nine_ints() -> None:
    assert skm.parse_answers(_form(u1="1", u9=" 4 ")) == [1, 3, 3, 3, 3, 3, 3, 3, 4]


@pytest.mark.parametrize(("field", "value", "id_part", "en_part"), [
    ("u3", "", "unsur 3 (Waktu penyelesaian) belum dijawab", "element 3 (Time taken) is not answered"),
    ("u5", "0", "unsur 5 (Produk spesifikasi jenis pelayanan) harus dijawab dengan nilai 1 sampai 4",
     "element 5 (Service product) must be answered with a value from 1 to 4"),
    ("u1", "5", "unsur 1 (Persyaratan) harus", "element 1 (Requirements) must"),
    ("u7", "baik", "unsur 7 (Perilaku pelaksana) harus", "element 7 (Staff conduct) must"),
    ("u2", "2.5", "unsur 2 (Sistem, mekanisme, dan prosedur) harus", "element 2 (Procedure) must"),
])
def test_a_malformed_answer_names_its_element(field: str, value: str, id_part: str,
                                              en_part: str) -> None:
    with pytest.raises(skm.InvalidAnswer) as exc:
        skm.parse_answers(_form(**{field: value}))
    assert id_part in exc.value.message("id")
    assert en_part in exc.value.message("en")
    assert isinstance(exc.value, InvalidInput)


def test_every_bad_element_is_listed_at_once() -> None:
    form = _form()
    del form["u2"], form["u8"]
    with pytest.raises(skm.InvalidAnswer) as exc:
        skm.parse_answers(form)
    assert [p[0][:7] for p in exc.value.problems] == ["unsur 2", "unsur 8"]


def test_comment_is_trimmed_cleaned_and_limited() -> None:
    assert skm.clean_komentar("  ") is None
    assert skm.clean_komentar(" Antrian\x00 lama\n ") == "Antrian lama"
    assert skm.clean_komentar("x" * 1000) == "x" * 1000
    with pytest.raises(InvalidInput, match="1000"):
        skm.clean_komentar("x" * 1001)


# -- the form token -------------------------------------------------------------------------------


def test_a_genuine_form_filled_in_time_passes() -> None:
    token = skm.issue_form(SECRET, 7, NOW)
    claims = skm.verify_form(token.token, SECRET, 7, str(_sum(token)), NOW + timedelta(seconds=30))
    assert (claims.survei_id, claims.nonce) == (7, token.nonce)


def test_the_question_is_small_and_only_derivable_with_the_secret() -> None:
    token = skm.issue_form(SECRET, 7, NOW, nonce="abc")
    a, b = skm.question(SECRET, "abc")
    assert 2 <= a <= 9 and 1 <= b <= 9
    assert str(a + b) not in token.token.split(".")[0]  # the body holds no answer
    assert skm.question("another-secret", "abc") != (a, b) or skm.question(SECRET, "abd") != (a, b)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: "x" + t,  # body changed
    lambda t: t.split(".")[0],  # no signature
    lambda t: "",
    lambda t: "%%%.???",
])
def test_a_tampered_token_is_refused(mangle) -> None:  # type: ignore[no-untyped-def]
    token = skm.issue_form(SECRET, 7, NOW)
    with pytest.raises(skm.FormRejected) as exc:
        skm.verify_form(mangle(token.token), SECRET, 7, _sum(token), NOW + timedelta(minutes=1))
    assert exc.value.reason == "tampered"


def test_a_token_of_another_survey_or_secret_is_tampered() -> None:
    token = skm.issue_form(SECRET, 7, NOW)
    later = NOW + timedelta(minutes=1)
    for secret, survei_id in (("other", 7), (SECRET, 8)):
        with pytest.raises(skm.FormRejected) as exc:
            skm.verify_form(token.token, secret, survei_id, _sum(token), later)
        assert exc.value.reason == "tampered"


def test_too_fast_expired_and_wrong_sum() -> None:
    token = skm.issue_form(SECRET, 7, NOW)
    cases = [(NOW + timedelta(seconds=2), _sum(token), "too_fast"),
             (NOW, _sum(token), "too_fast"),
             (NOW + skm.MAX_AGE + timedelta(seconds=1), _sum(token), "expired"),
             (NOW + timedelta(seconds=10), _sum(token) + 1, "wrong_answer"),
             (NOW + timedelta(seconds=10), "tujuh", "wrong_answer"),
             (NOW + timedelta(seconds=10), None, "wrong_answer")]
    for at, answer, reason in cases:
        with pytest.raises(skm.FormRejected) as exc:
            skm.verify_form(token.token, SECRET, 7, answer, at)
        assert exc.value.reason == reason, (at, answer)
        assert exc.value.message("id") != exc.value.message("en")
    assert skm.verify_form(token.token, SECRET, 7, f" {_sum(token)} ", NOW + timedelta(seconds=3))
    assert skm.verify_form(token.token, SECRET, 7, _sum(token), NOW + skm.MAX_AGE)


# -- fingerprints, limits, kiosk ------------------------------------------------------------------


def test_client_key_is_keyed_and_never_the_address() -> None:
    key = skm.client_key(SECRET, "203.0.113.9", "Mozilla/5.0")
    assert len(key) == 64 and "203.0.113.9" not in key
    assert key != skm.client_key("other", "203.0.113.9", "Mozilla/5.0")
    assert key != skm.client_key(SECRET, "203.0.113.9", "Chrome")


def test_fingerprint_matches_the_same_submission_only() -> None:
    base = skm.fingerprint(SECRET, "k", 1, [4] * 9, "Bagus sekali")
    assert base == skm.fingerprint(SECRET, "k", 1, [4] * 9, "  bagus   SEKALI ")
    assert base != skm.fingerprint(SECRET, "k", 1, [4] * 8 + [3], "Bagus sekali")
    assert base != skm.fingerprint(SECRET, "k2", 1, [4] * 9, "Bagus sekali")
    assert base != skm.fingerprint(SECRET, "k", 2, [4] * 9, "Bagus sekali")
    # kiosk mode: the same answers from two forms differ, the same form twice matches
    one = skm.fingerprint(SECRET, "k", 1, [4] * 9, None, nonce="n1")
    assert one != skm.fingerprint(SECRET, "k", 1, [4] * 9, None, nonce="n2")
    assert one == skm.fingerprint(SECRET, "k", 1, [4] * 9, None, nonce="n1")


def test_rate_wait() -> None:
    assert skm.rate_wait(19, NOW - timedelta(minutes=5), NOW) is None
    assert skm.rate_wait(0, None, NOW) is None
    assert skm.rate_wait(20, NOW - timedelta(minutes=4), NOW) == timedelta(minutes=6)
    assert skm.rate_wait(25, NOW - timedelta(minutes=10), NOW) == timedelta(seconds=1)
    exc = skm.TooManyAnswers(timedelta(minutes=5, seconds=1))
    assert "tunggu sekitar 6 menit" in exc.message("id")
    assert "wait about 6 minute" in exc.message("en")


def test_kiosk_key() -> None:
    key = skm.kiosk_key(SECRET, 3)
    assert skm.is_kiosk(SECRET, 3, key)
    assert not skm.is_kiosk(SECRET, 4, key)
    assert not skm.is_kiosk(SECRET, 3, "") and not skm.is_kiosk(SECRET, 3, None)


# -- the unit head and the results link -----------------------------------------------------------


def test_unit_head_is_the_highest_member_whose_superior_is_outside() -> None:
    P = skm.Person
    people = [P(1, 1, None), P(2, 2, 1), P(3, 2, 2), P(4, 2, 3), P(5, 3, 1, active=True),
              P(6, 4, 1, active=False), P(7, 4, 6), P(8, 5, 9), P(9, 5, 8)]
    assert skm.unit_head(people, 2) == 2  # superior 1 is in unit 1
    assert skm.unit_head(people, 1) == 1  # no superior
    assert skm.unit_head(people, 4) == 7  # the inactive head is skipped; 7's superior is in unit
    assert skm.unit_head(people, 5) is None  # a cycle inside the unit: no one qualifies
    assert skm.unit_head(people, 99) is None
    # two members reporting outside: the one higher in the tree wins
    tree = [P(1, 1, None), P(3, 9, 1), P(4, 9, 3), P(6, 8, 3), P(7, 8, 4), P(8, 8, 7)]
    assert skm.unit_head(tree, 8) == 6  # 6 is two below the top, 7 three
    assert skm.unit_head([*tree[:3], P(6, 8, 4), P(7, 8, 4), P(8, 8, 7)], 8) == 6  # a tie: lowest id


def test_results_link() -> None:
    token = skm.sign_hasil(SECRET, 4, 9, NOW + timedelta(days=1))
    claims = skm.verify_hasil(token, SECRET, NOW)
    assert (claims.survei_id, claims.pegawai_id) == (4, 9)
    for bad in (token + "x", "x" + token, "", token.replace(".", "")):
        with pytest.raises(LinkRejected) as exc:
            skm.verify_hasil(bad, SECRET, NOW)
        assert exc.value.reason == "tampered"
    with pytest.raises(LinkRejected) as exc:
        skm.verify_hasil(token, SECRET, NOW + timedelta(days=2))
    assert exc.value.reason == "expired"
    assert skm.verify_hasil(token, SECRET, NOW + timedelta(days=2), allow_expired=True)
    # a task link's signature is no results link: the purpose is part of the MAC
    from models.rules import tokens

    task = tokens.sign(tokens.LinkClaims(4, 9, NOW + timedelta(days=1)), SECRET)
    with pytest.raises(LinkRejected):
        skm.verify_hasil(task, SECRET, NOW)


# -- IKM arithmetic and grades --------------------------------------------------------------------


def rows_with_total(n: int, total: int) -> list[list[int]]:
    """n answers of nine values 1..4 whose values add up to `total`."""
    cells = [1] * (9 * n)
    extra = total - 9 * n
    for i in range(len(cells)):
        step = min(3, extra)
        cells[i] += step
        extra -= step
    assert extra == 0
    return [cells[i:i + 9] for i in range(0, len(cells), 9)]


@pytest.mark.parametrize(("n", "total", "value", "grade"), [
    (1, 36, 100.0, "A"), (1, 9, 25.0, "D"),
    (24, 763, 88.31, "A"), (19, 604, 88.30, "B"),
    (19, 524, 76.61, "B"), (26, 717, 76.60, "C"),
    (5, 117, 65.00, "C"), (38, 889, 64.99, "D"),
])
def test_ikm_value_and_grade_at_the_boundaries(n: int, total: int, value: float,
                                               grade: str) -> None:
    result = ikm(rows_with_total(n, total))
    assert (result.value, result.grade, result.responses) == (value, grade, n)
    assert ikm_grade(value) == grade


def test_ikm_is_the_mean_of_element_means_times_25() -> None:
    result = ikm([[4, 3, 2, 1, 4, 3, 2, 1, 4], [2, 3, 4, 1, 4, 3, 2, 1, 2]])
    assert result.element_means == (3.0, 3.0, 3.0, 1.0, 4.0, 3.0, 2.0, 1.0, 3.0)
    assert result.value == round(23 / 9 * 25, 2) == 63.89
    assert result.grade == "D"
    assert set(skm.GRADE_LABEL) == {"A", "B", "C", "D"}
