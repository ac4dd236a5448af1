"""A job's counts as a bar chart: the geometry here, the SVG in ``templates/job.html``.

Horizontal bars, one row per outcome, so a 20-bit string reads as text rather than as a slanted
tick label. Up to :data:`SORT_ABOVE` outcomes keep their bitstring order (a Bell pair reads 00, 11);
more are sorted largest first, and beyond :data:`MAX_BARS` the rest are summed into one last bar,
so a 20-qubit job's thousand outcomes still make a page one can read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: Outcomes drawn at most; the others share one bar.
MAX_BARS = 24
#: Above this many outcomes, bars are sorted by count (largest first) instead of by bitstring.
SORT_ABOVE = 16
#: Geometry (SVG user units): one row's height, the bars' longest length, a character's width.
ROW = 22
BAR_MAX = 360
CHAR = 8
GAP = 12


@dataclass(frozen=True)
class Bar:
    """One row of the chart: an outcome (or the rest), its count and where it is drawn."""

    label: str
    count: int
    share: float
    y: int
    width: float


@dataclass(frozen=True)
class Histogram:
    """Every bar, and the size of the drawing."""

    bars: tuple[Bar, ...]
    total: int
    outcomes: int
    label_width: int
    width: int
    height: int
    row: int = ROW


def histogram(counts: Mapping[str, int]) -> Histogram:
    """The chart of ``counts`` (outcome -> count)."""
    items = sorted(counts.items())
    if len(items) > SORT_ABOVE:
        items.sort(key=lambda item: (-item[1], item[0]))
    if len(items) > MAX_BARS:
        rest = items[MAX_BARS - 1 :]
        items = [*items[: MAX_BARS - 1], (f"{len(rest)} others", sum(c for _, c in rest))]
    total = sum(counts.values())
    largest = max((count for _, count in items), default=0)
    label_width = CHAR * max((len(label) for label, _ in items), default=1) + GAP
    bars = tuple(
        Bar(
            label=label,
            count=count,
            share=count / total if total else 0.0,
            y=index * ROW,
            width=round(BAR_MAX * count / largest, 1) if largest else 0.0,
        )
        for index, (label, count) in enumerate(items)
    )
    # room after the longest bar for its count and share ("1000 (100.0%)")
    width = label_width + BAR_MAX + CHAR * 16
    return Histogram(bars, total, len(counts), label_width, width, max(1, len(bars)) * ROW)


__all__ = ["MAX_BARS", "SORT_ABOVE", "Bar", "Histogram", "histogram"]
