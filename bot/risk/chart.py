"""The digest's chart: items per department by category, and at-risk items week by week.

matplotlib is imported inside the function and drawn on an Agg canvas (the object API, no
pyplot and its global state), so importing this module touches nothing, the bot never needs
a display, and a chart can be drawn in a worker thread.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiogram.utils.i18n import gettext as _

CATEGORY_COLOURS = (
    ("done", "#2e7d32"),
    ("on_track", "#81c784"),
    ("at_risk", "#f9a825"),
    ("overdue", "#c62828"),
    ("not_reported", "#b0bec5"),
)


@dataclass(frozen=True)
class ChartBar:
    label: str
    counts: dict[str, int]


def _category_labels() -> dict[str, str]:
    return {
        "done": _("done"),
        "on_track": _("on track"),
        "at_risk": _("at risk"),
        "overdue": _("overdue"),
        "not_reported": _("not reported"),
    }


def render_chart(
    *, bars: Sequence[ChartBar], weekly: Sequence[tuple[str, int]], year: int
) -> bytes:
    """A PNG sized for a phone screen: tall, large type, labels in the reader's language.

    The legend stands beside the bars; the week-by-week panel appears once there are at
    least two stored weeks to compare (a single point says nothing a count does not).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    labels = _category_labels()
    ordered = sorted(bars, key=lambda bar: sum(bar.counts.values()))
    height = max(4.0, 0.6 * len(ordered) + 1.5)
    trend = len(weekly) >= 2
    figure = Figure(figsize=(9, height + (3.2 if trend else 0.4)), dpi=110)
    FigureCanvasAgg(figure)
    if trend:
        top, bottom = figure.subplots(2, 1, gridspec_kw={"height_ratios": [height, 2.6]})
    else:
        top, bottom = figure.subplots(1, 1), None
    names = [textwrap.fill(bar.label, 26) for bar in ordered]
    positions = range(len(ordered))
    # Every segment of every bar in one collection: drawn in one call, where barh would make
    # and draw a patch per segment (most of the drawing time).
    segments, colours = [], []
    for position, bar in zip(positions, ordered, strict=True):
        left = 0
        for key, colour in CATEGORY_COLOURS:
            right = left + bar.counts.get(key, 0)
            y0, y1 = position - 0.35, position + 0.35
            segments.append([(left, y0), (left, y1), (right, y1), (right, y0)])
            colours.append(colour)
            left = right
    stacked = PolyCollection(segments, facecolors=colours, edgecolors="none", linewidths=0)
    stacked.sticky_edges.x.append(0)  # the bars start at the axis, as barh's do
    top.add_collection(stacked)
    top.autoscale_view()
    top.set_yticks(list(positions), names, fontsize=11)
    top.set_xlabel(_("items"), fontsize=11)
    top.set_title(
        textwrap.fill(_("Road Map {year}: items by department").format(year=year), 48),
        fontsize=14,
        fontweight="bold",
        loc="left",
    )
    top.legend(
        handles=[
            Patch(facecolor=colour, edgecolor="none", label=labels[key])
            for key, colour in CATEGORY_COLOURS
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=11,
        frameon=False,
    )
    top.grid(axis="x", alpha=0.3)
    top.spines[["top", "right"]].set_visible(False)
    if bottom is not None:
        _trend(bottom, weekly)
    figure.tight_layout()
    # tight_layout leaves a placeholder layout engine behind, and with any engine set savefig
    # draws the whole figure once more before drawing it for real: a third of the time.
    figure.set_layout_engine(None)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _trend(bottom: Any, weekly: Sequence[tuple[str, int]]) -> None:
    weeks = [label for label, _count in weekly]
    counts = [count for _label, count in weekly]
    bottom.plot(weeks, counts, marker="o", color="#c62828", linewidth=2)
    for x, y in zip(weeks, counts, strict=True):
        bottom.annotate(
            str(y), (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=9
        )
    bottom.set_title(_("At-risk items week by week"), fontsize=13, loc="left")
    bottom.set_ylim(bottom=0, top=max([*counts, 1]) * 1.25)
    bottom.tick_params(axis="x", labelsize=10, rotation=30)
    bottom.grid(axis="y", alpha=0.3)
    bottom.spines[["top", "right"]].set_visible(False)
