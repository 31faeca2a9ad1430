"""Charts drawn on the server as inline SVG.

No JavaScript and no inline styles, so the Content Security Policy stays strict: geometry is computed
here and written as SVG attributes, colours come from classes in marketsafe.css. Each chart is an
`<svg role="img">` named by its `<title>` and summarised by its `<desc>`, followed by the same figures
as a data table for screen readers, keyboard users and anyone who wants the exact numbers.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django import template

register = template.Library()

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 36
#: Share of a group's width taken by its bars (the rest separates the groups).
GROUP_FILL = 0.7
#: Colour classes defined in marketsafe.css (chart-series-0 … chart-series-3).
MAX_SERIES = 4
#: Width of one character of an axis label (12 px text), generously: used to keep labels apart.
CHAR_WIDTH = 7.5
#: Space between two labels of the x axis, and between a label's two lines.
LABEL_GAP, LINE_HEIGHT = 6, 13


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int | float]


def nice_step(largest: float, ticks: int = 4, *, integer: bool = False) -> float:
    """The smallest step of 1, 2 or 5 times a power of ten that covers `largest` in at most `ticks` steps;
    at least 1 when the figures are counts (`integer`), so that no tick reads "half an application"."""
    if largest <= 0:
        return 1
    rough = largest / ticks
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return max(step, 1) if integer else step


def x_axis_labels(labels: Sequence[str], group_width: float) -> list[dict]:
    """The x axis's labels, kept from overlapping: "Dec 2025" is written as "Dec" over "2025", and the
    second line only where it changes ("Jan" over "2026", then "Feb", "Mar"…); when even the first lines
    do not fit side by side, every n-th label is written (all of them are in the data table)."""
    lines = [label.split(" ", 1) for label in labels]
    widest = max((len(parts[0]) for parts in lines), default=0) * CHAR_WIDTH
    every = max(1, math.ceil((widest + LABEL_GAP) / group_width)) if group_width > 0 else 1
    shown, previous_second = [], None
    for i, parts in enumerate(lines):
        if i % every:
            continue
        second = parts[1] if len(parts) > 1 else ""
        shown.append({"index": i, "first": parts[0], "second": second if second != previous_second else ""})
        previous_second = second
    return shown


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


@register.inclusion_tag("marketsafe/bar_chart.html")
def bar_chart(chart_id: str, title: str, label_heading: str, labels: Sequence[str], series: Sequence[Series]) -> dict:
    """A grouped bar chart: one group per label, one bar per series.

    `chart_id` makes the element ids unique on the page; `label_heading` heads the labels' column of the
    data table (e.g. "Week").
    """
    if not 1 <= len(series) <= MAX_SERIES:
        raise ValueError(f"A bar chart shows 1 to {MAX_SERIES} series, not {len(series)}.")
    if any(len(s.values) != len(labels) for s in series):
        raise ValueError("Every series needs one value per label.")
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    largest = max((v for s in series for v in s.values), default=0)
    counts = all(isinstance(v, int) for s in series for v in s.values)
    step = nice_step(largest, integer=counts)
    top_value = step * max(1, math.ceil(largest / step))
    baseline = TOP + plot_height

    ticks = []
    for n in range(round(top_value / step) + 1):
        value = n * step
        ticks.append({"y": round(baseline - value / top_value * plot_height, 1), "label": _number(value)})

    group_width = plot_width / max(len(labels), 1)
    bar_width = group_width * GROUP_FILL / len(series)
    x_labels = [
        {**label, "x": round(LEFT + (label["index"] + 0.5) * group_width, 1)}
        for label in x_axis_labels(labels, group_width)
    ]
    bars = []
    for i, label in enumerate(labels):
        group_left = LEFT + i * group_width + group_width * (1 - GROUP_FILL) / 2
        for j, s in enumerate(series):
            height = s.values[i] / top_value * plot_height
            bars.append(
                {
                    "series": j,
                    "x": round(group_left + j * bar_width, 1),
                    "y": round(baseline - height, 1),
                    "width": round(bar_width, 1),
                    "height": round(height, 1),
                    "text": f"{label}: {_number(s.values[i])} {s.name.lower()}",
                }
            )

    return {
        "id": chart_id,
        "title": title,
        "description": "; ".join(f"{s.name}: {_number(sum(s.values))} in total" for s in series),
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right_edge": WIDTH - RIGHT,
        "axis_label_x": LEFT - 6,
        "x_label_y": baseline + 15,
        "line_height": LINE_HEIGHT,
        "ticks": ticks,
        "bars": bars,
        "x_labels": x_labels,
        "series": series,
        "label_heading": label_heading,
        "rows": [{"label": label, "values": [_number(s.values[i]) for s in series]} for i, label in enumerate(labels)],
    }
