"""Geometry of the coverage-over-time chart, drawn server-side as SVG by ``templates/partials/chart.html``.

Pure: bins in, bar rectangles and labels out. The template escapes every label; no markup is built here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CHART_WIDTH = 600
CHART_HEIGHT = 120
AXIS_HEIGHT = 18  # room under the bars for the first and last time labels
BAR_GAP = 2


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    first_label: str
    last_label: str
    peak: int
    summary: str  # the chart in words, for screen readers


def _label(when: datetime) -> str:
    return when.strftime("%d %b %H:%M")


def coverage_chart(bins: list[tuple[datetime, int]]) -> Chart | None:
    """Bars for (bin start, article count) pairs; None when there is nothing to draw."""
    if not bins:
        return None
    peak = max(count for _, count in bins) or 1
    plot_height = CHART_HEIGHT - AXIS_HEIGHT
    slot = CHART_WIDTH / len(bins)
    bars = []
    for i, (start, count) in enumerate(bins):
        height = plot_height * count / peak
        bars.append(Bar(x=round(i * slot + BAR_GAP / 2, 1), y=round(plot_height - height, 1),
                        width=round(max(1.0, slot - BAR_GAP), 1), height=round(height, 1), count=count,
                        label=f"{_label(start)}: {count} article{'s' if count != 1 else ''}"))  # fmt: skip
    total = sum(count for _, count in bins)
    summary = f"{total} articles between {_label(bins[0][0])} and {_label(bins[-1][0])}, at most {peak} in one interval"
    return Chart(CHART_WIDTH, CHART_HEIGHT, bars, _label(bins[0][0]), _label(bins[-1][0]), peak, summary)
