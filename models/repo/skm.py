"""The public satisfaction survey (SKM): open, close, answer with abuse checks, results, and the
IKM applied as the realisasi of an IKI. Flushes, never commits."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models.repo.audit import record
from models.repo.cycles import NotFound, get_cycle
from models.repo.monitoring import ensure_stage_open, period_label
from models.repo.outbox import enqueue_messages
from models.repo.skp import Mail
from models.rules import skm as rules
from models.rules.enums import JenisIki, StageCode
from models.rules.errors import InvalidInput, InvalidTransition
from models.rules.realisasi_import import kode_iki, parse_kode_iki
from models.rules.scoring import ikm
from models.tables import (
    Cycle,
    CycleStage,
    Iki,
    JawabanSurvei,
    Pegawai,
    Realisasi,
    Rhk,
    Skp,
    Survei,
    Unit,
)

SUMBER = "skm"
DIBUKA, DITUTUP = "dibuka", "ditutup"
#: (state, action) -> new state
TRANSITIONS = {(DIBUKA, "tutup"): DITUTUP, (DITUTUP, "buka"): DIBUKA}
_ACTION = {"tutup": ("menutup", "close"), "buka": ("membuka kembali", "reopen")}
_STATE = {DIBUKA: ("dibuka", "open"), DITUTUP: ("ditutup", "closed")}


def status_of(survei: Survei) -> str:
    return DITUTUP if survei.ditutup_at else DIBUKA


def get_survey(*, session: Session, survei_id: int) -> Survei:
    survei = session.get(Survei, survei_id)
    if survei is None:
        raise NotFound(f"Survei {survei_id} tidak ditemukan.", f"Survey {survei_id} not found.")
    return survei


def by_slug(*, session: Session, slug: str) -> Survei | None:
    return session.execute(select(Survei).where(Survei.slug == slug)).scalar_one_or_none()


def _new_slug(session: Session) -> str:
    while True:  # 72 random bits: short for a poster, not guessable
        slug = secrets.token_urlsafe(9)
        if by_slug(session=session, slug=slug) is None:
            return slug


# -- opening, the head, transitions ---------------------------------------------------------------


def unit_head(*, session: Session, unit_id: int) -> Pegawai | None:
    """The unit's head: its active member whose superior is outside it (or none), highest up."""
    rows = session.execute(select(Pegawai.id, Pegawai.unit_id, Pegawai.atasan_id,
                                  Pegawai.active)).all()
    head = rules.unit_head([rules.Person(*r) for r in rows], unit_id)
    return session.get(Pegawai, head) if head else None


def hasil_link(mail: Mail, survei_id: int, pegawai_id: int, now: datetime) -> str:
    token = rules.sign_hasil(mail.links.secret, survei_id, pegawai_id, now + rules.HASIL_TTL)
    return f"{mail.links.base_url.rstrip('/')}/s/hasil/{token}"


def _target(session: Session, cycle_id: int | None, periode: int,
            kode: str) -> tuple[Cycle | None, int | None]:
    """Check the cycle, period and IKI a new survey names; returns (cycle, iki id)."""
    iki_id = None
    if kode.strip():
        iki_id = parse_kode_iki(kode)
        row = session.execute(select(Iki, Skp.cycle_id).join(Rhk, Iki.rhk_id == Rhk.id)
                              .join(Skp, Rhk.skp_id == Skp.id).where(Iki.id == iki_id)
                              ).first() if iki_id else None
        if row is None:
            raise InvalidInput(f"Kode IKI '{kode.strip()}' tidak ditemukan (tulis seperti IKI-12, "
                               "kode yang tampil di samping IKI).",
                               f"IKI code '{kode.strip()}' not found (write it like IKI-12, the "
                               "code shown next to an IKI).")
        iki, iki_cycle = row
        if iki.jenis == JenisIki.KUALITATIF:
            raise InvalidInput(f"{kode_iki(iki.id)} adalah IKI kualitatif; IKM berupa angka, "
                               "pilih IKI kuantitatif.", f"{kode_iki(iki.id)} is a qualitative "
                               "IKI; the IKM is a number, choose a quantitative IKI.")
        if cycle_id is not None and iki_cycle != cycle_id:
            raise InvalidInput(f"{kode_iki(iki.id)} bukan IKI pada siklus yang dipilih.",
                               f"{kode_iki(iki.id)} is not an IKI of the chosen cycle.")
        cycle_id = iki_cycle
        if periode < 1:
            raise InvalidInput("Pilih periode: realisasi IKI dicatat per periode pemantauan.",
                               "Choose a period: an IKI's realisasi is recorded per period.")
    if periode and cycle_id is None:
        raise InvalidInput("Pilih siklus untuk periode ini.", "Choose the cycle of this period.")
    cycle = get_cycle(session=session, cycle_id=cycle_id) if cycle_id is not None else None
    if cycle is not None and periode:
        _period_stage(session, cycle, periode)
    return cycle, iki_id


def _period_stage(session: Session, cycle: Cycle, periode: int) -> CycleStage:
    stage = session.execute(select(CycleStage).where(
        CycleStage.cycle_id == cycle.id, CycleStage.code == StageCode.PEMANTAUAN,
        CycleStage.periode == periode)).scalar_one_or_none()
    if stage is None:
        raise InvalidInput(f"Siklus {cycle.tahun} tidak punya periode {periode}.",
                           f"Cycle {cycle.tahun} has no period {periode}.")
    return stage


def open_survey(*, session: Session, unit_id: int, now: datetime, actor: str, mail: Mail,
                judul: str = "", cycle_id: int | None = None, periode: int = 0,
                kode: str = "") -> Survei:
    """A new survey with a fresh public slug; the unit head is emailed a signed results link."""
    unit = session.get(Unit, unit_id)
    if unit is None or not unit.active:
        raise InvalidInput("Pilih unit layanan yang aktif.", "Choose an active service unit.")
    cycle, iki_id = _target(session, cycle_id, periode, kode)
    judul = " ".join(judul.split())[:200] or _default_title(unit, cycle, periode)
    survei = Survei(unit_id=unit.id, cycle_id=cycle.id if cycle else None, periode=periode,
                    judul=judul, slug=_new_slug(session), dibuka_at=now, iki_id=iki_id,
                    created_at=now)
    session.add(survei)
    session.flush()
    record(session=session, now=now, actor=actor, action="skm.buka", entity="survei",
           entity_id=survei.id, after={"unit_id": unit.id, "cycle_id": survei.cycle_id,
                                       "periode": periode, "iki_id": iki_id})
    head = unit_head(session=session, unit_id=unit.id)
    if head is not None:
        _tell_head(session, survei, head, mail, now, f"hasil_skm:{survei.id}:{head.id}")
    return survei


def _tell_head(session: Session, survei: Survei, head: Pegawai, mail: Mail, now: datetime,
               key: str) -> int:
    """Queue the `hasil_skm` message with a signed results link to the unit head."""
    unit = session.get(Unit, survei.unit_id)
    cycle = session.get(Cycle, survei.cycle_id) if survei.cycle_id else None
    return enqueue_messages(session=session, now=now, messages=[{
        "key": key, "kind": "hasil_skm", "to_email": head.email, "pegawai_id": head.id,
        "language": mail.language,
        "context": {"agency_name": mail.agency, "nama": head.nama,
                    "tahun": cycle.tahun if cycle else now.year,
                    "link": hasil_link(mail, survei.id, head.id, now),
                    "unit": unit.nama if unit else "-", "judul": survei.judul}}])


def _default_title(unit: Unit, cycle: Cycle | None, periode: int) -> str:
    when = (f" {period_label(cycle, periode, 'id')}" if cycle and periode else "") + (
        f" {cycle.tahun}" if cycle else "")
    return f"Survei Kepuasan Masyarakat {unit.nama}{when}"[:200]


def _transition(session: Session, survei: Survei, action: str, now: datetime,
                actor: str) -> Survei:
    current = status_of(survei)
    target = TRANSITIONS.get((current, action))
    if target is None:
        verb, state = _ACTION[action], _STATE[current]
        raise InvalidTransition("survei", current, action,
                                f"Survei ini sudah {state[0]}; tidak dapat {verb[0]}.",
                                f"This survey is already {state[1]}; cannot {verb[1]} it.")
    survei.ditutup_at = now if target == DITUTUP else None
    session.add(survei)
    record(session=session, now=now, actor=actor, action=f"skm.{action}", entity="survei",
           entity_id=survei.id, before={"status": current}, after={"status": target})
    session.flush()
    return survei


def close_survey(*, session: Session, survei_id: int, now: datetime, actor: str) -> Survei:
    return _transition(session, get_survey(session=session, survei_id=survei_id), "tutup", now,
                       actor)


def reopen_survey(*, session: Session, survei_id: int, now: datetime, actor: str) -> Survei:
    return _transition(session, get_survey(session=session, survei_id=survei_id), "buka", now,
                       actor)


def rotate_slug(*, session: Session, survei_id: int, now: datetime, actor: str) -> Survei:
    """A new public URL (the old one and its posters stop working), e.g. after abuse."""
    survei = get_survey(session=session, survei_id=survei_id)
    survei.slug = _new_slug(session)
    session.add(survei)
    record(session=session, now=now, actor=actor, action="skm.slug", entity="survei",
           entity_id=survei.id)
    session.flush()
    return survei


def ensure_open(survei: Survei) -> None:
    if survei.ditutup_at is not None:
        raise InvalidTransition("survei", DITUTUP, "jawab",
                                "Survei ini sudah ditutup dan tidak menerima jawaban lagi. "
                                "Terima kasih atas perhatian Anda.",
                                "This survey is closed and takes no more answers. Thank you "
                                "for your interest.")


# -- answers --------------------------------------------------------------------------------------


def record_answer(*, session: Session, survei: Survei, nilai: list[int], komentar: str | None,
                  klien: str, sidik: str, now: datetime) -> JawabanSurvei:
    """Store one respondent's answers unless the survey is closed, the same submission came a
    moment ago (DuplicateAnswer) or the client sent too many lately (TooManyAnswers).

    The checks are queries, so they hold across API processes; the survey's row is locked
    first (an UPDATE: a row lock on PostgreSQL, the write lock on SQLite) so two processes
    cannot both pass them.
    """
    session.execute(update(Survei).where(Survei.id == survei.id).values(slug=Survei.slug)
                    .execution_options(synchronize_session=False))
    session.refresh(survei)
    ensure_open(survei)
    since = now - rules.DUPLICATE_WINDOW
    if session.execute(select(JawabanSurvei.id).where(
            JawabanSurvei.survei_id == survei.id, JawabanSurvei.sidik == sidik,
            JawabanSurvei.created_at > since).limit(1)).first():
        raise rules.DuplicateAnswer()
    count, oldest = session.execute(select(func.count(), func.min(JawabanSurvei.created_at)).where(
        JawabanSurvei.klien == klien,
        JawabanSurvei.created_at > now - rules.RATE_WINDOW)).one()
    wait = rules.rate_wait(int(count), oldest, now)
    if wait is not None:
        raise rules.TooManyAnswers(wait)
    row = JawabanSurvei(survei_id=survei.id, nilai=list(nilai), komentar=komentar, klien=klien,
                        sidik=sidik, created_at=now)
    session.add(row)
    session.flush()
    return row


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hasil:
    """What HR and the unit head see: counts and scores, the comments without any identity."""

    survei: Survei
    unit: str
    status: str
    count: int
    ikm: float | None
    grade: str | None
    means: list[tuple[rules.Element, float]]
    komentar: list[tuple[datetime, str]]  # newest first
    kode_iki: str | None
    periode_label: str | None
    tahun: int | None


def _label(cycle: Cycle | None, periode: int, lang: str = "id") -> str | None:
    return period_label(cycle, periode, lang) if cycle is not None and periode else None


def results(*, session: Session, survei: Survei, comments: bool = True) -> Hasil:
    rows = session.execute(select(JawabanSurvei.nilai, JawabanSurvei.komentar,
                                  JawabanSurvei.created_at)
                           .where(JawabanSurvei.survei_id == survei.id)
                           .order_by(JawabanSurvei.id.desc())).all()
    return _hasil(session, survei, [r[0] for r in rows],
                  [(r[2], r[1]) for r in rows if r[1]] if comments else [])


def _hasil(session: Session, survei: Survei, answers: list[list[int]],
           komentar: list[tuple[datetime, str]]) -> Hasil:
    unit = session.get(Unit, survei.unit_id)
    cycle = session.get(Cycle, survei.cycle_id) if survei.cycle_id else None
    score = ikm(answers) if answers else None
    means = list(zip(rules.ELEMENTS, score.element_means, strict=True)) if score else []
    return Hasil(survei, unit.nama if unit else "-", status_of(survei), len(answers),
                 score.value if score else None, score.grade if score else None, means, komentar,
                 kode_iki(survei.iki_id) if survei.iki_id else None,
                 _label(cycle, survei.periode), cycle.tahun if cycle else None)


def survey_list(*, session: Session) -> list[Hasil]:
    """Every survey, newest first, with its count, IKM and grade (answers read in one query)."""
    surveys = list(session.execute(select(Survei).order_by(Survei.id.desc())).scalars())
    answers: dict[int, list[list[int]]] = defaultdict(list)
    for sid, nilai in session.execute(select(JawabanSurvei.survei_id, JawabanSurvei.nilai)):
        answers[sid].append(nilai)
    return [_hasil(session, s, answers[s.id], []) for s in surveys]


# -- the IKM as realisasi -------------------------------------------------------------------------


def apply_to_iki(*, session: Session, survei_id: int, now: datetime, actor: str) -> Realisasi:
    """Write the survey's IKM as the realisasi of its IKI for its period (sumber 'skm'),
    replacing what was there; refused when the period is closed or nobody answered."""
    survei = get_survey(session=session, survei_id=survei_id)
    if survei.iki_id is None or survei.periode < 1:
        raise InvalidInput("Survei ini tidak terhubung ke IKI dan periode.",
                           "This survey is not linked to an IKI and a period.")
    hasil = results(session=session, survei=survei, comments=False)
    if hasil.ikm is None:
        raise InvalidInput("Belum ada jawaban survei; IKM belum dapat dihitung.",
                           "No survey answers yet; the IKM cannot be computed.")
    skp = session.execute(select(Skp).join(Rhk, Rhk.skp_id == Skp.id).join(
        Iki, Iki.rhk_id == Rhk.id).where(Iki.id == survei.iki_id)).scalar_one()
    cycle = get_cycle(session=session, cycle_id=skp.cycle_id)
    ensure_stage_open(_period_stage(session, cycle, survei.periode), cycle)
    values = {"nilai": hasil.ikm, "uraian": None, "sumber": SUMBER, "updated_at": now}
    session.execute(_upsert(session), [{"skp_id": skp.id, "iki_id": survei.iki_id,
                                        "periode": survei.periode, **values}])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Realisasi):
            session.expire(obj)
    record(session=session, now=now, actor=actor, action="skm.realisasi", entity="survei",
           entity_id=survei.id, after={"iki_id": survei.iki_id, "periode": survei.periode,
                                       "ikm": hasil.ikm, "responden": hasil.count})
    return session.execute(select(Realisasi).where(Realisasi.iki_id == survei.iki_id,
                                                   Realisasi.periode == survei.periode)).scalar_one()


def _upsert(session: Session) -> Any:
    """INSERT .. ON CONFLICT (iki_id, periode) DO UPDATE: the IKM replaces what was there."""
    postgres = session.get_bind().dialect.name == "postgresql"
    stmt = (postgresql.insert if postgres else sqlite.insert)(Realisasi.__table__)  # type: ignore[attr-defined]
    return stmt.on_conflict_do_update(
        index_elements=["iki_id", "periode"],
        set_={c: stmt.excluded[c] for c in ("nilai", "uraian", "sumber", "updated_at")})


# -- the unit head's results link -----------------------------------------------------------------


def hasil_for_token(*, session: Session, token: str, secret: str, now: datetime,
                    allow_expired: bool = False) -> tuple[Survei, Pegawai]:
    """The survey and head a results link names, re-checked now: a head who moved or was
    replaced loses access (LinkRejected 'not_yours')."""
    claims = rules.verify_hasil(token, secret, now, allow_expired=allow_expired)
    survei = session.get(Survei, claims.survei_id)
    if survei is None:
        raise rules.hasil_rejected("tampered")
    head = unit_head(session=session, unit_id=survei.unit_id)
    if head is None or head.id != claims.pegawai_id:
        raise rules.hasil_rejected("not_yours")
    return survei, head


def renew_hasil_link(*, session: Session, token: str, mail: Mail, now: datetime) -> bool:
    """Email the unit's current head a fresh results link (asked from an expired one)."""
    claims = rules.verify_hasil(token, mail.links.secret, now, allow_expired=True)
    survei = session.get(Survei, claims.survei_id)
    head = unit_head(session=session, unit_id=survei.unit_id) if survei else None
    if survei is None or head is None:
        return False
    key = f"hasil_skm:{survei.id}:{head.id}:{int(now.timestamp())}"
    return bool(_tell_head(session, survei, head, mail, now, key))
