"""Every button's callback_data fits Telegram's 64 bytes, even with the largest ids.

The classes are found, not listed: every CallbackData subclass the handlers can import is
checked, so a new button cannot escape the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData

import handlers
from bot.reporting.service import Cause
from db.models import ItemStatus

BIGGEST_ID = 2**63 - 1  # a BIGINT primary key, far beyond any roadmap
LONGEST_CAUSE = max(Cause, key=len)
LONGEST_STATUS = max(ItemStatus, key=len)
# The longest value each text field takes; a new text field must be added here.
LONGEST_TEXT: dict[tuple[str, str], str] = {
    ("LanguageChoice", "locale"): "kk",
    ("PickStatus", "status"): LONGEST_STATUS,
    ("PickCause", "cause"): LONGEST_CAUSE,
    ("DialogAction", "action"): "change",
    ("ImportDecision", "action"): "ok",
    ("ImportDecision", "token"): "f" * 8,
    ("ConfirmAll", "step"): "ask",
    ("ImportSheet", "token"): "f" * 8,
}
BIGGEST_INT: dict[tuple[str, str], int] = {
    ("PickProgress", "value"): 100,
    ("ChairDepartment", "year"): 2100,
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
