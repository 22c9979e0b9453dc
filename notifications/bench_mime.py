"""Time the fast MIME builder against EmailMessage: `python -m notifications.bench_mime`."""

from __future__ import annotations

import timeit
from datetime import UTC, datetime

from notifications.mime import build_mime, build_mime_stdlib
from notifications.render import render

CONTEXT = {
    "agency_name": "Pemerintah Kabupaten Contoh", "nama": "Siti Nurhaliza, S.E., M.Sï",
    "tahun": 2027, "link": "https://kinerja.example.go.id/t/" + "x" * 120,
    "due": "20 Januari 2027 16.00 WIB",
}


def main(number: int = 2000) -> None:
    """Print microseconds per message for rendering and for both MIME builders."""
    email = render("undangan_skp", CONTEXT)
    kwargs = dict(key="invite:1:perencanaan:42", sender="Kinerja BKPSDM <kinerja@bkpsdm.go.id>",
                  to=(CONTEXT["nama"], "siti@example.go.id"), subject=email.subject,
                  text=email.text, html=email.html, date=datetime(2027, 1, 2, tzinfo=UTC))
    cases = {
        "render (jinja2, 3 templates)": lambda: render("undangan_skp", CONTEXT),
        "build_mime (fast)": lambda: build_mime(**kwargs),  # type: ignore[arg-type]
        "build_mime_stdlib (EmailMessage)": lambda: build_mime_stdlib(**kwargs),  # type: ignore[arg-type]
    }
    size = len(build_mime(**kwargs))  # type: ignore[arg-type]
    print(f"message size {size} bytes, {number} runs each, best of 5")
    for name, fn in cases.items():
        best = min(timeit.repeat(fn, number=number, repeat=5)) / number
        print(f"{name:36s} {best * 1e6:9.1f} us/message  {1 / best:10.0f} messages/s")


if __name__ == "__main__":
    main()
