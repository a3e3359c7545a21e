"""No update waits for a worker thread to check a filter.

aiogram runs every plain (not async) filter, which every magic filter is, in a worker thread
each time an update is checked against it; `check_filters_on_the_loop` makes the dispatcher's
filters run in line. A typed comment met 19 such filters on its way to its handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiogram.methods import EditMessageText, SendMessage

from bot.telegram.callbacks import DialogAction, OpenItem, PickProgress, PickStatus
from tests.helpers.reporting_world import EDU_HEAD, World


@contextmanager
def thread_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the callables sent to `asyncio.to_thread` meanwhile."""
    sent: list[str] = []
    original = asyncio.to_thread

    async def counted(function: Any, /, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(function, "__qualname__", repr(function)))
        return await original(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    yield sent


def test_every_filter_of_the_dispatcher_runs_on_the_loop(world: World) -> None:
    plain = [
        (router.name, handler.callback.__name__)
        for router in world.chatter.dispatcher.chain_tail
        for observer in router.observers.values()
        for handler in observer.handlers
        for event_filter in handler.filters or ()
        if not event_filter.awaitable
    ]
    assert plain == []


async def test_a_dialog_walk_and_a_typed_comment_make_no_trip_to_a_thread(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    chatter, item = world.chatter, world.items["1.1"]
    with thread_trips(monkeypatch) as sent:
        await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
        await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="at_risk").pack())
        await chatter.press(EDU_HEAD, PickProgress(item_id=item, value=40).pack())
        await chatter.press(EDU_HEAD, f"rc:{item}:financing")
        typed = await chatter.send(EDU_HEAD, "Подрядчик не вышел на объект")
        saved = await chatter.press(EDU_HEAD, DialogAction(item_id=item, action="save").pack())
    assert any(isinstance(r, SendMessage | EditMessageText) for r in typed), typed
    assert any(isinstance(r, EditMessageText) and "✅" in (r.text or "") for r in saved), saved
    assert sent == []
