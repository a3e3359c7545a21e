"""A Save crosses the chat handler once: handler → use case → handler, never back and forth.

The path is recorded with `sys.setprofile` while the dispatcher handles the Save. An *entry*
into a module is a new frame of that module called from another module (a coroutine resumed
after an await is the same frame, not a new entry). Before the use cases, a Save entered
handlers/reporting.py five times: the service called the handler back before its commit
(`before_commit`), the handler built closures to run after it and relayed the risk signal
to the scheduler.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from aiogram.methods import EditMessageText, SendMessage

import bot.usecases.reporting
import handlers.reporting
from bot.telegram.callbacks import DialogAction, OpenItem, PickProgress, PickStatus
from tests.helpers.reporting_world import EDU_HEAD, World

WATCHED = {
    "handler": Path(handlers.reporting.__file__).resolve(),
    "use case": Path(bot.usecases.reporting.__file__).resolve(),
}


@contextmanager
def entries() -> Iterator[dict[str, list[str]]]:
    """The functions through which each watched module is entered, in order."""
    files = {str(path): name for name, path in WATCHED.items()}
    found: dict[str, list[str]] = {name: [] for name in WATCHED}
    seen: list[FrameType] = []  # kept alive, so that no new frame reuses a seen one's id
    seen_ids: set[int] = set()

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call":
            return
        name = files.get(frame.f_code.co_filename)
        if name is None or id(frame) in seen_ids:
            return
        seen.append(frame)
        seen_ids.add(id(frame))
        caller = frame.f_back
        if caller is None or caller.f_code.co_filename != frame.f_code.co_filename:
            found[name].append(frame.f_code.co_name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield found
    finally:
        sys.setprofile(previous)


async def _at_the_summary(world: World) -> int:
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="at_risk").pack())
    await chatter.press(EDU_HEAD, PickProgress(item_id=item, value=40).pack())
    await chatter.press(EDU_HEAD, f"rc:{item}:financing")
    await chatter.send(EDU_HEAD, "Подрядчик не вышел на объект")
    return item


async def test_a_tapped_save_enters_the_handler_once(world: World) -> None:
    item = await _at_the_summary(world)
    with entries() as entered:
        replies = await world.chatter.press(
            EDU_HEAD, DialogAction(item_id=item, action="save").pack()
        )
    assert any(isinstance(r, EditMessageText) and "✅" in (r.text or "") for r in replies), replies
    # The router's middleware builds the member before the handler runs; then one call.
    assert entered == {"handler": ["dialog_tap"], "use case": ["of_update", "answer_step"]}


async def test_a_typed_save_enters_the_handler_once(world: World) -> None:
    await _at_the_summary(world)
    with entries() as entered:
        replies = await world.chatter.send(EDU_HEAD, "Сақтау")  # the Save label, typed
    # Issue 22 (#17): a typed answer shows the next step in place of the card where it can.
    shown = (SendMessage, EditMessageText)
    assert any(isinstance(r, shown) and "✅" in (r.text or "") for r in replies), replies
    assert entered == {"handler": ["dialog_typed"], "use case": ["of_update", "answer_step"]}
