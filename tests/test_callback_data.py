"""Every button's callback_data fits Telegram's 64 bytes, even with the largest ids."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.core.parsing import DB_ID_MAX
from bot.reporting.service import Cause
from bot.risk.digest import AskUpdate, ChairDepartment, ChairItem
from bot.telegram.callbacks import (
    DialogAction,
    LanguageChoice,
    OpenItem,
    PickCause,
    PickProgress,
    PickStatus,
    WorklistPage,
)
from db.models import ItemStatus
from handlers.spreadsheets import ImportDecision

BIGGEST_ID = DB_ID_MAX  # the largest INTEGER primary key (PostgreSQL's 32 bits)
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
        ChairItem(item_id=BIGGEST_ID),
        ChairDepartment(department_id=BIGGEST_ID, year=BIGGEST_ID),
        AskUpdate(item_id=BIGGEST_ID),
        ImportDecision(action="ok", token="f" * 8),
    ],
    ids=lambda data: type(data).__name__,
)
def test_packed_callback_data_fits_64_bytes(data: CallbackData) -> None:
    packed = data.pack()
    assert len(packed.encode()) <= 64, packed
    assert type(data).unpack(packed) == data


@pytest.mark.parametrize(
    ("factory", "data"),
    [
        (OpenItem, "ri:9223372036854775808"),  # defect 6: OverflowError in the item lookup
        (OpenItem, f"ri:{DB_ID_MAX + 1}"),
        (OpenItem, "ri:0"),
        (OpenItem, "ri:-1"),
        (PickStatus, "rs:99999999999999999999999:done"),
        (ChairItem, f"ci:{2**64}"),
        (AskUpdate, "cu:-5"),
        (ChairDepartment, f"cd:{DB_ID_MAX + 1}:2025"),
        (WorklistPage, "wp:-1"),
    ],
)
def test_ids_beyond_the_database_range_do_not_unpack(
    factory: type[CallbackData], data: str
) -> None:
    with pytest.raises(ValueError):
        factory.unpack(data)
