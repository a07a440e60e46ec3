"""The report's charts as inline SVG, drawn in plain Python: no script, no external file, nothing to load.

Each chart is an `<svg role="img">` named by its `<title>` and summarised by its `<desc>`, with axis
labels, a legend and the values written on it (and in a tooltip on each mark), so it reads without
colour and without a mouse. Every colour has at least 4.5:1 contrast against white, which also holds
for white text on it. A chart with nothing to draw says so in the same frame (`data-state="empty"`)
instead of drawing empty axes; one with data has `data-state="data"`.

The generic drawings (`stacked_bars`, `grouped_bars`, `horizontal_bars`, `line_chart`) take labels
and series; the five report charts (`contacts_chart` ... `escalations_chart`) pick them from the
dict of `kpi_rollups.report`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from chalicelib.reporting import formats

#: Series colours, each at least 4.5:1 against white: blue, orange, green, purple, red, grey.
PALETTE = ("#0b4f8a", "#a34400", "#1b6b34", "#74308c", "#a3123a", "#505050")
TEXT = "#1a1a1a"
WHITE = "#ffffff"
AXIS = "#6b6b6b"
GRID = "#d9d9d9"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
WIDTH = 640
#: Rough width of one character of 12-unit text, to lay labels out without measuring them.
CHAR = 6.6
#: Longer category labels are cut, with the whole label in a tooltip.
MAX_LABEL = 30
#: Above this many points per series a line chart marks its values with tooltips only.
MAX_POINT_LABELS = 16


@dataclass(frozen=True)
class Series:
    """One named row of values, one per category (None: no value there)."""

    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Chart:
    """A drawn chart and the heading the page shows above it."""

    id: str
    heading: str
    svg: Markup


# --- drawing helpers -----------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: int = 12,
    fill: str = TEXT,
    rotate: float = 0,
    tooltip: str = "",
    weight: str = "",
) -> str:
    turn = f' transform="rotate({_n(rotate)} {_n(x)} {_n(y)})"' if rotate else ""
    bold = f' font-weight="{weight}"' if weight else ""
    tip = f"<title>{escape(tooltip)}</title>" if tooltip else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{bold}{turn}>'
        f"{tip}{escape(content)}</text>"
    )


def _rect(x: float, y: float, width: float, height: float, fill: str, tooltip: str = "") -> str:
    tip = f"<title>{escape(tooltip)}</title>" if tooltip else ""
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(width, 0))}" height="{_n(max(height, 0))}" '
        f'fill="{fill}">{tip}</rect>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: float = 1, dash: str = "") -> str:
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
        f'stroke-width="{_n(width)}"{dashes}/>'
    )


def _svg(chart_id: str, title: str, description: str, height: float, body: list[str], state: str) -> Markup:
    ident = escape(chart_id)
    return Markup(
        f'<svg class="chart" id="{ident}" data-state="{state}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" viewBox="0 0 {WIDTH} {_n(height)}" '
        f'width="{WIDTH}" height="{_n(height)}" font-family="{escape(FONT)}">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def no_data(chart_id: str, title: str, message: str) -> Markup:
    """The chart's frame with a sentence in it, for when there is nothing to draw."""
    height = 120
    body = [
        f'<rect x="1" y="1" width="{WIDTH - 2}" height="{height - 2}" fill="{WHITE}" stroke="{AXIS}" '
        'stroke-dasharray="6 4"/>',
        _text(WIDTH / 2, height / 2 + 5, message, anchor="middle", size=15),
    ]
    return _svg(chart_id, title, message, height, body, "empty")


def _ticks(top: float, whole: bool, count: int = 5) -> list[float]:
    """Round values from 0 to at least `top`, about `count` steps of 1, 2, 2.5 or 5 times a power of ten."""
    top = top if top > 0 else 1
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if whole:
        step = max(1, math.ceil(step))
    return [round(i * step, 10) for i in range(math.ceil(top / step - 1e-9) + 1)]


def _tick_label(value: float, step: float) -> str:
    decimals = 0 if float(step).is_integer() else len(f"{step:.10f}".rstrip("0").split(".")[1])
    return formats.number(value, decimals)


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _legend(names: Sequence[str], x: float, y: float, marker: Callable[[int, float, float], str]) -> list[str]:
    parts = []
    for index, name in enumerate(names):
        parts.append(marker(index, x, y))
        parts.append(_text(x + 26, y + 4, name, size=13))
        x += 26 + len(name) * CHAR * 13 / 12 + 24
    return parts


def _swatch(index: int, x: float, y: float) -> str:
    return f'<rect x="{_n(x)}" y="{_n(y - 7)}" width="18" height="12" fill="{PALETTE[index % len(PALETTE)]}"/>'


def _label_room(categories: Sequence[str], band: float) -> tuple[str, float]:
    """How category labels fit under a plot: "level", "spaced" (level, every few) or "slanted";
    and the height they take."""
    longest = max((len(_short(c)) for c in categories), default=0) * CHAR
    if longest + 10 <= band:
        return "level", 18
    if longest <= 60:
        return "spaced", 18
    return "slanted", longest * math.sin(math.radians(35)) + 14


def _x_labels(categories: Sequence[str], left: float, band: float, y: float) -> list[str]:
    how, _ = _label_room(categories, band)
    longest = max(len(_short(c)) for c in categories) * CHAR
    every = max(1, math.ceil((longest + 10) / band)) if how == "spaced" else max(1, math.ceil(14 / band))
    parts = []
    for index, label in enumerate(categories):
        if how != "level" and index % every:
            continue
        x = left + band * (index + 0.5)
        tip = label if _short(label) != label else ""
        if how == "slanted":
            parts.append(_text(x + 4, y, _short(label), anchor="end", rotate=-35, tooltip=tip))
        else:
            parts.append(_text(x, y, _short(label), anchor="middle", tooltip=tip))
    return parts


def _y_axis(ticks: Sequence[float], scale: Callable[[float], float], left: float, right: float) -> list[str]:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1
    parts = []
    for tick in ticks:
        y = scale(tick)
        parts.append(_line(left, y, right, y, AXIS if tick == 0 else GRID))
        parts.append(_text(left - 8, y + 4, _tick_label(tick, step), anchor="end"))
    return parts


def _axis_titles(x_label: str, y_label: str, left: float, right: float, top: float, bottom: float, height: float):
    middle = (top + bottom) / 2
    return [
        _text((left + right) / 2, height - 10, x_label, anchor="middle", size=13, weight="600"),
        _text(18, middle, y_label, anchor="middle", size=13, rotate=-90, weight="600"),
    ]


@dataclass(frozen=True)
class _Frame:
    """A vertical plot: its edges, the band of each category and the height of the whole chart."""

    left: float
    right: float
    top: float
    bottom: float
    band: float
    height: float


def _frame(categories: Sequence[str], plot_height: float = 220) -> _Frame:
    left, right, top = 72.0, WIDTH - 16.0, 46.0
    band = (right - left) / len(categories)
    _, label_height = _label_room(categories, band)
    bottom = top + plot_height
    return _Frame(left, right, top, bottom, band, bottom + 10 + label_height + 30)


# --- the generic charts --------------------------------------------------------------------------


def stacked_bars(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    empty: str,
) -> Markup:
    """One bar per category with its series stacked bottom up and the total on top; counts, so whole ticks."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    if not categories or not series or not any(totals):
        return no_data(chart_id, title, empty)
    f = _frame(categories)
    ticks = _ticks(max(totals), whole=True)

    def scale(value: float) -> float:
        return f.bottom - (f.bottom - f.top) * value / ticks[-1]

    body = _legend([s.name for s in series], f.left, 18, _swatch) + _y_axis(ticks, scale, f.left, f.right)
    bar = min(f.band * 0.72, 56)
    for index, category in enumerate(categories):
        x = f.left + f.band * index + (f.band - bar) / 2
        base = 0.0
        stacked = sum(1 for one in series if one.values[index])
        for number, one in enumerate(series):
            value = one.values[index] or 0
            if not value:
                continue
            y_top, y_bottom = scale(base + value), scale(base)
            tooltip = f"{category}, {one.name}: {formats.count(value)}"
            body.append(_rect(x, y_top, bar, y_bottom - y_top, PALETTE[number % len(PALETTE)], tooltip))
            if stacked > 1 and y_bottom - y_top >= 15 and bar >= 16:
                middle = (y_top + y_bottom) / 2 + 4
                body.append(_text(x + bar / 2, middle, formats.count(value), anchor="middle", size=11, fill=WHITE))
            base += value
        if totals[index] and bar >= 10:
            body.append(_text(x + bar / 2, scale(totals[index]) - 5, formats.count(totals[index]), anchor="middle"))
    body += _x_labels(categories, f.left, f.band, f.bottom + 18)
    body += _axis_titles(x_label, y_label, f.left, f.right, f.top, f.bottom, f.height)
    parts = [
        f"{c}: {formats.count(t)} ("
        + ", ".join(f"{s.name} {formats.count(s.values[i] or 0)}" for s in series if s.values[i])
        + ")"
        for i, (c, t) in enumerate(zip(categories, totals, strict=True))
        if t
    ]
    return _svg(chart_id, title, f"{title}. " + "; ".join(parts) + ".", f.height, body, "data")


def grouped_bars(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    empty: str,
    whole: bool = False,
    value_text: Callable[[float], str] = formats.number,
    short_text: Callable[[float], str] | None = None,
) -> Markup:
    """Side-by-side bars per category, one per series, each with its value on top (`short_text` when
    `value_text` is too wide for the bar, nothing when neither fits; the tooltip has it); None draws no bar."""
    values = [v for s in series for v in s.values if v is not None]
    if not categories or not values or not any(values):
        return no_data(chart_id, title, empty)
    f = _frame(categories)
    ticks = _ticks(max(values), whole=whole)
    tip = value_text

    def scale(value: float) -> float:
        return f.bottom - (f.bottom - f.top) * value / ticks[-1]

    body = _legend([s.name for s in series], f.left, 18, _swatch) + _y_axis(ticks, scale, f.left, f.right)
    group = min(f.band * 0.8, 64.0 * len(series))
    bar = group / len(series)
    for index, category in enumerate(categories):
        start = f.left + f.band * index + (f.band - group) / 2
        for number, one in enumerate(series):
            value = one.values[index]
            x = start + bar * number
            if value is None:
                body.append(_text(x + bar / 2, f.bottom - 5, formats.NONE, anchor="middle", size=11))
                continue
            y = min(scale(value), f.bottom - 1)
            colour = PALETTE[number % len(PALETTE)]
            body.append(_rect(x + 1, y, bar - 2, f.bottom - y, colour, f"{category}, {one.name}: {tip(value)}"))
            fitting = [t(value) for t in (value_text, short_text) if t and bar >= 4 + len(t(value)) * 6]
            if fitting:
                body.append(_text(x + bar / 2, y - 5, fitting[0], anchor="middle", size=11))
    body += _x_labels(categories, f.left, f.band, f.bottom + 18)
    body += _axis_titles(x_label, y_label, f.left, f.right, f.top, f.bottom, f.height)
    parts = [
        f"{c}: " + ", ".join(f"{s.name} {formats.NONE if s.values[i] is None else tip(s.values[i])}" for s in series)
        for i, c in enumerate(categories)
    ]
    return _svg(chart_id, title, f"{title}. " + "; ".join(parts) + ".", f.height, body, "data")


def horizontal_bars(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    notes: Sequence[str],
    *,
    x_label: str,
    legend: str,
    empty: str,
    maximum: float = 100,
    value_text: Callable[[float | None], str] = formats.percent,
) -> Markup:
    """One bar per row on a fixed 0..maximum scale (percentages), the value and a note after each bar."""
    if not labels or all(v is None for v in values):
        return no_data(chart_id, title, empty)
    longest = max(len(_short(label)) for label in labels) * CHAR
    left = min(max(longest + 20, 90), 300)
    right, top, row = WIDTH - 150.0, 46.0, 28.0
    bottom = top + row * len(labels)
    height = bottom + 62

    def scale(value: float) -> float:
        return left + (right - left) * value / maximum

    body = _legend([legend], left, 18, _swatch)
    for tick in _ticks(maximum, whole=True, count=4):
        x = scale(tick)
        body.append(_line(x, top - 4, x, bottom, AXIS if tick == 0 else GRID))
        body.append(_text(x, bottom + 18, formats.number(tick, 0), anchor="middle"))
    for index, (label, value, note) in enumerate(zip(labels, values, notes, strict=True)):
        y = top + row * index
        tip = label if _short(label) != label else ""
        body.append(_text(left - 10, y + row / 2 + 4, _short(label), anchor="end", tooltip=tip))
        described = f"{value_text(value)} {note}".strip()
        if value is not None:
            body.append(_rect(left, y + 5, scale(value) - left, row - 10, PALETTE[0], f"{label}: {described}"))
        body.append(_text(scale(value or 0) + 6, y + row / 2 + 4, described))
    body.append(_text((left + right) / 2, height - 10, x_label, anchor="middle", size=13, weight="600"))
    parts = [f"{label}: {value_text(v)} {n}".strip() for label, v, n in zip(labels, values, notes, strict=True)]
    return _svg(chart_id, title, f"{title}. " + "; ".join(parts) + ".", height, body, "data")


def _marker(index: int, x: float, y: float, colour: str, tooltip: str = "") -> str:
    """A circle, a square or (every third series) a diamond."""
    tip = f"<title>{escape(tooltip)}</title>" if tooltip else ""
    if index % 3 == 2:
        diamond = f"{_n(x)},{_n(y - 6)} {_n(x + 6)},{_n(y)} {_n(x)},{_n(y + 6)} {_n(x - 6)},{_n(y)}"
        return f'<polygon points="{diamond}" fill="{colour}">{tip}</polygon>'
    if index % 2:
        return f'<rect x="{_n(x - 4.5)}" y="{_n(y - 4.5)}" width="9" height="9" fill="{colour}">{tip}</rect>'
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="5" fill="{colour}">{tip}</circle>'


def _dash(index: int, legend: bool = False) -> str:
    """Solid, dashed or (every third series) dotted."""
    if index % 3 == 2:
        return "2 3"
    return ("6 3" if legend else "7 4") if index % 2 else ""


def _legend_line(index: int, x: float, y: float) -> str:
    colour = PALETTE[index % len(PALETTE)]
    stroke = _line(x, y - 1, x + 20, y - 1, colour, 2.5, _dash(index, legend=True))
    return stroke + _marker(index, x + 10, y - 1, colour)


def line_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    empty: str,
    y_min: float,
    y_max: float,
    value_text: Sequence[Callable[[float], str]] = (),
) -> Markup:
    """A line per series over the categories, broken where a value is None; a lone value is a marker.
    Series differ by colour, dash and marker shape."""
    if not categories or all(v is None for s in series for v in s.values):
        return no_data(chart_id, title, empty)
    f = _frame(categories)
    step = (y_max - y_min) / 4

    def scale(value: float) -> float:
        return f.bottom - (f.bottom - f.top) * (value - y_min) / (y_max - y_min)

    body = _legend([s.name for s in series], f.left, 18, _legend_line)
    for number in range(5):
        tick = y_min + step * number
        y = scale(tick)
        body.append(_line(f.left, y, f.right, y, AXIS if tick == 0 else GRID))
        body.append(_text(f.left - 8, y + 4, _tick_label(tick, step), anchor="end"))
    points = sum(v is not None for s in series for v in s.values)
    for number, one in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        show = value_text[number] if number < len(value_text) else formats.number
        run: list[str] = []
        runs = []
        for index, value in enumerate([*one.values, None]):
            if value is None:
                if len(run) > 1:
                    runs.append(run)
                run = []
                continue
            run.append(f"{_n(f.left + f.band * (index + 0.5))},{_n(scale(value))}")
        dash = f' stroke-dasharray="{_dash(number)}"' if _dash(number) else ""
        for joined in runs:
            body.append(
                f'<polyline points="{" ".join(joined)}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>'
            )
        for index, value in enumerate(one.values):
            if value is None:
                continue
            x, y = f.left + f.band * (index + 0.5), scale(value)
            body.append(_marker(number, x, y, colour, f"{categories[index]}, {one.name}: {show(value)}"))
            if points <= MAX_POINT_LABELS * len(series):
                below = number % 2 == 1 and y + 30 < f.bottom
                offset = 18 if below else -9
                body.append(_text(x, y + offset, show(value), anchor="middle", size=11))
    body += _x_labels(categories, f.left, f.band, f.bottom + 18)
    body += _axis_titles(x_label, y_label, f.left, f.right, f.top, f.bottom, f.height)
    parts = []
    for number, one in enumerate(series):
        show = value_text[number] if number < len(value_text) else formats.number
        found = [f"{c} {show(v)}" for c, v in zip(categories, one.values, strict=True) if v is not None]
        parts.append(f"{one.name}: " + (", ".join(found) or "no values"))
    return _svg(chart_id, title, f"{title}. " + "; ".join(parts) + ".", f.height, body, "data")


# --- the report's charts -------------------------------------------------------------------------


def _day_label(raw: str) -> str:
    day = date.fromisoformat(raw)
    return f"{day.day} {day:%b}"


def contacts_chart(report: Mapping[str, Any]) -> Markup:
    """Issues opened per day, stacked by the channel that opened them."""
    days = report["days"]
    channels = sorted({c for day in days for c in day["contacts_by_channel"]})
    series = [Series(c, [day["contacts_by_channel"].get(c, 0) for day in days]) for c in channels]
    return stacked_bars(
        "chart-contacts",
        "Contacts per day by channel",
        [_day_label(day["date"]) for day in days],
        series,
        x_label="Day (UTC, day opened)",
        y_label="Issues opened",
        empty="No contacts in this period",
    )


def _hours(value: float) -> str:
    """Hours on a resolution bar: two significant figures below 10, whole hours above."""
    if value >= 10:
        return formats.number(value, 0)
    return f"{value:.2g}" if value >= 0.01 else "<0.01"


def resolution_chart(report: Mapping[str, Any]) -> Markup:
    """Median and p90 of the time to the first resolution, per issue type, in hours."""
    by_type = report["by_type"]
    types = list(by_type)
    median = [formats.hours(by_type[t]["resolution_median_seconds"]) for t in types]
    p90 = [formats.hours(by_type[t]["resolution_p90_seconds"]) for t in types]
    return grouped_bars(
        "chart-resolution",
        "Resolution time by type (hours)",
        types,
        [Series("Median", median), Series("90th percentile", p90)],
        x_label="Issue type",
        y_label="Hours to first resolution",
        empty="No issues resolved in this period",
        value_text=lambda h: formats.duration(h * 3600),
        short_text=_hours,
    )


def sla_chart(report: Mapping[str, Any]) -> Markup:
    """SLA compliance of each (type, step) with a deadline, and the tasks it counts."""
    rows = report["sla_by_step"]
    return horizontal_bars(
        "chart-sla",
        "SLA compliance by type and step",
        [f"{row['type']} / {row['step']}" for row in rows],
        [row["sla_compliance_percent"] for row in rows],
        [f"({row['on_time']}/{row['completed']} on time)" for row in rows],
        x_label="Tasks completed by their deadline (%)",
        legend="SLA compliance %",
        empty="No tasks with a deadline completed in this period",
    )


def satisfaction_chart(report: Mapping[str, Any]) -> Markup:
    """CSAT (%), CES (%) and NPS (points) per answer day on one −100..100 scale; days without answers are gaps."""
    days = report["days"]
    return line_chart(
        "chart-satisfaction",
        "CSAT, CES and NPS per day",
        [_day_label(day["date"]) for day in days],
        [
            Series("CSAT %", [day["csat_percent"] for day in days]),
            Series("NPS", [day["nps"] for day in days]),
            Series("CES %", [day["ces_percent"] for day in days]),
        ],
        x_label="Day (UTC, day answered)",
        y_label="CSAT % / CES % / NPS points",
        empty="No survey answers in this period",
        y_min=-100,
        y_max=100,
        value_text=(formats.number, formats.points, formats.number),
    )


def escalations_chart(report: Mapping[str, Any]) -> Markup:
    """Escalations per level: a task that reached level 2 counts at levels 1 and 2."""
    found = {int(level): count for level, count in report["totals"]["escalations"].items()}
    levels = list(range(1, max(found) + 1)) if found else []
    return grouped_bars(
        "chart-escalations",
        "Escalations by level",
        [f"Level {level}" for level in levels],
        [Series("Escalations", [found.get(level, 0) for level in levels])],
        x_label="Escalation level",
        y_label="Escalations",
        empty="No escalations in this period",
        whole=True,
        value_text=lambda v: formats.count(int(v)),
    )


def report_charts(report: Mapping[str, Any]) -> list[Chart]:
    """The five charts of a report, in the order the page shows them."""
    return [
        Chart("chart-contacts", "Contacts per day by channel", contacts_chart(report)),
        Chart("chart-resolution", "Resolution time by type", resolution_chart(report)),
        Chart("chart-sla", "SLA compliance by type and step", sla_chart(report)),
        Chart("chart-satisfaction", "CSAT, CES and NPS per day", satisfaction_chart(report)),
        Chart("chart-escalations", "Escalations by level", escalations_chart(report)),
    ]
