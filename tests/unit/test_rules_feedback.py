"""The 360 assignment rule and the aggregate threshold."""

from __future__ import annotations

import random
from collections import Counter

from models.rules import feedback as fb


def _org(units: int = 3, per_unit: int = 12) -> list[fb.Person]:
    """Each unit: a head (reporting to the agency head, id 1) and staff under the head."""
    people = [fb.Person(1, 0, None)]
    nid = 2
    for u in range(1, units + 1):
        head = nid
        people.append(fb.Person(head, u, 1))
        nid += 1
        for _ in range(per_unit - 1):
            people.append(fb.Person(nid, u, head))
            nid += 1
    return people


def test_everyone_gets_self_ppk_peers_and_subordinates() -> None:
    people = _org()
    out = fb.assign(people, fb.Rule(), cycle_id=7)
    by = {}
    for a in out:
        by.setdefault(a.dinilai_id, []).append(a)
    staff = next(p for p in people if p.atasan_id not in (None, 1))
    roles = Counter(a.peran for a in by[staff.id])
    assert roles == {fb.DIRI: 1, fb.PPK: 1, fb.REKAN: 3}
    head = next(p for p in people if p.atasan_id == 1)
    assert Counter(a.peran for a in by[head.id])[fb.BAWAHAN] == 3
    assert {a.penilai_id for a in by[staff.id] if a.peran == fb.PPK} == {staff.atasan_id}


def test_no_one_reviews_themselves_as_a_peer_or_twice() -> None:
    out = fb.assign(_org(), fb.Rule(), cycle_id=1)
    assert all(a.penilai_id != a.dinilai_id for a in out if a.peran != fb.DIRI)
    pairs = [(a.dinilai_id, a.penilai_id) for a in out]
    assert len(pairs) == len(set(pairs))


def test_the_cap_is_honoured() -> None:
    rule = fb.Rule(maks_rekan=5, maks_form=4)
    out = fb.assign(_org(units=2, per_unit=20), rule, cycle_id=3)
    load = Counter(a.penilai_id for a in out if a.peran in (fb.REKAN, fb.BAWAHAN))
    assert max(load.values()) <= 4
    # the PPK's own reviews are kept even past the cap: a PPK must rate their people
    ppk_load = Counter(a.penilai_id for a in out if a.peran == fb.PPK)
    assert max(ppk_load.values()) == 19


def test_load_is_spread_evenly() -> None:
    out = fb.assign(_org(units=1, per_unit=30), fb.Rule(maks_rekan=3, maks_form=8), cycle_id=5)
    load = Counter(a.penilai_id for a in out if a.peran == fb.REKAN)
    staff = [pid for pid in range(3, 32)]  # 29 staff, 3 peer forms each
    assert sum(load[p] for p in staff) == 29 * 3
    assert min(load[p] for p in staff) >= 2 and max(load.values()) <= 4  # greedy, least-loaded


def test_the_rule_is_deterministic_whatever_the_input_order() -> None:
    people = _org()
    first = fb.assign(people, fb.Rule(), cycle_id=9)
    shuffled = people[:]
    random.Random(4).shuffle(shuffled)
    assert sorted(first, key=str) == sorted(fb.assign(shuffled, fb.Rule(), cycle_id=9), key=str)
    assert fb.assign(people, fb.Rule(), cycle_id=9) == first
    assert fb.assign(people, fb.Rule(), cycle_id=10) != first  # another cycle, another draw


def test_peers_under_the_same_superior_come_first() -> None:
    people = [fb.Person(1, 1, None), fb.Person(2, 1, 1), fb.Person(3, 1, 1),
              fb.Person(4, 1, 2), fb.Person(5, 1, 2), fb.Person(6, 1, 3)]
    out = fb.assign(people, fb.Rule(maks_rekan=1), cycle_id=1)
    peer_of_4 = [a.penilai_id for a in out if a.dinilai_id == 4 and a.peran == fb.REKAN]
    assert peer_of_4 == [5]


def test_options_switch_self_and_ppk_off() -> None:
    out = fb.assign(_org(), fb.Rule(ikut_diri=False, ikut_ppk=False), cycle_id=1)
    assert not any(a.peran in (fb.DIRI, fb.PPK) for a in out)


def test_threshold_two_answers_show_nothing_three_show_aggregates() -> None:
    assert not fb.enough(2, 3)
    assert fb.enough(3, 3)
    summary = fb.summarise([("Akuntabel", "sesuai", "rapi"), ("Akuntabel", "di_atas", None),
                            ("Akuntabel", "sesuai", "tepat waktu"), ("Loyal", "di_bawah", None)])
    by = {s.nilai: s for s in summary}
    assert [s.nilai for s in summary][0] == "Berorientasi Pelayanan"  # official order
    assert (by["Akuntabel"].sesuai, by["Akuntabel"].di_atas) == (2, 1)
    assert by["Akuntabel"].komentar == ("rapi", "tepat waktu")  # sorted: order tells nothing
    assert by["Loyal"].di_bawah == 1
