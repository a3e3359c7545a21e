"""Reporting in few taps: "no change" in the dialog, ✓ in the worklist, everything at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import Chat, Document, Message, Update, User
from aiogram.utils.i18n import I18n
from sqlmodel import select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.delivery.worker import DeliveryWorker
from bot.reporting.service import Draft, SanityWarning, sanity_warnings
from bot.reporting.views import cause_step, confirm_step, status_step
from bot.risk.assess import assess_items
from bot.risk.rules import RiskReason, RiskThresholds
from bot.telegram.callbacks import (
    AskUpdate,
    ConfirmAll,
    ConfirmItem,
    DialogAction,
    OpenItem,
    PickCause,
    PickProgress,
    PickStatus,
)
from bot.telegram.i18n import in_locale
from bot.telegram.keyboards import SHORT_LABEL
from db.engine import SessionMaker
from db.models import Notification, Person, RoadmapItem, RoundRequest, StatusUpdate
from tests.helpers.chat import ADMIN_ID, rows
from tests.helpers.reporting_world import EDU_DEPUTY, EDU_HEAD, World, buttons

NOW = datetime(2025, 3, 3, 4, 0, tzinfo=UTC)


def _media(user_id: int, **content: object) -> Update:
    return Update(
        update_id=20_000 + user_id,
        message=Message(
            message_id=600,
            date=NOW,
            chat=Chat(id=user_id, type="private"),
            from_user=User(id=user_id, is_bot=False, first_name="U", language_code="ru"),
            **content,
        ),
    )


async def _seed_reports(
    session_maker: SessionMaker, clock: FrozenClock, world: World, reports: dict[str, tuple]
) -> None:
    """Earlier reports by the head, 20 days ago: what a confirmation will repeat.

    The items are dated back to then too: an item cannot be reported on before it exists.
    """
    reported_at = clock.now() - timedelta(days=20)
    async with session_maker() as session:
        head = (await session.exec(select(Person).where(Person.telegram_id == EDU_HEAD))).one()
        for code, (status, progress, cause) in reports.items():
            item = await session.get(RoadmapItem, world.items[code])
            assert item is not None
            item.created_at = min(item.created_at, reported_at)
            session.add(item)
            session.add(
                StatusUpdate(
                    item_id=world.items[code],
                    author_id=head.id,  # type: ignore[arg-type]
                    status=status,
                    progress=progress,
                    cause=cause,
                    comment="earlier",
                    created_at=reported_at,
                )
            )
        await session.commit()


def _edits(requests: list) -> list[EditMessageText]:
    return [r for r in requests if isinstance(r, EditMessageText)]


async def test_no_change_takes_two_taps_and_is_a_confirmation(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await _seed_reports(session_maker, clock, world, {"1.1": ("on_track", 60, None)})
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.send(ADMIN_ID, "/request_now edu")
    clock.advance(timedelta(minutes=5))
    (opened,) = _edits(await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack()))  # tap 1
    same = DialogAction(item_id=item, action="same").pack()
    assert buttons(opened)[0] == same
    assert opened.reply_markup.inline_keyboard[0][0].text == "Без изменений — по плану, 60%"
    (after,) = _edits(await chatter.press(EDU_DEPUTY, same))  # tap 2
    assert after.text.startswith("✅ Сохранено: без изменений.")

    updates = sorted(await rows(session_maker, StatusUpdate), key=lambda u: u.id)
    assert len(updates) == 2
    confirmation = updates[-1]
    deputy = next(p for p in await rows(session_maker, Person) if p.telegram_id == EDU_DEPUTY)
    assert confirmation.confirmation and not updates[0].confirmation
    assert (confirmation.status, confirmation.progress, confirmation.author_id) == (
        "on_track",
        60,
        deputy.id,
    )
    assert confirmation.comment is None
    assert confirmation.created_at.replace(tzinfo=None) == clock.now().replace(tzinfo=None)
    (request,) = await rows(session_maker, RoundRequest)
    assert request.answered_at is not None  # counts as the department's answer
    card = (await chatter.send(ADMIN_ID, "/item 1.1"))[-1].text
    assert "по плану, 60% — User2002: без изменений" in card


async def test_a_confirmation_resets_staleness(
    world: World, session_maker: SessionMaker, clock: FrozenClock, settings: Settings
) -> None:
    await _seed_reports(session_maker, clock, world, {"1.3": ("on_track", 40, None)})
    today = clock.now().date()
    item = world.items["1.3"]
    async with session_maker() as session:
        before = await assess_items(
            session, today=today, year=2025, thresholds=RiskThresholds(), tz=settings.tz
        )
    assert RiskReason.STALE in before[item].reasons
    await world.chatter.press(EDU_HEAD, ConfirmItem(item_id=item, page=0).pack())
    async with session_maker() as session:
        after = await assess_items(
            session, today=today, year=2025, thresholds=RiskThresholds(), tz=settings.tz
        )
    assert RiskReason.STALE not in after[item].reasons


async def test_tick_in_the_worklist_confirms_in_one_tap(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await _seed_reports(
        session_maker,
        clock,
        world,
        {"1.1": ("on_track", 60, None), "1.2": ("at_risk", 30, "contractor")},
    )
    chatter = world.chatter
    shown = await chatter.send(EDU_DEPUTY, "/myitems")
    worklist = shown[-1]
    tick = ConfirmItem(item_id=world.items["1.2"], page=0).pack()
    assert tick in buttons(worklist)
    assert ConfirmItem(item_id=world.items["1.3"], page=0).pack() not in buttons(worklist)
    labels = [b.text for row in worklist.reply_markup.inline_keyboard for b in row]
    assert "✓ риск, 30%" in labels and "✓ 60%" in labels  # issue 22 (#19): a risk says so

    (edited,) = _edits(await chatter.press(EDU_DEPUTY, tick))  # the only tap
    assert tick not in buttons(edited)
    newest = max(await rows(session_maker, StatusUpdate), key=lambda u: u.id)
    assert (newest.item_id, newest.status, newest.progress, newest.cause) == (
        world.items["1.2"],
        "at_risk",
        30,
        "contractor",
    )
    assert newest.confirmation

    # A second tap on the same ✓ (an old message) adds nothing.
    await chatter.press(EDU_DEPUTY, tick)
    assert len(await rows(session_maker, StatusUpdate)) == 3


async def test_everything_else_unchanged_lists_then_confirms_all(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await _seed_reports(
        session_maker,
        clock,
        world,
        {"1.1": ("on_track", 60, None), "1.2": ("on_track", 10, None)},
    )
    chatter = world.chatter
    worklist = (await chatter.send(EDU_HEAD, "/myitems"))[-1]
    ask = ConfirmAll(step="ask", page=0).pack()
    assert ask in buttons(worklist)
    (listing,) = _edits(await chatter.press(EDU_HEAD, ask))
    assert "1.1" in listing.text and "1.2" in listing.text and "60%" in listing.text
    assert "1.3" not in listing.text.split("\n")[1]
    assert len(await rows(session_maker, StatusUpdate)) == 2  # nothing saved before "yes"
    (done,) = _edits(await chatter.press(EDU_HEAD, ConfirmAll(step="yes", page=0).pack()))
    assert done.text.startswith("✅ ")
    updates = await rows(session_maker, StatusUpdate)
    confirmations = [u for u in updates if u.confirmation]
    assert sorted(u.item_id for u in confirmations) == sorted(
        [world.items["1.1"], world.items["1.2"]]
    )
    # 1.3 has no report: it stays waiting and can only be opened.
    assert OpenItem(item_id=world.items["1.3"]).pack() in buttons(done)
    assert ask not in buttons(done)


async def test_no_change_is_not_offered_without_an_earlier_report(world: World) -> None:
    item = world.items["1.3"]
    (opened,) = _edits(await world.chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack()))
    assert buttons(opened)[0] == PickStatus(item_id=item, status="done").pack()
    assert DialogAction(item_id=item, action="same").pack() not in buttons(opened)


def _taps_and_last(chatter_results: list) -> EditMessageText | SendMessage:
    return [r for r in chatter_results if isinstance(r, EditMessageText | SendMessage)][-1]


async def test_a_changed_item_takes_four_taps_and_extras_are_optional(
    world: World, session_maker: SessionMaker
) -> None:
    chatter, item = world.chatter, world.items["1.3"]
    taps = [
        OpenItem(item_id=item).pack(),
        PickStatus(item_id=item, status="on_track").pack(),
        PickProgress(item_id=item, value=50).pack(),
    ]
    for data in taps:
        screen = _taps_and_last(await chatter.press(EDU_DEPUTY, data))
    assert "Статус: по плану, 50%" in screen.text
    assert DialogAction(item_id=item, action="comment").pack() in buttons(screen)
    assert DialogAction(item_id=item, action="file").pack() in buttons(screen)
    # Typing at the summary: a number is the progress, other text the comment.
    screen = _taps_and_last(await chatter.send(EDU_DEPUTY, "55"))
    assert "Статус: по плану, 55%" in screen.text
    screen = _taps_and_last(await chatter.send(EDU_DEPUTY, "Фундамент готов"))
    assert "Комментарий: Фундамент готов" in screen.text
    command = _taps_and_last(await chatter.send(EDU_DEPUTY, "/unknown"))
    assert "/unknown" not in command.text  # a command is never taken for a comment
    # The optional file by its button, then back to the summary.
    await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="file").pack())
    document = Document(file_id="d1", file_unique_id="du1", file_name="акт <1>.pdf", file_size=10)
    await chatter.dispatcher.feed_update(chatter.bot, _media(EDU_DEPUTY, document=document))
    screen = _taps_and_last(chatter.bot.take())
    assert "Подтверждающий документ: файл «акт &lt;1&gt;.pdf»" in screen.text
    await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="save").pack())  # tap 4
    (update,) = await rows(session_maker, StatusUpdate)
    assert (update.status, update.progress, update.comment) == ("on_track", 55, "Фундамент готов")
    assert (update.evidence_kind, update.evidence_file_id) == ("document", "d1")


async def test_four_taps_in_kazakh_with_typed_labels(
    world: World, session_maker: SessionMaker
) -> None:
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_HEAD, OpenItem(item_id=item).pack())
    progress = _taps_and_last(await chatter.send(EDU_HEAD, "Жоспар бойынша"))  # = the button
    assert PickProgress(item_id=item, value=50).pack() in buttons(progress)
    await chatter.send(EDU_HEAD, "70")
    await chatter.send(EDU_HEAD, "сақтау")  # the Save label, typed
    (update,) = await rows(session_maker, StatusUpdate)
    assert (update.status, update.progress, update.comment) == ("on_track", 70, None)


async def test_at_risk_takes_five_taps_and_a_typed_comment(
    world: World, session_maker: SessionMaker
) -> None:
    chatter, item = world.chatter, world.items["1.3"]
    for data in (
        OpenItem(item_id=item).pack(),
        PickStatus(item_id=item, status="at_risk").pack(),
        PickProgress(item_id=item, value=25).pack(),
        PickCause(item_id=item, cause="financing").pack(),
    ):
        await chatter.press(EDU_DEPUTY, data)
    screen = _taps_and_last(await chatter.send(EDU_DEPUTY, "Нет денег на материалы"))
    assert DialogAction(item_id=item, action="save").pack() in buttons(screen)
    await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="save").pack())  # tap 5
    (update,) = await rows(session_maker, StatusUpdate)
    assert (update.status, update.cause, update.comment) == (
        "at_risk",
        "financing",
        "Нет денег на материалы",
    )


async def test_typed_cause_label_counts_as_the_button(
    world: World, session_maker: SessionMaker
) -> None:
    chatter, item = world.chatter, world.items["1.3"]
    await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    await chatter.send(EDU_DEPUTY, "Не будет выполнено")
    await chatter.send(EDU_DEPUTY, "10")
    comment_step = _taps_and_last(await chatter.send(EDU_DEPUTY, "подрядчик."))
    assert DialogAction(item_id=item, action="cancel").pack() in buttons(comment_step)
    await chatter.send(EDU_DEPUTY, "Подрядчик ушёл")
    await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="save").pack())
    (update,) = await rows(session_maker, StatusUpdate)
    assert (update.status, update.cause) == ("blocked", "contractor")


async def test_on_track_past_the_deadline_is_warned_once(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    chatter, item = world.chatter, world.items["1.2"]  # deadline 1 April 2025
    clock.set(clock.now().replace(month=4, day=10))
    await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="on_track").pack())
    await chatter.press(EDU_DEPUTY, PickProgress(item_id=item, value=90).pack())
    save = DialogAction(item_id=item, action="save").pack()
    warning = _taps_and_last(await chatter.press(EDU_DEPUTY, save))
    assert "⚠️ Срок исполнения прошёл" in warning.text
    labels = [b.text for row in warning.reply_markup.inline_keyboard for b in row]
    assert "Всё равно сохранить" in labels
    assert DialogAction(item_id=item, action="change").pack() in buttons(warning)  # no dead end
    assert await rows(session_maker, StatusUpdate) == []
    await chatter.press(EDU_DEPUTY, save)
    (update,) = await rows(session_maker, StatusUpdate)
    assert (update.status, update.progress) == ("on_track", 90)


async def test_done_is_one_hundred_and_never_warns_about_progress(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await _seed_reports(session_maker, clock, world, {"1.1": ("on_track", 60, None)})
    chatter, item = world.chatter, world.items["1.1"]
    await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    screen = _taps_and_last(
        await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="done").pack())
    )
    assert "100%" in screen.text
    await chatter.send(EDU_DEPUTY, "40")  # a number at the summary of "done" is a comment
    await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="save").pack())
    newest = max(await rows(session_maker, StatusUpdate), key=lambda u: u.id)
    assert (newest.status, newest.progress, newest.comment) == ("done", 100, "40")


def test_sanity_warnings_rules() -> None:
    item = RoadmapItem(
        code="1", title_kk="a", title_ru="a", department_id=1, deadline=date(2025, 4, 1), year=2025
    )
    before, after = date(2025, 3, 1), date(2025, 4, 2)
    earlier = StatusUpdate(item_id=1, author_id=1, status="on_track", progress=60, created_at=NOW)
    draft = Draft(item_id=1, status="on_track", progress=50)
    assert sanity_warnings(draft, item, earlier, before) == [SanityWarning.PROGRESS_BACK]
    assert sanity_warnings(draft, item, None, after) == [SanityWarning.ON_TRACK_PAST_DEADLINE]
    assert sanity_warnings(Draft(1, "at_risk", 70), item, earlier, after) == []
    assert sanity_warnings(Draft(1, "done", 100), item, earlier, after) == []


async def test_after_the_last_item_a_one_line_summary(
    world: World, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await _seed_reports(
        session_maker, clock, world, {"1.1": ("on_track", 60, None), "1.2": ("on_track", 10, None)}
    )
    chatter = world.chatter
    await chatter.send(ADMIN_ID, "/request_now edu")
    clock.advance(timedelta(minutes=1))
    for code in ("1.1", "1.2"):
        await chatter.press(EDU_DEPUTY, ConfirmItem(item_id=world.items[code], page=0).pack())
    item = world.items["1.3"]
    await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="on_track").pack())
    await chatter.press(EDU_DEPUTY, PickProgress(item_id=item, value=60).pack())
    last = _taps_and_last(
        await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="save").pack())
    )
    assert "3 пункта: 2 — без изменений; 1 — по плану, 60%" in last.text


async def test_ask_for_an_update_on_one_item_names_who_asks(
    world: World, session_maker: SessionMaker, outbox: DeliveryWorker
) -> None:
    chatter = world.chatter
    await chatter.press(ADMIN_ID, AskUpdate(item_id=world.items["1.2"]).pack())
    assert await rows(session_maker, RoundRequest) == []  # not a round: statistics untouched
    await outbox.drain_all()
    sent = [r for r in chatter.bot.take() if isinstance(r, SendMessage)]
    by_chat = {int(r.chat_id): r for r in sent}
    assert set(by_chat) >= {EDU_HEAD, EDU_DEPUTY}
    ru = by_chat[EDU_DEPUTY]
    assert f"User{ADMIN_ID} (секретариат) просит обновить статус этого пункта" in ru.text
    assert "1.2" in ru.text
    assert buttons(ru) == [OpenItem(item_id=world.items["1.2"]).pack()]
    assert "осы тармақтың жай-күйін жаңартуды сұрайды" in by_chat[EDU_HEAD].text


async def test_request_now_outside_working_hours_says_when(
    world: World, clock: FrozenClock, session_maker: SessionMaker
) -> None:
    clock.set(datetime(2025, 3, 15, 7, 0, tzinfo=UTC))  # Saturday 12:00 in Almaty
    reply = (await world.chatter.send(ADMIN_ID, "/request_now edu"))[-1].text
    assert reply.startswith("Сейчас нерабочее время: запрос в 1 управление (2 человека)")
    assert "17 марта 2025\u202fг. в 09:00" in reply
    # The round's requests (issue 22 #27 adds the secretariat's notices of who joined).
    notifications = [n for n in await rows(session_maker, Notification) if n.kind == "round"]
    assert {n.not_before.replace(tzinfo=UTC) for n in notifications} == {
        datetime(2025, 3, 17, 4, 0, tzinfo=UTC)
    }


def test_long_labels_get_a_row_of_their_own_in_both_languages(i18n: I18n) -> None:
    previous = StatusUpdate(item_id=1, author_id=1, status="at_risk", progress=40, created_at=NOW)
    draft = Draft(item_id=1, status="on_track", progress=50, comment="x")
    for locale in ("kk", "ru"):
        with in_locale(i18n, locale):
            keyboards = [
                status_step("h", 1, previous)[1],
                cause_step("h", Draft(item_id=1, status="at_risk", progress=40))[1],
                confirm_step("h", draft)[1],
            ]
        for keyboard in keyboards:
            for row in keyboard.inline_keyboard:
                if len(row) > 1:
                    assert all(len(button.text) <= SHORT_LABEL for button in row), row


def test_the_request_reads_as_the_review_suggests(i18n: I18n) -> None:
    texts = {
        locale: i18n.gettext(
            "{count} item is waiting for your update.",
            "{count} items are waiting for your update.",
            5,
            locale=locale,
        ).format(count=5)
        for locale in ("kk", "ru")
    }
    assert texts == {
        "kk": "5 тармақтың жай-күйін жаңарту қажет.",
        "ru": "5 пунктов ждут обновления статуса.",
    }
