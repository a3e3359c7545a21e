"""Issue 13's defects, each through the real Dispatcher: no update ends in a traceback, and
the person always gets an answer (the 429 cases are over HTTP in test_request_guard.py)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, TelegramMethod
from aiogram.types import Chat, Message, Update
from aiogram.utils.i18n import I18n

from bot.telegram import menus
from bot.telegram.callbacks import OpenItem, PickProgress, PickStatus
from bot.telegram.texts import usage_line
from db.engine import SessionMaker
from db.models import RoadmapItem
from tests.helpers.chat import ADMIN_ID, TEST_TOKEN, Chatter, register_admin, rows
from tests.helpers.mocked_bot import MockedBot
from tests.helpers.reporting_world import BUILD_HEAD, EDU_DEPUTY, EDU_HEAD, World, join

ERROR_TEXT = (
    "Sorry, something went wrong on our side. Nothing was lost: please try again. "
    "If it happens again, tell the secretariat."
)
_ids = itertools.count(900_000)


@pytest.fixture
async def council(chatter: Chatter, session_maker: SessionMaker) -> World:
    """Two departments with items; two members of edu (kk, ru) and one of build (ru)."""
    await register_admin(chatter, "ru")
    for command in (
        "/adddept edu Білім басқармасы | Управление образования",
        "/adddept build Құрылыс басқармасы | Управление строительства",
        "/additem 1.1 edu 2025-06-01 Мектеп салу | Строительство школы",
        "/additem 2.1 build 2025-09-01 Көпір | Мост",
    ):
        await chatter.send(ADMIN_ID, command)
    await join(chatter, EDU_HEAD, "edu", "kk")
    await join(chatter, EDU_DEPUTY, "edu", "ru")
    await join(chatter, BUILD_HEAD, "build", "ru")
    chatter.bot.take()
    items = {item.code: item.id for item in await rows(session_maker, RoadmapItem)}
    return World(chatter, items)  # type: ignore[arg-type]


def fail(
    bot: MockedBot, method: type[TelegramMethod[Any]], description: str, times: int = 1
) -> None:
    """The next `times` requests of this kind are refused by "Telegram" with `description`."""
    session = bot.recording
    original: Callable[..., Any] = session.make_request
    left = [times]

    async def make_request(b: Any, request: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if isinstance(request, method) and left[0] > 0:
            left[0] -= 1
            session.requests.append(request)
            raise TelegramBadRequest(method=request, message=description)
        return await original(b, request, timeout)

    session.make_request = make_request  # type: ignore[method-assign]


def texts(requests: list[Any]) -> list[str]:
    return [r.text for r in requests if isinstance(r, SendMessage | EditMessageText)]


def kinds(requests: list[Any]) -> list[str]:
    return [type(r).__name__ for r in requests]


async def without_sender(chatter: Chatter, chat: Chat, text: str) -> list[Any]:
    message = Message(message_id=next(_ids), date=datetime.now(UTC), chat=chat, text=text)
    await chatter.dispatcher.feed_update(chatter.bot, Update(update_id=next(_ids), message=message))
    return chatter.bot.take()


# ---- defect 1: a stale dialog button -------------------------------------------------------------


async def test_stale_dialog_button_shows_the_current_step(council: World, i18n: I18n) -> None:
    chatter, item = council.chatter, council.items["1.1"]
    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="on_track").pack())
    # the status step's button, pressed again after the dialog moved on to progress
    stale = await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="on_track").pack())
    assert kinds(stale) == ["AnswerCallbackQuery", "EditMessageReplyMarkup", "SendMessage"]
    assert stale[0].text == i18n.gettext(
        "This button is no longer valid. The current step is below.", locale="kk"
    )
    step = stale[-1]
    packed = [b.callback_data for row in step.reply_markup.inline_keyboard for b in row]
    assert PickProgress(item_id=item, value=50).pack() in packed
    # the dialog is where it was, so the progress button works
    moved = await chatter.press(EDU_HEAD, PickProgress(item_id=item, value=50).pack())
    assert ERROR_TEXT not in texts(moved)
    assert not any(isinstance(r, AnswerCallbackQuery) and r.show_alert for r in moved)


# ---- defect 2: the language choice edits its message ---------------------------------------------


@pytest.mark.parametrize(
    "refusal",
    [
        "Bad Request: message to edit not found",
        "Bad Request: message can't be edited",
    ],
)
async def test_language_choice_on_a_message_that_cannot_be_edited(
    chatter: Chatter, bot: MockedBot, i18n: I18n, refusal: str
) -> None:
    await chatter.send(ADMIN_ID, "/start")
    fail(bot, EditMessageText, refusal)
    replies = await chatter.press(ADMIN_ID, "lang:ru")
    done = i18n.gettext("Done! I will write to you in this language.", locale="ru")
    sent = [r for r in replies if isinstance(r, SendMessage)]
    assert len(sent) == 1 and sent[0].text.startswith(done)


async def test_language_double_tap_is_not_an_error(
    chatter: Chatter, bot: MockedBot, i18n: I18n
) -> None:
    await chatter.send(ADMIN_ID, "/start")
    await chatter.press(ADMIN_ID, "lang:ru")
    fail(bot, EditMessageText, "Bad Request: message is not modified: specified new message")
    replies = await chatter.press(ADMIN_ID, "lang:ru")
    assert not any(isinstance(r, SendMessage) for r in replies)  # no apology, no new message
    answers = [r for r in replies if isinstance(r, AnswerCallbackQuery)]
    assert [a.text for a in answers] == [i18n.gettext("Language saved.", locale="ru")]


# ---- defect 5: /revoke with numbers int() or the database cannot take ----------------------------


@pytest.mark.parametrize("argument", ["9223372036854775808", "²", "١٢٣", str(2**52), "0"])
async def test_revoke_with_an_impossible_id(
    council: World, i18n: I18n, argument: str, caplog: pytest.LogCaptureFixture
) -> None:
    replies = await council.chatter.send(ADMIN_ID, f"/revoke {argument}")
    with i18n.context(), i18n.use_locale("ru"):
        expected = usage_line(menus.REVOKE)
    assert texts(replies) == [expected]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ---- defect 6: a button with an id beyond the database's range -----------------------------------


@pytest.mark.parametrize(
    "data", ["ri:9223372036854775808", "rs:99999999999999999999:done", "ci:18446744073709551616"]
)
async def test_forged_huge_ids_are_stale_buttons(
    council: World, i18n: I18n, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    for user in (EDU_HEAD, ADMIN_ID):
        replies = await council.chatter.press(user, data)
        assert kinds(replies) == ["AnswerCallbackQuery"]
        locale = "kk" if user == EDU_HEAD else "ru"
        assert replies[0].text == i18n.gettext("This button is no longer valid.", locale=locale)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ---- defect 7: /cancel in a message without a sender ---------------------------------------------


async def test_cancel_without_a_sender(council: World, i18n: I18n) -> None:
    replies = await without_sender(council.chatter, Chat(id=EDU_HEAD, type="private"), "/cancel")
    assert texts(replies) == [i18n.gettext("There is nothing to cancel.", locale="kk")]


async def test_group_chatter_gets_no_answer(council: World) -> None:
    group = Chat(id=-100123, type="supergroup", title="Council")
    assert await without_sender(council.chatter, group, "hello everyone") == []


# ---- defect 9 and the error handler --------------------------------------------------------------


async def test_an_error_after_the_button_was_answered_is_told_in_the_chat(
    council: World, bot: MockedBot, caplog: pytest.LogCaptureFixture
) -> None:
    chatter, item = council.chatter, council.items["1.1"]
    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    fail(bot, EditMessageText, "Bad Request: something nobody expected")
    with caplog.at_level(logging.ERROR, logger="handlers.errors"):
        replies = await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="on_track").pack())
    answers = [r for r in replies if isinstance(r, AnswerCallbackQuery)]
    assert len(answers) == 1 and not answers[0].show_alert  # answered once, by the handler
    apologies = [r for r in replies if isinstance(r, SendMessage)]
    kk_text = chatter.dispatcher["i18n"].gettext(ERROR_TEXT, locale="kk")
    assert [(r.chat_id, r.text) for r in apologies] == [(EDU_HEAD, kk_text)]
    (record,) = [r for r in caplog.records if r.name == "handlers.errors"]
    logged = record.getMessage()
    assert "TelegramBadRequest" in logged and "callback_query" in logged
    assert TEST_TOKEN not in logged and "Мектеп" not in logged and str(EDU_HEAD) not in logged


async def test_an_error_before_the_button_was_answered_gets_an_alert(
    council: World, bot: MockedBot, i18n: I18n, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database exploded")

    monkeypatch.setattr("bot.usecases.reporting.reportable_item", broken)
    replies = await council.chatter.press(EDU_HEAD, OpenItem(item_id=council.items["1.1"]).pack())
    assert kinds(replies) == ["AnswerCallbackQuery"]
    assert replies[0].show_alert and replies[0].text == i18n.gettext(ERROR_TEXT, locale="kk")


async def test_an_apology_that_cannot_be_delivered_is_only_logged(
    council: World, bot: MockedBot, caplog: pytest.LogCaptureFixture
) -> None:
    await council.chatter.press(EDU_HEAD, OpenItem(item_id=council.items["1.1"]).pack())
    fail(bot, EditMessageText, "Bad Request: something nobody expected")
    fail(bot, SendMessage, "Bad Request: chat not found")
    item = council.items["1.1"]
    await council.chatter.press(EDU_HEAD, PickStatus(item_id=item, status="on_track").pack())
    assert any("apology failed" in r.getMessage() for r in caplog.records)


# ---- one answer for "no such item" and "not your department" -------------------------------------


async def test_members_cannot_probe_other_departments(council: World, i18n: I18n) -> None:
    chatter = council.chatter
    hidden = i18n.gettext("There is no item {code} among your department's items.", locale="ru")
    foreign = texts(await chatter.send(BUILD_HEAD, "/report 1.1"))
    missing = texts(await chatter.send(BUILD_HEAD, "/report 9.9"))
    assert (foreign, missing) == ([hidden.format(code="1.1")], [hidden.format(code="9.9")])
    foreign_card = texts(await chatter.send(EDU_DEPUTY, "/item 2.1"))
    missing_card = texts(await chatter.send(EDU_DEPUTY, "/item 9.9"))
    assert (foreign_card, missing_card) == (
        [hidden.format(code="2.1")],
        [hidden.format(code="9.9")],
    )
    foreign_tap = await chatter.press(BUILD_HEAD, OpenItem(item_id=council.items["1.1"]).pack())
    missing_tap = await chatter.press(BUILD_HEAD, OpenItem(item_id=999_999).pack())
    assert [r.text for r in foreign_tap] == [r.text for r in missing_tap]
    assert foreign_tap[0].text == i18n.gettext(
        "This item is not among your department's items.", locale="ru"
    )


@pytest.mark.parametrize("command", ["/summary ²⁰²⁵", "/summary 2O25", "/stats ²", "/stats 9" * 9])
async def test_numbers_int_refuses_get_the_usage_line(
    council: World, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    replies = texts(await council.chatter.send(ADMIN_ID, command))
    assert len(replies) == 1 and ERROR_TEXT not in replies[0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
