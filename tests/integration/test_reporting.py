"""Status collection through the Dispatcher: rounds, the per-item dialog and its rules."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import (
    CallbackQuery,
    Chat,
    Document,
    Message,
    PhotoSize,
    Sticker,
    Update,
    User,
    Voice,
)
from aiogram.utils.i18n import I18n
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bot.core.clock import FrozenClock
from bot.delivery.worker import DeliveryWorker
from bot.reporting import rounds
from bot.reporting.dialog import item_of_update
from bot.reporting.service import Draft, person_with_item_ahead
from bot.scheduling.jobs import Jobs
from bot.telegram.callbacks import (
    DialogAction,
    OpenItem,
    PickCause,
    PickProgress,
    PickStatus,
    WorklistPage,
)
from db import queries
from db.engine import SessionMaker
from db.models import (
    Department,
    FsmRecord,
    Notification,
    RiskDirty,
    RiskEvent,
    RoundRequest,
    StatusRound,
    StatusUpdate,
)
from tests.helpers.chat import ADMIN_ID, only_text, rows
from tests.helpers.reporting_world import (
    BUILD_HEAD,
    EDU_DEPUTY,
    EDU_HEAD,
    World,
    buttons,
    sent_to,
)
from tests.helpers.sql import counted, server_trips


async def test_round_asks_every_member_once(
    world: World, outbox: DeliveryWorker, session_maker: SessionMaker, i18n: I18n
) -> None:
    confirmation = only_text(await world.chatter.send(ADMIN_ID, "/request_now"))
    assert "у 2 управлений" in confirmation
    assert "3 " in confirmation  # people
    assert "Управление здравоохранения" in confirmation  # nobody there to ask
    requests = await rows(session_maker, RoundRequest)
    # No request is recorded where nobody could receive it: it cannot be missed.
    assert sorted((r.item_count, r.people_count) for r in requests) == [(2, 1), (3, 2)]

    report = await outbox.drain_all()
    assert report.sent == 3
    sent = world.chatter.bot.take()
    (kazakh,) = sent_to(sent, EDU_HEAD)
    (russian,) = sent_to(sent, EDU_DEPUTY)
    for request, locale in ((kazakh, "kk"), (russian, "ru")):
        waiting = i18n.gettext(
            "{count} item is waiting for your update.",
            "{count} items are waiting for your update.",
            3,
            locale=locale,
        ).format(count=3)
        assert request.text.startswith(f"<b>{waiting}</b>")
    assert kazakh.text != russian.text
    # nearest deadline first: 1.2 (April), 1.1 (June), 1.3 (December)
    assert buttons(kazakh) == [
        OpenItem(item_id=world.items[c]).pack() for c in ("1.2", "1.1", "1.3")
    ]
    assert "&lt;№7&gt;" not in buttons(kazakh)[0]

    # Running it again is a new round; the outbox never sends one round twice.
    assert (await outbox.drain_all()).sent == 0
    keys = [n.idempotency_key for n in await rows(session_maker, Notification)]
    assert len(keys) == len(set(keys)) == 3


async def test_full_dialog_by_buttons_only(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    chatter, item = world.chatter, world.items["1.2"]
    await chatter.send(ADMIN_ID, "/request_now edu")
    first = await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    (step,) = [r for r in first if isinstance(r, EditMessageText)]
    assert "Детский сад &lt;№7&gt; &amp; ясли" in step.text
    await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="on_track").pack())
    await chatter.press(EDU_DEPUTY, PickProgress(item_id=item, value=75).pack())
    saved = await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="save").pack())
    edit = next(r for r in saved if isinstance(r, EditMessageText))
    assert "Строительство школы" in edit.text  # the next item of the round
    (update,) = await rows(session_maker, StatusUpdate)
    assert (update.item_id, update.status, update.progress, update.comment) == (
        item,
        "on_track",
        75,
        None,
    )
    (request,) = await rows(session_maker, RoundRequest)
    assert request.answered_at == clock.now()


async def test_at_risk_needs_cause_and_comment_then_done_skips_progress(
    world: World, session_maker: SessionMaker
) -> None:
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="at_risk").pack())
    await chatter.send(EDU_HEAD, "40")
    cause_step = await chatter.press(EDU_HEAD, PickCause(item_id=item, cause="contractor").pack())
    edit = next(r for r in cause_step if isinstance(r, EditMessageText))
    skip = DialogAction(item_id=item, action="skip").pack()
    back = DialogAction(item_id=item, action="back").pack()
    assert skip not in buttons(edit) and back not in buttons(edit)  # a comment is required
    for forged in (skip, back):
        refused = await chatter.press(EDU_HEAD, forged)
        assert not any(isinstance(r, EditMessageText) for r in refused)
    await chatter.send(EDU_HEAD, "Мердігер <ЖШС> жұмысты тоқтатты & қаржы керек")
    await chatter.press(EDU_HEAD, DialogAction(item_id=item, action="save").pack())
    (update,) = await rows(session_maker, StatusUpdate)
    assert (update.status, update.progress, update.cause) == ("at_risk", 40, "contractor")
    assert update.comment == "Мердігер <ЖШС> жұмысты тоқтатты & қаржы керек"
    (event,) = await rows(session_maker, RiskEvent)
    assert (event.kind, event.status_update_id) == ("declared_at_risk", update.id)

    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    progress_skipped = await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="done").pack())
    edit = next(r for r in progress_skipped if isinstance(r, EditMessageText))
    save = DialogAction(item_id=item, action="save").pack()
    assert save in buttons(edit)  # straight to the summary: comment and file are optional
    await chatter.press(EDU_HEAD, DialogAction(item_id=item, action="save").pack())
    updates = await rows(session_maker, StatusUpdate)
    assert [(u.status, u.progress) for u in updates] == [("at_risk", 40), ("done", 100)]


async def test_progress_backwards_is_a_risk_event(
    world: World, session_maker: SessionMaker
) -> None:
    chatter, item = world.chatter, world.items["2.1"]
    save = DialogAction(item_id=item, action="save").pack()
    for value in (60, 30):
        await chatter.press(BUILD_HEAD, OpenItem(item_id=item).pack())
        await chatter.press(BUILD_HEAD, PickStatus(item_id=item, status="on_track").pack())
        await chatter.press(BUILD_HEAD, PickProgress(item_id=item, value=value).pack())
        first = await chatter.press(BUILD_HEAD, save)
    (warning,) = [r for r in first if isinstance(r, EditMessageText)]  # lower than 60: warned
    assert "⚠️" in warning.text and save in buttons(warning)
    assert len(await rows(session_maker, StatusUpdate)) == 1
    await chatter.press(BUILD_HEAD, save)  # "save anyway"
    (event,) = await rows(session_maker, RiskEvent)
    assert (event.kind, event.previous_progress) == ("progress_back", 60)


@pytest.mark.parametrize("typed", ["101", "-5", "fifty", "7.5", "", "1000"])
async def test_bad_progress_is_explained_and_the_dialog_stays(
    world: World, session_maker: SessionMaker, i18n: I18n, typed: str
) -> None:
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="on_track").pack())
    reply = only_text(await chatter.send(EDU_DEPUTY, typed or " "))
    assert reply == i18n.gettext(
        "Please send a whole number from 0 to 100, or tap a button above.", locale="ru"
    )
    accepted = await chatter.send(EDU_DEPUTY, "55%")
    # Issue 22 (#17): the next step is shown in place of the card, not re-sent.
    assert any(isinstance(r, EditMessageText) for r in accepted)
    assert await rows(session_maker, StatusUpdate) == []


async def test_a_command_typed_mid_dialog_reaches_its_handler_and_the_buttons_still_work(
    world: World, i18n: I18n
) -> None:
    """The reporting buttons' router comes first; the dialog's typed answers do not, so a
    command typed at a step that takes any text still reaches the command's own handler."""
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    help_reply = only_text(await chatter.send(EDU_DEPUTY, "/help"))  # at the status step
    assert i18n.gettext("What you can do:", locale="ru") in help_reply
    step = await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="on_track").pack())
    assert any(isinstance(r, EditMessageText) for r in step)  # the dialog went on


def _media_message(user_id: int, **content: object) -> Update:
    return Update(
        update_id=10_000 + user_id,
        message=Message(
            message_id=500,
            date=0,  # type: ignore[arg-type]
            chat=Chat(id=user_id, type="private"),
            from_user=User(id=user_id, is_bot=False, first_name="U", language_code="ru"),
            **content,
        ),
    )


async def test_wrong_kinds_of_input_are_explained(
    world: World, session_maker: SessionMaker, i18n: I18n
) -> None:
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    single_word = only_text(await chatter.send(EDU_DEPUTY, "обычно"))
    assert single_word == i18n.gettext("Please choose one of the buttons above.", locale="ru")
    # Issue 22 (#13): a sentence at a button step is kept as the comment draft, not rejected.
    kept = only_text(await chatter.send(EDU_DEPUTY, "как обычно"))
    assert "как обычно" in kept and "Какой статус" in kept
    await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="blocked").pack())
    await chatter.press(EDU_DEPUTY, PickProgress(item_id=item, value=10).pack())
    await chatter.press(EDU_DEPUTY, PickCause(item_id=item, cause="financing").pack())
    sticker = Sticker(
        file_id="s",
        file_unique_id="su",
        type="regular",
        width=1,
        height=1,
        is_animated=False,
        is_video=False,
    )
    voice = Voice(file_id="v", file_unique_id="vu", duration=3)
    # Issue 22 (#14): a sticker gets a short friendly answer; a voice message is evidence,
    # and the comment step asks for a typed comment too.
    await chatter.dispatcher.feed_update(chatter.bot, _media_message(EDU_DEPUTY, sticker=sticker))
    assert "Спасибо" in only_text(chatter.bot.take())
    await chatter.dispatcher.feed_update(chatter.bot, _media_message(EDU_DEPUTY, voice=voice))
    assert "голосовое сообщение" in only_text(chatter.bot.take())
    too_long = only_text(await chatter.send(EDU_DEPUTY, "я" * 1001))
    assert "1000" in too_long
    await chatter.send(EDU_DEPUTY, "Нет финансирования")
    huge = Document(file_id="d", file_unique_id="du", file_name="a.pdf", file_size=21 * 2**20)
    await chatter.dispatcher.feed_update(chatter.bot, _media_message(EDU_DEPUTY, document=huge))
    assert "20" in only_text(chatter.bot.take())
    photo = [
        PhotoSize(file_id="p-small", file_unique_id="ps", width=90, height=90),
        PhotoSize(file_id="p-big", file_unique_id="pb", width=1280, height=960),
    ]
    await chatter.dispatcher.feed_update(chatter.bot, _media_message(EDU_DEPUTY, photo=photo))
    chatter.bot.take()
    await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="save").pack())
    (update,) = await rows(session_maker, StatusUpdate)
    assert (update.status, update.cause, update.comment) == (
        "blocked",
        "financing",
        "Нет финансирования",
    )
    assert (update.evidence_kind, update.evidence_file_id, update.evidence_unique_id) == (
        "photo",
        "p-big",
        "pb",
    )


async def test_forged_callback_for_another_department_is_refused(
    world: World, session_maker: SessionMaker
) -> None:
    chatter = world.chatter
    foreign = world.items["2.1"]
    requests = await chatter.press(EDU_HEAD, OpenItem(item_id=foreign).pack())
    assert [type(r).__name__ for r in requests] == ["AnswerCallbackQuery"]
    assert requests[0].show_alert is True
    # a status tap for the foreign item without any dialog: refused as stale
    await chatter.press(EDU_HEAD, PickStatus(item_id=foreign, status="done").pack())
    await chatter.press(EDU_HEAD, OpenItem(item_id=world.items["1.1"]).pack())
    # inside a dialog for 1.1, a forged tap for 2.1 must not switch items
    forged = await chatter.press(EDU_HEAD, PickStatus(item_id=foreign, status="done").pack())
    assert not any(isinstance(r, EditMessageText) and "Мост" in r.text for r in forged)
    assert await rows(session_maker, StatusUpdate) == []
    from db.models import AuditLog

    refusals = [e for e in await rows(session_maker, AuditLog) if e.action == "refused.report"]
    assert [e.target for e in refusals] == [str(foreign)]


async def test_item_reassigned_while_the_dialog_is_open(
    world: World, session_maker: SessionMaker, i18n: I18n
) -> None:
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="on_track").pack())
    await chatter.press(EDU_HEAD, PickProgress(item_id=item, value=50).pack())
    await chatter.send(ADMIN_ID, "/assign 1.1 build")
    answer = await chatter.press(EDU_HEAD, DialogAction(item_id=item, action="save").pack())
    assert answer[0].text == i18n.gettext(
        "This item is not among your department's items.", locale="kk"
    )
    assert await rows(session_maker, StatusUpdate) == []


async def test_two_members_update_the_same_item(world: World, session_maker: SessionMaker) -> None:
    chatter, item = world.chatter, world.items["1.3"]
    for member in (EDU_HEAD, EDU_DEPUTY):
        await chatter.press(member, OpenItem(item_id=item).pack())
        await chatter.press(member, PickStatus(item_id=item, status="on_track").pack())
        await chatter.press(member, PickProgress(item_id=item, value=25).pack())
    for member in (EDU_HEAD, EDU_DEPUTY):
        await chatter.press(member, DialogAction(item_id=item, action="save").pack())
    updates = await rows(session_maker, StatusUpdate)
    assert len(updates) == 2 and len({u.author_id for u in updates}) == 2


async def test_worklist_pages_and_item_history(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    chatter = world.chatter
    for number in range(10):
        await chatter.send(
            ADMIN_ID, f"/additem 9.{number} edu 2025-08-{number + 10} Т{number} | П{number}"
        )
    listing = (await chatter.send(EDU_DEPUTY, "/myitems"))[0]
    assert len(buttons(listing)) == 8 + 1  # 8 items and the "next page" arrow
    assert buttons(listing)[-1] == WorklistPage(page=1).pack()
    second = await chatter.press(EDU_DEPUTY, WorklistPage(page=1).pack())
    edit = next(r for r in second if isinstance(r, EditMessageText))
    assert len(buttons(edit)) == 5 + 1  # 13 items: 5 left, and "previous"

    item = world.items["1.2"]
    for value in range(0, 60, 5):
        await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
        await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="on_track").pack())
        await chatter.send(EDU_DEPUTY, str(value))
        await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="save").pack())
    card = only_text(await chatter.send(ADMIN_ID, "/item 1.2"))
    assert card.count("%") >= 10 and "55%" in card
    assert "5%" not in card.replace("55%", "").replace("15%", "").replace("25%", "").replace(
        "35%", ""
    ).replace("45%", "")  # only the last 10 of 12 updates are listed
    foreign = only_text(await chatter.send(BUILD_HEAD, "/item 1.2"))
    assert "55%" not in foreign


async def test_save_does_not_wait_for_the_alert_scan(
    world: World, jobs: Jobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head's Save answers at once; the chair's alert scan runs in the background."""
    release = asyncio.Event()
    scans: list[str] = []

    async def slow_scan() -> int:
        scans.append("started")
        await release.wait()
        scans.append("finished")
        return 0

    monkeypatch.setattr(jobs, "chair_alerts", slow_scan)
    chatter, item = world.chatter, world.items["2.1"]
    await chatter.press(BUILD_HEAD, OpenItem(item_id=item).pack())
    await chatter.press(BUILD_HEAD, PickStatus(item_id=item, status="blocked").pack())
    await chatter.send(BUILD_HEAD, "10")
    await chatter.press(BUILD_HEAD, PickCause(item_id=item, cause="contractor").pack())
    await chatter.send(BUILD_HEAD, "Подрядчик ушёл")
    await chatter.press(BUILD_HEAD, DialogAction(item_id=item, action="skip").pack())
    saved = await chatter.press(BUILD_HEAD, DialogAction(item_id=item, action="save").pack())
    assert any(isinstance(r, EditMessageText) and "✅" in r.text for r in saved)
    await asyncio.sleep(0)  # let the background task start
    assert scans == ["started"]  # Save answered while the scan was still running
    release.set()
    await jobs.settle()
    assert scans == ["started", "finished"]


async def test_a_round_confirmed_before_its_requests_were_queued_is_queued_at_the_next_start(
    world: World,
    outbox: DeliveryWorker,
    jobs: Jobs,
    session_maker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The confirmation goes out as soon as the round is recorded; the process dies before
    the requests reach the outbox. The next start queues them, once."""

    async def killed(*_args: object, **_kwargs: object) -> int:
        raise asyncio.CancelledError  # the process stops here

    with monkeypatch.context() as patched:
        patched.setattr(rounds, "queue_requests", killed)
        with pytest.raises(asyncio.CancelledError):
            await world.chatter.send(ADMIN_ID, "/request_now")
    assert "у 2 управлений" in only_text(world.chatter.bot.take())
    assert await rows(session_maker, Notification) == []
    (recorded,) = await rows(session_maker, StatusRound)
    assert recorded.queued_at is None

    await jobs.catch_up()
    assert sorted(n.chat_id for n in await rows(session_maker, Notification)) == [
        EDU_HEAD,
        EDU_DEPUTY,
        BUILD_HEAD,
    ]
    (recorded,) = await rows(session_maker, StatusRound)
    assert recorded.queued_at is not None
    await jobs.catch_up()  # a second start finds nothing to resume
    assert len(await rows(session_maker, Notification)) == 3
    assert (await outbox.drain_all()).sent == 3


async def test_a_stop_after_the_first_batch_of_a_round_is_resumed_without_duplicates(
    world: World,
    outbox: DeliveryWorker,
    jobs: Jobs,
    session_maker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first batch is committed (and may already be sending) before the rest is
    stored; a stop in between leaves the round to resume, and the stored keys are kept."""
    calls = 0
    enqueue = rounds.enqueue_messages

    async def stops_at_the_second_batch(*args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise asyncio.CancelledError
        return await enqueue(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(rounds, "FIRST_BATCH", 1)
        patched.setattr(rounds, "enqueue_messages", stops_at_the_second_batch)
        with pytest.raises(asyncio.CancelledError):
            await world.chatter.send(ADMIN_ID, "/request_now")
    (first,) = await rows(session_maker, Notification)
    assert (await rows(session_maker, StatusRound))[0].queued_at is None

    await jobs.catch_up()
    notifications = await rows(session_maker, Notification)
    assert sorted(n.chat_id for n in notifications) == [EDU_HEAD, EDU_DEPUTY, BUILD_HEAD]
    assert first.idempotency_key in {n.idempotency_key for n in notifications}
    assert (await outbox.drain_all()).sent == 3


async def test_a_dialog_step_is_three_statements_and_one_commit(
    world: World, engine: AsyncEngine
) -> None:
    """The dialog row read and written, and one statement for the person, the item, its newest
    report and that report's author: each step still checks the item as it is now."""
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="on_track").pack())
    await chatter.press(EDU_HEAD, PickProgress(item_id=item, value=50).pack())
    await chatter.press(EDU_HEAD, DialogAction(item_id=item, action="save").pack())
    steps = [
        lambda: chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack()),
        lambda: chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="on_track").pack()),
        lambda: chatter.press(EDU_DEPUTY, PickProgress(item_id=item, value=60).pack()),
        lambda: chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="comment").pack()),
        lambda: chatter.send(EDU_DEPUTY, "Стены готовы"),
        lambda: chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="file").pack()),
        lambda: chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="back").pack()),
        lambda: chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="cancel").pack()),
    ]
    for number, step in enumerate(steps, 1):
        with counted(engine) as counts:
            requests = await step()
        # Issue 22 (#18): Cancel says how many answers of the round stay saved (one count).
        statements = 4 if number == len(steps) else 3
        assert counts == {"statements": statements, "commits": 1}, requests
        texts = [r.text for r in requests if isinstance(r, EditMessageText | SendMessage)]
        assert texts and ("User2001" in texts[0] or "Отменено" in texts[0]), texts


async def test_save_is_one_commit_with_the_dialogs_next_step(
    world: World, engine: AsyncEngine, session_maker: SessionMaker
) -> None:
    """The report, the round's answer and the dialog's next item commit together: no moment
    in which the report is saved and the dialog still points at the saved draft.

    Four statements (seven before the tap read ahead, nine before the next item had a query
    of its own): the dialog row; the person with the item and its newest report, the round's
    current request and the next waiting item with its card, in one indexed statement; the
    report (the database adds its risk mark, migration 0023); the dialog row."""
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="on_track").pack())
    await chatter.press(EDU_HEAD, PickProgress(item_id=item, value=50).pack())
    with counted(engine) as counts:
        saved = await chatter.press(EDU_HEAD, DialogAction(item_id=item, action="save").pack())
    assert "✅" in only_text(saved)
    assert counts == {"statements": 4, "commits": 1}, counts
    async with session_maker() as session:
        # The head's own dialog row (others joined without a name have the name question's).
        heads = select(FsmRecord).where(col(FsmRecord.key).contains(str(EDU_HEAD)))
        record = (await session.exec(heads)).one()
        draft = Draft.from_data(json.loads(record.data))
        assert draft is not None and draft.item_id != item  # the next item, with the report

    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    with counted(engine) as counts:
        same = await chatter.press(EDU_HEAD, DialogAction(item_id=item, action="same").pack())
    assert "✅" in only_text(same)
    assert counts == {"statements": 4, "commits": 1}, counts  # "no change" alike


async def test_a_save_read_ahead_answers_the_request_and_moves_to_the_next_waiting_item(
    world: World, session_maker: SessionMaker
) -> None:
    """The Save tap reads the round's request and the next waiting item before the report is
    written: the request is still answered by the first report, the item just reported is
    never the next one, an item reported since the request is skipped, and the database
    marks each reported item for the alert scan (migration 0023)."""
    chatter, items = world.chatter, world.items
    codes = {item_id: code for code, item_id in items.items()}
    await chatter.send(ADMIN_ID, "/request_now")
    marked_before = max([mark.id or 0 for mark in await rows(session_maker, RiskDirty)] or [0])

    async def save(head: int, code: str, progress: int) -> list[Any]:
        item = items[code]
        await chatter.press(head, OpenItem(item_id=item).pack())
        await chatter.press(head, PickStatus(item_id=item, status="on_track").pack())
        await chatter.press(head, PickProgress(item_id=item, value=progress).pack())
        return await chatter.press(head, DialogAction(item_id=item, action="save").pack())

    # The deputy reports 1.1 (June), the second of the worklist (1.2 April, 1.3 December).
    await save(EDU_DEPUTY, "1.1", 40)
    # The head reports 1.2: the next waiting one is 1.3, not 1.1 (reported since the request).
    shown = only_text(await save(EDU_HEAD, "1.2", 30))
    async with session_maker() as session:
        heads = select(FsmRecord).where(col(FsmRecord.key).contains(str(EDU_HEAD)))
        draft = Draft.from_data(json.loads((await session.exec(heads)).one().data))
    assert draft is not None and codes[draft.item_id] == "1.3", shown
    departments = {d.id: d.code for d in await rows(session_maker, Department)}
    answered = {
        departments[r.department_id]: r.answered_at for r in await rows(session_maker, RoundRequest)
    }
    assert answered["edu"] is not None and answered["build"] is None
    marks = [m for m in await rows(session_maker, RiskDirty) if (m.id or 0) > marked_before]
    assert sorted(codes[m.item_id] for m in marks if m.item_id is not None) == ["1.1", "1.2"]
    # The request's first answer: every item of the department may change.
    assert [departments[m.department_id] for m in marks if m.department_id] == ["edu"]


async def test_on_postgresql_a_step_is_three_round_trips_and_a_save_six(
    world: World, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 28: the dialog row read, the person with the item, the dialog row stored as a
    transaction of its own (no BEGIN, no COMMIT); a Save adds BEGIN, the report and COMMIT,
    the row's write joining the report's transaction."""
    if engine.dialect.name != "postgresql":
        pytest.skip("round trips to a server: PostgreSQL only")
    chatter, item = world.chatter, world.items["1.1"]
    taps = [
        OpenItem(item_id=item),
        PickStatus(item_id=item, status="on_track"),
        PickProgress(item_id=item, value=50),
        DialogAction(item_id=item, action="save"),
    ]
    trips = []
    for tap in taps:
        with server_trips(engine, monkeypatch) as counts:
            await chatter.press(EDU_HEAD, tap.pack())
        trips.append(counts["trips"])
    assert trips == [3, 3, 3, 6]


async def test_each_step_shows_the_newest_report_as_it_is_now(world: World) -> None:
    chatter, item = world.chatter, world.items["1.1"]
    opened = await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    assert "User2001" not in only_text(opened)
    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    await chatter.press(EDU_HEAD, PickStatus(item_id=item, status="on_track").pack())
    await chatter.press(EDU_HEAD, PickProgress(item_id=item, value=50).pack())
    await chatter.press(EDU_HEAD, DialogAction(item_id=item, action="save").pack())
    step = await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="on_track").pack())
    assert "50%" in only_text(step) and "User2001" in only_text(step)


async def test_only_dialog_updates_name_an_item() -> None:
    def tap(data: str) -> Update:
        user = User(id=EDU_HEAD, is_bot=False, first_name="Head")
        query = CallbackQuery(id="1", from_user=user, chat_instance="ci", data=data)
        return Update(update_id=1, callback_query=query)

    assert await item_of_update(tap(OpenItem(item_id=7).pack()), {}) == 7
    assert await item_of_update(tap(PickStatus(item_id=8, status="done").pack()), {}) == 8
    for other in ("lang:ru", "ci:7", "rs:x:done", "rp:99999999999:5", "", "ri"):
        assert await item_of_update(tap(other), {}) is None
    message = Message(
        message_id=1, date=0, chat=Chat(id=EDU_HEAD, type="private"), text="50"
    )  # outside a dialog there is no draft to read
    assert await item_of_update(Update(update_id=2, message=message), {"raw_state": None}) is None


@pytest.mark.parametrize("ahead", [False, True], ids=["step", "save"])
async def test_the_person_and_item_statement_finds_every_row_by_an_index(
    engine: AsyncEngine, session_maker: SessionMaker, ahead: bool
) -> None:
    """Each dialog step runs it (a Save tap with the round's request and the next waiting
    item): it must not scan the updates or the items, however many there are."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with session_maker() as session:
            if ahead:
                since = datetime(2025, 3, 3, tzinfo=UTC)
                assert await person_with_item_ahead(session, 5, 7, since) == (None, None)
            else:
                assert await queries.person_with_item(session, 5, 7) == (None, None)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    ((statement, parameters),) = captured
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = [str(row[3]) for row in result]
            assert not [line for line in plan if line.startswith("SCAN")], plan
        else:
            result = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            plan = [str(row[0]) for row in result]
            assert not [line for line in plan if "Seq Scan" in line], plan
    assert any("ix_status_update_item_created" in line for line in plan), plan
