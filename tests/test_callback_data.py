"""Every button's callback_data fits Telegram's 64 bytes, even with the largest ids."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.reporting.service import Cause
from bot.telegram.callbacks import (
    DialogAction,
    ImportDecision,
    ImportSheet,
    LanguageChoice,
    OpenItem,
    PickCause,
    PickProgress,
    PickStatus,
    WorklistPage,
)
from db.models import ItemStatus

BIGGEST_ID = 2**63 - 1  # a BIGINT primary key, far beyond any roadmap
LONGEST_CAUSE = max(Cause, key=len)
LONGEST_STATUS = max(ItemStatus, key=len)


@pytest.mark.parametrize(
    "data",
    [
        LanguageChoice(locale="kk"),
        OpenItem(item_id=BIGGEST_ID),
        WorklistPage(page=BIGGEST_ID),
        PickStatus(item_id=BIGGEST_ID, status=LONGEST_STATUS),
        PickProgress(item_id=BIGGEST_ID, value=100),
        PickCause(item_id=BIGGEST_ID, cause=LONGEST_CAUSE),
        DialogAction(item_id=BIGGEST_ID, action="change"),
        ImportDecision(action="ok", token="f" * 8),
        ImportSheet(index=BIGGEST_ID, token="f" * 8),
    ],
    ids=lambda data: type(data).__name__,
)
def test_packed_callback_data_fits_64_bytes(data: CallbackData) -> None:
    packed = data.pack()
    assert len(packed.encode()) <= 64, packed
    assert type(data).unpack(packed) == data
