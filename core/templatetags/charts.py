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


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int | float]


def nice_step(largest: float, ticks: int = 4) -> float:
    """The smallest step of 1, 2 or 5 times a power of ten that covers `largest` in at most `ticks` steps."""
    if largest <= 0:
        return 1
    rough = largest / ticks
    magnitude = 10 ** math.floor(math.log10(rough))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)


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
    step = nice_step(largest)
    top_value = step * max(1, math.ceil(largest / step))
    baseline = TOP + plot_height

    ticks = []
    for n in range(round(top_value / step) + 1):
        value = n * step
        ticks.append({"y": round(baseline - value / top_value * plot_height, 1), "label": _number(value)})

    group_width = plot_width / max(len(labels), 1)
    bar_width = group_width * GROUP_FILL / len(series)
    bars, x_labels = [], []
    for i, label in enumerate(labels):
        group_left = LEFT + i * group_width + group_width * (1 - GROUP_FILL) / 2
        x_labels.append({"x": round(LEFT + (i + 0.5) * group_width, 1), "text": label})
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
        "x_label_y": baseline + 20,
        "ticks": ticks,
        "bars": bars,
        "x_labels": x_labels,
        "series": series,
        "label_heading": label_heading,
        "rows": [{"label": label, "values": [_number(s.values[i]) for s in series]} for i, label in enumerate(labels)],
    }
