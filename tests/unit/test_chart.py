"""The digest chart: a real PNG, drawn without touching matplotlib's global backend."""

from __future__ import annotations

import io
import struct
from dataclasses import replace
from pathlib import Path

from aiogram.utils.i18n import I18n

from bot.risk.chart import Chart, ChartTexts, chart_texts
from bot.telegram.i18n import in_locale

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_matplotlib_is_imported_only_to_draw_and_without_pyplot() -> None:
    import bot.risk.chart

    source = Path(bot.risk.chart.__file__).read_text(encoding="utf-8")
    top_level = [line for line in source.splitlines() if line.startswith(("import", "from"))]
    assert not [line for line in top_level if "matplotlib" in line]
    assert "import pyplot" not in source and "matplotlib.pyplot" not in source


def draw(labels: list[str], counts: list[dict[str, int]], weekly: list[tuple[str, int]]) -> bytes:
    """One reader's chart in the current locale, as `/summary` draws it."""
    texts = chart_texts(
        bar_labels=labels, week_labels=[label for label, _count in weekly], year=2025
    )
    return Chart(counts, [count for _label, count in weekly]).pngs([texts])[0]


def test_chart_is_a_phone_sized_png_in_each_language(i18n: I18n) -> None:
    labels = [f"Управление номер {n} с длинным названием города Шымкент" for n in range(12)]
    counts = [
        {"done": n, "on_track": 5, "at_risk": n % 3, "overdue": n % 2, "not_reported": 1}
        for n in range(12)
    ]
    weekly = [(f"{day} июн.", day % 7 + 5) for day in range(1, 9)]
    images = {}
    for locale in ("ru", "kk"):
        with in_locale(i18n, locale):
            images[locale] = draw(labels, counts, weekly)
    for data in images.values():
        assert data.startswith(PNG_SIGNATURE)
        assert len(data) > 20_000
        width, height = png_size(data)
        assert 700 <= width <= 1200 and height > width  # portrait, for a phone
    assert images["ru"] != images["kk"]


def test_an_empty_chart_still_draws(i18n: I18n) -> None:
    with in_locale(i18n, "kk"):
        data = draw([], [], [("1", 0)])
    assert data.startswith(PNG_SIGNATURE)


def test_each_language_gets_its_own_words_on_one_drawing(i18n: I18n) -> None:
    """The digest draws the numbers once and each language's words over them: every image
    carries only its own language's words, whatever order the languages are drawn in, and
    the bars themselves are the same pixels in both."""
    from PIL import Image, ImageChops

    counts = [
        {"done": 30 + n, "on_track": 12, "at_risk": n % 4, "not_reported": 2} for n in range(8)
    ]
    weekly = [5, 7, 6, 9, 12, 11, 10, 14]
    names = {"kk": "Қала құрылысы басқармасы", "ru": "Управление градостроительства"}
    words: dict[str, ChartTexts] = {}
    for locale in ("kk", "ru"):
        with in_locale(i18n, locale):
            words[locale] = chart_texts(
                bar_labels=[f"{names[locale]} {n}" for n in range(8)],
                week_labels=[f"{day} {locale}" for day in range(1, 9)],
                year=2025,
            )
    assert words["kk"].title != words["ru"].title
    kk, ru = Chart(counts, weekly).pngs([words["kk"], words["ru"]])
    ru_first = Chart(counts, weekly).pngs([words["ru"], words["kk"]])
    assert ru_first == [ru, kk]  # nothing of the language drawn before is left on the next
    assert kk != ru
    blank = replace(
        words["kk"],
        title="",
        axis="",
        categories=dict.fromkeys(words["kk"].categories, ""),
        trend_title="",
        bar_labels=[""] * 8,
        week_labels=[""] * 8,
    )
    (drawing,) = Chart(counts, weekly).pngs([blank])
    assert drawing not in (kk, ru)  # the words are drawn, not only set

    kk_pixels, ru_pixels = (Image.open(io.BytesIO(png)).convert("RGB") for png in (kk, ru))
    assert kk_pixels.size == ru_pixels.size
    width, height = kk_pixels.size
    middle_of_the_bars = (width // 2, height // 5, width * 2 // 3, height // 2)
    difference = ImageChops.difference(kk_pixels, ru_pixels)
    assert difference.crop(middle_of_the_bars).getbbox() is None
    assert difference.getbbox() is not None
