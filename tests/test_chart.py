"""The digest chart: a real PNG, drawn without touching matplotlib's global backend."""

from __future__ import annotations

import struct
from datetime import date
from pathlib import Path

from aiogram.utils.i18n import I18n

from bot.risk.chart import ChartBar, render_chart
from bot.telegram.i18n import in_locale

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_matplotlib_is_imported_only_to_draw_and_without_pyplot() -> None:
    import bot.risk.chart

    source = Path(bot.risk.chart.__file__).read_text(encoding="utf-8")
    head = source.split("def render_chart", 1)[0]
    assert "import matplotlib" not in head and "from matplotlib" not in head
    assert "import pyplot" not in source and "matplotlib.pyplot" not in source


def test_chart_is_a_phone_sized_png_in_each_language(i18n: I18n) -> None:
    bars = [
        ChartBar(
            label=f"Управление номер {n} с длинным названием города Шымкент",
            counts={
                "done": n,
                "on_track": 5,
                "at_risk": n % 3,
                "overdue": n % 2,
                "not_reported": 1,
            },
        )
        for n in range(12)
    ]
    weekly = [(f"{day} июн.", day % 7 + 5) for day in range(1, 9)]
    images = {}
    for locale in ("ru", "kk"):
        with in_locale(i18n, locale):
            images[locale] = render_chart(bars=bars, weekly=weekly, year=date.today().year)
    for data in images.values():
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 20_000
        width, height = png_size(data)
        assert 700 <= width <= 1200 and height > width  # portrait, for a phone
    assert images["ru"] != images["kk"]


def test_an_empty_chart_still_draws(i18n: I18n) -> None:
    with in_locale(i18n, "kk"):
        data = render_chart(bars=[], weekly=[("1", 0)], year=2025)
    assert data.startswith(PNG_SIGNATURE)
