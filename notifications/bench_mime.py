"""Time the fast MIME builder against EmailMessage: `python -m notifications.bench_mime`."""

from __future__ import annotations

import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from notifications.mime import build_mime, build_mime_stdlib
from notifications.render import render

CONTEXT = {
    "agency_name": "Pemerintah Kabupaten Contoh", "nama": "Siti Nurhaliza, S.E.",
    "tahun": 2027, "link": "https://kinerja.example.go.id/t/" + "x" * 120,
    "due": "20 Januari 2027 16.00 WIB",
}


def _time(fn: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def _cases(context: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    email = render("undangan_skp", context)
    kwargs: dict[str, Any] = dict(
        key="invite:1:perencanaan:42", sender="Kinerja BKPSDM <kinerja@bkpsdm.go.id>",
        to=(context["nama"], "pegawai@example.go.id"), subject=email.subject, text=email.text,
        html=email.html, date=datetime(2027, 1, 2, tzinfo=UTC))
    return {"render (jinja2, 3 templates)": lambda: render("undangan_skp", context),
            "build_mime (fast)": lambda: build_mime(**kwargs),
            "build_mime_stdlib (EmailMessage)": lambda: build_mime_stdlib(**kwargs)}


def main(number: int = 2000) -> None:
    """Print microseconds per message for rendering and for both MIME builders."""
    for label, nama in (("ASCII name (7bit bodies)", CONTEXT["nama"]),
                        ("non-ASCII name (quoted-printable)", "Ni Luh Ayu Dewi Pramésti")):
        cases = _cases({**CONTEXT, "nama": nama})
        size = len(cases["build_mime (fast)"]())
        print(f"{label}: {size} bytes, best of 5 x {number} runs")
        for name, fn in cases.items():
            best = _time(fn, number)
            print(f"  {name:34s} {best * 1e6:8.1f} us/message {1 / best:9.0f} messages/s")


if __name__ == "__main__":
    main()
