"""The server-rendered SVG bar chart: geometry, accessibility and the CSP (no scripts, no inline styles)."""

import itertools
import re

import pytest
from django.template.loader import render_to_string

from core.templatetags.charts import CHAR_WIDTH, HEIGHT, TOP, WIDTH, Series, bar_chart, nice_step


@pytest.mark.parametrize(
    ("largest", "step"), [(0, 1), (3, 1), (4, 1), (7, 2), (9, 5), (40, 10), (41, 20), (1_234, 500), (0.3, 0.1)]
)
def test_the_step_is_a_round_number_covering_the_largest_value_in_four_steps(largest, step):
    assert nice_step(largest) == pytest.approx(step)


@pytest.mark.parametrize(("largest", "step"), [(0, 1), (2, 1), (3, 1), (1, 1), (7, 2)])
def test_counts_step_by_whole_numbers(largest, step):
    assert nice_step(largest, integer=True) == step


def test_a_chart_of_counts_has_no_half_ticks():
    context = chart(series=[Series("Applications", [1, 2, 0])])
    assert [tick["label"] for tick in context["ticks"]] == ["0", "1", "2"]


def test_a_chart_of_measures_keeps_fractional_ticks():
    context = chart(series=[Series("Hours", [0.5, 1.5, 2.0])])
    assert [tick["label"] for tick in context["ticks"]] == ["0", "0.5", "1", "1.5", "2"]


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def test_month_labels_are_written_on_two_lines_without_overlapping():
    labels = [f"{month} 2025" for month in MONTHS[6:]] + [f"{month} 2026" for month in MONTHS[:6]]
    context = chart(labels=labels, series=[Series("Filed", list(range(12)))])
    x_labels = context["x_labels"]
    assert [(label["first"], label["second"]) for label in x_labels] == [
        ("Jul", "2025"),
        *[(month, "") for month in MONTHS[7:]],
        ("Jan", "2026"),
        *[(month, "") for month in MONTHS[1:6]],
    ]
    spacing = min(b["x"] - a["x"] for a, b in itertools.pairwise(x_labels))
    assert spacing > 3 * CHAR_WIDTH


def test_too_many_labels_are_thinned_out_so_that_none_overlap():
    labels = [f"{day} Mar" for day in range(1, 32)] + [f"{day} Apr" for day in range(1, 31)]
    x_labels = chart(labels=labels, series=[Series("Filed", [1] * 61)])["x_labels"]
    assert len(x_labels) < 61
    assert x_labels[0]["first"] == "1" and x_labels[0]["second"] == "Mar"
    spacing = min(b["x"] - a["x"] for a, b in itertools.pairwise(x_labels))
    assert spacing >= 2 * CHAR_WIDTH


def chart(**overrides) -> dict:
    arguments = {
        "chart_id": "weekly",
        "title": "Filed and decided per week",
        "label_heading": "Week of",
        "labels": ["3 Mar", "10 Mar", "17 Mar"],
        "series": [Series("Filed", [10, 0, 40]), Series("Decided", [5, 20, 35])],
    } | overrides
    return bar_chart(**arguments)


def test_bars_are_proportional_and_inside_the_plot():
    context = chart()
    bars = {(bar["series"], bar["x"]): bar for bar in context["bars"]}
    assert len(bars) == 6
    heights = [bar["height"] for bar in context["bars"]]
    assert max(heights) == HEIGHT - TOP - 36  # 40 is the top of the scale (4 steps of 10)
    tallest = max(context["bars"], key=lambda bar: bar["height"])
    assert tallest["text"] == "17 Mar: 40 filed"
    filed_10, decided_5 = context["bars"][0], context["bars"][1]
    assert filed_10["height"] == pytest.approx(2 * decided_5["height"], abs=0.2)
    assert all(bar["x"] >= 0 and bar["x"] + bar["width"] <= WIDTH for bar in context["bars"])
    assert [tick["label"] for tick in context["ticks"]] == ["0", "10", "20", "30", "40"]


def test_an_all_zero_chart_still_has_a_scale():
    context = chart(series=[Series("Filed", [0, 0, 0])])
    assert [tick["label"] for tick in context["ticks"]] == ["0", "1"]
    assert all(bar["height"] == 0 for bar in context["bars"])


@pytest.mark.parametrize(
    "series",
    [[Series("Filed", [1, 2])], [], [Series(str(n), [1, 2, 3]) for n in range(5)]],
    ids=["short series", "no series", "too many series"],
)
def test_bad_input_is_refused(series):
    with pytest.raises(ValueError):
        chart(series=series)


def test_the_rendered_chart_is_accessible_and_csp_safe():
    html = render_to_string("marketsafe/bar_chart.html", chart())
    assert '<svg class="chart-svg" viewBox="0 0 720 260" role="img" aria-labelledby="weekly-title weekly-desc"' in html
    assert '<title id="weekly-title">Filed and decided per week</title>' in html
    assert '<desc id="weekly-desc">Filed: 50 in total; Decided: 60 in total</desc>' in html
    # The same figures as a table, with a caption and headers.
    assert "<caption>Filed and decided per week</caption>" in html
    assert '<th scope="col">Week of</th><th scope="col">Filed</th><th scope="col">Decided</th>' in html
    assert '<tr><th scope="row">17 Mar</th><td>40</td><td>35</td></tr>' in html
    assert not re.search(r"<script|style=|on\w+=", html)
