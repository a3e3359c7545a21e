"""A multi-step chat dialog declared as one table, and the routers built from it.

Each `Step` names its state, the view that shows it, the taps it accepts (a CallbackData
class and what the tap does to the draft), the typed answers it accepts (a filter and a
reader) and the reply to anything else. The routers are built from the table, so what a
step accepts is said once. What an answer *does* is a `Transition`: a function of the draft
that returns the next step (a `State`), a finishing action, or None (nothing to do); the
feature's use case applies it after its checks, inside its transaction.

Like aiogram-dialog's windows or python-telegram-bot's ConversationHandler states, but the
state stays in our database FSM storage and every step is an ordinary aiogram handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter, or_f
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from magic_filter import MagicFilter

from bot.telegram.filters import HasPerson
from bot.telegram.middlewares import ContextMiddleware, PreRead, PreReadingRouter

Screen = tuple[str, InlineKeyboardMarkup | None]
Transition = Callable[[Any], Any]
Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Tap:
    """A button the step accepts, and what its data does to the draft."""

    callback: type[CallbackData]
    read: Callable[[Any], Transition]


@dataclass(frozen=True)
class Typed:
    """A message the step accepts (`accepts`), and what it does to the draft; a string is the
    reply when the message cannot be used (a number out of range, a file too large)."""

    accepts: MagicFilter
    read: Callable[[Message, I18n], Transition | str]


@dataclass(frozen=True)
class Step:
    state: State
    view: Callable[..., Screen]
    taps: tuple[Tap, ...] = ()
    typed: tuple[Typed, ...] = ()
    otherwise: Callable[[], str] | None = None  # the reply to any other message at this step


@dataclass(frozen=True)
class DialogHandlers:
    """The feature's few handlers the table's registrations call."""

    tap: Handler  # an accepted tap: (query, callback_data, raw_state, ...)
    typed: Handler  # an accepted message: (message, raw_state, ...)
    other: Handler  # any other message at a step with an `otherwise` reply
    cancel: Handler  # the cancel button, at any step
    stale: Handler  # a dialog button that the current step does not accept


class DialogTable:
    """The steps of one dialog, by state."""

    def __init__(self, *steps: Step, cancel: Any, pre_read: PreRead | None = None) -> None:
        self.steps = {step.state.state: step for step in steps}
        self.cancel = cancel  # the filter of the cancel button, accepted at every step
        self.pre_read = pre_read  # what the session middleware reads ahead for the dialog

    def router(
        self, name: str, *, context: tuple[str, Callable[[dict[str, Any]], object | None]]
    ) -> Router:
        """A router for the dialog's handlers: it brings the dialog's pre-reader along, and
        gives its handlers the one object `context` names and builds from the handler data."""
        if self.pre_read is None:
            router = Router(name=name)
        else:
            router = PreReadingRouter(name=name, pre_read=self.pre_read)
        key, build = context
        router.callback_query.middleware(ContextMiddleware(key, build))
        router.message.middleware(ContextMiddleware(key, build))
        router.edited_message.middleware(ContextMiddleware(key, build))
        return router

    def __contains__(self, raw_state: object) -> bool:
        return raw_state in self.steps

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps.values())

    def __getitem__(self, raw_state: str) -> Step:
        return self.steps[raw_state]

    @property
    def states(self) -> list[State]:
        return [step.state for step in self]

    def tap(self, raw_state: str, callback_data: CallbackData) -> Transition:
        """What a tap accepted at `raw_state` does (the registration guarantees a match)."""
        step = self.steps[raw_state]
        tap = next(tap for tap in step.taps if isinstance(callback_data, tap.callback))
        return tap.read(callback_data)

    def typed(self, raw_state: str, message: Message, i18n: I18n) -> Transition | str:
        """What a message accepted at `raw_state` does: the first reader whose filter takes it."""
        step = self.steps[raw_state]
        typed = next(typed for typed in step.typed if typed.accepts.resolve(message))
        return typed.read(message, i18n)

    def register(
        self, *, buttons: Router | None, messages: Router | None, handlers: DialogHandlers
    ) -> None:
        """The table's registrations (taps on `buttons`, messages on `messages`), after
        whatever the routers hold already. Answers are taken from registered people only; a
        stale button from anyone (it only explains)."""
        member = HasPerson()
        if buttons is not None:
            buttons.callback_query.register(
                handlers.cancel, self.cancel, StateFilter(*self.states), member
            )
            for step in self:
                if step.taps:
                    taps = or_f(*(tap.callback.filter() for tap in step.taps))
                    buttons.callback_query.register(handlers.tap, taps, step.state, member)
            factories = dict.fromkeys(tap.callback for step in self for tap in step.taps)
            stale = or_f(*(factory.filter() for factory in factories))
            buttons.callback_query.register(handlers.stale, stale)
        if messages is not None:
            for step in self:
                for typed in step.typed:
                    messages.message.register(handlers.typed, step.state, typed.accepts, member)
                if step.otherwise is not None:
                    messages.message.register(handlers.other, step.state)


class Remembers(Protocol):
    """Where the dialog keeps its data (aiogram's FSMContext)."""

    async def update_data(
        self, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]: ...


async def show(
    bot: Bot,
    chat_id: int,
    screen: Screen,
    *,
    edit: Message | None,
    retire: int | None = None,
    remember: Remembers | None = None,
    in_place: int | None = None,
) -> None:
    """Show a step: in place of `edit` after a tap (or of the message `in_place`, when it can
    still be edited), else as a new message (the keyboard of the message `retire` is removed
    first, so only one step is ever active). `remember` keeps the new message's id in the
    dialog's data (`message_id`): the next step retires it."""
    text, keyboard = screen
    if edit is not None:
        await edit.edit_text(text, reply_markup=keyboard)
        return
    if in_place is not None:
        with suppress(TelegramBadRequest):  # too old, deleted: shown anew below
            await bot.edit_message_text(
                text, chat_id=chat_id, message_id=in_place, reply_markup=keyboard
            )
            if remember is not None:
                await remember.update_data(message_id=in_place)
            return
    if retire is not None:
        with suppress(TelegramBadRequest):
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=retire, reply_markup=None
            )
    sent = await bot.send_message(chat_id, text, reply_markup=keyboard)
    if remember is not None:
        await remember.update_data(message_id=sent.message_id)
