"""The digest's chart: items per department by category, and at-risk items week by week.

matplotlib is imported inside the functions and drawn on an Agg canvas (the object API, no
pyplot and its global state), so importing this module touches nothing, the bot never needs
a display, and a chart can be drawn in a worker thread.

Only the words differ between languages, so `Chart.pngs` draws everything else once and then,
per language, only that language's words over a copy of it: a digest read in Kazakh and in
Russian builds and draws one figure, not two. The margins are measured from the words (what
`tight_layout` finds, without laying out and measuring every artist of the figure for it).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot.telegram.i18n import ngettext

CATEGORY_COLOURS = (
    ("done", "#2e7d32"),
    ("on_track", "#81c784"),
    ("at_risk", "#f9a825"),
    ("overdue", "#c62828"),
    ("not_reported", "#b0bec5"),
)

DPI = 110
# Read in a chat bubble about 330 pt wide (issue 23): a narrow image (715 pixels), so that
# no text is smaller than 1/40 of the width there (tests/test_chart_phone.py measures it).
WIDTH = 6.5  # inches
EDGE = 0.15  # inches of white around everything
LABEL_SIZE, TITLE_SIZE, TREND_TITLE_SIZE, TICK_SIZE, POINT_SIZE = 12, 15, 14, 12, 12
NAME_WRAP = 22  # characters per line of a department's name
COUNT_COLOUR = "#c62828"  # the at-risk count written at the end of a bar
TREND_HEIGHT = 1.9  # inches of the week-by-week panel itself
TREND_ROTATION = 30  # degrees of the week labels
LINE = 1.2  # matplotlib's line spacing, in font sizes
TICK_SPACE = (3.5 + 3.5) / 72  # a tick's length and its label's pad, in inches
# The legend in font sizes from its corner: matplotlib's own spacing (pads, a handle two
# sizes long, 1.5 sizes a row).
LEGEND_PAD, LEGEND_FIRST_ROW, LEGEND_ROW = 0.9, 1.5, 1.5
LEGEND_TEXT_AT = LEGEND_PAD + 2.0 + 0.8


@dataclass(frozen=True)
class ChartTexts:
    """One language's words on the chart; the numbers are the same in every language."""

    title: str
    axis: str
    categories: dict[str, str]
    trend_title: str
    bar_labels: Sequence[str]  # one per bar, in the order the bars were given
    week_labels: Sequence[str]  # one per week, oldest first


def _category_labels() -> dict[str, str]:
    return {
        "done": _("done"),
        "on_track": _("on track"),
        "at_risk": _("at risk"),
        "overdue": _("overdue"),
        "not_reported": _("not reported"),
    }


def chart_texts(
    *,
    bar_labels: Sequence[str],
    week_labels: Sequence[str],
    year: int,
    at_risk: int | None = None,
) -> ChartTexts:
    """The chart's words in the current locale; the title leads with the at-risk total."""
    if at_risk is None:
        title = _("Road Map {year}: items by department").format(year=year)
    else:
        title = ngettext(
            "Road Map {year}: {count} item at risk",
            "Road Map {year}: {count} items at risk",
            at_risk,
        ).format(year=year, count=at_risk)
    return ChartTexts(
        title=textwrap.fill(title, 26),
        axis=_("items"),
        categories=_category_labels(),
        trend_title=_("At-risk items week by week"),
        bar_labels=[textwrap.fill(label, NAME_WRAP) for label in bar_labels],
        week_labels=list(week_labels),
    )


class Chart:
    """A PNG sized for a phone screen: tall, large type, labels in the reader's language.

    The legend stands beside the bars; the week-by-week panel appears once there are at
    least two stored weeks to compare (a single point says nothing a count does not).
    Everything but the words is drawn once; each language's words are then drawn over a
    copy of that (the words are every language-dependent artist: `_words`).
    """

    def __init__(self, counts: Sequence[dict[str, int]], weekly: Sequence[int]) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import PolyCollection
        from matplotlib.figure import Figure
        from matplotlib.transforms import blended_transform_factory, offset_copy

        # The departments with most items at risk or overdue at the top (drawn last), then
        # the larger ones.
        self._order = sorted(
            range(len(counts)),
            key=lambda n: (_risky(counts[n]), sum(counts[n].values())),
        )
        self._bars_height = max(4.0, 0.6 * len(counts) + 1.5)
        trend = len(weekly) >= 2
        self._height = self._bars_height + (3.2 if trend else 0.4)
        figure = Figure(figsize=(WIDTH, self._height), dpi=DPI)
        self._canvas = FigureCanvasAgg(figure)
        self._figure = figure
        top = self._top = figure.add_axes((0.0, 0.0, 1.0, 1.0))
        # Every segment of every bar in one collection: drawn in one call, where barh would
        # make and draw a patch per segment (most of the drawing time).
        segments, colours = [], []
        for position, index in enumerate(self._order):
            left = 0
            for key, colour in CATEGORY_COLOURS:
                right = left + counts[index].get(key, 0)
                y0, y1 = position - 0.35, position + 0.35
                segments.append([(left, y0), (left, y1), (right, y1), (right, y0)])
                colours.append(colour)
                left = right
        stacked = PolyCollection(
            segments, facecolors=colours, edgecolors="none", linewidths=0, antialiased=False
        )
        stacked.sticky_edges.x.append(0)  # the bars start at the axis, as barh's do
        top.add_collection(stacked)
        top.autoscale_view()
        widest = max((sum(c.values()) for c in counts), default=0)
        top.set_xlim(0, max(widest, 1) * 1.3)  # room for the counts; `_fit` measures it
        # Each bar's length and the numbers written after it, for `_fit` to keep clear of
        # the legend.
        self._bar_ends: list[tuple[int, list[Any]]] = []
        for position, index in enumerate(self._order):  # numbers: the same in every language
            total, risky = sum(counts[index].values()), _risky(counts[index])
            numbers = [
                top.annotate(
                    f"{total}",
                    (total, position),
                    xytext=(4, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=LABEL_SIZE,
                )
            ]
            if risky:
                numbers.append(
                    top.annotate(
                        f"⚠{risky}",
                        (total, position),
                        xytext=(4 + LABEL_SIZE * (0.7 * len(str(total)) + 0.4), 0),
                        textcoords="offset points",
                        ha="left",
                        va="center",
                        fontsize=LABEL_SIZE,
                        fontweight="bold",
                        color=COUNT_COLOUR,
                    )
                )
            self._bar_ends.append((total, numbers))
        top.set_yticks(range(len(counts)))
        top.tick_params(axis="y", labelleft=False)  # the names are words: drawn per language
        top.tick_params(axis="x", labelsize=TICK_SIZE)
        top.grid(axis="x", alpha=0.3)
        top.spines[["top", "right"]].set_visible(False)
        beside_ticks = offset_copy(
            blended_transform_factory(top.transAxes, top.transData),
            fig=figure,
            x=-TICK_SPACE * 72,
            units="points",
        )
        self._names = [
            top.text(
                0,
                position,
                "",
                transform=beside_ticks,
                ha="right",
                va="center_baseline",
                fontsize=LABEL_SIZE,
            )
            for position in range(len(counts))
        ]
        self._title = _title_above(top, fontsize=TITLE_SIZE, fontweight="bold")
        self._axis = top.annotate(
            "",
            (0.5, 0),
            xycoords="axes fraction",
            xytext=(0, -(TICK_SPACE * 72 + TICK_SIZE * LINE + 4)),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=LABEL_SIZE,
        )
        self._legend = _legend(figure, top)
        self._trend: Any = None
        self._trend_title: Any = None
        self._weeks: list[Any] = []
        if trend:
            panel = self._trend = figure.add_axes((0.0, 0.0, 1.0, 1.0))
            _trend(panel, list(weekly))
            below_axis = offset_copy(
                blended_transform_factory(panel.transData, panel.transAxes),
                fig=figure,
                y=-TICK_SPACE * 72,
                units="points",
            )
            self._weeks = [
                panel.text(
                    x,
                    0,
                    "",
                    transform=below_axis,
                    ha="center",
                    va="top",
                    rotation=TREND_ROTATION,
                    rotation_mode="default",
                    fontsize=TICK_SIZE,
                )
                for x in range(len(weekly))
            ]
            self._trend_title = _title_above(panel, fontsize=TREND_TITLE_SIZE)

    def _words(self, texts: ChartTexts) -> list[Any]:
        """Every language-dependent artist, given `texts`' words."""
        pairs = [
            (self._title, texts.title),
            (self._axis, texts.axis),
            *zip(self._names, [texts.bar_labels[index] for index in self._order], strict=True),
            *zip(
                self._legend, [texts.categories[key] for key, _c in CATEGORY_COLOURS], strict=True
            ),
        ]
        if self._trend is not None:
            pairs.append((self._trend_title, texts.trend_title))
            pairs += zip(self._weeks, texts.week_labels, strict=True)
        for artist, words in pairs:
            artist.set_text(words)
        return [artist for artist, _words in pairs]

    def pngs(self, languages: Sequence[ChartTexts]) -> list[bytes]:
        """The chart once per language, the margins fitted to the widest words of them all
        (so that every language's words land on the same drawing). Nothing for no language."""
        from PIL import Image

        if not languages:
            return []
        self._fit(languages)
        canvas, figure = self._canvas, self._figure
        for artist in self._words(languages[0]):
            artist.set_visible(False)
        canvas.draw()
        drawing = canvas.copy_from_bbox(figure.bbox)
        images = []
        for texts in languages:
            canvas.restore_region(drawing)
            for artist in self._words(texts):
                artist.set_visible(True)
                figure.draw_artist(artist)
            pixels = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
            buffer = io.BytesIO()
            # Opaque, so no alpha to store; light compression: two thirds of the default
            # level's time for an eighth more bytes (Telegram recompresses photos anyway).
            pixels.convert("RGB").save(buffer, format="png", compress_level=1)
            images.append(buffer.getvalue())
        return images

    def _fit(self, languages: Sequence[ChartTexts]) -> None:
        """Axes placed in inches from the measured words: the department names on the left,
        the legend on the right, the titles above and the week labels below. Measured
        through the artists themselves, so the drawing reuses matplotlib's cached layouts."""
        renderer = self._canvas.get_renderer()

        def widest(artists: Sequence[Any]) -> float:
            return max((a.get_window_extent(renderer).width for a in artists), default=0) / DPI

        def tallest(artists: Sequence[Any]) -> float:
            return max((a.get_window_extent(renderer).height for a in artists), default=0) / DPI

        names = legend = title = trend_title = weeks = 0.0
        for texts in languages:
            self._words(texts)
            names = max(names, widest(self._names))
            legend = max(legend, widest(self._legend))
            title = max(title, tallest([self._title]))
            if self._trend is not None:
                trend_title = max(trend_title, tallest([self._trend_title]))
                weeks = max(weeks, tallest(self._weeks))
        left = EDGE + TICK_SPACE + names
        legend += LEGEND_TEXT_AT * LABEL_SIZE / 72  # its padding, handle and gap
        right = (EDGE + legend + 0.01 * (WIDTH - left)) / 1.01  # it starts 1 % of the axes out
        axes_width = WIDTH - left - right
        self._top.set_xlim(0, self._room_for_numbers(axes_width, renderer))
        x_axis = TICK_SPACE + TICK_SIZE * LINE / 72 + 4 / 72 + LABEL_SIZE * LINE / 72
        bottom = EDGE
        if self._trend is not None:
            trend_bottom = EDGE + TICK_SPACE + weeks
            self._trend.set_position(self._box(left, trend_bottom, axes_width, TREND_HEIGHT))
            bottom = trend_bottom + TREND_HEIGHT + trend_title + 6 / 72 + 0.25
        top_edge = self._height - EDGE - title - 6 / 72
        self._top.set_position(
            self._box(left, bottom + x_axis, axes_width, top_edge - bottom - x_axis)
        )

    def _room_for_numbers(self, axes_width: float, renderer: Any) -> float:
        """The x axis' end: every bar's numbers (its total, ⚠ at risk) end inside the axes,
        clear of the legend beside them (they are offset in points, the bars in items)."""
        inches = axes_width - LABEL_SIZE / 2 / 72  # half a letter short of the axes' edge
        end = 1.0
        for total, numbers in self._bar_ends:
            reach = max(
                number.get_window_extent(renderer).width / DPI + number.xyann[0] / 72
                for number in numbers
            )
            if total and reach < inches:
                end = max(end, total * inches / (inches - reach))
            elif total:
                end = max(end, total * 2.0)
        return end

    def _box(
        self, left: float, bottom: float, width: float, height: float
    ) -> tuple[float, float, float, float]:
        """A rectangle in inches as the figure's fractions."""
        return (left / WIDTH, bottom / self._height, width / WIDTH, height / self._height)


def _risky(counts: dict[str, int]) -> int:
    return counts.get("at_risk", 0) + counts.get("overdue", 0)


def _title_above(axes: Any, **font: Any) -> Any:
    """The (empty, per-language) title text, 6 points above the axes' top left corner."""
    return axes.annotate(
        "",
        (0, 1),
        xycoords="axes fraction",
        xytext=(0, 6),
        textcoords="offset points",
        ha="left",
        va="bottom",
        **font,
    )


def _legend(figure: Any, top: Any) -> list[Any]:
    """The categories' colours beside the bars, and the texts that will carry their names.

    Drawn by hand in points from the corner beside the bars, where matplotlib's legend would
    place each row by its words' own height: here the rows stay put whatever the language.
    """
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import Affine2D, ScaledTranslation

    points = Affine2D().scale(1 / 72) + figure.dpi_scale_trans
    beside = points + ScaledTranslation(1.01, 1.0, top.transAxes)
    size = LABEL_SIZE
    texts = []
    for row, (_key, colour) in enumerate(CATEGORY_COLOURS):
        middle = -(LEGEND_FIRST_ROW + row * LEGEND_ROW) * size
        top.add_artist(
            Rectangle(
                (LEGEND_PAD * size, middle - 0.35 * size),
                2.0 * size,
                0.7 * size,
                transform=beside,
                facecolor=colour,
                edgecolor="none",
                clip_on=False,
            )
        )
        texts.append(
            top.text(
                LEGEND_TEXT_AT * size,
                middle,
                "",
                transform=beside,
                ha="left",
                va="center",
                fontsize=size,
            )
        )
    return texts


def _trend(bottom: Any, counts: list[int]) -> None:
    from matplotlib.ticker import MaxNLocator

    weeks = range(len(counts))
    bottom.plot(weeks, counts, marker="o", color="#c62828", linewidth=2)
    for x, y in zip(weeks, counts, strict=True):
        bottom.annotate(
            str(y),
            (x, y),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=POINT_SIZE,
        )
    bottom.set_ylim(bottom=0, top=max([*counts, 1]) * 1.25)
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))  # items: 12, never 12.5
    bottom.set_xticks(weeks)
    bottom.tick_params(axis="x", labelbottom=False)  # the week names are words: per language
    bottom.tick_params(axis="y", labelsize=TICK_SIZE)
    bottom.grid(axis="y", alpha=0.3)
    bottom.spines[["top", "right"]].set_visible(False)
