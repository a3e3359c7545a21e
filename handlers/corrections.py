"""The secretariat's corrections to what the chair reads: /dismiss a computed risk reason for
an item's current data, /shortname a department for buttons, summaries and the chart, /short
an item for its buttons."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.core.parsing import (
    parse_dismissal,
    parse_new_department,
    parse_one_word,
    parse_short_title,
)
from bot.risk import views
from bot.telegram.middlewares import secretariat_only
from bot.usecases.departments import (
    ShortNamesSet,
    ShortTitleSet,
    UnknownDepartment,
    set_short_names,
    set_short_title,
)
from bot.usecases.ports import Person, UseCaseContext
from bot.usecases.risks import (
    DismissDialog,
    Dismissed,
    DismissInvalid,
    DismissOutcome,
    DismissRefused,
    ExplanationAsked,
    ExplanationLate,
    choose_dismissal,
    dismiss_risk,
    dismissible_reasons,
    explain_dismissal,
)


async def dismiss_command(
    message: Message, command: CommandObject, person: Person, usecases: UseCaseContext
) -> None:
    """/dismiss CODE: the item's reasons as buttons; /dismiss CODE REASON TEXT at once."""
    code = parse_one_word(command.args)
    if code is not None:
        choice = await dismissible_reasons(usecases, code)
        if isinstance(choice, DismissRefused):
            await message.answer(views.dismiss_refused_text(choice.item_code, choice.refusal))
        else:
            reply = views.dismiss_choice_reply(choice.item_id, choice.item_code, choice.reasons)
            await views.answer(message, [reply])
        return
    typed = parse_dismissal(command.args)
    if typed is None:
        await message.answer(views.dismiss_usage())
        return
    await _answer_dismissal(
        message, await dismiss_risk(usecases, person, typed.item_code, typed.reason, typed.text)
    )


async def dismiss_button(
    query: CallbackQuery,
    callback_data: views.DismissPick,
    usecases: UseCaseContext,
    state: FSMContext,
) -> None:
    """A reason's button: ask for the explanation (the next message)."""
    chat = await views.button_chat(query)
    if chat is None:
        return
    asked = await choose_dismissal(usecases, state, callback_data.item_id, callback_data.reason)
    await query.answer()
    if isinstance(asked, ExplanationAsked):
        await chat.answer(views.explanation_question(asked.item_code, asked.reason))
    else:
        await _answer_dismissal(chat, asked)


async def explanation_message(
    message: Message, person: Person, usecases: UseCaseContext, state: FSMContext
) -> None:
    """The one message after a reason's button: why it does not hold."""
    done = await explain_dismissal(usecases, person, state, message.text or "")
    if isinstance(done, ExplanationLate):
        await message.answer(views.explanation_late_text())
    elif isinstance(done, DismissInvalid):
        await message.answer(views.explanation_invalid_text())
    else:
        await _answer_dismissal(message, done)


async def _answer_dismissal(message: Message, done: DismissOutcome) -> None:
    if isinstance(done, Dismissed):
        await message.answer(views.dismissed_text(done.item_code, done.reason))
    elif isinstance(done, DismissRefused):
        await message.answer(views.dismiss_refused_text(done.item_code, done.refusal))
    else:
        await message.answer(views.dismiss_usage())


async def short_name_command(
    message: Message, command: CommandObject, person: Person, usecases: UseCaseContext
) -> None:
    names = parse_new_department(command.args)
    if names is None:
        await message.answer(views.short_names_usage())
        return
    done = await set_short_names(usecases, person, names)
    if isinstance(done, ShortNamesSet):
        await message.answer(views.short_names_text(done.department))
    elif isinstance(done, UnknownDepartment):
        await message.answer(views.unknown_department_text(done.code))
    else:
        await message.answer(views.short_names_usage())


async def short_title_command(
    message: Message, command: CommandObject, person: Person, usecases: UseCaseContext
) -> None:
    """`/short 5.1.4 Мектеп интернеті | Интернет в школах`: what the item's buttons show."""
    typed = parse_short_title(command.args)
    if typed is None:
        await message.answer(views.short_title_usage())
        return
    done = await set_short_title(usecases, person, typed)
    if isinstance(done, ShortTitleSet):
        await message.answer(views.short_title_text(done.item))
    else:
        await message.answer(views.missing_item_text(done.code))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.middleware(secretariat_only())
    router.callback_query.middleware(secretariat_only())
    router.message.register(dismiss_command, Command("dismiss"))
    router.callback_query.register(dismiss_button, views.DismissPick.filter())
    router.message.register(
        explanation_message, DismissDialog.text, F.text, ~F.text.startswith("/")
    )
    router.message.register(short_name_command, Command("shortname"))
    router.message.register(short_title_command, Command("short"))
    return router
