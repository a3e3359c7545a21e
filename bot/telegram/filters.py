"""Filters that read what the middlewares put into the handler data, and how every filter
runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.types import TelegramObject

from db.models import Person


class HasPerson(Filter):
    """The sender is a registered, active person (revoked people keep no dialog)."""

    async def __call__(self, _event: TelegramObject, person: Person | None = None) -> bool:
        return person is not None


def check_filters_on_the_loop(router: Router) -> None:
    """Every plain (not async) filter of `router` and the routers it includes runs on the
    event loop, in line.

    aiogram runs a filter that is not a coroutine function, which every magic filter is
    (`F.text`, `~F.text.startswith("/")`, `F.chat.type == ...`), in a worker thread
    (`asyncio.to_thread`) each time an update is checked against it. A typed message met 19
    of them on its way to its handler: 19 trips to a thread and back, the slowest part of
    the step and most of its tail when the CPUs are busy. Our filters only read the update,
    in microseconds, so they need no thread. Called once the routers are included."""
    for each in router.chain_tail:
        for observer in each.observers.values():
            for handler in observer.handlers:
                for event_filter in handler.filters or ():
                    if not event_filter.awaitable:
                        event_filter.callback = _in_line(event_filter.callback)
                        event_filter.awaitable = True


def _in_line(check: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def checked(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return checked
