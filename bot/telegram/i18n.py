"""Two languages, Kazakh and Russian: catalogs, the locale middleware and formatting helpers.

Message ids are English; `locales/kk` and `locales/ru` hold the translations. Inside a handler
use `_()` / `ngettext()`; outside an update (scheduler jobs) wrap rendering in
`in_locale(i18n, person.locale)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.core.catalogs import DOMAIN, LOCALES_DIR, SUPPORTED_LOCALES
from bot.core.catalogs import compile_catalogs as compile_catalogs


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Marks a message id for extraction without translating it now."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Plural-aware translation in the current locale (Russian has three forms)."""
    return _(singular, plural, n)


def build_i18n(default_locale: str, path: Path = LOCALES_DIR) -> I18n:
    return I18n(path=path, default_locale=default_locale, domain=DOMAIN)


def locale_from_telegram(user: User | None, default_locale: str) -> str:
    """kk or ru from the Telegram client's language, otherwise the configured default."""
    code = (user.language_code or "").lower() if user else ""
    for locale in SUPPORTED_LOCALES:
        if code == locale or code.startswith(f"{locale}-"):
            return locale
    return default_locale


class PersonI18nMiddleware(I18nMiddleware):
    """The person's saved language first, then their Telegram client's, then the default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:  # noqa: ARG002 - aiogram's signature
        if "person_locale" in data:  # read when the person was loaded (DbSessionMiddleware)
            saved = data["person_locale"]
        else:
            person = data.get("person")
            saved = person.locale if person is not None else None
        if saved in self.i18n.available_locales:
            return str(saved)
        return locale_from_telegram(data.get("event_from_user"), self.i18n.default_locale)


@contextmanager
def in_locale(i18n: I18n, locale: str | None) -> Iterator[None]:
    """Render texts for a given reader outside of an update (for jobs and notifications)."""
    with i18n.context(), i18n.use_locale(locale or i18n.default_locale):
        yield


def current_locale() -> str:
    return I18n.get_current(no_error=False).current_locale


def format_day(day: date, locale: str | None = None) -> str:
    """A date as a native reader writes it: «2025 ж. 1 қыркүйек», «1 сентября 2025 г.»."""
    return _long_date(day, locale or current_locale())


@lru_cache(maxsize=4096)
def _long_date(day: date, locale: str) -> str:
    """Babel parses the locale's pattern on every call (over half of a dialog card's Python
    calls); the text depends on the day and the language alone."""
    return format_date(day, format="long", locale=locale)


def pick_name(kk: str | None, ru: str | None, locale: str | None = None) -> str:
    """The reader's language, falling back to the other one when a translation is missing."""
    first, second = (kk, ru) if (locale or current_locale()) == "kk" else (ru, kk)
    return (first or "").strip() or (second or "").strip()
