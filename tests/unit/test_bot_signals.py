"""The running bot's signals reach the alert scanner and the outbox, whenever the scanner
is attached to the dispatcher."""

from __future__ import annotations

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
