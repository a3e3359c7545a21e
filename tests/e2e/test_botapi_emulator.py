"""Tests of the Bot API emulator itself, driven by a real aiogram Bot over HTTP.

They pin down the behaviour end-to-end tests rely on: Telegram's rejections and error bodies,
long polling, the observation helpers and fault injection.
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from aiogram.types import Message as TgMessage

from bot.sandbox.emulator import NOT_MODIFIED, QUERY_TOO_OLD, BotApiEmulator
from tests.helpers.e2e import FastSession

TOKEN = "7000000001:AAE-emulator_test_token_0123456789abc"
USER = 100500
OTHER = 100600


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    emulator = BotApiEmulator(TOKEN)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest_asyncio.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    session = FastSession(api=TelegramAPIServer.from_base(emu.base_url))
    client = Bot(TOKEN, session=session)
    try:
        yield client
    finally:
        await session.close()


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in buttons]
    )


def png(width: int, height: int) -> bytes:
    """A tiny valid PNG header (the emulator reads its size, like Telegram)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
    )


async def raw_call(
    emu: BotApiEmulator, method: str, *, token: str = TOKEN, **kwargs: object
) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emu.base_url}/bot{token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json(content_type=None)


# ---- basics -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (7000000001, "roadmap_test_bot", True)
    assert me.id == bot.id


@pytest.mark.asyncio
async def test_send_message_is_stored_and_observable(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    sent = await bot.send_message(
        USER,
        "<b>Hi</b> &lt;there&gt; & co",
        parse_mode="HTML",
        reply_markup=keyboard(("Yes", "answer:yes"), ("No", "answer:no")),
    )
    message = await emu.next_message(USER)
    assert message.message_id == sent.message_id
    assert message.from_bot and message.chat_id == USER
    assert message.text == sent.text == "Hi <there> & co"
    assert message.entities == [{"type": "bold", "offset": 0, "length": 2}]
    assert message.source == "<b>Hi</b> &lt;there&gt; & co"
    assert message.buttons == [[("Yes", "answer:yes")], [("No", "answer:no")]]
    assert message.button("Ye") == "answer:yes"
    assert [m.text for m in emu.messages(USER)] == ["Hi <there> & co"]
    assert emu.requests[-1].method == "sendMessage" and emu.requests[-1].ok
    assert emu.stats.sent_per_chat[USER] == 1


@pytest.mark.asyncio
async def test_chat_must_exist(emu: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hello")
    assert emu.errors[-1].description == "Bad Request: chat not found"
    emu.add_chat(424242)
    await bot.send_message(424242, "hello")


# ---- formatting ---------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("привет <br>", 'Unsupported start tag "br" at byte offset 13'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("if a < b then", 'Unsupported start tag "" at byte offset 5'),
        ("5 <10", "Unclosed start tag at byte offset 2"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_html_rejections(emu: BotApiEmulator, bot: Bot, text: str, error: str) -> None:
    emu.add_chat(USER)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(USER, text, parse_mode="HTML")
    assert caught.value.message == f"Bad Request: can't parse entities: {error}"
    assert emu.messages(USER) == []


@pytest.mark.asyncio
async def test_html_accepted_constructs(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    source = (
        '<a href="https://example.com/?a=1&amp;b=2">link</a> '
        '<span class="tg-spoiler">s</span> <tg-spoiler>t</tg-spoiler> '
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>q</blockquote> &#128512; &#x41; AT&T"
    )
    await bot.send_message(USER, source, parse_mode="HTML")
    message = await emu.next_message(USER)
    assert message.text == "link s t x = 1q 😀 A AT&T"
    kinds = {e["type"]: e for e in message.entities}
    assert kinds["text_link"]["url"] == "https://example.com/?a=1&b=2"
    assert kinds["pre"] == {"type": "pre", "offset": 9, "length": 5, "language": "python"}
    assert {"spoiler", "expandable_blockquote"} <= kinds.keys()


@pytest.mark.asyncio
async def test_text_length_counts_parsed_utf16(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(USER, "&lt;" * 4096, parse_mode="HTML")
    await bot.send_message(USER, "😀" * 2048)  # 2 UTF-16 code units each
    for too_long in ("<b>" + "a" * 4097 + "</b>", "😀" * 2048 + "a"):
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await bot.send_message(USER, too_long, parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "<b> </b>\n", parse_mode="HTML")
    assert len(emu.messages(USER)) == 3


@pytest.mark.asyncio
async def test_markdown_v2_reserved_characters(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(USER, "Done.", parse_mode="MarkdownV2")
    with pytest.raises(TelegramBadRequest, match="Can't find end of Italic entity"):
        await bot.send_message(USER, "snake_case", parse_mode="MarkdownV2")
    await bot.send_message(USER, r"*Done*\. [site](https://x.org/a\)b)", parse_mode="MarkdownV2")
    message = await emu.next_message(USER)
    assert message.text == "Done. site"
    assert message.entities[0] == {"type": "bold", "offset": 0, "length": 4}
    assert message.entities[1]["url"] == "https://x.org/a)b"
    with pytest.raises(TelegramBadRequest, match="unsupported parse_mode"):
        await bot.send_message(USER, "x", parse_mode="BBCode")


@pytest.mark.asyncio
async def test_legacy_markdown_and_markdown_v2_pre(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    await bot.send_message(USER, "*bold* and _it_ [x](https://x.org)", parse_mode="Markdown")
    assert [e["type"] for e in (await emu.next_message(USER)).entities] == [
        "bold",
        "italic",
        "text_link",
    ]
    with pytest.raises(TelegramBadRequest, match="Can't find end of the entity starting at"):
        await bot.send_message(USER, "snake_case", parse_mode="Markdown")
    await bot.send_message(USER, "```python\nprint(1)```", parse_mode="MarkdownV2")
    message = await emu.next_message(USER)
    assert message.text == "print(1)"
    assert message.entities == [{"type": "pre", "offset": 0, "length": 8, "language": "python"}]


# ---- keyboards and callbacks --------------------------------------------------------------


@pytest.mark.asyncio
async def test_callback_data_limit_is_64_bytes(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    await bot.send_message(USER, "ok", reply_markup=keyboard(("b", "я" * 32)))  # 64 bytes
    for data in ("я" * 32 + "a", ""):  # 33 characters but 65 bytes; empty
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(USER, "too long", reply_markup=keyboard(("b", data)))
    too_many = [[InlineKeyboardButton(text="x", callback_data="x")] * 10] * 11
    with pytest.raises(TelegramBadRequest, match="too many buttons"):
        await bot.send_message(
            USER, "x", reply_markup=InlineKeyboardMarkup(inline_keyboard=too_many)
        )
    assert len(emu.messages(USER)) == 1


@pytest.mark.asyncio
async def test_press_button_and_answer(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_text(USER, "/start")
    sent = await bot.send_message(USER, "Pick", reply_markup=keyboard(("Yes", "y")))
    with pytest.raises(AssertionError, match="no inline button with callback_data='n'"):
        emu.press_button(USER, sent.message_id, "n")
    with pytest.raises(AssertionError, match="no bot message 999"):
        emu.press_button(USER, 999, "y")
    query_id = emu.press_button(USER, sent.message_id, "y", first_name="Ann")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None and query.id == query_id and query.data == "y"
    assert query.from_user.first_name == "Ann" and query.message.message_id == sent.message_id
    await bot.answer_callback_query(query_id, text="Saved")
    assert emu.callback_answers[query_id]["text"] == "Saved"
    assert (await emu.wait_callback_answer(query_id))["text"] == "Saved"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.answer_callback_query(query_id)
    assert caught.value.message == f"Bad Request: {QUERY_TOO_OLD}"
    forged = emu.send_callback(USER, 12345, "whatever")
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(forged, text="x" * 201)
    await bot.answer_callback_query(forged, text="x" * 200)


@pytest.mark.asyncio
async def test_edit_message_text(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    markup = keyboard(("Go", "go"))
    sent = await bot.send_message(USER, "<b>Step 1</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            "<b>Step 1</b>",
            chat_id=USER,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=markup,
        )
    assert caught.value.message == f"Bad Request: {NOT_MODIFIED}"
    # Same text, but without reply_markup the keyboard goes away: that is a modification.
    await bot.edit_message_text(
        "<b>Step 1</b>", chat_id=USER, message_id=sent.message_id, parse_mode="HTML"
    )
    edited = await emu.next_edit(USER)
    assert (edited.text, edited.buttons, edited.edits) == ("Step 1", [], 1)
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=markup
    )
    assert (await emu.next_edit(USER)).buttons == [[("Go", "go")]]
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=sent.message_id + 50)
    assert (await emu.next_message(USER)).text == "Step 1"  # snapshot taken at send time
    assert emu.messages(USER)[0].edits == 2
    await bot.delete_message(USER, sent.message_id)
    assert emu.messages(USER) == [] and emu.chat_log(USER)[0].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)


# ---- long polling -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_long_poll_returns_update_enqueued_while_waiting(
    emu: BotApiEmulator, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await emu.wait_polling()
    assert not poll.done()
    user_message = emu.send_text(USER, "/start ref", username="ann", language_code="en")
    updates = await asyncio.wait_for(poll, 2)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start ref"
    assert message.message_id == user_message.message_id
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6
    assert message.from_user.username == "ann" and message.from_user.language_code == "en"


@pytest.mark.asyncio
async def test_offset_confirms_updates(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_text(USER, "one")
    emu.send_text(USER, "two")
    first = await bot.get_updates(limit=1)
    assert [u.message.text for u in first] == ["one"]
    both = await bot.get_updates()  # nothing confirmed yet
    assert [u.message.text for u in both] == ["one", "two"]
    assert emu.pending_updates == 2
    rest = await bot.get_updates(offset=both[0].update_id + 1)
    assert [u.message.text for u in rest] == ["two"]
    assert await bot.get_updates(offset=rest[0].update_id + 1) == []
    assert emu.pending_updates == 0
    await emu.wait_idle(settle=0)


@pytest.mark.asyncio
async def test_second_poller_conflicts_and_stop_releases_poll(
    emu: BotApiEmulator, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await emu.wait_polling()
    second = asyncio.create_task(bot.get_updates(timeout=30))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)
    await asyncio.wait_for(emu.stop(), 2)
    assert await asyncio.wait_for(second, 2) == []


@pytest.mark.asyncio
async def test_allowed_updates_filter(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_text(USER, "hi")
    emu.send_callback(USER, 1, "data")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates] == ["data"]
    assert emu.stats.updates_filtered == 1


@pytest.mark.asyncio
async def test_next_message_timeout_dumps_context(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_text(USER, "hello?")
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(USER, "<oops>", parse_mode="HTML")
    with pytest.raises(TimeoutError) as caught:
        await emu.next_message(USER, timeout=0.05)
    dump = str(caught.value)
    assert "no new message from the bot in chat 100500" in dump
    assert "'hello?'" in dump and 'Unsupported start tag "oops"' in dump
    with pytest.raises(TimeoutError, match="no new edit"):
        await emu.next_edit(USER, timeout=0.01)


@pytest.mark.asyncio
async def test_user_profile_and_wall_clock() -> None:
    emulator = BotApiEmulator(TOKEN, wall_clock=lambda: 1_700_000_000.0)
    emulator.add_chat(USER, first_name="Ann", username="ann")
    message = emulator.send_text(USER, "hi")  # keeps the registered profile
    assert message.date == 1_700_000_000
    update = emulator.queued_updates()[0]["message"]
    assert update["from"] == {
        "id": USER,
        "is_bot": False,
        "first_name": "Ann",
        "username": "ann",
        "language_code": "ru",
    }
    assert update["chat"] == {"id": USER, "type": "private", "first_name": "Ann", "username": "ann"}


# ---- faults -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_fault_429(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    emu.faults.fail_next(1, "429", method="sendMessage", retry_after=3)
    await bot.get_me()  # other methods are not affected
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert caught.value.retry_after == 3
    assert emu.errors[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert emu.errors[-1].injected and emu.messages(USER) == []
    await bot.send_message(USER, "x")
    assert emu.stats.too_many_requests == 1 and emu.stats.sent_per_chat[USER] == 1


@pytest.mark.asyncio
async def test_fault_500_and_502(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    emu.faults.fail_next(1, "500")
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(USER, "x")
    emu.faults.fail_next(1, "502")
    with pytest.raises(ClientDecodeError):  # an HTML page, as a proxy in front would send
        await bot.send_message(USER, "x")
    assert [e.status for e in emu.errors] == [500, 502]
    assert emu.messages(USER) == []


@pytest.mark.asyncio
async def test_fault_drop(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    emu.faults.fail_next(1, "drop", method="sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "x")
    assert emu.messages(USER) == [] and emu.errors[-1].status == 0
    await bot.send_message(USER, "y")  # the session recovers on a fresh connection
    assert [m.text for m in emu.messages(USER)] == ["y"]


@pytest.mark.asyncio
async def test_fault_on_get_updates_only_when_named(emu: BotApiEmulator, bot: Bot) -> None:
    emu.faults.fail_next(1, "500")
    assert await bot.get_updates() == []
    assert emu.faults.pending == 1
    emu.faults.clear()
    emu.faults.fail_next(1, "429", method="getUpdates", retry_after=2)
    with pytest.raises(TelegramRetryAfter):
        await bot.get_updates()


@pytest.mark.asyncio
async def test_rate_limits_use_injected_clock(emu: BotApiEmulator, bot: Bot) -> None:
    now = [1000.0]
    emu.faults.clock = lambda: now[0]
    emu.faults.set_rate_limits(global_per_second=None, per_chat_per_second=1)
    emu.add_chat(USER)
    emu.add_chat(OTHER)
    await bot.send_message(USER, "1")
    await bot.send_message(OTHER, "1")  # per-chat buckets are independent
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "2")
    assert caught.value.retry_after == 1
    now[0] += 1.0
    await bot.send_message(USER, "2")
    emu.faults.set_rate_limits(global_per_second=2, per_chat_per_second=None)
    await bot.send_message(USER, "3")
    await bot.send_message(OTHER, "3")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(OTHER, "4")
    assert emu.stats.rate_limited == 2 and emu.stats.too_many_requests == 2
    assert emu.stats.sent_per_chat == {USER: 3, OTHER: 2}


@pytest.mark.asyncio
async def test_blocked_user(emu: BotApiEmulator, bot: Bot) -> None:
    emu.send_text(USER, "hi")
    emu.block_bot(USER)
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(USER, "x")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    emu.unblock_bot(USER)
    await bot.send_message(USER, "x")
    updates = await bot.get_updates()
    assert updates[1].my_chat_member.new_chat_member.status == "kicked"
    assert updates[2].my_chat_member.new_chat_member.status == "member"


# ---- files and commands -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_document_upload_get_file_download(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    content = b"id,name\n1,Ann\n" * 100
    sent = await bot.send_document(
        USER,
        BufferedInputFile(content, filename="report.csv"),
        caption="<i>Report</i>",
        parse_mode="HTML",
    )
    message = await emu.next_message(USER)
    assert message.document["file_name"] == "report.csv"
    assert message.document["mime_type"] == "text/csv"
    assert (message.caption, message.text) == ("Report", None)
    file_id = sent.document.file_id
    assert emu.file_bytes(file_id) == content
    file = await bot.get_file(file_id)
    downloaded = await bot.download_file(file.file_path, io.BytesIO())
    assert downloaded.getvalue() == content
    again = await bot.send_document(USER, file_id)  # re-send by file_id
    assert again.document.file_unique_id == sent.document.file_unique_id
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(USER, file_id, caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(USER, "nonsense")
    await bot.edit_message_caption(chat_id=USER, message_id=sent.message_id, caption="New")
    assert (await emu.next_edit(USER)).caption == "New"
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("t", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_caption(chat_id=USER, message_id=sent.message_id, caption="New")
    await bot.send_chat_action(USER, "upload_document")
    assert emu.chat_actions == [(USER, "upload_document")]
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")


@pytest.mark.asyncio
async def test_user_files_and_photos(emu: BotApiEmulator, bot: Bot) -> None:
    huge = emu.send_document(USER, b"%PDF", "big.pdf", "application/pdf", file_size=25 << 20)
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(huge.document["file_id"])
    photo = emu.send_photo(USER, png(640, 480), caption="look")
    updates = await bot.get_updates()
    assert updates[0].message.document.file_size == 25 << 20
    assert updates[1].message.photo[-1].width == 640 and updates[1].message.caption == "look"
    emu.send_sticker(USER)
    emu.send_voice(USER)
    kinds = [m.kind for m in emu.chat_log(USER)]
    assert kinds == ["document", "photo", "sticker", "voice"]
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, BufferedInputFile(b"not an image", filename="x.jpg"))
    with pytest.raises(TelegramBadRequest, match="can't use file of type Photo as Document"):
        await bot.send_document(USER, photo.photo[-1]["file_id"])
    sent = await bot.send_photo(USER, BufferedInputFile(png(10, 20), filename="p.png"))
    assert (sent.photo[-1].width, sent.photo[-1].height) == (10, 20)


@pytest.mark.asyncio
async def test_set_my_commands(emu: BotApiEmulator, bot: Bot) -> None:
    emu.add_chat(USER)
    commands = [BotCommand(command="start", description="Начать")]
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=USER), language_code="en")
    await bot.set_my_commands([BotCommand(command="help", description="Help")])
    assert emu.commands == {
        (f"chat:{USER}", "en"): [{"command": "start", "description": "Начать"}],
        ("default", ""): [{"command": "help", "description": "Help"}],
    }
    got = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=USER), language_code="en")
    assert [(c.command, c.description) for c in got] == [("start", "Начать")]
    for bad, error in [
        (BotCommand(command="Start", description="x"), "BOT_COMMAND_INVALID"),
        (BotCommand(command="a" * 33, description="x"), "BOT_COMMAND_INVALID"),
        (BotCommand(command="ok", description="d" * 257), "BOT_COMMAND_DESCRIPTION_INVALID"),
    ]:
        with pytest.raises(TelegramBadRequest, match=error):
            await bot.set_my_commands([bad])
    with pytest.raises(TelegramBadRequest, match="LANG_CODE_INVALID"):
        await bot.set_my_commands(commands, language_code="eng")
    await bot.delete_my_commands()
    assert ("default", "") not in emu.commands


# ---- raw HTTP -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_routing_and_spec_validation(emu: BotApiEmulator) -> None:
    emu.add_chat(USER)
    assert await raw_call(emu, "fooBar") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert await raw_call(emu, "getMe", token="1:wrong") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    status, body = await raw_call(emu, "deleteMessage", data={"chat_id": str(USER)})
    assert (status, body["description"]) == (
        400,
        'Bad Request: parameter "message_id" is required',
    )
    status, body = await raw_call(emu, "sendMessage", json={"chat_id": USER})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body = await raw_call(emu, "sendPoll", json={"chat_id": USER, "question": "q"})
    assert body["description"].startswith('Bad Request: parameter "options" is required')
    status, body = await raw_call(
        emu, "sendPoll", json={"chat_id": USER, "question": "q", "options": [{"text": "a"}]}
    )
    assert (status, body["description"]) == (400, "Bad Request: method not emulated: sendPoll")
    assert (await raw_call(emu, "setMyDescription", data={"description": "d"}))[0] == 200
    # Method names are case-insensitive; query strings and JSON-encoded form fields work.
    markup = json.dumps({"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]})
    status, body = await raw_call(
        emu, "SENDMESSAGE", params={"chat_id": USER, "text": "q"}, data={"reply_markup": markup}
    )
    assert status == 200 and body["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"
    status, body = await raw_call(emu, "sendMessage", data={"chat_id": "x", "text": "q"})
    assert body["description"] == "Bad Request: chat not found"
    status, body = await raw_call(
        emu, "sendMessage", data={"chat_id": USER, "text": "q", "reply_markup": "{"}
    )
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"
    assert [r.status for r in emu.errors].count(400) == 6


# ---- a real dispatcher --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_dispatcher_polling_echo(emu: BotApiEmulator, bot: Bot) -> None:
    router = Router()

    @router.message(F.text)
    async def echo(message: TgMessage) -> None:
        await message.answer(f"echo: <b>{message.text}</b>", parse_mode="HTML")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    try:
        emu.send_text(USER, "hello")
        reply = await emu.next_message(USER)
        assert (reply.text, reply.entities[0]["type"]) == ("echo: hello", "bold")
        emu.send_sticker(USER)  # no handler: nothing is sent back
        await emu.wait_idle()
        assert len(emu.messages(USER)) == 1
        assert [r.params["allowed_updates"] for r in emu.requests if r.method == "getUpdates"][
            -1
        ] == ["message"]
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 5)
