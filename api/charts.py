"""Small server-side SVG charts for the console pages: no JavaScript, no build step.

Each helper returns one standalone <svg> element (Markup) to embed in a page: role="img" with
a <title> and <desc> (and aria-label), the numbers printed on the chart, every text escaped.
The pages show the same figures in a table next to each chart for screen readers and print.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH = 720
LABEL_W = 230  # the label column of horizontal bars
LABEL_CHARS = 30  # longer labels are cut (the whole label stays as the tooltip)
BAR_X = LABEL_W + 10
BAR_W = 390
BOUND_X, BOUND_W = 8, 560  # bound bars carry their (long) label above the bar
LEGEND_H = 20
ROW_H = 26
BAR_H = 16
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12"'

#: task states and predikat, colour-blind safe enough with the numbers printed on them
DONE, PENDING, OVERDUE = "#1e7b34", "#8fb3d9", "#b3261e"
OK, BAD, MUTED = "#0b4f8a", "#b3261e", "#5b6775"
PREDIKAT_COLORS = ("#1e7b34", "#6bab5a", "#e0a526", "#d9622b", "#8c1d18")  # high to low

BULAN_PENDEK = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
MONTH_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Series:
    label: str
    color: str


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: a label, one value per series, an optional link (drill-down)."""

    label: str
    values: Sequence[float]
    href: str | None = None
    note: str | None = None  # printed after the bar; the total when None


@dataclass(frozen=True)
class ValueBar:
    """A single bar: `fraction` of the full width (0..1) and the text printed after it."""

    label: str
    fraction: float
    text: str
    href: str | None = None
    color: str = OK


@dataclass(frozen=True)
class BoundBar:
    """A share found against a bound (a curve rule): `bound` None when the rule is a count."""

    label: str
    share: float
    text: str
    bound: float | None
    bound_label: str
    ok: bool


def num(value: float, lang: str = "id") -> str:
    """1234 -> '1.234' (id) / '1,234' (en); non-integers keep one decimal."""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "id" else text


def pct(share: float, lang: str = "id") -> str:
    value = share * 100
    text = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    return (text.replace(".", ",") if lang == "id" else text) + "%"


def short_date(day: date, lang: str = "id") -> str:
    return f"{day.day} {(MONTH_SHORT if lang == 'en' else BULAN_PENDEK)[day.month - 1]}"


def _fit(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str]) -> Markup:
    cid = escape(chart_id)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" role="img" '
        f'viewBox="0 0 {WIDTH} {_f(height)}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}" aria-describedby="{cid}-desc" {FONT}>'
        f'<title id="{cid}-title">{escape(title)}</title><desc id="{cid}-desc">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = "#1d2733",
          weight: str = "normal", cls: str = "") -> str:
    extra = f' class="{escape(cls)}"' if cls else ""
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{escape(anchor)}" fill="{escape(fill)}" '
            f'font-weight="{escape(weight)}"{extra}>{escape(text)}</text>')


def _label(y: float, label: str) -> str:
    """A row label at the left, cut to fit, the whole text as its tooltip."""
    return (f'<text x="{LABEL_W}" y="{_f(y)}" text-anchor="end" fill="#1d2733">'
            f'<title>{escape(label)}</title>{escape(_fit(label, LABEL_CHARS))}</text>')


def _linked(href: str | None, inner: str, label: str) -> str:
    if not href:
        return f"<g>{inner}</g>"
    return f'<a href="{escape(href)}" aria-label="{escape(label)}">{inner}</a>'


def _legend(series: Sequence[Series], x0: float = BAR_X) -> tuple[list[str], float]:
    """Colour keys from x0, wrapping onto more lines when they do not fit; with their height."""
    out, x, y = [], float(x0), 14.0
    for s in series:
        width = 16 + 7 * len(s.label) + 18
        if x > x0 and x + width > WIDTH:
            x, y = float(x0), y + LEGEND_H
        out.append(f'<rect x="{_f(x)}" y="{_f(y - 10)}" width="12" height="12" '
                   f'fill="{escape(s.color)}"/>')
        out.append(_text(x + 16, y, s.label))
        x += width
    return out, y + 14


def _empty(chart_id: str, title: str, desc: str, message: str) -> Markup:
    return _svg(chart_id, title, desc, 40, [_text(WIDTH / 2, 24, message, anchor="middle",
                                                  fill=MUTED)])


def stacked_bars(*, chart_id: str, title: str, desc: str, series: Sequence[Series],
                 bars: Sequence[Bar], lang: str = "id", normalise: bool = False,
                 empty: str = "") -> Markup:
    """Horizontal bars split into the series (e.g. done / pending / overdue per unit), scaled to
    the largest total, or each to 100% with `normalise`; numbers on the segments that fit."""
    if not bars:
        return _empty(chart_id, title, desc, empty or "-")
    top = max((sum(b.values) for b in bars), default=0) or 1
    body, head = _legend(series)
    for n, bar in enumerate(bars):
        y = head + n * ROW_H
        total = sum(bar.values)
        scale = BAR_W / (total if normalise and total else top)
        parts = [_label(y + 12, bar.label)]
        x = float(BAR_X)
        for s, value in zip(series, bar.values, strict=True):
            if value <= 0:
                continue
            w = value * scale
            shown = pct(value / total, lang) if normalise else num(value, lang)
            parts.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{BAR_H}" '
                         f'fill="{escape(s.color)}"><title>{escape(bar.label)} · {escape(s.label)}: '
                         f'{escape(num(value, lang))}</title></rect>')
            if w >= 7 * len(shown) + 6:
                parts.append(_text(x + w / 2, y + 12, shown, anchor="middle", fill="#fff"))
            x += w
        if total == 0:
            parts.append(f'<rect x="{BAR_X}" y="{_f(y)}" width="{BAR_W}" height="{BAR_H}" '
                         f'fill="none" stroke="#d6dde5"/>')
        note = bar.note if bar.note is not None else num(total, lang)
        parts.append(_text(BAR_X + BAR_W + 8, y + 12, note, fill=MUTED))
        body.append(_linked(bar.href, "".join(parts), f"{bar.label}: {note}"))
    return _svg(chart_id, title, desc, head + 6 + len(bars) * ROW_H, body)


def value_bars(*, chart_id: str, title: str, desc: str, bars: Sequence[ValueBar],
               empty: str = "") -> Markup:
    """One bar per row, `fraction` of the full width, its text after it (rates, counts)."""
    if not bars:
        return _empty(chart_id, title, desc, empty or "-")
    body = []
    for n, bar in enumerate(bars):
        y = 8 + n * ROW_H
        w = max(0.0, min(1.0, bar.fraction)) * BAR_W
        parts = [_label(y + 12, bar.label),
                 f'<rect x="{BAR_X}" y="{_f(y)}" width="{BAR_W}" height="{BAR_H}" fill="#eef2f6"/>',
                 f'<rect x="{BAR_X}" y="{_f(y)}" width="{_f(w)}" height="{BAR_H}" '
                 f'fill="{escape(bar.color)}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>',
                 _text(BAR_X + BAR_W + 8, y + 12, bar.text, fill=MUTED)]
        body.append(_linked(bar.href, "".join(parts), f"{bar.label}: {bar.text}"))
    return _svg(chart_id, title, desc, 14 + len(bars) * ROW_H, body)


def bound_bars(*, chart_id: str, title: str, desc: str, bars: Sequence[BoundBar],
               ok_label: str, bad_label: str) -> Markup:
    """Shares found against their bounds (one unit's curve): each rule's words above its bar,
    the bar blue when the rule holds and red when broken, a dark tick where the bound lies."""
    body, head = _legend([Series(ok_label, OK), Series(bad_label, BAD)], x0=BOUND_X)
    for n, bar in enumerate(bars):
        y = head + 4 + n * 50
        color = OK if bar.ok else BAD
        w = max(0.0, min(1.0, bar.share)) * BOUND_W
        outline = "" if bar.ok else f' stroke="{BAD}"'
        parts = [_text(BOUND_X, y + 10, bar.label),
                 f'<rect x="{BOUND_X}" y="{_f(y + 16)}" width="{BOUND_W}" height="{BAR_H}" '
                 f'fill="#eef2f6"{outline}/>',
                 f'<rect x="{BOUND_X}" y="{_f(y + 16)}" width="{_f(w)}" height="{BAR_H}" '
                 f'fill="{color}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>',
                 _text(BOUND_X + BOUND_W + 8, y + 28, bar.text, fill=color)]
        bx = BOUND_X + max(0.0, min(1.0, bar.bound or 0.0)) * BOUND_W
        if bar.bound is not None:
            parts.append(f'<line x1="{_f(bx)}" y1="{_f(y + 13)}" x2="{_f(bx)}" '
                         f'y2="{_f(y + 19 + BAR_H)}" stroke="#1d2733" stroke-width="2"/>')
        anchor = "end" if bx > BOUND_X + BOUND_W * 0.8 else "start"
        parts.append(f'<text x="{_f(bx)}" y="{_f(y + 28 + BAR_H)}" text-anchor="{anchor}" '
                     f'fill="{MUTED}" font-size="10">{escape(bar.bound_label)}</text>')
        body.append(f"<g>{''.join(parts)}</g>")
    return _svg(chart_id, title, desc, head + 8 + len(bars) * 50, body)


def _nice_ceiling(value: float) -> int:
    """An even axis top at or above value: 2, 4, 6, 8 or 10 x 10^k (the midline stays whole)."""
    if value <= 2:
        return 2
    power = 10 ** math.floor(math.log10(value))
    return int(next(m * power for m in (1, 2, 4, 6, 8, 10) if m * power >= value
                    and (m * power) % 2 == 0))


def line_chart(*, chart_id: str, title: str, desc: str, points: Sequence[tuple[date, float]],
               lang: str = "id", color: str = OVERDUE, empty: str = "") -> Markup:
    """A filled line over days: dated ticks under it, the axis at the left, the last value
    marked and printed."""
    if not points:
        return _empty(chart_id, title, desc, empty or "-")
    left, right, top, bottom, height = 56.0, 24.0, 14.0, 34.0, 220.0
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    y_max = _nice_ceiling(max(v for _, v in points))
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h - v / y_max * plot_h

    body = []
    for k in range(3):
        value = y_max * k / 2
        _, gy = xy(0, value)
        body.append(f'<line x1="{_f(left)}" y1="{_f(gy)}" x2="{_f(WIDTH - right)}" y2="{_f(gy)}" '
                    f'stroke="#d6dde5"/>')
        body.append(_text(left - 6, gy + 4, num(value, lang), anchor="end", fill=MUTED))
    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    line = " ".join(f"{_f(x)},{_f(y)}" for x, y in coords)
    base = top + plot_h
    area = f"M{_f(coords[0][0])},{_f(base)} L" + " L".join(f"{_f(x)},{_f(y)}" for x, y in coords) \
        + f" L{_f(coords[-1][0])},{_f(base)} Z"
    body.append(f'<path d="{area}" fill="{escape(color)}" fill-opacity="0.15"/>')
    body.append(f'<polyline points="{line}" fill="none" stroke="{escape(color)}" stroke-width="2"/>')
    ticks = sorted({round(i * (len(points) - 1) / 5) for i in range(6)})
    for i in ticks:
        x, _ = xy(i, 0)
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        body.append(f'<line x1="{_f(x)}" y1="{_f(base)}" x2="{_f(x)}" y2="{_f(base + 4)}" '
                    f'stroke="{MUTED}"/>')
        body.append(_text(x, base + 18, short_date(points[i][0], lang), anchor=anchor, fill=MUTED))
    lx, ly = coords[-1]
    last = points[-1]
    body.append(f'<circle cx="{_f(lx)}" cy="{_f(ly)}" r="4" fill="{escape(color)}">'
                f'<title>{escape(short_date(last[0], lang))}: {escape(num(last[1], lang))}</title></circle>')
    body.append(_text(lx - 6, max(ly - 8, top + 10), num(last[1], lang), anchor="end",
                      fill=color, weight="bold", cls="last-value"))
    return _svg(chart_id, title, desc, height, body)
