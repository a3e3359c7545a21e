"""Building a file on an event loop of its own, in a worker thread, with its own engine.

At 50,000 items an export takes seconds of the interpreter to read, judge and write; on the
bot's loop every other chat would wait that long. Apart, the bot's loop only shares the
interpreter with it (a switch every few milliseconds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.risk.assess import collector_paused
from db.engine import create_engine, create_session_maker

T = TypeVar("T")


async def run_apart(engine: AsyncEngine, build: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`build(session)` on a new event loop in a worker thread, the session from an engine of
    its own for `engine`'s database (one connection), disposed of afterwards. The context is
    copied: the worker renders in the caller's locale. The cyclic collector is paused
    meanwhile: with half a million rows in flight its full passes stop every thread (200 ms
    stalls of the bot's loop); a build makes no cycles."""
    url = engine.url.render_as_string(hide_password=False)

    async def apart() -> T:
        own = create_engine(url, pool_size=1)
        try:
            async with create_session_maker(own)() as session:
                return await build(session)
        finally:
            await own.dispose()

    def run() -> T:
        with collector_paused():
            return asyncio.run(apart())

    return await asyncio.to_thread(run)
