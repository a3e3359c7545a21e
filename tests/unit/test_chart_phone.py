"""The chart as a chair reads it: in a chat bubble about 330 pt wide (issue 23, #31).

Measured from matplotlib's own text extents on the drawn figure: no text is smaller than
1/40 of the image's width, in either language. The committed snapshots
(tests/data/chart_phone_kk.png, chart_phone_ru.png) are these drawings, for the eye.
"""

from __future__ import annotations

import io
from pathlib import Path

from aiogram.utils.i18n import I18n
from PIL import Image

from bot.risk.chart import Chart, chart_texts
from bot.telegram.i18n import in_locale

SNAPSHOTS = Path(__file__).resolve().parents[1] / "data"
NAMES = {
    "ru": [
        "Образование",
        "Здравоохранение",
        "Транспорт и дороги",
        "Энергетика и ЖКХ",
        "Строительство",
        "Занятость и соцпрограммы",
        "Культура",
        "Физкультура и спорт",
        "Сельское хозяйство",
        "Предпринимательство и промышленность",
        "Земельные отношения",
        "Архитектура и градостроительство",
    ],
    "kk": [
        "Білім",
        "Денсаулық сақтау",
        "Жолаушылар көлігі және жолдар",
        "Энергетика және ТКШ",
        "Құрылыс",
        "Жұмыспен қамту",
        "Мәдениет",
        "Дене шынықтыру және спорт",
        "Ауыл шаруашылығы",
        "Кәсіпкерлік және өнеркәсіп",
        "Жер қатынастары",
        "Сәулет және қала құрылысы",
    ],
}
COUNTS = [
    {"done": n % 3, "on_track": 4 + n % 4, "at_risk": n % 3, "overdue": n % 2, "not_reported": 1}
    for n in range(12)
]


def smallest_text_height(chart: Chart) -> float:
    """The height in pixels of the smallest line of text on the drawn figure."""
    from matplotlib.text import Text

    figure = chart._figure
    renderer = chart._canvas.get_renderer()
    heights = []
    for text in figure.findobj(Text):
        words = text.get_text()
        if not text.get_visible() or not words.strip():
            continue
        lines = words.count("\n") + 1
        heights.append(text.get_window_extent(renderer).height / lines)
    assert heights
    return min(heights)


def test_no_text_is_smaller_than_a_fortieth_of_the_width_in_either_language(
    i18n: I18n,
) -> None:
    for locale in ("kk", "ru"):
        with in_locale(i18n, locale):
            texts = chart_texts(bar_labels=NAMES[locale], week_labels=[], year=2026, at_risk=12)
        chart = Chart(COUNTS, [12])
        (png,) = chart.pngs([texts])
        image = Image.open(io.BytesIO(png))
        width, height = image.size
        assert height > width  # tall and narrow, for a phone
        assert smallest_text_height(chart) >= width / 40, locale
        # at 330 pt, the smallest line is at least 330/40 ≈ 8 pt
        assert smallest_text_height(chart) * 330 / width >= 8.2
        snapshot = SNAPSHOTS / f"chart_phone_{locale}.png"
        if not snapshot.exists():  # committed once; delete to redraw after a change
            snapshot.write_bytes(png)
        assert Image.open(snapshot).size == image.size


def test_the_numbers_after_the_bars_keep_clear_of_the_legend(i18n: I18n) -> None:
    """#31's nit: the widest bar's ⚠ count touched the legend's first row."""
    from matplotlib.patches import Rectangle

    for locale in ("kk", "ru"):
        with in_locale(i18n, locale):
            texts = chart_texts(bar_labels=NAMES[locale], week_labels=[], year=2026, at_risk=12)
        chart = Chart(COUNTS, [12])
        chart.pngs([texts])
        renderer = chart._canvas.get_renderer()
        numbers = [n.get_window_extent(renderer) for _t, ns in chart._bar_ends for n in ns]
        legend = [t.get_window_extent(renderer) for t in chart._legend] + [
            patch.get_window_extent(renderer)
            for patch in chart._top.patches
            if isinstance(patch, Rectangle)
        ]
        axes_right = chart._top.get_window_extent(renderer).x1
        assert numbers and len(legend) == 10
        assert max(box.x1 for box in numbers) <= axes_right, locale
        assert not any(n.overlaps(box) for n in numbers for box in legend), locale
