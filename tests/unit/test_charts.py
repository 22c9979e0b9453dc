"""The console's SVG charts: well-formed standalone SVG, accessible, every text escaped, the
numbers printed and the bars drawn to scale."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from api import charts

NS = {"s": "http://www.w3.org/2000/svg"}
HOSTILE = '<script>alert("x")</script> & Dinas \'Uji\''
STATES = [charts.Series("Selesai", charts.DONE), charts.Series("Menunggu", charts.PENDING),
          charts.Series("Terlambat", charts.OVERDUE)]


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything not well-formed
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def _visible(text: ET.Element) -> str:
    """What a <text> shows: its own text and what follows its children (not their tooltips)."""
    return (text.text or "") + "".join(child.tail or "" for child in text)


def _texts(root: ET.Element) -> list[str]:
    return [_visible(t) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def _accessible(root: ET.Element, title: str) -> None:
    assert root.get("role") == "img" and root.get("aria-label") == title
    first = list(root)[0]
    assert first.tag.endswith("title") and first.text == title
    desc = root.find("s:desc", NS)
    assert desc is not None and root.get("aria-describedby") == desc.get("id")


def _all_charts() -> list[str]:
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(10)]
    return [
        str(charts.stacked_bars(chart_id="a", title=HOSTILE, desc=HOSTILE, series=STATES,
                                bars=[charts.Bar(HOSTILE, (3, 2, 1), href="/x?a=1&b=<2>")])),
        str(charts.value_bars(chart_id="b", title=HOSTILE, desc=HOSTILE,
                              bars=[charts.ValueBar(HOSTILE, 0.5, HOSTILE, href="/y?q=&")])),
        str(charts.bound_bars(chart_id="c", title=HOSTILE, desc=HOSTILE, ok_label=HOSTILE,
                              bad_label=HOSTILE, bars=[charts.BoundBar(HOSTILE, 0.8, HOSTILE, 0.7,
                                                                       HOSTILE, False)])),
        str(charts.line_chart(chart_id="d", title=HOSTILE, desc=HOSTILE,
                              points=[(d, n) for n, d in enumerate(days)])),
    ]


@pytest.mark.parametrize("svg", _all_charts(), ids=["stacked", "value", "bound", "line"])
def test_every_chart_is_well_formed_accessible_and_escaped(svg: str) -> None:
    assert "<script" not in svg and "& " not in svg
    root = _parse(svg)
    _accessible(root, HOSTILE)
    assert root.find("s:desc", NS).text == HOSTILE  # escaped in the markup, intact when read
    assert root.get("viewBox", "").startswith("0 0 720 ")
    for link in root.iter("{http://www.w3.org/2000/svg}a"):
        assert link.get("href") in ("/x?a=1&b=<2>", "/y?q=&")


def test_stacked_bars_print_the_numbers_and_scale_to_the_largest_total() -> None:
    svg = charts.stacked_bars(chart_id="kemajuan", title="Kemajuan", desc="d", series=STATES,
                              bars=[charts.Bar("Dinas A", (30, 20, 10), href="/unit/1"),
                                    charts.Bar("Dinas B", (10, 0, 20)),
                                    charts.Bar("Dinas C", (0, 0, 0))])
    root = _parse(str(svg))
    texts = _texts(root)
    for label in ("Selesai", "Menunggu", "Terlambat", "Dinas A", "Dinas B", "30", "20", "10",
                  "60"):
        assert label in texts
    rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.find("s:title", NS)
             is not None]
    widths = {r.find("s:title", NS).text: float(r.get("width")) for r in rects}
    assert widths["Dinas A · Selesai: 30"] == pytest.approx(charts.BAR_W / 2)  # 30 of the top 60
    assert widths["Dinas B · Terlambat: 20"] == pytest.approx(charts.BAR_W / 3, abs=0.1)
    assert not any(k.startswith("Dinas B · Menunggu") for k in widths)  # zero: no segment
    assert sum(v for k, v in widths.items() if k.startswith("Dinas A")) == pytest.approx(charts.BAR_W)
    assert root.find("s:a", NS).get("href") == "/unit/1"  # the bar links to the drill-down
    assert "0" in texts  # an empty unit still shows its total


def test_normalised_bars_show_shares() -> None:
    svg = charts.stacked_bars(chart_id="p", title="Predikat", desc="d", normalise=True,
                              series=STATES[:2], bars=[charts.Bar("Unit", (1, 3), note="4 dinilai")],
                              lang="id")
    texts = _texts(_parse(str(svg)))
    assert "75%" in texts and "4 dinilai" in texts


def test_long_labels_are_cut_with_the_whole_label_kept() -> None:
    name = "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Contoh"
    root = _parse(str(charts.value_bars(chart_id="v", title="t", desc="d", bars=[
        charts.ValueBar(name, 1.7, "170%")])))
    label = next(t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.find("s:title", NS)
                 is not None)
    assert label.find("s:title", NS).text == name and label.text is None
    assert _visible(label).endswith("…") and _visible(label).startswith("Dinas Kependudukan")
    bar = [r for r in root.iter("{http://www.w3.org/2000/svg}rect")][1]
    assert float(bar.get("width")) == charts.BAR_W  # a fraction above 1 is clamped


def test_bound_bars_mark_the_bound_and_colour_the_breach() -> None:
    root = _parse(str(charts.bound_bars(chart_id="k", title="Kurva", desc="d", ok_label="sesuai",
                                        bad_label="melanggar", bars=[
        charts.BoundBar("Baik paling banyak 70%", 0.8, "4/5 (80%)", 0.7, "≤ 70%", False),
        charts.BoundBar("minimal 1 orang", 0.0, "0/5 (0%)", None, "≥ 1 orang", True)])))
    lines = list(root.iter("{http://www.w3.org/2000/svg}line"))
    assert len(lines) == 1 and float(lines[0].get("x1")) == pytest.approx(
        charts.BOUND_X + 0.7 * charts.BOUND_W)
    found = {r.find("s:title", NS).text: r.get("fill") for r in
             root.iter("{http://www.w3.org/2000/svg}rect") if r.find("s:title", NS) is not None}
    assert found == {"Baik paling banyak 70%: 4/5 (80%)": charts.BAD,
                     "minimal 1 orang: 0/5 (0%)": charts.OK}
    assert {"≤ 70%", "≥ 1 orang", "4/5 (80%)", "Baik paling banyak 70%"} <= set(_texts(root))
    outlined = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("stroke")]
    assert len(outlined) == 1 and outlined[0].get("stroke") == charts.BAD  # the broken rule


def test_line_chart_draws_every_day_and_prints_the_last_value() -> None:
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(31)]
    values = [0] * 4 + [3, 3, 2, 3, 5, 6] + [5] * 21
    root = _parse(str(charts.line_chart(chart_id="t", title="Terlambat", desc="d",
                                        points=list(zip(days, values, strict=True)), lang="en")))
    points = root.find("s:polyline", NS).get("points").split()
    assert len(points) == 31
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[0] == max(ys) and ys[9] == min(ys)  # zero at the bottom, the peak of 6 highest
    last = next(t for t in root.iter("{http://www.w3.org/2000/svg}text")
                if t.get("class") == "last-value")
    assert last.text == "5"
    texts = _texts(root)
    assert "1 Jan" in texts and "31 Jan" in texts
    assert texts[:3] == ["0", "3", "6"]  # the axis: the peak of 6 on top, a whole midline


@pytest.mark.parametrize(("peak", "axis"), [(1, ["0", "1", "2"]), (7, ["0", "4", "8"]),
                                            (54, ["0", "30", "60"]), (130, ["0", "100", "200"])])
def test_the_axis_top_is_even_and_close_to_the_peak(peak: int, axis: list[str]) -> None:
    root = _parse(str(charts.line_chart(chart_id="y", title="t", desc="d", points=[
        (date(2027, 1, 1), 0), (date(2027, 1, 2), peak)])))
    assert _texts(root)[:3] == axis


def test_a_long_legend_wraps_inside_the_chart() -> None:
    series = [charts.Series(name, color) for name, color in zip(
        ("Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang"),
        charts.PREDIKAT_COLORS, strict=True)]
    root = _parse(str(charts.stacked_bars(chart_id="w", title="t", desc="d", series=series,
                                          normalise=True, bars=[charts.Bar("U", (1, 1, 1, 1, 1))])))
    keys = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("width") == "12"]
    assert len(keys) == 5 and len({k.get("y") for k in keys}) == 2  # two lines of keys
    labels = {t.text: float(t.get("x")) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert all(labels[s.label] + 7 * len(s.label) <= charts.WIDTH for s in series)
    bar_y = min(float(r.get("y")) for r in root.iter("{http://www.w3.org/2000/svg}rect")
                if r.find("s:title", NS) is not None)
    assert bar_y > max(float(k.get("y")) for k in keys) + 12  # the bars start below the keys


def test_single_point_and_empty_charts() -> None:
    root = _parse(str(charts.line_chart(chart_id="one", title="t", desc="d",
                                        points=[(date(2027, 3, 1), 2)])))
    assert "2" in _texts(root) and "1 Mar" in _texts(root)
    for svg in (charts.line_chart(chart_id="e", title="t", desc="d", points=[], empty="Kosong"),
                charts.stacked_bars(chart_id="e2", title="t", desc="d", series=STATES, bars=[],
                                    empty="Kosong"),
                charts.value_bars(chart_id="e3", title="t", desc="d", bars=[], empty="Kosong")):
        root = _parse(str(svg))
        _accessible(root, "t")
        assert _texts(root) == ["Kosong"]


def test_numbers_follow_the_language() -> None:
    assert charts.num(1234567, "id") == "1.234.567" and charts.num(1234567, "en") == "1,234,567"
    assert charts.num(2.5, "id") == "2,5" and charts.pct(0.6667, "id") == "66,7%"
    assert charts.pct(0.5, "en") == "50%" and charts.pct(2 / 3, "en") == "66.7%"
    assert charts.short_date(date(2027, 8, 17), "id") == "17 Agu"
    assert charts.short_date(date(2027, 8, 17), "en") == "17 Aug"
