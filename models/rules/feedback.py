"""360 feedback rules: the stage calendar, the rater assignment rule and the aggregate threshold.

The assignment is a pure function of the organisation, so the same data always gives the same
raters: candidates are ordered by a keyed hash of (cycle, person, candidate), never by chance.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from models.rules.calendar import StageDates, to_utc
from models.rules.enums import NilaiBerakhlak, StageCode, TaskKind

#: task kinds whose changes of state leave no audit line: a rater's 360 task done or cancelled
#: would tell who answered their forms and who did not
UNAUDITED_TASK_KINDS = frozenset({TaskKind.ISI_360})

PPK, REKAN, BAWAHAN, DIRI = "ppk", "rekan", "bawahan", "diri"
PERAN_LABEL = {PPK: ("PPK", "PPK"), REKAN: ("rekan kerja", "peer"),
               BAWAHAN: ("bawahan", "subordinate"), DIRI: ("diri sendiri", "self")}
PENILAIAN = {"di_bawah": ("Di Bawah Ekspektasi", "Below expectation"),
             "sesuai": ("Sesuai Ekspektasi", "As expected"),
             "di_atas": ("Di Atas Ekspektasi", "Above expectation")}


def default_stage(year: int, tz: str = "Asia/Jakarta") -> StageDates:
    """October: opens the 1st (raters proposed, self-assessment), proposals due the 7th, the PPK
    confirms by the 14th (invitations go out on confirmation), answers close the 31st."""
    at = lambda m, d, h: to_utc(datetime.combine(date(year, m, d), time(h)), tz)  # noqa: E731
    return StageDates(StageCode.UMPAN_BALIK, at(10, 1, 8), at(10, 7, 16), at(10, 14, 16),
                      at(10, 31, 16))


def compressed_stage(start: datetime, minutes: int) -> StageDates:
    step = timedelta(minutes=minutes) / 10
    return StageDates(StageCode.UMPAN_BALIK, start, start + 3 * step, start + 5 * step,
                      start + 10 * step)


@dataclass(frozen=True)
class Person:
    id: int
    unit_id: int
    atasan_id: int | None


@dataclass(frozen=True)
class Rule:
    ikut_ppk: bool = True
    ikut_diri: bool = True
    maks_rekan: int = 3
    maks_bawahan: int = 3
    maks_form: int = 8  # the most forms one rater is given (self-review not counted)


@dataclass(frozen=True)
class Assignment:
    dinilai_id: int
    penilai_id: int
    peran: str


def _key(cycle_id: int, a: int, b: int) -> str:
    return hashlib.sha256(f"{cycle_id}:{a}:{b}".encode()).hexdigest()


def assign(people: Iterable[Person], rule: Rule, cycle_id: int,
           load: Mapping[int, int] | None = None) -> list[Assignment]:
    """Raters for everyone: self, the PPK, up to maks_rekan peers (same superior first, then
    the same unit) and up to maks_bawahan direct subordinates, no rater past maks_form forms
    (`load`: forms a rater already has). The PPK's review is kept even past the cap, since a
    PPK must rate their own people; peers and subordinates are spread to the least-loaded.
    Deterministic: the same people and rule always give the same list."""
    everyone = sorted(people, key=lambda p: p.id)
    by_id = {p.id: p for p in everyone}
    by_unit: dict[int, list[Person]] = {}
    by_boss: dict[int | None, list[Person]] = {}
    for p in everyone:
        by_unit.setdefault(p.unit_id, []).append(p)
        by_boss.setdefault(p.atasan_id, []).append(p)
    used: Counter[int] = Counter(load or {})
    out: list[Assignment] = []
    # people with fewer candidate peers go first, so the scarce raters are not used up
    order = sorted(everyone, key=lambda p: (len(by_unit[p.unit_id]), _key(cycle_id, p.id, 0)))
    for p in order:
        if rule.ikut_diri:
            out.append(Assignment(p.id, p.id, DIRI))
        if rule.ikut_ppk and p.atasan_id in by_id:
            out.append(Assignment(p.id, p.atasan_id, PPK))
            used[p.atasan_id] += 1
        near = [q for q in by_boss.get(p.atasan_id, []) if q.id != p.id] if p.atasan_id else []
        near_ids = {q.id for q in near}
        far = [q for q in by_unit[p.unit_id]
               if q.id not in near_ids and q.id != p.id and q.id != p.atasan_id
               and q.atasan_id != p.id]
        picked = _pick(near, rule.maks_rekan, rule.maks_form, used, cycle_id, p.id)
        picked += _pick(far, rule.maks_rekan - len(picked), rule.maks_form, used, cycle_id, p.id)
        out += [Assignment(p.id, q, REKAN) for q in picked]
        subs = by_boss.get(p.id, [])
        out += [Assignment(p.id, q, BAWAHAN)
                for q in _pick(subs, rule.maks_bawahan, rule.maks_form, used, cycle_id, p.id)]
    return out


def _pick(candidates: list[Person], n: int, cap: int, used: Counter[int], cycle_id: int,
          for_id: int) -> list[int]:
    if n <= 0:
        return []
    free = [q for q in candidates if used[q.id] < cap]
    free.sort(key=lambda q: (used[q.id], _key(cycle_id, for_id, q.id)))
    chosen = [q.id for q in free[:n]]
    for q in chosen:
        used[q] += 1
    return chosen


def enough(non_self_answered: int, threshold: int) -> bool:
    """Aggregates show only from `threshold` non-self respondents: fewer could identify them."""
    return non_self_answered >= max(1, threshold)


@dataclass(frozen=True)
class ValueSummary:
    nilai: str
    di_bawah: int
    sesuai: int
    di_atas: int
    komentar: tuple[str, ...]


def summarise(answers: Iterable[tuple[str, str, str | None]]) -> list[ValueSummary]:
    """(value, judgement, comment) of non-self answers -> counts and comments per value, in the
    official BerAKHLAK order; comments are sorted so their order tells nothing."""
    counts: dict[str, Counter[str]] = {v.value: Counter() for v in NilaiBerakhlak}
    notes: dict[str, list[str]] = {v.value: [] for v in NilaiBerakhlak}
    for nilai, penilaian, komentar in answers:
        if nilai in counts and penilaian in PENILAIAN:
            counts[nilai][penilaian] += 1
            if komentar:
                notes[nilai].append(komentar)
    return [ValueSummary(v, c["di_bawah"], c["sesuai"], c["di_atas"], tuple(sorted(notes[v])))
            for v, c in counts.items()]
