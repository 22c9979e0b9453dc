"""The public satisfaction survey (SKM, PermenPANRB 14/2017) as plain rules: the nine elements
and their questions, answer checks, the signed form token (the human check), the keyed client
and submission fingerprints, the abuse limits and the unit head.

The IKM arithmetic itself is scoring.ikm / scoring.ikm_grade. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models.rules.errors import InvalidInput, LinkRejected, RuleError
from models.rules.scoring import SKM_ELEMENTS


@dataclass(frozen=True)
class Element:
    """One SKM element (unsur): its labels, the question and the four answers (1 = worst)."""

    nomor: int
    kode: str  # as in scoring.SKM_ELEMENTS
    label_id: str
    label_en: str
    tanya_id: str
    tanya_en: str
    pilihan_id: tuple[str, str, str, str]
    pilihan_en: tuple[str, str, str, str]

    @property
    def field(self) -> str:
        return f"u{self.nomor}"

    def label(self, lang: str = "id") -> str:
        return self.label_en if lang == "en" else self.label_id

    def tanya(self, lang: str = "id") -> str:
        return self.tanya_en if lang == "en" else self.tanya_id

    def pilihan(self, lang: str = "id") -> tuple[str, str, str, str]:
        return self.pilihan_en if lang == "en" else self.pilihan_id


_SESUAI = ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai")
_FITS = ("Does not match", "Hardly matches", "Matches", "Fully matches")
#: the questionnaire of PermenPANRB 14/2017 (annex), in the order of scoring.SKM_ELEMENTS
ELEMENTS: tuple[Element, ...] = tuple(Element(n, kode, *rest) for n, (kode, *rest) in enumerate((
    ("persyaratan", "Persyaratan", "Requirements",
     "Bagaimana pendapat Anda tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
     "How well do the service's requirements fit the kind of service?", _SESUAI, _FITS),
    ("sistem, mekanisme, prosedur", "Sistem, mekanisme, dan prosedur", "Procedure",
     "Bagaimana pemahaman Anda tentang kemudahan prosedur pelayanan di unit ini?",
     "How easy is the service procedure at this unit?",
     ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"),
     ("Not easy", "Hardly easy", "Easy", "Very easy")),
    ("waktu", "Waktu penyelesaian", "Time taken",
     "Bagaimana pendapat Anda tentang kecepatan waktu dalam memberikan pelayanan?",
     "How fast was the service given?",
     ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"),
     ("Not fast", "Hardly fast", "Fast", "Very fast")),
    ("biaya/tarif", "Biaya/tarif", "Cost/fee",
     "Bagaimana pendapat Anda tentang kewajaran biaya/tarif dalam pelayanan?",
     "How fair is the cost or fee of the service?",
     ("Sangat mahal", "Cukup mahal", "Murah", "Gratis"),
     ("Very expensive", "Rather expensive", "Cheap", "Free")),
    ("produk layanan", "Produk spesifikasi jenis pelayanan", "Service product",
     "Bagaimana pendapat Anda tentang kesesuaian produk pelayanan antara yang tercantum dalam "
     "standar pelayanan dengan hasil yang diberikan?",
     "How well does what you received match the product in the service standard?",
     _SESUAI, _FITS),
    ("kompetensi pelaksana", "Kompetensi pelaksana", "Staff competence",
     "Bagaimana pendapat Anda tentang kompetensi/kemampuan petugas dalam pelayanan?",
     "How competent were the staff who served you?",
     ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"),
     ("Not competent", "Hardly competent", "Competent", "Very competent")),
    ("perilaku pelaksana", "Perilaku pelaksana", "Staff conduct",
     "Bagaimana pendapat Anda tentang perilaku petugas dalam pelayanan terkait kesopanan dan "
     "keramahan?",
     "How polite and friendly were the staff?",
     ("Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah",
      "Sangat sopan dan ramah"),
     ("Not polite or friendly", "Hardly polite or friendly", "Polite and friendly",
      "Very polite and friendly")),
    ("penanganan pengaduan", "Penanganan pengaduan, saran, dan masukan",
     "Complaints and suggestions",
     "Bagaimana pendapat Anda tentang penanganan pengaduan pengguna layanan?",
     "How are complaints from service users handled?",
     ("Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal",
      "Dikelola dengan baik"),
     ("There is none", "There is one but it does not work", "It works, not fully",
      "Well managed")),
    ("sarana prasarana", "Sarana dan prasarana", "Facilities",
     "Bagaimana pendapat Anda tentang kualitas sarana dan prasarana?",
     "What is the quality of the facilities?",
     ("Buruk", "Cukup", "Baik", "Sangat baik"), ("Poor", "Fair", "Good", "Very good")),
), start=1))
assert tuple(e.kode for e in ELEMENTS) == SKM_ELEMENTS

#: (verify) PermenPANRB 14/2017: the service quality (mutu pelayanan) each IKM grade stands for
GRADE_LABEL = {"A": ("Sangat Baik", "Very good"), "B": ("Baik", "Good"),
               "C": ("Kurang Baik", "Fair"), "D": ("Tidak Baik", "Poor")}

MAX_KOMENTAR = 1000  # JawabanSurvei.komentar's limit


class InvalidAnswer(InvalidInput):
    """A malformed SKM answer (HTTP 422); `problems` names each element, (id, en)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("Jawaban belum dapat diterima: " + "; ".join(p[0] for p in problems) + ".",
                         "The answers cannot be accepted yet: "
                         + "; ".join(p[1] for p in problems) + ".")


def parse_answers(form: Mapping[str, object]) -> list[int]:
    """The nine answers (1..4) from fields u1..u9; InvalidAnswer naming every bad element."""
    values: list[int] = []
    problems: list[tuple[str, str]] = []
    for e in ELEMENTS:
        raw = str(form.get(e.field) or "").strip()
        name_id, name_en = f"unsur {e.nomor} ({e.label_id})", f"element {e.nomor} ({e.label_en})"
        if not raw:
            problems.append((f"{name_id} belum dijawab", f"{name_en} is not answered"))
        elif raw not in ("1", "2", "3", "4"):
            problems.append((f"{name_id} harus dijawab dengan nilai 1 sampai 4",
                             f"{name_en} must be answered with a value from 1 to 4"))
        else:
            values.append(int(raw))
    if problems:
        raise InvalidAnswer(problems)
    return values


def clean_komentar(value: object) -> str | None:
    """The optional comment, trimmed, control characters removed; None when empty."""
    text = "".join(c for c in str(value or "") if c in "\n\t" or unicodedata.category(c)[0] != "C")
    text = text.strip()
    if len(text) > MAX_KOMENTAR:
        raise InvalidInput(f"Saran/komentar paling banyak {MAX_KOMENTAR} karakter "
                           f"(sekarang {len(text)}).",
                           f"The comment may have at most {MAX_KOMENTAR} characters "
                           f"(it has {len(text)}).")
    return text or None


# -- the form token (the human check) -------------------------------------------------------------

MIN_FILL = timedelta(seconds=3)  # nobody reads nine questions faster
MAX_AGE = timedelta(hours=12)  # a kiosk form loaded in the morning lasts the service day


class FormRejected(InvalidInput):
    """The form's token or human check failed (HTTP 422); reason: tampered, expired, too_fast,
    wrong_answer, honeypot."""

    def __init__(self, reason: str, id_text: str, en_text: str) -> None:
        super().__init__(id_text, en_text)
        self.reason = reason


REJECTED = {
    "tampered": ("Formulir ini tidak sah (mungkin dari survei lain atau sudah diubah). Silakan "
                 "isi formulir baru.",
                 "This form is not valid (it may belong to another survey or was altered). "
                 "Please fill in a fresh form."),
    "expired": ("Formulir ini sudah terlalu lama terbuka. Jawaban Anda tetap di bawah; silakan "
                "jawab pertanyaan pemeriksaan yang baru lalu kirim lagi.",
                "This form was open too long. Your answers are kept below; answer the new check "
                "question and send again."),
    "too_fast": ("Formulir dikirim terlalu cepat (kurang dari 3 detik). Jawaban Anda tetap di "
                 "bawah; periksa lalu kirim lagi.",
                 "The form was sent too quickly (under 3 seconds). Your answers are kept below; "
                 "check them and send again."),
    "wrong_answer": ("Jawaban pertanyaan pemeriksaan (penjumlahan) salah. Silakan coba lagi.",
                     "The answer to the check question (the sum) is wrong. Please try again."),
    "honeypot": ("Jawaban ditolak oleh pemeriksaan otomatis: kolom tersembunyi terisi. Bila Anda "
                 "bukan program otomatis, muat ulang formulir dan isi kembali.",
                 "The answers were refused by an automatic check: a hidden field was filled. If "
                 "you are not a program, reload the form and fill it in again."),
}


def reject(reason: str) -> FormRejected:
    return FormRejected(reason, *REJECTED[reason])


@dataclass(frozen=True)
class FormToken:
    """What one loaded form carries: the survey, when it was issued, a nonce, the signature."""

    survei_id: int
    issued_at: datetime
    nonce: str
    token: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, *parts: object) -> bytes:
    msg = "\x1f".join([purpose, *map(str, parts)]).encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).digest()


def question(secret: str, nonce: str) -> tuple[int, int]:
    """The small sum a form asks (2..9 + 1..9), derived from its nonce with the secret."""
    digest = _mac(secret, "skm-question", nonce)
    return 2 + digest[0] % 8, 1 + digest[1] % 9


def issue_form(secret: str, survei_id: int, now: datetime, nonce: str | None = None) -> FormToken:
    """A fresh form token: HMAC over (survey, issued-at, nonce, the sum's answer)."""
    nonce = nonce or secrets.token_urlsafe(9)
    issued = int(now.timestamp())
    a, b = question(secret, nonce)
    body = _b64(json.dumps([survei_id, issued, nonce], separators=(",", ":")).encode())
    mac = _b64(_mac(secret, "skm-form", body, a + b))
    return FormToken(survei_id, datetime.fromtimestamp(issued, UTC), nonce, f"{body}.{mac}")


def verify_form(token: str, secret: str, survei_id: int, answer: object, now: datetime,
                min_fill: timedelta = MIN_FILL, max_age: timedelta = MAX_AGE) -> FormToken:
    """The token's claims when genuine, for this survey, filled for at least `min_fill`, not
    older than `max_age` and with the right sum; FormRejected naming the reason otherwise."""
    try:
        body, mac = token.split(".", 1)
        sid, issued, nonce = json.loads(_unb64(body))
        claims = FormToken(int(sid), datetime.fromtimestamp(int(issued), UTC), str(nonce), token)
        a, b = question(secret, claims.nonce)
        genuine = hmac.compare_digest(_unb64(mac), _mac(secret, "skm-form", body, a + b))
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise reject("tampered") from None
    if not genuine or claims.survei_id != survei_id:
        raise reject("tampered")
    age = now - claims.issued_at
    if age < min_fill:
        raise reject("too_fast")
    if age > max_age:
        raise reject("expired")
    try:
        right = int(str(answer).strip()) == a + b
    except ValueError:
        right = False
    if not right:
        raise reject("wrong_answer")
    return claims


# -- clients, fingerprints and limits -----------------------------------------------------------

RATE_LIMIT = 20  # answers per client ...
RATE_WINDOW = timedelta(minutes=10)  # ... in this window: one kiosk at a busy counter fits
DUPLICATE_WINDOW = timedelta(minutes=10)


class TooManyAnswers(RuleError):
    """The client sent too many answers lately (HTTP 429); `wait` says for how long."""

    def __init__(self, wait: timedelta) -> None:
        self.wait = wait
        minutes = max(1, -(-int(wait.total_seconds()) // 60))
        super().__init__(f"Terlalu banyak jawaban dari perangkat ini dalam {_minutes(RATE_WINDOW)} "
                         f"menit terakhir. Silakan tunggu sekitar {minutes} menit lalu coba lagi.",
                         f"Too many answers from this device in the last "
                         f"{_minutes(RATE_WINDOW)} minutes. Please wait about {minutes} "
                         f"minute(s) and try again.")


class DuplicateAnswer(InvalidInput):
    """The same answers from the same device a moment ago (HTTP 422): kept once only."""

    def __init__(self) -> None:
        super().__init__("Jawaban yang sama persis dari perangkat ini sudah kami terima beberapa "
                         "menit lalu, jadi tidak dicatat dua kali. Terima kasih.",
                         "The very same answers from this device were received a few minutes "
                         "ago, so they are not counted twice. Thank you.")


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def client_key(secret: str, address: str, user_agent: str) -> str:
    """A keyed hash of the client (address and browser): never the raw address."""
    return _mac(secret, "skm-client", address, user_agent).hex()


def fingerprint(secret: str, klien: str, survei_id: int, nilai: Sequence[int],
                komentar: str | None, nonce: str | None = None) -> str:
    """A keyed hash of one submission. With `nonce` (kiosk mode) only the same loaded form sent
    twice matches; without it, the same answers from the same client match."""
    text = " ".join((komentar or "").casefold().split())
    return _mac(secret, "skm-sidik", klien, survei_id, ",".join(map(str, nilai)), text,
                nonce or "").hex()


def rate_wait(count: int, oldest: datetime | None, now: datetime,
              limit: int = RATE_LIMIT, window: timedelta = RATE_WINDOW) -> timedelta | None:
    """How long the client must wait, given its answers in the window; None: go ahead."""
    if count < limit or oldest is None:
        return None
    return max(timedelta(seconds=1), oldest + window - now)


def kiosk_key(secret: str, survei_id: int) -> str:
    """The counter tablet's key: its form relaxes duplicate detection to the same form sent
    twice (many satisfied respondents in a row tap the same answers)."""
    return _b64(_mac(secret, "skm-kiosk", survei_id))[:22]


def is_kiosk(secret: str, survei_id: int, key: object) -> bool:
    return bool(key) and hmac.compare_digest(str(key), kiosk_key(secret, survei_id))


# -- the unit head and their results link ---------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    unit_id: int
    atasan_id: int | None
    active: bool = True


def unit_head(people: Iterable[Person], unit_id: int) -> int | None:
    """The active member of the unit whose superior is outside the unit, inactive or none; of
    several, the one highest in the tree (fewest superiors above), then the lowest id."""
    by_id = {p.id: p for p in people}

    def depth(p: Person) -> int:
        seen, n = {p.id}, 0
        while p.atasan_id is not None and p.atasan_id in by_id and p.atasan_id not in seen:
            p = by_id[p.atasan_id]
            seen.add(p.id)
            n += 1
        return n

    def inside(atasan_id: int | None) -> bool:  # an inactive superior no longer heads anyone
        boss = by_id.get(atasan_id) if atasan_id is not None else None
        return boss is not None and boss.active and boss.unit_id == unit_id

    heads = [p for p in by_id.values()
             if p.active and p.unit_id == unit_id and not inside(p.atasan_id)]
    return min(heads, key=lambda p: (depth(p), p.id)).id if heads else None


HASIL_TTL = timedelta(days=400)  # a survey runs up to a year; the head is re-checked each time
HASIL_REJECTED = {
    "tampered": ("Tautan hasil survei ini tidak sah atau sudah diubah. Gunakan tautan dari email "
                 "terbaru Anda, atau hubungi Pengelola Kinerja.",
                 "This survey results link is not valid or has been altered. Use the link in "
                 "your latest email, or contact the performance admin."),
    "expired": ("Tautan hasil survei ini sudah kedaluwarsa. Kami dapat mengirim tautan baru ke "
                "email Anda.", "This survey results link has expired. We can email you a fresh "
                "one."),
    "not_yours": ("Tautan ini untuk kepala unit layanan; Anda bukan lagi kepala unit tersebut.",
                  "This link is for the head of the service unit; you no longer head it."),
}


@dataclass(frozen=True)
class HasilClaims:
    survei_id: int
    pegawai_id: int
    expires_at: datetime


def sign_hasil(secret: str, survei_id: int, pegawai_id: int, expires_at: datetime) -> str:
    """The head's results token (purpose 'skm'): one survey, one person, an expiry."""
    body = _b64(json.dumps([survei_id, pegawai_id, int(expires_at.timestamp())],
                           separators=(",", ":")).encode())
    return f"{body}.{_b64(_mac(secret, 'skm', body))}"


def hasil_rejected(reason: str) -> LinkRejected:
    return LinkRejected(reason, *HASIL_REJECTED[reason])


def verify_hasil(token: str, secret: str, now: datetime, *,
                 allow_expired: bool = False) -> HasilClaims:
    try:
        body, mac = token.split(".", 1)
        if not hmac.compare_digest(_unb64(mac), _mac(secret, "skm", body)):
            raise ValueError
        sid, pid, exp = json.loads(_unb64(body))
        claims = HasilClaims(int(sid), int(pid), datetime.fromtimestamp(int(exp), UTC))
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise hasil_rejected("tampered") from None
    if now >= claims.expires_at and not allow_expired:
        raise hasil_rejected("expired")
    return claims
