"""A database that cannot be written (a read-only file system, a full disk, a read-only
PostgreSQL) while the bot runs: reads keep working, and every write is answered, in the
person's language, that the bot cannot save right now and nothing was lost.

The fault is real and in-process: SQLite's `query_only` (every write refused as on a read-only
file system) and `max_page_count` at the file's current size (every growth refused: "database
or disk is full"); PostgreSQL's `default_transaction_read_only`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.utils.i18n import I18n
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import Department
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin, rows
from tests.helpers.reporting_world import EDU_HEAD, join

SESSION_FAULTS = {
    "read-only": {
        "sqlite": ["PRAGMA query_only = ON"],
        "postgresql": ["SET default_transaction_read_only = on"],
    },
    "disk full": {
        # Grow by nothing: the file's current size is its limit.
        "sqlite": ["PRAGMA max_page_count = 1"],
    },
}


@contextmanager
def storage_fault(engine: AsyncEngine, statements: list[str]) -> Iterator[None]:
    """Every new connection gets `statements`; the pool is emptied so all connections are new."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        cursor.close()
        dbapi_connection.commit()  # PostgreSQL's SET would be rolled back with the pool's reset

    event.listen(engine.sync_engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "connect", on_connect)


def answers(requests: list[Any]) -> list[str]:
    return [
        str(r.text)
        for r in requests
        if isinstance(r, AnswerCallbackQuery | SendMessage) and r.text is not None
    ]


@pytest.mark.parametrize("fault", sorted(SESSION_FAULTS))
async def test_writes_on_a_storage_that_refuses_them_get_a_clear_answer(
    fault: str,
    backend: str,
    engine: AsyncEngine,
    chatter: Chatter,
    i18n: I18n,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if backend not in SESSION_FAULTS[fault]:
        pytest.skip(f"{fault} is simulated on SQLite only")
    admin_locale = "kk" if fault == "disk full" else "ru"  # both languages across the cases
    await register_admin(chatter, admin_locale)
    await chatter.send(ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
    await join(chatter, EDU_HEAD, "edu", "kk")
    chatter.bot.take()
    from sqlmodel import text

    if fault == "disk full":  # the limit is the file as it is now
        async with engine.connect() as connection:
            pages = (await connection.execute(text("PRAGMA page_count"))).scalar_one()
        SESSION_FAULTS[fault]["sqlite"] = [f"PRAGMA max_page_count = {pages}"]
    await engine.dispose()
    with storage_fault(engine, SESSION_FAULTS[fault][backend]), caplog.at_level(logging.INFO):
        await engine.dispose()
        help_text = answers(await chatter.send(ADMIN_ID, "/help"))  # a read
        # Enough new departments to need a new page of the file.
        refusals = []
        for n in range(30):
            title = f"Басқарма {n} {'ұзын атау ' * 20}| Управление {n} {'длинное имя ' * 20}"
            refusals += answers(await chatter.send(ADMIN_ID, f"/adddept d{n} {title}"))
        kk_refusal = answers(await chatter.press(EDU_HEAD, "lang:ru"))  # kk until it is saved
    assert help_text and "/import" in help_text[0]  # the next step for this Road Map
    saved = {d.code for d in await rows(chatter_session(chatter), Department)} - {"edu"}
    ru_text = i18n.gettext(CANNOT_SAVE, locale="ru")
    kk_text = i18n.gettext(CANNOT_SAVE, locale="kk")
    assert ru_text != CANNOT_SAVE and kk_text != CANNOT_SAVE and ru_text != kk_text
    admin_text = i18n.gettext(CANNOT_SAVE, locale=admin_locale)
    # A full disk still takes what fits in the file's free pages; nothing after the first
    # refusal, and every refusal is the clear answer.
    assert refusals[len(saved) :] == [admin_text] * (30 - len(saved))
    assert len(saved) < 10 if fault == "disk full" else not saved
    if fault == "read-only":  # an update in place still fits a full file
        assert kk_refusal == [kk_text]
    # At most one line for all those refusals (one per kind of fault and process), and no
    # traceback.
    fault_lines = [r for r in caplog.records if r.name == "handlers.errors"]
    assert len(fault_lines) <= 1 and all(r.exc_info is None for r in fault_lines)


CANNOT_SAVE = "The bot cannot save right now. Nothing was lost: please try again in a few minutes."


def chatter_session(chatter: Chatter) -> Any:
    return chatter.dispatcher["session_maker"]
