"""End to end over HTTP (issue 22, "the dialog on a phone"), for a kk and a ru head: ✓
buttons that show a risk, progress buttons around the current value, a typed answer that
edits the card in place, Cancel mid-round that says what stays saved with [Back to the list],
and the round's closing line after the last ✓. The whole round sends no new message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.app.config import Settings
from bot.core.clock import FrozenClock
from bot.sandbox.emulator import BotApiEmulator, Message
from db.engine import SessionMaker
from db.models import Person, RoadmapItem, StatusUpdate
from tests.helpers.chat import ADMIN_ID
from tests.helpers.e2e import join, live_bot, say, tap

HEAD = 4401


@dataclass(frozen=True)
class Words:
    language: str
    on_track: str
    risky_check: str
    keep: str
    cancel: str
    cancelled: str
    stays: str
    back: str
    closing: str


KK = Words(
    "Қазақша",
    "Жоспар бойынша",
    "✓ қауіп, 20%",
    "60% қалдыру",
    "Бас тарту",
    "Бас тартылды: 1.2 тармағы өзгеріссіз қалды.",
    "сақталған жауаптар қалады: 1 тармақ.",
    "Тізімге оралу",
    "3 тармақ:",
)
RU = Words(
    "Русский",
    "По плану",
    "✓ риск, 20%",
    "Оставить 60%",
    "Отмена",
    "Отменено: пункт 1.2 остался без изменений.",
    "Сохранённые ответы по этому запросу остаются: 1 пункт.",
    "К списку",
    "3 пункта:",
)


@pytest.fixture
def live_settings(settings: Settings, emulator: BotApiEmulator) -> Settings:
    return settings.model_copy(update={"telegram_api_url": emulator.base_url})


async def _seed(session_maker: SessionMaker, clock: FrozenClock) -> None:
    """1.1 on track at 60%, 1.2 at risk at 20%, 1.3 on track at 40%: a week ago."""
    reports = {
        "1.1": ("on_track", 60, None),
        "1.2": ("at_risk", 20, "financing"),
        "1.3": ("on_track", 40, None),
    }
    async with session_maker() as session:
        head = (await session.exec(select(Person).where(Person.telegram_id == HEAD))).one()
        for item in (await session.exec(select(RoadmapItem))).all():
            status, progress, cause = reports[item.code]
            session.add(
                StatusUpdate(
                    item_id=item.id,  # type: ignore[arg-type]
                    author_id=head.id,  # type: ignore[arg-type]
                    status=status,
                    progress=progress,
                    cause=cause,
                    comment="Қаржы бөлінбеді" if cause else None,
                    created_at=clock.now() - timedelta(days=7),
                )
            )
        await session.commit()


def _data(message: Message, label: str) -> str:
    return message.button(label)


async def _press(emulator: BotApiEmulator, message: Message, data: str) -> Message:
    emulator.press_button(HEAD, message.message_id, data)
    while True:
        edited = await emulator.next_edit(HEAD)
        if edited.message_id == message.message_id:
            return edited


@pytest.mark.parametrize("words", [KK, RU], ids=["kk", "ru"])
async def test_a_round_on_a_phone_stays_in_one_message(
    live_settings: Settings,
    clock: FrozenClock,
    emulator: BotApiEmulator,
    session_maker: SessionMaker,
    words: Words,
) -> None:
    async with live_bot(live_settings, clock, emulator):
        prompt = await say(emulator, ADMIN_ID, "/start")
        await tap(emulator, ADMIN_ID, prompt, "Русский")
        await say(emulator, ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
        for code in ("1.1", "1.2", "1.3"):
            await say(emulator, ADMIN_ID, f"/additem {code} edu 2025-12-01 Мектеп {code} | Школа")
        await join(emulator, HEAD, "edu", words.language)
        await _seed(session_maker, clock)
        clock.advance(timedelta(minutes=1))
        await say(emulator, ADMIN_ID, "/request_now")
        request = await emulator.next_message(HEAD)
        sent_before = len([m for m in emulator.messages(HEAD) if m.from_bot])

        # The ✓ of the risky item says so; the others show their percent.
        labels = [text for row in request.buttons for text, _data in row]
        assert words.risky_check in labels and "✓ 60%" in labels and "✓ 40%" in labels

        # 1.1: progress around the current 60%, a typed comment: the card changes in place.
        screen = await tap(emulator, HEAD, request, "1.1")
        screen = await tap(emulator, HEAD, screen, words.on_track)
        progress = [text for row in screen.buttons for text, _data in row][:5]
        assert progress == [words.keep, "65%", "70%", "85%", "100%"]
        screen = await tap(emulator, HEAD, screen, "70%")
        emulator.send_text(HEAD, "Жұмыс жүріп жатыр, 40 сынып дайын")
        screen = await emulator.next_edit(HEAD)
        assert screen.message_id == request.message_id and "40 сынып дайын" in screen.text
        screen = await _press(emulator, screen, screen.buttons[0][0][1] or "")  # Save
        assert "1.2" in screen.text  # the next item, in the same message

        # Cancel at 1.2: what stays saved, and the way back to the list.
        screen = await tap(emulator, HEAD, screen, words.cancel)
        assert words.cancelled in screen.text and words.stays in screen.text
        listing = await tap(emulator, HEAD, screen, words.back)

        # ✓ on the last two items: the round's closing line after the last one.
        listing = await _press(emulator, listing, _data(listing, words.risky_check))
        listing = await _press(emulator, listing, _data(listing, "✓ 40%"))
        assert words.closing in listing.text

        assert len([m for m in emulator.messages(HEAD) if m.from_bot]) == sent_before
        await emulator.wait_idle()
        assert [request.summary() for request in emulator.errors] == []

    async with session_maker() as session:
        statement = (
            select(RoadmapItem.code, StatusUpdate)
            .join(RoadmapItem, col(RoadmapItem.id) == StatusUpdate.item_id)
            .order_by(col(StatusUpdate.id))
        )
        saved = [(code, u) for code, u in (await session.exec(statement)).all()][3:]
    assert [(code, u.status, u.progress, u.confirmation) for code, u in saved] == [
        ("1.1", "on_track", 70, False),
        ("1.2", "at_risk", 20, True),
        ("1.3", "on_track", 40, True),
    ]
    assert saved[0][1].comment == "Жұмыс жүріп жатыр, 40 сынып дайын"
