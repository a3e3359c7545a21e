"""Filters that read what the middlewares put into the handler data."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from db.models import Person


class HasPerson(Filter):
    """The sender is a registered, active person (revoked people keep no dialog)."""

    async def __call__(self, _event: TelegramObject, person: Person | None = None) -> bool:
        return person is not None
