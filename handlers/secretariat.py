"""Secretariat commands: departments, items, invitations, people, rounds and the calendar.

Every handler here sits behind the `secretariat_only()` guard, which refuses anyone else and
records the refusal. Each parses its arguments, calls one use case and renders its outcome.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.deep_linking import create_start_link

from bot.core import parsing
from bot.usecases import people as people_cases
from bot.usecases import roadmap, rounds
from handlers.context import Caller, Refused, secretariat_router
from handlers.views import secretariat as views

HOLIDAY_ACTIONS = {"add": True, "remove": False, "workday": False}


async def invite(message: Message, command: CommandObject, caller: Caller, bot: Bot) -> None:
    """/invite edu [Бақытжан Сейітов, басшының орынбасары]: a link, and whom it is for."""
    typed = parsing.parse_invite(command.args)
    if typed is None:
        await message.answer(views.usage("invite"))
        return
    outcome = await people_cases.invite(caller, typed.target, typed.person)
    link = "" if isinstance(outcome, Refused) else await create_start_link(bot, outcome.token)
    await message.answer(views.invited(outcome, link, caller.ctx.tz))


async def departments(message: Message, caller: Caller) -> None:
    for chunk in views.departments(await roadmap.departments(caller.ctx)):
        await message.answer(chunk)


async def add_department_command(message: Message, command: CommandObject, caller: Caller) -> None:
    new = parsing.parse_new_department(command.args)
    if new is None:
        await message.answer(views.usage("adddept"))
        return
    await message.answer(
        views.department_added(await roadmap.add_department(caller, new), new.code)
    )


async def add_item_command(message: Message, command: CommandObject, caller: Caller) -> None:
    new = parsing.parse_new_item(command.args)
    if new is None:
        await message.answer(views.usage("additem"))
        return
    await message.answer(views.item_added(await roadmap.add_item(caller, new), new.code))


async def assign_command(message: Message, command: CommandObject, caller: Caller) -> None:
    words = parsing.parse_two_words(command.args)
    if words is None:
        await message.answer(views.usage("assign"))
        return
    await message.answer(views.assigned(await roadmap.assign_item(caller, *words)))


async def deadline_command(
    message: Message, command: CommandObject, caller: Caller, state: FSMContext
) -> None:
    """/deadline 4.2.1 2026-03-01 [reason]: without a reason, "why?" first (one step)."""
    typed = parsing.parse_deadline(command.args)
    if typed is None:
        await message.answer(views.usage("deadline"))
        return
    if typed.reason is None:
        asked = await roadmap.ask_deadline_reason(caller, state, typed.item_code, typed.deadline)
        await message.answer(
            views.deadline_reason_question(asked), reply_markup=views.reason_markup(asked)
        )
        return
    moved = await roadmap.move_deadline(
        caller, typed.item_code, typed.deadline, reason=typed.reason
    )
    await message.answer(views.deadline_moved(moved))


async def deadline_reason_message(message: Message, caller: Caller, state: FSMContext) -> None:
    """The one message after "why is the deadline moved?"."""
    moved = await roadmap.give_deadline_reason(caller, state, message.text or "")
    await message.answer(views.deadline_moved(moved), reply_markup=views.reason_markup(moved))


async def deadline_reason_skip(query: CallbackQuery, caller: Caller, state: FSMContext) -> None:
    """[Move without a reason]."""
    moved = await roadmap.give_deadline_reason(caller, state, None)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(views.deadline_moved(moved))


async def people(message: Message, caller: Caller) -> None:
    for chunk in views.people(await people_cases.people(caller.ctx)):
        await message.answer(chunk)


async def revoke_command(message: Message, command: CommandObject, caller: Caller) -> None:
    """/revoke <Telegram ID>: asks first, showing whose access would go."""
    telegram_id = parsing.parse_user_id(command.args)
    if telegram_id is None:
        await message.answer(views.usage("revoke"))
        return
    outcome = await people_cases.revoke_preview(caller, telegram_id)
    if isinstance(outcome, Refused):
        await message.answer(views.revoked(outcome, telegram_id))
        return
    await message.answer(
        views.revoke_question(outcome), reply_markup=views.revoke_keyboard(outcome)
    )


async def revoke_choice(
    query: CallbackQuery, callback_data: views.RevokeChoice, caller: Caller
) -> None:
    telegram_id = callback_data.telegram_id
    if callback_data.confirm:
        outcome = await people_cases.revoke(caller, telegram_id)  # menus go by the outbox
        text = views.revoked(outcome, telegram_id)
    else:
        text = views.revoke_kept()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


async def request_now(message: Message, command: CommandObject, caller: Caller) -> None:
    code = parsing.parse_one_word(command.args) if command.args else None
    if command.args and code is None:
        await message.answer(views.usage("request_now"))
        return

    async def confirm(outcome: rounds.RoundOutcome) -> None:
        await message.answer(
            views.round_confirmation(outcome, caller.ctx.tz, caller.ctx.clock.now())
        )

    outcome = await rounds.request_round(
        caller.ctx,
        actor=caller.actor,
        department_code=code,
        announce=confirm,
        skip_recent=caller.policy.request_skip,
    )
    if isinstance(outcome, Refused):
        await message.answer(views.refusal(outcome))


async def schedule_command(
    message: Message,
    command: CommandObject,
    caller: Caller,
    scheduler: rounds.RoundRescheduler | None = None,
) -> None:
    if not command.args:
        current = await rounds.round_schedule(caller)
        await message.answer(views.schedule_now(current, caller.ctx.tz))
        return
    schedule = parsing.parse_weekly(command.args)
    if schedule is None:
        await message.answer(views.usage("schedule"))
        return
    await rounds.set_round_schedule(caller, schedule, scheduler)
    await message.answer(views.schedule_saved(schedule))


async def holiday_command(message: Message, command: CommandObject, caller: Caller) -> None:
    words = parsing.parse_two_words(command.args)
    day = parsing.parse_date(words[1]) if words else None
    if words is None or day is None or words[0].lower() not in HOLIDAY_ACTIONS:
        await message.answer(views.days_ahead(await rounds.days_ahead(caller.ctx)))
        return
    day_off = HOLIDAY_ACTIONS[words[0].lower()]
    await rounds.set_calendar_day(caller, day, day_off=day_off)
    await message.answer(views.calendar_day_set(day, day_off=day_off))


async def setaway_command(message: Message, command: CommandObject, caller: Caller) -> None:
    """/setaway <Telegram ID> <date back> [deputy] | off: time away for a member."""
    words = (command.args or "").split(maxsplit=1)
    request = parsing.parse_away(words[1]) if len(words) == 2 else None
    if request is None or not words[0].isdigit():
        await message.answer(views.usage("setaway"))
        return
    await message.answer(views.away(await people_cases.set_away(caller, int(words[0]), request)))


def create_router() -> Router:
    router = secretariat_router(__name__)
    router.message.register(invite, Command("invite"))
    router.message.register(departments, Command("departments"))
    router.message.register(add_department_command, Command("adddept"))
    router.message.register(add_item_command, Command("additem"))
    router.message.register(assign_command, Command("assign"))
    router.message.register(deadline_command, Command("deadline"))
    router.message.register(
        deadline_reason_message, roadmap.DeadlineDialog.reason, F.text, ~F.text.startswith("/")
    )
    router.callback_query.register(deadline_reason_skip, views.DeadlineReasonSkip.filter())
    router.message.register(people, Command("people"))
    router.message.register(revoke_command, Command("revoke"))
    router.callback_query.register(revoke_choice, views.RevokeChoice.filter())
    router.message.register(request_now, Command("request_now"))
    router.message.register(schedule_command, Command("schedule"))
    router.message.register(holiday_command, Command("holiday"))
    router.message.register(setaway_command, Command("setaway"))
    return router
