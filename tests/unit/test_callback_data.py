"""Every button's callback_data fits Telegram's 64 bytes, even with the largest ids.

The classes are found, not listed: every CallbackData subclass the handlers can import is
checked, so a new button cannot escape the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData

import handlers
from bot.core.causes import Cause
from bot.core.parsing import DB_ID_MAX
from bot.risk.rules import RiskReason
from bot.telegram.callbacks import (
    AskUpdate,
    ChairDepartment,
    ChairItem,
    OpenItem,
    PickStatus,
    WorklistPage,
)
from db.models import ItemStatus

BIGGEST_ID = DB_ID_MAX  # the largest INTEGER primary key (PostgreSQL's 32 bits)
LONGEST_CAUSE = max(Cause, key=len)
LONGEST_STATUS = max(ItemStatus, key=len)
# The longest value each text field takes; a new text field must be added here.
LONGEST_TEXT: dict[tuple[str, str], str] = {
    ("LanguageChoice", "locale"): "kk",
    ("PickStatus", "status"): LONGEST_STATUS,
    ("QuickProgress", "status"): LONGEST_STATUS,
    ("PickCause", "cause"): LONGEST_CAUSE,
    ("DialogAction", "action"): "change",
    ("ImportDecision", "action"): "ok",
    ("ImportDecision", "token"): "f" * 8,
    ("ConfirmAll", "step"): "ask",
    ("ImportSheet", "token"): "f" * 8,
    ("CorrectSaved", "accept"): False,  # packed as "0": as long as "1"
    ("NameStep", "action"): "skip",
    ("DismissPick", "reason"): max(RiskReason, key=len),
    ("RevokeChoice", "confirm"): False,
}
BIGGEST_INT: dict[tuple[str, str], int] = {
    ("PickProgress", "value"): 100,
    ("QuickProgress", "value"): 100,
    ("ChairDepartment", "year"): 2100,
    ("RevokeChoice", "telegram_id"): -(2**52),  # Telegram's ids fit 52 bits; the sign too
}


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def _callback_classes() -> list[type[CallbackData]]:
    """The project's classes (`handlers` imports every handler module and what they use)."""
    assert handlers.get_routers
    ours = ("bot.", "handlers.")
    classes = {cls for cls in _all_subclasses(CallbackData) if cls.__module__.startswith(ours)}
    return sorted(classes, key=lambda cls: cls.__name__)


def _largest(cls: type[CallbackData]) -> CallbackData:
    values: dict[str, Any] = {}
    for name, field in cls.model_fields.items():
        key = (cls.__name__, name)
        if field.annotation is int:
            values[name] = BIGGEST_INT.get(key, BIGGEST_ID)
        elif key in LONGEST_TEXT:
            values[name] = LONGEST_TEXT[key]
        else:
            pytest.fail(f"{cls.__name__}.{name}: add its longest value to this test")
    return cls(**values)


def test_the_chair_buttons_are_found() -> None:
    names = {cls.__name__ for cls in _callback_classes()}
    assert {"ChairItem", "ChairDepartment", "AskUpdate", "OpenItem", "ImportDecision"} <= names


@pytest.mark.parametrize("cls", _callback_classes(), ids=lambda cls: cls.__name__)
def test_packed_callback_data_fits_64_bytes(cls: type[CallbackData]) -> None:
    data = _largest(cls)
    packed = data.pack()
    assert len(packed.encode()) <= 64, packed
    assert cls.unpack(packed) == data


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
        (ChairDepartment, "cd:1:0"),  # found by the long fuzzing run: year 0 is out of range
        (WorklistPage, "wp:-1"),
    ],
)
def test_ids_beyond_the_database_range_do_not_unpack(
    factory: type[CallbackData], data: str
) -> None:
    with pytest.raises(ValueError):
        factory.unpack(data)
