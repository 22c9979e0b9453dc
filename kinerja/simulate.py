"""`kinerja simulate`: a year's planning stage on a compressed calendar, played through the real
HTTP API by simulated employees and PPKs who follow the links in the mailbox."""

from __future__ import annotations

import argparse
import mailbox
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import httpx

from kinerja.settings import ApiSettings
from models.rules.calendar import to_local

LINK = re.compile(r"https?://\S+/t/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
OPTION = re.compile(r'<option value="(\d+)">')
#: the outbox key's prefix (X-Kinerja-Key header) -> message kind
KIND_OF_KEY = {"invite": "undangan_skp", "remind-skp": "pengingat_skp",
               "remind-ppk": "pengingat_persetujuan", "submitted": "skp_diajukan",
               "returned": "skp_dikembalikan", "approved": "skp_disetujui", "renew": "tautan_baru",
               "cascade-wait": "menunggu_rhk_atasan", "escalate": "eskalasi_persetujuan",
               "report": "laporan_perencanaan"}


@dataclass
class Inbox:
    """Reads the development Maildir: the newest task link per (recipient, message kind)."""

    path: Path
    seen: set[str] = field(default_factory=set)

    def new_mail(self) -> list[tuple[str, str, str]]:
        """(to, kind, link) for every message not seen before."""
        out = []
        box = mailbox.Maildir(self.path, create=False)
        for key in box.keys():
            if key in self.seen:
                continue
            self.seen.add(key)
            msg = message_from_bytes(box.get_bytes(key))
            text = _text_of(msg)
            found = LINK.search(text)
            kind = KIND_OF_KEY.get(str(msg.get("X-Kinerja-Key", "")).split(":", 1)[0], "")
            out.append((msg.get("To", ""), kind, found.group(0) if found else ""))
        return out


def _text_of(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True) or b""
            return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def _address(to: str) -> str:
    m = re.search(r"<([^>]+)>", to)
    return (m.group(1) if m else to).strip().lower()


class Player:
    """Simulated people: act on the links they received, some late, some PPKs returning SKPs."""

    def __init__(self, client: httpx.Client, rng: random.Random, late_share: float,
                 return_share: float, late_from: datetime, slow_from: datetime) -> None:
        self.client, self.rng = client, rng
        self.late_from, self.slow_from = late_from, slow_from
        self.late_share, self.return_share = late_share, return_share
        self.slow: set[str] = set()
        self.waited: set[str] = set()  # people who had to wait for their superior's RHK
        self.todo: dict[str, str] = {}  # email -> own SKP link still to submit
        self.reviews: dict[str, str] = {}  # PPK email -> review link
        self.late: set[str] = set()
        self.returned: set[str] = set()
        self.stats: Counter[str] = Counter()

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
        for who, path in list(self.todo.items()):
            if who in self.late and now < self.late_from:
                continue
            if self._draft_and_submit(path):
                del self.todo[who]
        for who, path in list(self.reviews.items()):
            if who not in self.slow or now >= self.slow_from:
                self._review_all(path)
        self._hr_decides()

    def _hr_decides(self) -> None:
        """HR decides for people with no superior in the system (the Sekda)."""
        page = self.client.get("/hr")
        for cycle in set(re.findall(r'href="/hr/cycles/(\d+)"', page.text)):
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
                self.client.post(f"{path}/rhk", data={
                    "jenis": "utama" if n == 0 else "tambahan", "uraian": f"Hasil kerja {n + 1}",
                    "intervensi_rhk_id": self.rng.choice(parents), "indikator": "Dokumen selesai",
                    "target": str(self.rng.randint(4, 24)), "satuan": "dokumen"})
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


def simulate(args: argparse.Namespace) -> int:
    api = ApiSettings()
    base = (args.url or api.public_url).rstrip("/")
    home = Path(api.home).resolve()
    password = (home / "admin-password.txt").read_text().strip()
    client = httpx.Client(base_url=base, timeout=60)
    r = client.post("/hr/login", data={"username": "admin", "password": password})
    if r.status_code >= 400:
        print(f"login HR gagal / HR login failed: {r.status_code}")
        return 1
    year = _free_year(client)
    now = datetime.now(UTC).replace(microsecond=0)
    span = timedelta(minutes=args.minutes)
    opens, due, approve, closes = (now + timedelta(seconds=15), now + span * 0.4,
                                   now + span * 0.7, now + span)
    fmt = lambda d: to_local(d, api.timezone).strftime("%Y-%m-%dT%H:%M:%S")  # noqa: E731
    cycle = client.post("/api/v1/cycles", json={"tahun": year, "nama": f"Simulasi {year}", "planning": {
        "opens_at": fmt(opens), "due_at": fmt(due), "approve_due_at": fmt(approve),
        "closes_at": fmt(closes)}}).raise_for_status().json()
    # the reminder sweep runs every minute in `make run`: one reminder a minute before the due
    # date, one a minute after; a PPK is escalated as soon as the approval date has passed
    client.put(f"/api/v1/cycles/{cycle['id']}/reminders", json={
        "offsets": "-1m, 1m", "review_sla_minutes": 0}).raise_for_status()
    client.post(f"/api/v1/cycles/{cycle['id']}/launch").raise_for_status()
    print(f"siklus {year} diluncurkan; perencanaan {args.minutes} menit (sampai {fmt(closes)})")
    inbox = Inbox(home / "mail")
    inbox.seen.update(mailbox.Maildir(inbox.path, create=True).keys())
    # late people act after the +1m reminder has surely gone out; slow PPKs after escalation
    player = Player(client, random.Random(args.seed), args.late_share, args.return_share,
                    late_from=due + timedelta(seconds=130), slow_from=closes - timedelta(seconds=40))
    kinds: Counter[str] = Counter()
    while datetime.now(UTC) < closes + timedelta(seconds=90):
        for to, kind, link in inbox.new_mail():
            kinds[kind] += 1
            player.receive(to, kind, link)
        player.play(datetime.now(UTC))
        progress = client.get(f"/api/v1/cycles/{cycle['id']}/progress").json()
        if datetime.now(UTC) > closes and kinds["laporan_perencanaan"]:
            break
        time.sleep(3)
    total = Counter()
    for row in progress:
        total.update({k: v for k, v in row.items() if isinstance(v, int) and k != "unit_id"})
    print("\nRingkasan / summary")
    print(f"  SKP: {dict(total)}")
    print(f"  tindakan / actions: {dict(player.stats)}")
    print(f"  menunggu RHK atasan dulu / waited for the superior's RHK: {len(player.waited)} orang")
    print(f"  email di Maildir per jenis / emails by kind: {dict(kinds)}")
    ok = total["total"] and kinds["undangan_skp"] == total["total"] and \
        total["disetujui"] == total["total"]
    return 0 if ok else 1


def _free_year(client: httpx.Client) -> int:
    taken = {c["tahun"] for c in client.get("/api/v1/cycles").raise_for_status().json()}
    year = datetime.now(UTC).year + 1
    while year in taken:
        year += 1
    return year
