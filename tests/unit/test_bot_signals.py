"""The running bot's signals reach the alert scanner and the outbox, whenever the scanner
is attached to the dispatcher."""

from __future__ import annotations

import asyncio
from typing import cast

from aiogram import Dispatcher

from bot.app.factory import BotSignals
from bot.delivery.worker import DeliveryWorker
from bot.usecases.ports import Signals


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def alert_soon(self) -> None:
        self.calls.append("alert_soon")

    def wake(self) -> None:
        self.calls.append("wake")


def test_bot_signals_reach_the_jobs_and_the_outbox() -> None:
    dispatcher, recorder = Dispatcher(), Recorder()
    signals: Signals = BotSignals(dispatcher, cast(DeliveryWorker, recorder))
    signals.alert_soon()  # no scanner attached yet (the tests' and the CLI's dispatchers)
    assert recorder.calls == []
    dispatcher["jobs"] = recorder
    signals.alert_soon()
    signals.wake_outbox()
    assert recorder.calls == ["alert_soon", "wake"]


class Follower:
    """A replica that does not lead: the outbox runs elsewhere."""

    def __init__(self, leading: bool) -> None:
        self.leading = leading
        self.announced: list[str] = []

    async def announce(self, message: str) -> None:
        self.announced.append(message)


async def test_a_follower_wakes_the_leaders_outbox() -> None:
    dispatcher, recorder = Dispatcher(), Recorder()
    signals = BotSignals(dispatcher, cast(DeliveryWorker, recorder))
    follower, leader = Follower(leading=False), Follower(leading=True)
    dispatcher["leadership"] = follower
    signals.wake_outbox()
    await asyncio.sleep(0)  # not a wait: hands the loop to the announcement
    assert follower.announced == ["outbox"]
    dispatcher["leadership"] = leader
    signals.wake_outbox()
    await asyncio.sleep(0)
    assert leader.announced == []  # its own outbox was woken directly
    assert recorder.calls == ["wake", "wake"]
