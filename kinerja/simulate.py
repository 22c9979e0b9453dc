"""`kinerja simulate`: a year on a compressed calendar, played through the real HTTP API by
simulated employees and PPKs who follow the links in the mailbox: the planning stage, then every
monitoring period (quarterly or monthly) with realisasi, evidence, feedback, dialogs and the
periodic ratings; at the end a summary per period and checks of the mailbox and the counts."""

from __future__ import annotations

import argparse
import mailbox
import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import httpx

from kinerja.settings import ApiSettings
from models.rules import annual as annual_rules
from models.rules import feedback as feedback_rules
from models.rules import periods as period_rules
from models.rules.calendar import to_local
from models.rules.scoring import ikm_grade

LINK = re.compile(r"https?://\S+/t/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
OPTION = re.compile(r'<option value="(\d+)">')
#: the outbox key's prefix (X-Kinerja-Key header) -> message kind; `kind_of` refines the prefixes
#: that several kinds share (invite, report, remind-period)
KIND_OF_KEY = {"invite": "undangan_skp", "remind-skp": "pengingat_skp",
               "remind-ppk": "pengingat_persetujuan", "submitted": "skp_diajukan",
               "returned": "skp_dikembalikan", "approved": "skp_disetujui", "renew": "tautan_baru",
               "cascade-wait": "menunggu_rhk_atasan", "escalate": "eskalasi_persetujuan",
               "report": "laporan_perencanaan",
               # monitoring periods
               "remind-period": "pengingat_realisasi",
               "escalate-period": "eskalasi_penilaian_periodik",
               "rated": "penilaian_periodik_diberikan", "ppk-baru": "ppk_baru",
               "revision": "skp_revisi_dibuka",
               # the 360 stage and the competency self-assessment
               "remind-360": "pengingat_360", "remind-kompetensi": "pengingat_kompetensi",
               "hasil_skm": "hasil_skm",
               # the year's end
               "remind-annual": "pengingat_penilaian_tahunan",
               "escalate-annual": "eskalasi_penilaian_tahunan", "calibrate": "kalibrasi",
               "hasil": "hasil_kinerja", "keberatan": "keberatan_diajukan",
               "keberatan-diputus": "keberatan_diputus",
               "escalate-keberatan": "pengingat_keberatan", "pembinaan": "rencana_pembinaan",
               "remind-pembinaan": "pengingat_pembinaan"}
#: keys that name their period: invite:{c}:periode{k}:..., report:{c}:periode{k}:...,
#: escalate-period:{c}:{k}:..., rated:{skp}:{k}:{v}, ppk-baru:{c}:{k}:...
PERIODE_IN_KEY = re.compile(r":periode(\d+)(?::|$)")
PERIODE_FIELD = {"escalate-period": 2, "rated": 2, "ppk-baru": 2}
#: keys whose second field is the cycle id
CYCLE_IN_KEY = ("invite", "report", "escalate-period", "ppk-baru")
#: the subject of a periodic rating reminder (id, en); a realisasi reminder says neither
RATING_REMINDER = re.compile(r"belum dinilai|not yet rated")
RATINGS = ("Di Atas Ekspektasi", "Sesuai Ekspektasi", "Di Bawah Ekspektasi")
# the share of subordinates a PPK writes feedback per RHK for in a period (all of them, every
# period, was more work than a 2-core machine serves for 5,000 people on a compressed calendar)
FEEDBACK_SHARE = 0.4
PERIOD_KINDS = ("undangan_realisasi", "pengingat_realisasi", "undangan_penilaian_periodik",
                "pengingat_penilaian_periodik", "eskalasi_penilaian_periodik",
                "penilaian_periodik_diberikan", "laporan_periode", "ppk_baru")


#: the subject of a 360 reminder to a PPK (confirm the raters), not to a rater (id, en)
CONFIRM_REMINDER = re.compile(r"penetapan|confirmation")
FEEDBACK_KINDS = ("undangan_umpan_balik", "tetapkan_penilai", "undangan_360", "pengingat_360",
                  "pengingat_tetapkan_penilai", "undangan_kompetensi", "pengingat_kompetensi",
                  "laporan_360")


def kind_of(key: str, subject: str = "") -> str:
    """The message kind from its outbox key (and, for a period reminder, its subject)."""
    prefix = key.split(":", 1)[0]
    kind = KIND_OF_KEY.get(prefix, "")
    fields = key.split(":")
    stage = fields[2] if len(fields) > 2 else ""
    if prefix == "invite" and stage == "umpan_balik":
        return "tetapkan_penilai" if len(fields) > 3 and fields[3] == "ppk" \
            else "undangan_umpan_balik"
    if prefix == "invite" and stage == "360":
        return "undangan_360"
    if prefix == "invite" and stage == "kompetensi":
        return "undangan_kompetensi"
    if prefix == "report" and stage == "umpan_balik":
        return "laporan_360"
    if prefix == "invite" and stage == "penilaian":
        return "undangan_penilaian_tahunan"
    if prefix == "report" and stage == "penilaian":
        return "laporan_penilaian"
    if prefix == "remind-360" and CONFIRM_REMINDER.search(subject):
        return "pengingat_tetapkan_penilai"
    in_period = PERIODE_IN_KEY.search(key) is not None
    if prefix == "invite" and in_period:
        return "undangan_penilaian_periodik" if ":ppk:" in key else "undangan_realisasi"
    if prefix == "report" and in_period:
        return "laporan_periode"
    if prefix == "remind-period" and RATING_REMINDER.search(subject):
        return "pengingat_penilaian_periodik"
    return kind


@dataclass(frozen=True)
class Mail:
    to: str  # the recipient's address, lower case
    kind: str
    periode: int  # 0: not a period message (or unknown)
    link: str
    key: str
    subject: str
    text: str


@dataclass
class Inbox:
    """Reads the development Maildir: the newest task link per (recipient, message kind)."""

    path: Path
    seen: set[str] = field(default_factory=set)
    #: a period reminder names its period only in the subject ("Triwulan II 2027")
    periode_of_subject: Callable[[str], int] | None = None
    #: when set, period messages of other cycles (a late retry of an earlier run) are skipped
    cycle_id: int | None = None

    def new_mail(self) -> list[tuple[str, str, str]]:
        """(to, kind, link) for every message not seen before."""
        return [(m.to, m.kind, m.link) for m in self.messages()]

    def messages(self) -> list[Mail]:
        """Every message not seen before, with its kind and period."""
        out = []
        box = mailbox.Maildir(self.path, create=False)
        for key in box.keys():
            if key in self.seen:
                continue
            self.seen.add(key)
            msg = message_from_bytes(box.get_bytes(key), policy=policy.default)
            text = _text_of(msg)
            found = LINK.search(text)
            outbox_key = str(msg.get("X-Kinerja-Key", ""))
            subject = str(msg.get("Subject", ""))
            kind = kind_of(outbox_key, subject)
            if not self._ours(outbox_key, subject, kind):
                continue
            out.append(Mail(_address(str(msg.get("To", ""))), kind, self._periode(
                outbox_key, subject, kind), found.group(0) if found else "", outbox_key, subject,
                text))
        return out

    def _ours(self, key: str, subject: str, kind: str) -> bool:
        """Whether a period message belongs to this cycle: by the cycle id in its key, else by
        the period label and the cycle's year in its subject."""
        if self.cycle_id is None or kind not in PERIOD_KINDS:
            return True
        parts = key.split(":")
        if parts[0] in CYCLE_IN_KEY:
            return len(parts) > 1 and parts[1] == str(self.cycle_id)
        return self.periode_of_subject is None or self.periode_of_subject(subject) > 0

    def _periode(self, key: str, subject: str, kind: str) -> int:
        m = PERIODE_IN_KEY.search(key)
        if m:
            return int(m.group(1))
        parts = key.split(":")
        pos = PERIODE_FIELD.get(parts[0])
        if pos is not None and len(parts) > pos and parts[pos].isdigit():
            return int(parts[pos])
        if kind in ("pengingat_realisasi", "pengingat_penilaian_periodik") and \
                self.periode_of_subject is not None:
            return self.periode_of_subject(subject)
        return 0


def _text_of(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True) or b""
            return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _address(to: str) -> str:
    m = re.search(r"<([^>]+)>", to)
    return (m.group(1) if m else to).strip().lower()


def subject_resolver(periodisasi: str, tahun: int) -> Callable[[str], int]:
    """'... Triwulan II 2027 ...' -> 2 (the label is always followed by the cycle's year, which
    tells it apart from a month in a due date)."""
    labels: dict[str, int] = {}
    for k in range(1, period_rules.count(periodisasi) + 1):
        for lang in ("id", "en"):
            labels[period_rules.label(k, periodisasi, lang)] = k
    names = "|".join(re.escape(x) for x in sorted(labels, key=len, reverse=True))
    pattern = re.compile(rf"\b({names}) {tahun}\b")

    def resolve(subject: str) -> int:
        m = pattern.search(subject)
        return labels[m.group(1)] if m else 0
    return resolve


class Player:
    """Simulated people: act on the links they received, some late, some PPKs returning SKPs."""

    def __init__(self, client: httpx.Client, rng: random.Random, late_share: float,
                 return_share: float, late_from: datetime, slow_from: datetime,
                 parallel: int = 1) -> None:
        self.client, self.rng = client, rng
        self.pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="rencana") \
            if parallel > 1 else None
        self.late_from, self.slow_from = late_from, slow_from
        self.late_share, self.return_share = late_share, return_share
        self.slow: set[str] = set()
        self.waited: set[str] = set()  # people who had to wait for their superior's RHK
        self.todo: dict[str, str] = {}  # email -> own SKP link still to submit
        self.reviews: dict[str, str] = {}  # PPK email -> review link
        self.late: set[str] = set()
        self.returned: set[str] = set()
        self.stats: Counter[str] = Counter()
        self.cycle_id: int | None = None

    def receive(self, to: str, kind: str, link: str) -> None:
        path = httpx.URL(link).path if link else ""
        who = _address(to)
        if kind in ("undangan_skp", "skp_dikembalikan", "pengingat_skp", "tautan_baru") and path:
            self.todo.setdefault(who, path)
            if kind == "undangan_skp" and self.rng.random() < self.late_share:
                self.late.add(who)
        elif kind in ("skp_diajukan", "pengingat_persetujuan") and path.startswith("/t/"):
            if who not in self.reviews and self.rng.random() < self.late_share:
                self.slow.add(who)
            self.reviews[who] = path

    def play(self, now: datetime) -> None:
        due = [(who, path) for who, path in list(self.todo.items())
               if who not in self.late or now >= self.late_from]
        for (who, _), done in zip(due, self._map(lambda wp: self._draft_and_submit(wp[1]), due),
                                  strict=True):
            if done:
                self.todo.pop(who, None)
        self._map(self._review_all, [path for who, path in list(self.reviews.items())
                                     if who not in self.slow or now >= self.slow_from])
        self._hr_decides()

    def _map(self, fn: Callable, items: list) -> list:  # type: ignore[type-arg]
        """fn over items: one after another, or `parallel` people at once."""
        if self.pool is None:
            return [fn(x) for x in items]
        return list(self.pool.map(fn, items))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def _hr_decides(self) -> None:
        """HR decides for people with no superior in the system (the Sekda)."""
        if self.cycle_id is not None:
            cycles = [str(self.cycle_id)]
        else:
            page = self.client.get("/hr")
            cycles = sorted(set(re.findall(r'href="/hr/cycles/(\d+)"', page.text)))
        for cycle in cycles:
            detail = self.client.get(f"/hr/cycles/{cycle}")
            for action in re.findall(r'action="(/hr/cycles/\d+/skp/\d+/keputusan)"', detail.text):
                r = self.client.post(action, data={"action": "setujui"}, follow_redirects=False)
                self.stats["setujui (HR)" if r.status_code == 303 else f"HR {r.status_code}"] += 1

    def _draft_and_submit(self, path: str) -> bool:
        page = self.client.get(path)
        if page.status_code != 200:
            self.stats[f"page {page.status_code}"] += 1
            return False
        if 'action="' + path + '/ajukan"' not in page.text:
            return True  # nothing to submit (already submitted or approved)
        parents = OPTION.findall(page.text.split('name="intervensi_rhk_id"', 1)[-1].split("</select>")[0]) \
            if 'name="intervensi_rhk_id"' in page.text else [""]
        if not parents:
            self.waited.add(path)
            return False
        if "data-rhk=" not in page.text:
            for n in range(self.rng.randint(1, 2)):
                # the additional RHK is measured by a statement (a qualitative IKI)
                iki = ({"indikator": "Dokumen selesai", "target": str(self.rng.randint(4, 24)),
                        "satuan": "dokumen"} if n == 0 else
                       {"indikator": "Kualitas laporan", "target": "Lengkap dan tepat waktu",
                        "satuan": "laporan", "jenis_iki": "kualitatif", "aspek": "kualitas"})
                self.client.post(f"{path}/rhk", data={
                    "jenis": "utama" if n == 0 else "tambahan", "uraian": f"Hasil kerja {n + 1}",
                    "intervensi_rhk_id": self.rng.choice(parents)} | iki)
        r = self.client.post(f"{path}/ajukan", follow_redirects=False)
        self.stats["ajukan" if r.status_code == 303 else f"ajukan {r.status_code}"] += 1
        return r.status_code == 303

    def _review_all(self, path: str) -> None:
        page = self.client.get(path)
        for skp_id in re.findall(rf'href="{re.escape(path)}/skp/(\d+)">(?:Periksa|Review)', page.text):
            if skp_id not in self.returned and self.rng.random() < self.return_share:
                self.returned.add(skp_id)
                r = self.client.post(f"{path}/skp/{skp_id}/kembalikan",
                                     data={"comment": "Mohon pertajam target IKI."})
                self.stats["kembalikan"] += r.status_code in (200, 303)
            else:
                r = self.client.post(f"{path}/skp/{skp_id}/setujui", follow_redirects=False)
                self.stats["setujui" if r.status_code == 303 else f"setujui {r.status_code}"] += 1


# -- the monitoring periods ----------------------------------------------------------------------

VERSION = re.compile(r'name="version" value="(\d+)"')
IKI_ROW = re.compile(r'<tr class="iki" data-iki="(\d+)">\s*<td><code>[^<]*</code></td>\s*'
                     r'<td>.*?</td>\s*<td>([^<]*)</td>\s*<td>\s*<(input|textarea)', re.S)
SUB_ROW = re.compile(r'<tr id="bawahan-(\d+)">(.*?)</tr>', re.S)
PREDIKAT = re.compile(r'<td class="predikat">([^<]*)</td>')
RHK_ID = re.compile(r'name="rhk_id" value="(\d+)"')
SARAN = re.compile(r'id="saran">[^<]*<strong>([^<]+)</strong>')


def tiny_pdf(text: str) -> bytes:
    """A small, valid one-page PDF (correct cross-reference table)."""
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1,
                                                                               xref)
    return bytes(out)


@dataclass
class Gate:
    """A readers-writer gate: many requests at once, or one alone."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.readers = 0
        self.writer = False
        self.waiting = 0  # writers waiting go first

    def shared(self) -> _Held:
        return _Held(self, exclusive=False)

    def exclusive(self) -> _Held:
        return _Held(self, exclusive=True)


@dataclass
class _Held:
    gate: Gate
    exclusive: bool

    def __enter__(self) -> None:
        g = self.gate
        with g.cond:
            if self.exclusive:
                g.waiting += 1
                g.cond.wait_for(lambda: not g.writer and g.readers == 0)
                g.waiting -= 1
                g.writer = True
            else:
                g.cond.wait_for(lambda: not g.writer and not g.waiting)
                g.readers += 1

    def __exit__(self, *_: object) -> None:
        g = self.gate
        with g.cond:
            if self.exclusive:
                g.writer = False
            else:
                g.readers -= 1
            g.cond.notify_all()


#: task-link pages whose handlers are `async def` and so use the database on the server's event
#: loop: sent alone (see GatedClient)
ALONE = re.compile(r"^/t/[^/]+/(realisasi|bukti|nilai|penilai|formulir/\d+|kompetensi(/\d+)?"
                   r"|bawahan/\d+/penilai)$|^/s/[^/]+$")


class GatedClient(httpx.Client):
    """Sends the requests of several simulated people at once, except the ones in ALONE: their
    handlers block the API's event loop while they wait for the database, and another request
    of ours holding a write lock could then not commit (its session closes on that loop), so
    the two would wait for each other until the database's busy timeout."""

    def __init__(self, *args: object, gated: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.gate = Gate()
        #: off for a server on PostgreSQL (`--parallel`), where nothing waits on one file lock
        self.gated = gated

    def request(self, method: str, url: httpx.URL | str, **kwargs: object) -> httpx.Response:  # type: ignore[override]
        alone = self.gated and method.upper() == "POST" and \
            ALONE.match(httpx.URL(str(url)).path) is not None
        with self.gate.exclusive() if alone else self.gate.shared():
            return super().request(method, url, **kwargs)  # type: ignore[arg-type]


@dataclass
class PeriodTask:
    """One person's work in one period (their own report, or a PPK's ratings)."""

    who: str
    periode: int
    path: str
    received: datetime
    late: bool
    act_at: datetime
    reminded_at: datetime | None = None
    phase: int = 0  # PPK: 0 rate the reported, 1 rate everyone, 2 done; pegawai: 0 / 2 done
    bulk: bool = False
    pace: float = 0.5  # PPK: where in each of their windows they act (0 early .. 1 late)


class PeriodPlayer:
    """Simulated pegawai and PPKs through the periods, each acting in a worker thread: the
    pegawai reports rencana aksi, realisasi and evidence (some after a reminder); the PPK opens
    each subordinate, gives feedback per RHK to some, holds the mid-year dialog (a coaching session for
    some at other times) and rates, person by person or from the list (some after a reminder)."""

    def __init__(self, client: httpx.Client, rng: random.Random, schedule: list[period_rules.Period],
                 periodisasi: str, tz: str, late_share: float, workers: int = 4) -> None:
        self.client, self.rng, self.tz = client, rng, tz
        self.schedule = {p.periode: p.stage for p in schedule}
        self.periodisasi = periodisasi
        self.late_share = late_share
        self.own: dict[tuple[str, int], PeriodTask] = {}
        self.ppk: dict[tuple[str, int], PeriodTask] = {}
        self.stats: dict[int, Counter[str]] = defaultdict(Counter)
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sim")
        self.running: dict[tuple[str, str, int], Future] = {}
        self.fed: set[tuple[int, str]] = set()  # (periode, skp_id) given feedback
        self.talked: set[tuple[int, str]] = set()  # (periode, skp_id) with a session recorded
        self.pdf_sent = 0

    # timing ---------------------------------------------------------------------------------

    def _margin(self, periode: int) -> timedelta:
        s = self.schedule[periode]
        return min(timedelta(seconds=15), (s.closes_at - s.opens_at) * 0.1)

    def _own_at(self, t: PeriodTask) -> datetime:
        s = self.schedule[t.periode]
        fallback = s.closes_at - self._margin(t.periode)
        if not t.late:
            return t.act_at
        if t.reminded_at is not None:  # after the reminder, and after the deadline
            return min(max(t.reminded_at, s.due_at + timedelta(seconds=2)), fallback)
        return fallback

    def _ppk_at(self, t: PeriodTask) -> datetime:
        """When this PPK acts next. Each PPK keeps their own pace (`t.pace`, drawn once), so
        that a large agency's PPKs do not all open their lists in the same second."""
        s = self.schedule[t.periode]
        window = s.approve_due_at - s.due_at
        if t.late:  # after the rating deadline (the reminders went out before it)
            return min(s.approve_due_at + (s.closes_at - s.approve_due_at) * (0.1 + 0.3 * t.pace),
                       s.closes_at - self._margin(t.periode))
        if t.phase == 0:  # those who reported by the deadline
            return s.due_at + window * (0.05 + 0.35 * t.pace)
        return s.due_at + window * (0.5 + 0.35 * t.pace)  # then everyone

    # mail -----------------------------------------------------------------------------------

    def receive(self, m: Mail, now: datetime) -> None:
        if m.periode not in self.schedule or not m.link:
            return
        path = httpx.URL(m.link).path
        key = (m.to, m.periode)
        s = self.schedule[m.periode]
        with self.lock:
            if m.kind == "undangan_realisasi" and key not in self.own:
                late = self.rng.random() < self.late_share
                latest = max(now, s.due_at - timedelta(seconds=5))
                act = now + (latest - now) * self.rng.random() * 0.8
                self.own[key] = PeriodTask(m.to, m.periode, path, now, late, act)
            elif m.kind == "pengingat_realisasi" and key in self.own:
                t = self.own[key]
                t.reminded_at = t.reminded_at or now
            elif m.kind in ("undangan_penilaian_periodik", "ppk_baru") and key not in self.ppk:
                late = self.rng.random() < self.late_share
                self.ppk[key] = PeriodTask(m.to, m.periode, path, now, late, now,
                                           bulk=self.rng.random() < 0.3, pace=self.rng.random())
            elif m.kind == "pengingat_penilaian_periodik" and key in self.ppk:
                t = self.ppk[key]
                t.reminded_at = t.reminded_at or now

    # acting ---------------------------------------------------------------------------------

    def play(self, now: datetime) -> None:
        for key, fut in list(self.running.items()):
            if fut.done():
                del self.running[key]
                exc = fut.exception()
                if exc is not None:
                    with self.lock:
                        self.stats[0][f"error {type(exc).__name__}"] += 1
        with self.lock:
            own = [t for t in self.own.values() if t.phase < 2]
            ppk = [t for t in self.ppk.values() if t.phase < 2]
        for t in own:
            closes = self.schedule[t.periode].closes_at
            if now >= closes:
                t.phase = 2
                continue
            if now >= self._own_at(t) and ("own", t.who, t.periode) not in self.running:
                self.running[("own", t.who, t.periode)] = self.pool.submit(self._report, t)
        for t in ppk:
            closes = self.schedule[t.periode].closes_at
            if now >= closes:
                t.phase = 2
                continue
            if now >= self._ppk_at(t) and ("ppk", t.who, t.periode) not in self.running:
                self.running[("ppk", t.who, t.periode)] = self.pool.submit(self._rate, t)

    def busy(self) -> int:
        return sum(not f.done() for f in self.running.values())

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _count(self, periode: int, what: str) -> None:
        with self.lock:
            self.stats[periode][what] += 1

    def _report(self, t: PeriodTask) -> None:
        """The pegawai: rencana aksi, realisasi for every IKI, a note, report; then evidence."""
        page = self.client.get(t.path)
        if page.status_code != 200:
            self._count(t.periode, f"halaman pegawai {page.status_code}")
            return
        if 'id="form-realisasi"' not in page.text or 'id="laporkan"' not in page.text:
            t.phase = 2
            self._count(t.periode, "ditutup sebelum melapor / closed before reporting")
            return
        version = VERSION.search(page.text)
        data = {"version": version.group(1) if version else "", "aksi": "laporkan",
                "catatan": f"Pekerjaan periode {t.periode} berjalan sesuai rencana."}
        for rhk in re.findall(r'name="ra_(\d+)"', page.text):
            data[f"ra_{rhk}"] = f"Menyelesaikan tahapan {t.periode} untuk RHK {rhk}."
        ikis = IKI_ROW.findall(page.text)
        for iki_id, target, tag in ikis:
            if tag == "textarea":
                data[f"r_{iki_id}"] = "Laporan disusun lengkap dan diserahkan tepat waktu."
            else:
                m = re.match(r"\s*([\d.,]+)", target)
                base = float(m.group(1).replace(".", "").replace(",", ".")) if m else 10.0
                value = base * self.rng.uniform(0.6, 1.3)
                data[f"r_{iki_id}"] = (str(round(value)) if self.rng.random() < 0.7
                                       else f"{value:.1f}".replace(".", ","))
        r = self.client.post(f"{t.path}/realisasi", data=data, follow_redirects=False)
        if r.status_code != 303:
            self._count(t.periode, f"laporkan {r.status_code}")
            return
        self._count(t.periode, "realisasi dilaporkan" + (" (terlambat)" if t.late else ""))
        t.phase = 2
        if not ikis:
            return
        iki_id = ikis[0][0]
        if self.rng.random() < 0.6:
            r = self.client.post(f"{t.path}/bukti", follow_redirects=False, data={
                "iki_id": iki_id, "url": f"https://drive.contoh.go.id/bukti/{t.periode}/{iki_id}",
                "keterangan": "Dokumen pendukung"})
            self._count(t.periode, "bukti tautan" if r.status_code == 303
                        else f"bukti tautan {r.status_code}")
        if self.rng.random() < 0.15:
            r = self.client.post(f"{t.path}/bukti", follow_redirects=False,
                                 data={"iki_id": iki_id, "keterangan": "Laporan kegiatan"},
                                 files={"berkas": (f"laporan-periode-{t.periode}.pdf",
                                                   tiny_pdf(f"Laporan periode {t.periode}"),
                                                   "application/pdf")})
            self._count(t.periode, "bukti berkas PDF" if r.status_code == 303
                        else f"bukti berkas {r.status_code}")

    def _rate(self, t: PeriodTask) -> None:
        """The PPK: per subordinate feedback, dialog (mid-year; coaching for some), ratings."""
        page = self.client.get(t.path)
        if page.status_code != 200:
            self._count(t.periode, f"halaman PPK {page.status_code}")
            return
        if 'id="simpan-semua"' not in page.text:
            t.phase = 2  # closed, or nobody left
            return
        everyone = t.late or t.phase >= 1
        todo = []
        for skp_id, row in SUB_ROW.findall(page.text):
            pred = PREDIKAT.search(row)
            if pred and pred.group(1).strip() not in ("", "–"):
                continue
            if everyone or "badge disetujui" in row:
                todo.append(skp_id)
        midyear = period_rules.is_midyear(t.periode, self.periodisasi)
        bulk: dict[str, str] = {}
        failed = False
        for skp_id in todo:
            ratings = self._one(t, skp_id, midyear, rate=not t.bulk)
            if ratings is None:
                failed = True
            elif t.bulk:
                bulk[f"hk_{skp_id}"], bulk[f"pk_{skp_id}"] = ratings
        if bulk:
            r = self.client.post(f"{t.path}/nilai", data=bulk, follow_redirects=False)
            n = len(bulk) // 2
            with self.lock:
                self.stats[t.periode]["dinilai (daftar)" if r.status_code == 303
                                      else f"nilai daftar {r.status_code}"] += n
            failed = failed or r.status_code != 303
        if not failed:
            t.phase = 2 if everyone else 1

    def _one(self, t: PeriodTask, skp_id: str, midyear: bool,
             rate: bool) -> tuple[str, str] | None:
        """Open one subordinate; feedback per RHK, a session, and the ratings (or return them
        for the list form). None when something failed (retried on the next pass)."""
        base = f"{t.path}/pegawai/{skp_id}"
        page = self.client.get(base)
        if page.status_code != 200:
            self._count(t.periode, f"halaman bawahan {page.status_code}")
            return None
        version = int(VERSION.search(page.text).group(1)) if VERSION.search(page.text) else None
        # written feedback per RHK for some of the subordinates each period
        # (decided once per subordinate and period: a retried pass does not draw again)
        if (t.periode, skp_id) not in self.fed and self.rng.random() >= FEEDBACK_SHARE:
            self.fed.add((t.periode, skp_id))
        if (t.periode, skp_id) not in self.fed:
            for rhk_id in RHK_ID.findall(page.text):
                r = self.client.post(f"{base}/umpan-balik", follow_redirects=False, data={
                    "rhk_id": rhk_id, "isi": "Capaian sudah baik; pertahankan dan lengkapi bukti."})
                if r.status_code != 303:
                    self._count(t.periode, f"umpan balik {r.status_code}")
                    return None
                self._count(t.periode, "umpan balik")
                version = version + 1 if version is not None else None
            self.fed.add((t.periode, skp_id))
        coaching = self.rng.random() < 0.1
        if (midyear or coaching) and (t.periode, skp_id) not in self.talked:
            today = to_local(datetime.now(UTC), self.tz).date().isoformat()
            jenis = "dialog" if midyear else "coaching"
            r = self.client.post(f"{base}/dialog", follow_redirects=False, data={
                "jenis": jenis, "tanggal": today,
                "catatan": "Membahas capaian periode ini dan kendala di lapangan.",
                "tindak_lanjut": "Melengkapi bukti dukung sebelum periode berikutnya."})
            if r.status_code != 303:
                self._count(t.periode, f"{jenis} {r.status_code}")
                return None
            self._count(t.periode, jenis)
            self.talked.add((t.periode, skp_id))
            version = version + 1 if version is not None else None
        saran = SARAN.search(page.text)
        roll = self.rng.random()
        hk = saran.group(1) if saran and roll < 0.8 else self.rng.choice(RATINGS)
        pk = RATINGS[1] if roll < 0.7 else RATINGS[0] if roll < 0.9 else RATINGS[2]
        if not rate:
            return hk, pk
        r = self.client.post(f"{base}/nilai", follow_redirects=False, data={
            "hasil_kerja": hk, "perilaku": pk, "catatan": "",
            "version": str(version) if version is not None else ""})
        if r.status_code != 303:
            self._count(t.periode, f"nilai {r.status_code}")
            return None
        self._count(t.periode, "dinilai (per pegawai)" + (" (terlambat)" if t.late else ""))
        return hk, pk


# -- the 360 stage, the competency self-assessment and the public survey -------------------------

FORM_ACTION = re.compile(r'action="(/t/[^/"]+/formulir/\d+)"')
RADIO = re.compile(r'name="(v\d+)" value="')
COMMENT = re.compile(r'name="(k\d+)" maxlength=')
KOMP_SELECT = re.compile(r'name="k_(\d+)"')
SUB_KOMP = re.compile(r'href="(/t/[^/"]+/kompetensi/\d+)"')
SKM_TOKEN = re.compile(r'name="token" value="([^"]+)"')
SKM_SUM = re.compile(r'id="soal">\s*(\d+)\s*\+\s*(\d+)\s*<')
JUDGEMENTS = ("di_bawah", "sesuai", "di_atas")


def form_actions(page: str) -> list[str]:
    """The 360 forms on a rater's page: each form's action path."""
    return FORM_ACTION.findall(page)


def form_fields(section: str) -> tuple[list[str], list[str]]:
    """(judgement fields v0.., comment fields k0..) of one 360 form's HTML."""
    return list(dict.fromkeys(RADIO.findall(section))), list(dict.fromkeys(COMMENT.findall(section)))


def skm_form(page: str) -> tuple[str, int] | None:
    """The survey form's hidden token and the answer to its sum question."""
    token, soal = SKM_TOKEN.search(page), SKM_SUM.search(page)
    if not token or not soal:
        return None
    return token.group(1), int(soal.group(1)) + int(soal.group(2))


class FeedbackPlayer:
    """The 360 stage and the competency self-assessment: pegawai propose a rater now and then,
    PPKs confirm the lists, raters answer their forms (some late, some never), everyone rates
    their own competencies (PPKs their subordinates' too). Each action runs in a worker."""

    def __init__(self, client: httpx.Client, rng: random.Random, stage: object,
                 people: list[dict], late_share: float, never_share: float) -> None:
        self.client, self.rng, self.stage = client, rng, stage
        self.people = people
        self.late_share, self.never_share = late_share, never_share
        self.todo: list[tuple[datetime, str, str, str]] = []  # (act at, what, who, path)
        self.seen: set[tuple[str, str]] = set()
        self.reminded: set[str] = set()
        self.stats: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="umpan")
        self.futures: list[Future] = []
        self.never: set[str] = set()
        self.late: set[str] = set()

    def _between(self, now: datetime, a: datetime, b: datetime) -> datetime:
        a = max(a, now)
        return a + (max(b, a) - a) * self.rng.random()

    def receive(self, m: Mail, now: datetime) -> None:
        if not m.link:
            return
        s, path = self.stage, httpx.URL(m.link).path
        key = (m.kind, m.to)
        if m.kind in ("pengingat_360", "pengingat_kompetensi"):
            self.reminded.add(m.to)
            return
        if key in self.seen:
            return
        self.seen.add(key)
        if m.kind == "undangan_umpan_balik" and self.rng.random() < 0.3:
            self.todo.append((self._between(now, now, s.due_at - timedelta(seconds=10)),
                              "usul", m.to, path))
        elif m.kind == "tetapkan_penilai":
            at = s.due_at + (s.approve_due_at - s.due_at) * 0.3
            if self.rng.random() < self.late_share:  # left to the deadline's confirmation
                self.stats["PPK tidak menetapkan (tenggat) / left to the deadline"] += 1
                return
            self.todo.append((at, "tetapkan", m.to, path))
        elif m.kind == "undangan_360":
            roll = self.rng.random()
            if roll < self.never_share:
                self.never.add(m.to)
                return
            if roll < self.never_share + self.late_share:
                self.late.add(m.to)
                at = s.closes_at - (s.closes_at - s.approve_due_at) * 0.15
            else:
                at = self._between(now, now, s.approve_due_at + (s.closes_at - s.approve_due_at) * 0.5)
            self.todo.append((at, "isi", m.to, path))
        elif m.kind == "undangan_kompetensi":
            if self.rng.random() < 0.1:
                return  # never assesses themselves
            self.todo.append((self._between(now, now, s.due_at), "kompetensi", m.to, path))

    def play(self, now: datetime) -> None:
        due = [t for t in self.todo if t[0] <= now]
        self.todo = [t for t in self.todo if t[0] > now]
        for _, what, who, path in due:
            self.futures.append(self.pool.submit(self._act, what, who, path))

    def _count(self, what: str) -> None:
        with self.lock:
            self.stats[what] += 1

    def _act(self, what: str, who: str, path: str) -> None:
        try:
            getattr(self, f"_{what}")(who, path)
        except Exception as exc:  # noqa: BLE001 - counted, the run goes on
            self._count(f"{what} error {type(exc).__name__}")

    def _usul(self, who: str, path: str) -> None:
        me = next((p for p in self.people if p["email"].lower() == who), None)
        if me is None:
            return
        peers = [p for p in self.people if p["unit_kerja"] == me["unit_kerja"] and p["id"] != me["id"]
                 and p["id"] != me.get("atasan_id")]
        if not peers:
            return
        r = self.client.post(f"{path}/penilai", data={"nip": self.rng.choice(peers)["nip"]},
                             follow_redirects=False)
        self._count("usul penilai" if r.status_code == 303 else f"usul penilai {r.status_code}")

    def _tetapkan(self, who: str, path: str) -> None:
        r = self.client.post(f"{path}/tetapkan-semua", follow_redirects=False)
        self._count("tetapkan semua" if r.status_code == 303 else f"tetapkan {r.status_code}")

    def _isi(self, who: str, path: str) -> None:
        page = self.client.get(path)
        if page.status_code != 200:
            self._count(f"formulir halaman {page.status_code}")
            return
        for section in page.text.split("<form ")[1:]:
            m = FORM_ACTION.search(section.split(">", 1)[0])
            if not m:
                continue
            values, comments = form_fields(section)
            data = {v: self.rng.choices(JUDGEMENTS, (1, 6, 3))[0] for v in values}
            for k in comments:
                if self.rng.random() < 0.2:
                    data[k] = "Kerja sama dan pelayanannya patut dicontoh."
            r = self.client.post(m.group(1), data=data, follow_redirects=False)
            self._count(("formulir dikirim" + (" (terlambat)" if who in self.late else ""))
                        if r.status_code == 303 else f"formulir {r.status_code}")

    def _kompetensi(self, who: str, path: str) -> None:
        if not path.endswith("/kompetensi"):
            path += "/kompetensi"
        page = self.client.get(path)
        if page.status_code != 200:
            self._count(f"kompetensi halaman {page.status_code}")
            return
        own = page.text.split('id="penilaian-diri"', 1)[-1].split("</form>", 1)[0]
        data = {f"k_{k}": str(self.rng.randint(2, 5)) for k in KOMP_SELECT.findall(own)}
        if data:
            r = self.client.post(path, data=data, follow_redirects=False)
            self._count("penilaian diri" if r.status_code == 303
                        else f"penilaian diri {r.status_code}")
        for sub in dict.fromkeys(SUB_KOMP.findall(page.text)):
            sp = self.client.get(sub)
            ids = KOMP_SELECT.findall(sp.text.split('id="penilaian-ppk"', 1)[-1])
            if sp.status_code != 200 or not ids:
                continue
            r = self.client.post(sub, data={f"k_{k}": str(self.rng.randint(1, 5)) for k in ids},
                                 follow_redirects=False)
            self._count("penilaian kompetensi bawahan" if r.status_code == 303
                        else f"kompetensi bawahan {r.status_code}")

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def run_survey(client: httpx.Client, unit: str, cycle_id: int, respondents: int,
               rng: random.Random, stats: Counter[str]) -> dict:
    """HR opens a survey for a unit; `respondents` members of the public each load the form
    (each with their own browser, so the per-client limit is not reached), wait the minimum
    fill time and answer 1..4 for the nine elements. Returns the survey as the API reads it."""
    survei = client.post("/api/v1/skm", json={"unit": unit, "cycle_id": cycle_id,
                                               "judul": "Survei Kepuasan Masyarakat (simulasi)"})
    survei.raise_for_status()
    sid, slug = survei.json()["id"], survei.json()["slug"]
    batch = 60
    for start in range(0, respondents, batch):
        loaded = []
        for n in range(start, min(start + batch, respondents)):
            ua = f"Mozilla/5.0 (Simulasi; responden {n}) Gecko/20100101 Firefox/{100 + n % 30}"
            page = client.get(f"/s/{slug}", headers={"User-Agent": ua})
            form = skm_form(page.text) if page.status_code == 200 else None
            if form is None:
                stats[f"formulir survei {page.status_code}"] += 1
                continue
            loaded.append((ua, *form))
        time.sleep(3.5)  # the minimum fill time
        for ua, token, cek in loaded:
            mood = rng.random()
            weights = (1, 2, 6, 3) if mood < 0.8 else (3, 4, 2, 1)
            data = {f"u{e}": str(rng.choices((1, 2, 3, 4), weights)[0]) for e in range(1, 10)}
            data |= {"token": token, "cek": str(cek), "website": ""}
            if rng.random() < 0.1:
                data["komentar"] = "Antrean perlu dipercepat, petugas ramah."
            r = client.post(f"/s/{slug}", data=data, headers={"User-Agent": ua})
            stats["jawaban survei" if r.status_code in (200, 303) else
                  f"jawaban survei {r.status_code}"] += 1
    return client.get(f"/api/v1/skm/{sid}").raise_for_status().json()


# -- the year's end: annual ratings, unit grades, calibration, publication, keberatan, coaching --

YEAR_END_KINDS = ("undangan_penilaian_tahunan", "pengingat_penilaian_tahunan",
                  "eskalasi_penilaian_tahunan", "laporan_penilaian", "kalibrasi", "hasil_kinerja",
                  "keberatan_diajukan", "keberatan_diputus", "pengingat_keberatan",
                  "rencana_pembinaan", "pengingat_pembinaan")
SA, SE, DB = "Di Atas Ekspektasi", "Sesuai Ekspektasi", "Di Bawah Ekspektasi"
#: the predikat a pattern aims at -> (hasil kerja, perilaku)
AIM = {"SB": (SA, SA), "B": (SE, SE), "BP": (DB, SE)}
TASK_BASE = re.compile(r"^/t/[^/]+")
ANNUAL_ROW = re.compile(r'href="(/t/[^/"]+/tahunan/(\d+))"')
PAGE_NIP = re.compile(r"NIP (\d+)")
PAGE_VERSION = re.compile(r'name="version" value="(\d+)"')
HEAD_LOCKED = re.compile(r'name="hasil_kerja"\s+disabled')
NO_PPK = re.compile(r'action="/hr/cycles/\d+/penilaian/tanpa-ppk/(\d+)"')
PUTUSAN = re.compile(r'href="/t/[^/"]+/putusan/(\d+)"')
AKSI = re.compile(r'action="(/t/[^/"]+/pembinaan/(\d+)/aksi)"')


@dataclass
class YearEndPlan:
    """Which unit gets which grade and which predikat its people are rated towards: the largest
    unit is graded Baik with nobody below Baik (it breaks "at least one Butuh Perbaikan or
    Kurang", fixed by a PPK's calibration), the second Istimewa with everyone Sangat Baik (breaks
    "at most 70% Sangat Baik", accepted by HR's override), the third Butuh Perbaikan; the rest
    alternate Istimewa / Baik with distributions that fit."""

    grade: dict[str, str]
    calibrate_unit: str
    override_unit: str

    @classmethod
    def of(cls, units: Counter[str]) -> YearEndPlan:
        names = [u for u, _ in units.most_common()]
        grade: dict[str, str] = {}
        for i, u in enumerate(names):
            grade[u] = ("Baik", "Istimewa", "Butuh Perbaikan")[i] if i < 3 \
                else ("Istimewa", "Baik")[i % 2]
        return cls(grade, names[0], names[1] if len(names) > 1 else "")

    def aim(self, unit: str, index: int) -> str:
        g = self.grade.get(unit, "Baik")
        if unit == self.calibrate_unit:
            return ("SB", "SB", "B", "B", "B")[index % 5]
        if unit == self.override_unit:
            return "SB"
        if g == "Butuh Perbaikan":
            return "BP"
        if g == "Istimewa":
            return ("B", "SB")[index % 2]
        return ("BP", "B", "SB", "B")[index % 4]


class YearEnd:
    """The year's end played after the periods: PPKs rate on their annual link, HR grades the
    units and rates the person without a PPK; after the stage closes HR reads the curve check,
    one PPK calibrates, HR overrides the rest, rescoring, publication; two pegawai file a
    keberatan, their PPK's superior decides (one kept, one changed); a PPK adds a coaching
    action. Mail is read by the caller and handed to `receive`."""

    def __init__(self, client: httpx.Client, cid: int, people: list[dict], plan: YearEndPlan,
                 stage: object, window_days: float, timezone: str) -> None:
        self.client, self.cid, self.plan, self.stage = client, cid, plan, stage
        self.window_days, self.timezone = window_days, timezone
        self.by_nip = {p["nip"]: p for p in people}
        self.by_id = {p["id"]: p for p in people}
        self.stats: Counter[str] = Counter()
        self.index: Counter[str] = Counter()  # people rated so far per unit
        #: skp id -> (PPK's link path, nip, unit, aim, unit head)
        self.rated: dict[int, tuple[str, str, str, str, bool]] = {}
        self.invites: list[tuple[datetime, str, str]] = []  # (act at, PPK, path)
        self.graded = False
        self.no_ppk_done = False
        self.before: list[dict] = []
        self.after: list[dict] = []
        self.final: list[dict] = []
        self.calibrated: list[str] = []
        self.overridden: list[str] = []
        self.fixed_units: list[str] = []
        self.published: dict = {}
        self.published_at: datetime | None = None
        self.hasil: dict[str, str] = {}  # email -> task path
        self.filed: list[str] = []
        self.decisions: list[str] = []
        self.deciding: set[str] = set()
        self.coached = False
        self.errors: Counter[str] = Counter()

    # -- mail -----------------------------------------------------------------------------------

    def receive(self, m: Mail, now: datetime) -> None:
        base = TASK_BASE.match(httpx.URL(m.link).path) if m.link else None
        path = base.group(0) if base else ""
        if m.kind == "undangan_penilaian_tahunan" and path:
            self.invites.append((now + timedelta(seconds=20), m.to, path))
        elif m.kind == "hasil_kinerja" and path:
            self.hasil[m.to] = path
        elif m.kind == "keberatan_diajukan" and path:
            self._decide(path)
        elif m.kind == "rencana_pembinaan" and path and not self.coached:
            self._coach(path)

    # -- the annual stage ----------------------------------------------------------------------

    def play(self, now: datetime) -> None:
        if not self.graded and now >= self.stage.opens_at:
            self._grade_units()
        if self.graded and not self.no_ppk_done:
            self._rate_without_ppk()
        if not self.graded:
            return
        due = [t for t in self.invites if t[0] <= now]
        self.invites = [t for t in self.invites if t[0] > now]
        for _, who, path in due:
            if not self._rate_all(path) and now < self.stage.closes_at:
                self.invites.append((now + timedelta(seconds=15), who, path))

    def _grade_units(self) -> None:
        units = self.client.get(f"/api/v1/cycles/{self.cid}/penilaian")
        if units.status_code != 200 or not units.json():
            return
        for u in units.json():
            grade = self.plan.grade.get(u["unit"], "Baik")
            r = self.client.put(f"/api/v1/cycles/{self.cid}/penilaian/unit/{u['unit_id']}",
                                json={"grade": grade})
            self.stats["nilai unit" if r.status_code < 300 else f"nilai unit {r.status_code}"] += 1
        self.graded = True

    def _rate_without_ppk(self) -> None:
        page = self.client.get(f"/hr/cycles/{self.cid}/penilaian")
        for skp_id in dict.fromkeys(NO_PPK.findall(page.text)):
            r = self.client.post(f"/hr/cycles/{self.cid}/penilaian/tanpa-ppk/{skp_id}", data={
                "hasil_kerja": SA, "perilaku": SA, "catatan": "Dinilai Pengelola Kinerja."},
                follow_redirects=False)
            if r.status_code != 303:
                r = self.client.post(f"/hr/cycles/{self.cid}/penilaian/tanpa-ppk/{skp_id}",
                                     data={"perilaku": SA, "catatan": "Dinilai Pengelola Kinerja."},
                                     follow_redirects=False)
            self.stats["HR menilai tanpa PPK" if r.status_code == 303
                       else f"HR tanpa PPK {r.status_code}"] += 1
        self.no_ppk_done = True

    def _rate_all(self, path: str) -> bool:
        page = self.client.get(path)
        if page.status_code != 200:
            self.errors[f"daftar tahunan {page.status_code}"] += 1
            return False
        ok = True
        for sub, skp in dict.fromkeys(ANNUAL_ROW.findall(page.text)):
            if int(skp) in self.rated:
                continue
            ok &= self._rate_one(path, sub, int(skp))
        return ok

    def _rate_one(self, path: str, sub: str, skp_id: int, aim: str | None = None,
                  alasan: str = "") -> bool:
        page = self.client.get(sub)
        nip = PAGE_NIP.search(page.text)
        version = PAGE_VERSION.search(page.text)
        if page.status_code != 200 or not nip or not version:
            self.errors[f"halaman tahunan {page.status_code}"] += 1
            return False
        person = self.by_nip.get(nip.group(1), {})
        unit = person.get("unit_kerja", "")
        if aim is None:
            aim = self.plan.aim(unit, self.index[unit])
            self.index[unit] += 1
        head = HEAD_LOCKED.search(page.text) is not None
        hasil, perilaku = AIM[aim]
        data = {"perilaku": perilaku, "catatan": "Kinerja setahun sesuai catatan periodik.",
                "version": version.group(1)}
        if not head:
            data["hasil_kerja"] = hasil
        if alasan:
            data["alasan"] = alasan
        r = self.client.post(sub, data=data, follow_redirects=False)
        if r.status_code != 303:
            self.errors[f"rating tahunan {r.status_code}"] += 1
            return False
        self.rated[skp_id] = (path, nip.group(1), unit, aim, head)
        self.stats["rating tahunan" + (" (kalibrasi)" if alasan else "")] += 1
        return True

    # -- after the close: the curve, calibration, rescoring, publication -----------------------

    def units(self) -> list[dict]:
        return self.client.get(f"/api/v1/cycles/{self.cid}/penilaian").raise_for_status().json()

    def calibrate(self) -> None:
        self.before = self.units()
        breached = [u for u in self.before if u["pelanggaran"]]
        # a PPK of the unit that lacks a Butuh Perbaikan rates one Baik person below expectation
        target = next((u for u in breached if u["unit"] == self.plan.calibrate_unit), None)
        if target is not None:
            for skp_id, (path, _nip, unit, aim, head) in sorted(self.rated.items()):
                if unit == target["unit"] and aim == "B" and not head:
                    if self._rate_one(path, f"{path}/tahunan/{skp_id}", skp_id, "BP",
                                      "Kalibrasi: capaian akhir di bawah target setelah "
                                      "ditinjau ulang bersama Pengelola Kinerja."):
                        self.calibrated.append(target["unit"])
                    break
        for u in breached:
            if u["unit"] in self.calibrated:
                continue
            r = self.client.post(f"/api/v1/cycles/{self.cid}/penilaian/unit/{u['unit_id']}/override",
                                 json={"alasan": "Unit berkinerja istimewa sepanjang tahun; "
                                       "sebaran diterima setelah verifikasi pimpinan."})
            if r.status_code < 300:
                self.overridden.append(u["unit"])
            else:
                self.errors[f"override {r.status_code}"] += 1
        r = self.client.post(f"/api/v1/cycles/{self.cid}/penilaian/skor")
        self.stats["skor ulang" if r.status_code < 300 else f"skor ulang {r.status_code}"] += 1
        self.after = self.units()
        was = {u["unit"] for u in breached}
        self.fixed_units = [u["unit"] for u in self.after
                            if u["unit"] in was and u["unit"] in self.calibrated
                            and not u["pelanggaran"]]

    def publish(self) -> None:
        r = self.client.post(f"/api/v1/cycles/{self.cid}/penilaian/publikasi")
        self.published = r.json() if r.status_code < 300 else {"error": r.status_code,
                                                                "detail": r.text[:300]}
        if r.status_code < 300:
            self.published_at = datetime.now(UTC)

    # -- keberatan and coaching ----------------------------------------------------------------

    def file(self) -> None:
        """Two pegawai whose PPK has a superior (the decider) file a keberatan: one rated Butuh
        Perbaikan (it will be changed; from a unit graded Butuh Perbaikan, whose curve still fits
        after the change, never the calibrated unit), one rated Baik (kept)."""
        if len(self.filed) >= 2:
            return
        want = ("BP", "B")
        order = sorted(self.rated.values(), key=lambda r: (
            self.plan.grade.get(r[2]) != "Butuh Perbaikan", r[1]))
        for aim in want[len(self.filed):]:
            for _path, nip, unit, a, head in order:
                if unit == self.plan.calibrate_unit:
                    continue
                p = self.by_nip.get(nip, {})
                ppk = self.by_id.get(p.get("atasan_id"))
                email = (p.get("email") or "").lower()
                if a != aim or head or not ppk or not ppk.get("atasan_id") or \
                        email not in self.hasil or email in self.filed:
                    continue
                r = self.client.post(f"{self.hasil[email]}/hasil/keberatan", data={
                    "alasan": "Capaian realisasi triwulan IV belum diperhitungkan dalam "
                              "penilaian akhir; mohon ditinjau kembali."}, follow_redirects=False)
                if r.status_code == 303:
                    self.filed.append(email)
                    self.stats["keberatan diajukan"] += 1
                else:
                    self.errors[f"keberatan {r.status_code}"] += 1
                break

    def _decide(self, path: str) -> None:
        page = self.client.get(path)
        for kid in dict.fromkeys(PUTUSAN.findall(page.text)):
            if kid in self.deciding:
                continue
            detail = self.client.get(f"{path}/putusan/{kid}")
            if 'id="form-putusan"' not in detail.text:
                continue
            self.deciding.add(kid)
            changed = "diubah" not in self.decisions and (
                "tetap" in self.decisions or "Butuh Perbaikan" in detail.text.split(
                    'id="form-putusan"', 1)[1][:2000])
            data = {"keputusan": "diubah", "hasil_kerja": SE, "perilaku": SE,
                    "alasan": "Bukti realisasi triwulan IV diterima; rating hasil kerja "
                              "disesuaikan."} if changed else {
                "keputusan": "tetap", "alasan": "Rating sudah sesuai bukti dan catatan periodik; "
                                                 "keberatan tidak dapat diterima."}
            r = self.client.post(f"{path}/putusan/{kid}", data=data, follow_redirects=False)
            if r.status_code == 303:
                self.decisions.append(data["keputusan"])
            else:
                self.errors[f"putusan {r.status_code}"] += 1
                self.deciding.discard(kid)

    def _coach(self, path: str) -> None:
        page = self.client.get(path)
        m = AKSI.search(page.text)
        if page.status_code != 200 or not m:
            return
        batas = (to_local(datetime.now(UTC), self.timezone).date() + timedelta(days=30)).isoformat()
        r = self.client.post(m.group(1), data={"uraian": "Pendampingan mingguan oleh PPK dan "
                                                         "pelatihan teknis.", "batas": batas},
                             follow_redirects=False)
        self.coached = r.status_code == 303
        self.stats["aksi pembinaan" if self.coached else f"aksi pembinaan {r.status_code}"] += 1


def run_year_end(ye: YearEnd, inbox: Inbox, bag: Mailbag, pending: list[Mail]) -> None:
    """Drive the year's end to the coaching plans: the stage until `laporan_penilaian`, then
    calibration and publication, keberatan, and the window's close."""
    s = ye.stage
    window = timedelta(days=ye.window_days)
    give_up = s.closes_at + timedelta(seconds=300)
    phase = "stage"
    print(f"penilaian tahunan / annual stage: {to_local(s.opens_at, ye.timezone):%H:%M:%S} .. "
          f"{to_local(s.closes_at, ye.timezone):%H:%M:%S}", flush=True)
    while datetime.now(UTC) < give_up:
        now = datetime.now(UTC)
        for m in pending + inbox.messages():
            bag.add(m)
            if m.kind in YEAR_END_KINDS:
                ye.receive(m, now)
        pending = []
        if phase == "stage":
            ye.play(now)
            if bag.kinds["laporan_penilaian"]:
                print("laporan_penilaian diterima / arrived; kalibrasi", flush=True)
                ye.calibrate()
                ye.publish()
                print(f"publikasi / published: {ye.published}", flush=True)
                if ye.published_at is None:
                    return
                phase = "published"
                give_up = ye.published_at + window + timedelta(seconds=240)
        elif phase == "published":
            ye.file()
            if ye.published_at and now > ye.published_at + window and \
                    bag.kinds["rencana_pembinaan"] and len(ye.decisions) >= 2 and \
                    bag.kinds["keberatan_diputus"] >= 2 and ye.coached:
                time.sleep(10)
                for m in inbox.messages():
                    bag.add(m)
                    if m.kind in YEAR_END_KINDS:
                        ye.receive(m, datetime.now(UTC))
                break
        time.sleep(2)
    ye.final = ye.units()


def _dist(u: dict) -> str:
    counts = {k: v for k, v in (u.get("predikat") or {}).items() if v}
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def report_year_end(ye: YearEnd, bag: Mailbag, people: list[dict]) -> int:
    """The year's end: the curve before/after calibration, the final distribution per unit,
    and the checks (0: all passed)."""
    print("\nAkhir tahun / the year's end")
    print(f"  tindakan / actions: {dict(sorted(ye.stats.items()))}")
    if ye.errors:
        print(f"  galat / errors: {dict(ye.errors)}")
    before = {u["unit"]: u for u in ye.before}
    print("  kurva sebelum -> sesudah kalibrasi / the curve before -> after calibration:")
    for u in ye.after:
        b = before.get(u["unit"], {})
        how = "kalibrasi PPK" if u["unit"] in ye.calibrated else \
            "override HR" if u["unit"] in ye.overridden else ""
        print(f"    {u['unit']} ({u['grade']}): pelanggaran {len(b.get('pelanggaran', []))} -> "
              f"{len(u['pelanggaran'])} {how}".rstrip())
        for br in b.get("pelanggaran", []):
            print(f"      - {br['pesan']}")
    print(f"  publikasi / publication: {ye.published}")
    print(f"  keberatan: diajukan {len(ye.filed)}, diputus {ye.decisions}")
    print("  sebaran akhir per unit / final distribution per unit against its curve:")
    for u in ye.final:
        status = "sesuai kurva / fits" if not u["pelanggaran"] else \
            ("override" if u.get("override") else "MELANGGAR / breaks")
        print(f"    {u['unit']:<40} {u['grade'] or '-':<16} n={u['dinilai']}/{u['total']}: "
              f"{_dist(u)} -> {status}")
    print(f"  email: { {k: bag.kinds[k] for k in YEAR_END_KINDS if bag.kinds[k]} }")
    invited = set(bag.stage_to.get("undangan_penilaian_tahunan", Counter()))
    rated = {ye.by_nip[nip]["email"].lower() for _, nip, *_ in ye.rated.values()
             if nip in ye.by_nip}
    hasil = set(bag.stage_to.get("hasil_kinerja", Counter()))
    by_email = {p["email"].lower(): p for p in people}
    # the PPK of every pegawai with a published result (HR rated those without one)
    ppks = {ye.by_id[by_email[e]["atasan_id"]]["email"].lower() for e in hasil | rated
            if e in by_email and by_email[e].get("atasan_id") in ye.by_id}
    checks = [
        ("tahunan: setiap PPK undangan_penilaian_tahunan / every PPK invited",
         bool(invited) and ppks <= invited),
        ("tahunan: laporan_penilaian ada / the report arrived", bool(bag.kinds["laporan_penilaian"])),
        ("tahunan: pelanggaran diperbaiki kalibrasi / a breach fixed by calibration",
         bool(ye.fixed_units)),
        ("publikasi: setiap pegawai dinilai hasil_kinerja / every rated pegawai told",
         bool(rated) and rated <= hasil),
        ("keberatan: dua diputus, satu tetap satu diubah / two decided, one kept one changed",
         sorted(ye.decisions) == ["diubah", "tetap"] and bag.kinds["keberatan_diputus"] >= 2),
        ("pembinaan: rencana_pembinaan ada / a coaching plan", bool(bag.kinds["rencana_pembinaan"])),
    ]
    print("\nPemeriksaan akhir tahun / year-end checks")
    for name, ok in checks:
        print(f"  [{'OK' if ok else 'GAGAL'}] {name}")
    failed = [name for name, ok in checks if not ok]
    print(f"\n{'SEMUA LULUS / all passed' if not failed else f'{len(failed)} GAGAL / failed'}")
    return 0 if not failed else 1


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Mailbag:
    """Everything the mailbox held for the cycle, by kind and period."""

    kinds: Counter[str] = field(default_factory=Counter)
    by_period: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    to: dict[tuple[str, int], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    reports: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: recipients per kind, for the stages without periods (360, competencies, the year's end)
    stage_to: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    texts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: messages per outbox key, per kind (a key arriving twice is a duplicate)
    keys: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, m: Mail) -> None:
        self.kinds[m.kind] += 1
        self.keys[m.kind][m.key] += 1
        if m.kind not in PERIOD_KINDS:
            self.stage_to[m.kind][m.to] += 1
            self.texts[m.kind].append(m.text)
        if m.kind in PERIOD_KINDS:
            self.by_period[m.periode][m.kind] += 1
            self.to[(m.kind, m.periode)][m.to] += 1
            if m.kind == "laporan_periode":
                self.reports[m.periode].append(m.text)


def simulate(args: argparse.Namespace) -> int:
    api = ApiSettings()
    base = (args.url or api.public_url).rstrip("/")
    home = Path(api.home).resolve()
    password = (home / "admin-password.txt").read_text().strip()
    client = GatedClient(base_url=base, timeout=60, gated=args.parallel <= 1,
                         limits=httpx.Limits(max_connections=20, max_keepalive_connections=20))
    r = client.post("/hr/login", data={"username": "admin", "password": password})
    if r.status_code >= 400:
        print(f"login HR gagal / HR login failed: {r.status_code}")
        return 1
    # like a browser, every change made with the console session carries its CSRF token
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/hr/login").text)
    if token:
        client.headers["X-CSRF-Token"] = token.group(1)
    periodisasi = period_rules.parse_periodisasi(args.periodisasi).value
    year = _free_year(client)
    now = datetime.now(UTC).replace(microsecond=0)
    span = timedelta(minutes=args.minutes)
    opens, due, approve, closes = (now + timedelta(seconds=15), now + span * 0.4,
                                   now + span * 0.7, now + span)
    fmt = lambda d: to_local(d, api.timezone).strftime("%Y-%m-%dT%H:%M:%S")  # noqa: E731
    cycle = client.post("/api/v1/cycles", json={
        "tahun": year, "nama": f"Simulasi {year}", "periodisasi": periodisasi, "planning": {
            "opens_at": fmt(opens), "due_at": fmt(due), "approve_due_at": fmt(approve),
            "closes_at": fmt(closes)}}).raise_for_status().json()
    cid = cycle["id"]
    schedule = period_rules.compressed_periods(closes, args.period_minutes, periodisasi)
    current = {p["periode"]: p for p in client.get(f"/api/v1/cycles/{cid}/periode")
               .raise_for_status().json()}
    for p in schedule:
        s = p.stage
        client.put(f"/api/v1/cycles/{cid}/periode/{p.periode}/calendar", json={
            "opens_at": fmt(s.opens_at), "due_at": fmt(s.due_at),
            "approve_due_at": fmt(s.approve_due_at), "closes_at": fmt(s.closes_at),
            "version": current[p.periode]["version"]}).raise_for_status()
    # the reminder sweep runs every minute in `make run`: one reminder a minute before the due
    # date, one a minute after; a PPK is escalated as soon as the approval date has passed
    client.put(f"/api/v1/cycles/{cid}/reminders", json={
        "offsets": "-1m, 1m", "review_sla_minutes": 0}).raise_for_status()
    # the 360 stage (and the competency self-assessment) from the second period's opening
    fb_start = schedule[min(1, len(schedule) - 1)].stage.opens_at
    fb = feedback_rules.compressed_stage(fb_start, args.feedback_minutes)
    client.put(f"/api/v1/cycles/{cid}/umpan-balik/calendar", json={
        "opens_at": fmt(fb.opens_at), "due_at": fmt(fb.due_at),
        "approve_due_at": fmt(fb.approve_due_at), "closes_at": fmt(fb.closes_at)}
    ).raise_for_status()
    # the year's end: the annual rating stage after the last period's due date and the 360
    # stage's close; a short appeal window (fractions of a day), set before publication
    annual = annual_rules.compressed_stage(
        max(max(p.stage.due_at for p in schedule), fb.closes_at) + timedelta(seconds=15),
        args.annual_minutes)
    client.put(f"/api/v1/cycles/{cid}/penilaian/calendar", json={
        "opens_at": fmt(annual.opens_at), "due_at": fmt(annual.due_at),
        "approve_due_at": fmt(annual.approve_due_at), "closes_at": fmt(annual.closes_at)}
    ).raise_for_status()
    client.put(f"/api/v1/cycles/{cid}/penilaian/keberatan",
               json={"hari": args.keberatan_days}).raise_for_status()
    # a compressed year has no mornings for the daily digest: everyone takes one email per
    # event (`setiap`), so that every PPK is played from their own notices
    for p in client.get("/api/v1/pegawai", params={"limit": 5000}).raise_for_status().json():
        client.put(f"/api/v1/pegawai/{p['nip']}/ringkasan",
                   json={"ringkasan": "setiap"}).raise_for_status()
    client.post(f"/api/v1/cycles/{cid}/launch").raise_for_status()
    last_close = max(p.stage.closes_at for p in schedule)
    print(f"siklus {year} ({periodisasi}) diluncurkan; perencanaan {args.minutes:g} menit "
          f"(sampai {fmt(closes)}), {len(schedule)} periode @ {args.period_minutes:g} menit "
          f"(periode terakhir ditutup {fmt(last_close)})", flush=True)
    print(f"umpan balik 360 / kompetensi: {fmt(fb.opens_at)} .. {fmt(fb.closes_at)} "
          f"({args.feedback_minutes:g} menit)", flush=True)
    people = client.get("/api/v1/pegawai", params={"limit": 5000}).raise_for_status().json()
    feedback = FeedbackPlayer(client, random.Random(args.seed + 2), fb, people, args.late_share,
                              never_share=0.15)
    units = Counter(p["unit_kerja"] for p in people if p["active"])
    survey: dict = {}
    survey_stats: Counter[str] = Counter()

    def _survey() -> None:
        try:
            survey.update(run_survey(client, units.most_common(1)[0][0], cid,
                                     args.survey_respondents, random.Random(args.seed + 3),
                                     survey_stats))
        except Exception as exc:  # noqa: BLE001 - reported in the summary
            survey_stats[f"error {type(exc).__name__}: {exc}"] += 1
    survey_thread = threading.Thread(target=_survey, name="skm", daemon=True)
    if args.survey_respondents:
        survey_thread.start()
    inbox = Inbox(home / "mail", periode_of_subject=subject_resolver(periodisasi, year),
                  cycle_id=cid)
    inbox.seen.update(mailbox.Maildir(inbox.path, create=True).keys())
    # late people act after the +1m reminder has surely gone out (or, on a short calendar, a
    # minute before planning closes, after the -1m one); slow PPKs after escalation
    player = Player(client, random.Random(args.seed), args.late_share, args.return_share,
                    late_from=min(due + timedelta(seconds=130), closes - timedelta(seconds=60)),
                    slow_from=closes - timedelta(seconds=40), parallel=args.parallel)
    player.cycle_id = cid
    periods = PeriodPlayer(client, random.Random(args.seed + 1), schedule, periodisasi,
                           api.timezone, args.late_share, workers=max(4, args.parallel))
    bag = Mailbag()
    year_end_mail: list[Mail] = []
    planning_progress: list[dict] = []
    period_offsets = False
    deadline = max(last_close, fb.closes_at) + timedelta(seconds=240)
    try:
        while datetime.now(UTC) < deadline:
            at = datetime.now(UTC)
            for m in inbox.messages():
                if m.kind in YEAR_END_KINDS:
                    year_end_mail.append(m)
                    continue
                bag.add(m)
                if m.kind in FEEDBACK_KINDS:
                    feedback.receive(m, at)
                elif m.periode == 0 and m.kind not in PERIOD_KINDS:
                    player.receive(m.to, m.kind, m.link)
                else:
                    periods.receive(m, at)
            if at < closes + timedelta(seconds=5):
                player.play(at)
            if bag.kinds["laporan_perencanaan"] and not planning_progress:
                planning_progress = client.get(f"/api/v1/cycles/{cid}/progress").json()
            if not period_offsets and at >= closes:
                period_offsets = _period_reminders(client, cid)
            periods.play(datetime.now(UTC))
            feedback.play(datetime.now(UTC))
            if at > last_close and all(bag.reports.get(p.periode) for p in schedule) and \
                    (bag.kinds["laporan_360"] or at > fb.closes_at + timedelta(seconds=240)):
                time.sleep(20)  # the last messages queued at closing
                for m in inbox.messages():
                    if m.kind in YEAR_END_KINDS:
                        year_end_mail.append(m)
                    else:
                        bag.add(m)
                break
            time.sleep(2)
    finally:
        player.close()
        periods.close()
        feedback.close()
    ye = YearEnd(client, cid, people, YearEndPlan.of(units), annual, args.keberatan_days,
                 api.timezone)
    try:
        run_year_end(ye, inbox, bag, year_end_mail)
    except Exception as exc:  # noqa: BLE001 - reported, the checks fail
        ye.errors[f"akhir tahun {type(exc).__name__}: {exc}"] += 1
        if not ye.final:
            ye.final = ye.units()
    survey_thread.join(timeout=300) if args.survey_respondents else None
    if not planning_progress:
        planning_progress = client.get(f"/api/v1/cycles/{cid}/progress").json()
    period_rows = client.get(f"/api/v1/cycles/{cid}/periode").raise_for_status().json()
    status = report(planning_progress, player, periods, bag, people, period_rows, schedule)
    fb_state = client.get(f"/api/v1/cycles/{cid}/umpan-balik").raise_for_status().json()
    komp = client.get(f"/api/v1/kompetensi/siklus/{cid}/rekomendasi").raise_for_status().json()
    status |= report_feedback(feedback, bag, people, fb_state, komp, survey, survey_stats,
                              args.survey_respondents)
    status |= report_year_end(ye, bag, people)
    return status


def _period_reminders(client: httpx.Client, cid: int) -> bool:
    """Once planning has closed: reminder offsets that fit a compressed period. A period's own
    report is due 40% into it, so a reminder before that date would come before the task
    exists: one at the due date (for the pegawai), one a minute before it (for the PPK, whose
    date is later). Returns whether the change was made."""
    state = client.get(f"/api/v1/cycles/{cid}")
    if state.status_code != 200 or not state.json()["perencanaan"]["closed_at"]:
        return False
    client.put(f"/api/v1/cycles/{cid}/reminders", json={
        "offsets": "-1m, 0m", "review_sla_minutes": 0}).raise_for_status()
    return True


def report(planning: list[dict], player: Player, periods: PeriodPlayer, bag: Mailbag,
           people: list[dict], period_rows: list[dict], schedule: list[period_rules.Period]) -> int:
    """Print the summary; check the mailbox and the counts. 0 when every check passed."""
    total: Counter[str] = Counter()
    for row in planning:
        total.update({k: v for k, v in row.items() if isinstance(v, int) and k != "unit_id"})
    print("\nRingkasan perencanaan / planning summary")
    print(f"  SKP: {dict(total)}")
    print(f"  tindakan / actions: {dict(player.stats)}")
    print(f"  menunggu RHK atasan dulu / waited for the superior's RHK: {len(player.waited)} orang")
    planning_kinds = {k: v for k, v in bag.kinds.items() if k not in PERIOD_KINDS}
    print(f"  email per jenis / emails by kind: {planning_kinds}")
    checks: list[tuple[str, bool]] = [
        ("perencanaan: setiap pegawai diundang / everyone invited",
         bool(total["total"]) and bag.kinds["undangan_skp"] == total["total"]),
        ("perencanaan: semua SKP disetujui / every SKP approved",
         bool(total["total"]) and total["disetujui"] == total["total"])]

    by_email = {p["email"].lower(): p for p in people}
    by_id = {p["id"]: p for p in people}
    rows = {r["periode"]: r for r in period_rows}
    print("\nRingkasan per periode / summary per period")
    for p in schedule:
        k, s = p.periode, p.stage
        row = rows.get(k, {})
        label = row.get("label", str(k))
        totals = row.get("totals") or {}
        invited = bag.to[("undangan_realisasi", k)]
        ppk_invited = bag.to[("undangan_penilaian_periodik", k)]
        participants = set(invited)
        with_ppk = {e for e in participants if by_email.get(e, {}).get("atasan_id") is not None}
        tops = participants - with_ppk
        expected_ppk = {by_id[by_email[e]["atasan_id"]]["email"].lower() for e in with_ppk
                        if by_email[e]["atasan_id"] in by_id}
        rated = set(bag.to[("penilaian_periodik_diberikan", k)])
        late_own = [t for t in periods.own.values() if t.periode == k and t.late]
        late_ppk = [t for t in periods.ppk.values() if t.periode == k and t.late]
        reminded_own = set(bag.to[("pengingat_realisasi", k)])
        reminded_ppk = set(bag.to[("pengingat_penilaian_periodik", k)])
        missing_nips = {nip for text in bag.reports.get(k, [])
                        for nip in re.findall(r"^- (\d{18}) ", text, re.M)}
        top_nips = {by_email[e]["nip"] for e in tops}
        mid = " (tengah tahun / mid-year)" if row.get("tengah_tahun") else ""
        print(f"  Periode {k} {label}{mid}: peserta {totals.get('peserta')}, realisasi "
              f"dilaporkan {totals.get('dilaporkan')}, dinilai {totals.get('dinilai')}, belum "
              f"dinilai {totals.get('belum_dinilai')} (tanpa PPK / no PPK: {len(tops)})")
        print(f"    email: {dict(sorted(bag.by_period.get(k, Counter()).items()))}")
        print(f"    tindakan / actions: {dict(sorted(periods.stats.get(k, Counter()).items()))}")
        print(f"    terlambat / late: {len(late_own)} pegawai ({len(reminded_own)} diingatkan), "
              f"{len(late_ppk)} PPK ({len(reminded_ppk)} PPK diingatkan)")
        # a reminder is queued by the minute sweep; it is certain only when a whole minute
        # lies between the date it is due and the period's close
        own_window = s.closes_at - s.due_at >= timedelta(seconds=65)
        ppk_window = (s.approve_due_at - timedelta(minutes=1) >= s.opens_at + timedelta(seconds=12)
                      or s.closes_at - s.approve_due_at >= timedelta(seconds=65))
        checks += [
            (f"P{k}: satu undangan_realisasi per peserta / one invitation per participant",
             bool(invited) and all(n == 1 for n in invited.values())
             and len(invited) == totals.get("peserta")),
            (f"P{k}: satu undangan_penilaian_periodik per PPK / one per PPK",
             bool(ppk_invited) and all(n == 1 for n in ppk_invited.values())
             and set(ppk_invited) == expected_ppk),
            (f"P{k}: laporan_periode ada / period report arrived", bool(bag.reports.get(k))),
            (f"P{k}: semua pegawai ber-PPK dinilai / everyone with a PPK rated",
             totals.get("dinilai") == len(with_ppk) and with_ppk <= rated
             and missing_nips <= top_nips),
        ]
        if late_own and own_window:
            checks.append((f"P{k}: pengingat realisasi untuk yang terlambat / reminders for the "
                           "late pegawai", bool(reminded_own)))
        elif late_own:
            print(f"    (periode terlalu singkat untuk menjamin pengingat realisasi / too short "
                  f"to be sure of a realisasi reminder: {len(reminded_own)} terkirim)")
        if late_ppk and ppk_window:
            checks.append((f"P{k}: pengingat penilaian untuk PPK / rating reminders to PPKs",
                           bool(reminded_ppk)))
        elif late_ppk:
            print(f"    (periode terlalu singkat untuk menjamin pengingat penilaian / too short "
                  f"to be sure of a rating reminder: {len(reminded_ppk)} terkirim)")
        if tops:
            names = ", ".join(sorted(by_email[e]["nama"] for e in tops))
            print(f"    tanpa PPK, tanpa predikat periodik (sesuai harapan) / no PPK, no "
                  f"periodic predikat (expected): {names}")
    errors = periods.stats.get(0)
    if errors:
        print(f"  kesalahan / errors: {dict(errors)}")
    print(f"  email per jenis (semua periode) / emails by kind, all periods: "
          f"{ {k: v for k, v in bag.kinds.items() if k in PERIOD_KINDS} }")
    print("\nPemeriksaan / checks")
    for name, ok in checks:
        print(f"  [{'OK' if ok else 'GAGAL'}] {name}")
    failed = [name for name, ok in checks if not ok]
    print(f"\n{'SEMUA LULUS / all passed' if not failed else f'{len(failed)} GAGAL / failed'}")
    return 0 if not failed else 1


LAPORAN_360 = re.compile(r"(?:Ringkasan ditampilkan|Summary shown)[^:]*: (\d+)\s*\n- "
                         r"(?:Ringkasan tidak ditampilkan|Summary withheld)[^:]*: (\d+)")


def report_feedback(fb: FeedbackPlayer, bag: Mailbag, people: list[dict], state: dict,
                    komp: dict, survey: dict, survey_stats: Counter[str], respondents: int) -> int:
    """The 360 stage, the self-assessment and the survey: summary and checks (0: all passed)."""
    prog = state.get("progress") or {}
    confirmed, answered = prog.get("ditetapkan", 0), prog.get("jawaban", 0)
    rate = f"{100 * answered / confirmed:.0f}%" if confirmed else "-"
    laporan = [LAPORAN_360.search(t) for t in bag.texts.get("laporan_360", [])]
    cukup, kurang = (laporan[0].groups() if laporan and laporan[0] else ("?", "?"))
    threshold = (state.get("pengaturan") or {}).get("ambang")
    print("\nUmpan balik 360 / 360 feedback")
    print(f"  formulir dijawab / forms answered: {answered} dari {confirmed} ditetapkan "
          f"({rate}); {prog.get('dinilai')} pegawai dinilai")
    print(f"  cukup penilai / enough raters (ambang {threshold}): {cukup}; di bawah ambang / "
          f"below the threshold: {kurang}")
    print(f"  penilai tidak menjawab / raters who never answered: {len(fb.never)}, terlambat / "
          f"late: {len(fb.late)}")
    kp = komp.get("progress") or {}
    total = kp.get("penilaian") or 0
    print("Kompetensi / competencies")
    print(f"  peserta {kp.get('peserta')}; penilaian diri / self-ratings {kp.get('dinilai_diri')} "
          f"dari {total} ({100 * (kp.get('dinilai_diri') or 0) / total if total else 0:.0f}%); "
          f"oleh PPK / by the PPK {kp.get('dinilai_ppk')}; rekomendasi pelatihan "
          f"{kp.get('rekomendasi')}")
    print(f"  tindakan / actions: {dict(sorted(fb.stats.items()))}")
    print(f"  email: { {k: bag.kinds[k] for k in FEEDBACK_KINDS if bag.kinds[k]} }")
    ikm = survey.get("ikm")
    print("Survei kepuasan masyarakat / public survey (SKM)")
    print(f"  unit {survey.get('unit')}: responden {survey.get('responden')}, IKM {ikm}, mutu "
          f"{survey.get('mutu')}; {dict(survey_stats)}")
    active = {p["email"].lower() for p in people if p["active"]}
    invited = bag.stage_to.get("undangan_umpan_balik", Counter())
    raters = bag.stage_to.get("undangan_360", Counter())
    checks = [
        ("360: setiap pegawai sekali undangan_umpan_balik / every pegawai invited once",
         bool(invited) and all(n == 1 for n in invited.values())
         and len(invited) == prog.get("dinilai") and set(invited) <= active),
        # a rater who had finished is invited again (another key) when a PPK later gives them
        # a new form; each invitation arrives once
        ("360: setiap penilai diundang, tiap undangan sekali / every rater invited, each "
         "invitation once",
         bool(raters) and all(n == 1 for n in bag.keys["undangan_360"].values())),
        ("360: laporan_360 ada / the 360 report arrived", bool(bag.kinds["laporan_360"])),
        ("360: ada yang di bawah ambang / some below the threshold", kurang not in ("?", "0")),
        ("kompetensi: penilaian diri ada / self-ratings recorded",
         bool(kp.get("dinilai_diri"))),
    ]
    if respondents:
        checks.append((f"SKM: {respondents} jawaban, IKM 25..100, mutu sesuai / answers, IKM "
                       "and grade", survey.get("responden") == respondents and ikm is not None
                       and 25 <= ikm <= 100 and survey.get("mutu") == ikm_grade(ikm)))
    print("\nPemeriksaan 360 / SKM / checks")
    for name, ok in checks:
        print(f"  [{'OK' if ok else 'GAGAL'}] {name}")
    failed = [name for name, ok in checks if not ok]
    print(f"\n{'SEMUA LULUS / all passed' if not failed else f'{len(failed)} GAGAL / failed'}")
    return 0 if not failed else 1


def _free_year(client: httpx.Client) -> int:
    taken = {c["tahun"] for c in client.get("/api/v1/cycles").raise_for_status().json()}
    year = datetime.now(UTC).year + 1
    while year in taken:
        year += 1
    return year
