"""The chair's view of the Road Map: /summary and /dept, and the digest's department buttons.

They serve the chair and the secretariat. The item buttons on alerts, the digest and /dept
open the card in handlers/items.py; the secretariat's corrections are in handlers/corrections.py.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.enums import ChatAction
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.core.parsing import parse_year
from bot.risk import views
from bot.telegram.callbacks import ChairDepartment
from bot.telegram.middlewares import chair_and_secretariat_only
from bot.usecases.overview import DepartmentChoice, DepartmentView, department_view, summary
from bot.usecases.ports import UseCaseContext


async def summary_command(
    message: Message, command: CommandObject, usecases: UseCaseContext
) -> None:
    year = parse_year(command.args, usecases.today().year)
    if year is None:
        await message.answer(views.summary_usage())
        return
    data = await summary(usecases, year)
    await views.answer(message, views.summary_text_replies(data))  # the answer first (#32)
    if data.summary.total and message.bot is not None:
        await message.bot.send_chat_action(message.chat.id, ChatAction.UPLOAD_PHOTO)
    chart = await views.summary_chart_reply(data)
    if chart is not None:
        await views.answer(message, [chart])


def _replies(shown: DepartmentView) -> list[views.Reply]:
    return views.department_replies(
        shown.department, shown.year, shown.today, shown.summary, shown.items
    )


async def department_command(
    message: Message, command: CommandObject, usecases: UseCaseContext
) -> None:
    """/dept, /dept edu, /dept образование, /dept білім: the department, or buttons to pick."""
    typed = (command.args or "").strip() or None
    shown = await department_view(usecases, typed)
    if isinstance(shown, DepartmentChoice):
        reply = views.department_choice_reply(
            shown.departments, shown.year, shown.typed, several=shown.several
        )
        await views.answer(message, [reply])
        return
    await views.answer(message, _replies(shown))


async def department_button(
    query: CallbackQuery, callback_data: ChairDepartment, usecases: UseCaseContext
) -> None:
    chat = await views.button_chat(query)
    if chat is None:
        return
    shown = await department_view(usecases, callback_data.department_id, callback_data.year)
    if not isinstance(shown, DepartmentView):
        await query.answer(views.department_gone_text(), show_alert=True)
        return
    await query.answer()
    await views.answer(chat, _replies(shown))


def create_router() -> Router:
    router = Router(name=__name__)
    for observer in (router.message, router.callback_query):
        observer.middleware(chair_and_secretariat_only())
    router.message.register(summary_command, Command("summary"))
    router.message.register(department_command, Command("dept"))
    router.callback_query.register(department_button, ChairDepartment.filter())
    return router
