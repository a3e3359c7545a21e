"""Department members report on their items: the worklist and the status dialog.

Each handler parses what was sent, calls one use case (bot/usecases/reporting.py) and shows
its outcome. The dialog's steps are declared once, in bot/reporting/dialog.py; its routers
are built from that table here. Taps edit the dialog message in place; typed answers get the
next step as a new message and the old keyboard is removed, so only one step is ever active.
"""

from __future__ import annotations

from contextlib import suppress

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core.parsing import parse_one_word
from bot.reporting import views
from bot.reporting.dialog import REPORT_DIALOG
from bot.telegram import callbacks, dialogs
from bot.usecases import reporting
from bot.usecases.reporting import Member, Saved, StepShown, UseCaseContext


async def member_may_use(message: Message, member: Member | None) -> bool:
    """Members' commands: a stranger gets their id, anyone else is told whom they are for."""
    if member is None or not reporting.is_department_member(member.person):
        stranger = message.chat.id if member is None else None
        await message.answer(views.member_command_refusal(stranger))
        return False
    return True


async def button_may_be_used(query: CallbackQuery, member: Member | None) -> bool:
    """Worklist buttons: for department members, on a message that can still be edited."""
    usable = member is not None and reporting.is_department_member(member.person)
    if not usable or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return False
    return True


# --- The worklist ---


async def my_items(
    message: Message, usecases: UseCaseContext, member: Member | None = None
) -> None:
    if not await member_may_use(message, member):
        return
    assert member is not None
    work = await reporting.department_worklist(usecases, member)
    if not work.items:
        await message.answer(_("Your department has no open items. Thank you!"))
        return
    await message.answer(
        views.worklist_text(work, 0), reply_markup=views.worklist_keyboard(work, 0)
    )


async def _show_worklist(
    message: Message, work: reporting.Worklist, page: int, prefix: str = ""
) -> None:
    """The worklist in place of `message` (the round's request or the /myitems answer)."""
    with suppress(TelegramBadRequest):  # a double tap leaves the page unchanged
        await message.edit_text(
            prefix + views.worklist_text(work, page),
            reply_markup=views.worklist_keyboard(work, page),
        )


async def worklist_page(
    query: CallbackQuery,
    callback_data: callbacks.WorklistPage,
    usecases: UseCaseContext,
    member: Member | None = None,
) -> None:
    if not await button_may_be_used(query, member):
        return
    assert member is not None and isinstance(query.message, Message)
    work = await reporting.department_worklist(usecases, member)
    await query.answer()
    await _show_worklist(query.message, work, callback_data.page)


async def confirm_item(
    query: CallbackQuery,
    callback_data: callbacks.ConfirmItem,
    usecases: UseCaseContext,
    member: Member | None = None,
) -> None:
    """✓ in the worklist: one tap reports that the item has not changed."""
    if not await button_may_be_used(query, member):
        return
    assert member is not None and isinstance(query.message, Message)
    item_id, shown_in = callback_data.item_id, query.message.message_id
    outcome = await reporting.confirm_item(usecases, member, item_id, shown_in=shown_in)
    if isinstance(outcome, reporting.NotSaved):
        await query.answer(views.refusal_text(outcome.reason), show_alert=True)
        return
    if isinstance(outcome, StepShown):  # held back: the summary with the warning
        await query.answer()
        await _present(query, outcome, member, usecases)
        return
    if outcome.already:
        await query.answer(_("Already saved in this round."))  # a second tap, an old message
    else:
        await query.answer(_("Saved: no change."))
    closing = views.round_closed_prefix(outcome.worklist)
    await _show_worklist(query.message, outcome.worklist, callback_data.page, closing)


async def confirm_all(
    query: CallbackQuery,
    callback_data: callbacks.ConfirmAll,
    usecases: UseCaseContext,
    member: Member | None = None,
) -> None:
    """ "Everything else unchanged": first the list to check, then one tap confirms it."""
    if not await button_may_be_used(query, member):
        return
    assert member is not None and isinstance(query.message, Message)
    page = callback_data.page
    if callback_data.step == "yes":
        confirmed = await reporting.confirm_rest_unchanged(usecases, member)
        await query.answer()
        prefix = views.rest_confirmed_text(confirmed.count, confirmed.worklist)
        await _show_worklist(query.message, confirmed.worklist, page, prefix)
        return
    rest = await reporting.rest_to_confirm(usecases, member)
    await query.answer()
    if not rest.worklist.confirmable:
        await _show_worklist(query.message, rest.worklist, page)
        return
    text, keyboard = views.confirm_all_step(rest.worklist, page, rest.warned)
    with suppress(TelegramBadRequest):
        await query.message.edit_text(text, reply_markup=keyboard)


# --- Opening the dialog ---


def step_screen(shown: StepShown, usecases: UseCaseContext) -> dialogs.Screen:
    """A step under the item's card; after a report, what was saved comes first."""
    card = shown.card
    header = views.item_header(card.item, card.latest, card.author, shown.today, usecases.tz)
    step = REPORT_DIALOG[shown.state.state or ""]
    text, keyboard = step.view(header, shown.draft, card.latest, shown.warnings)
    if shown.saved is not None:
        text = views.next_item_text(shown.saved == Saved.NO_CHANGE) + text
    if shown.state != REPORT_DIALOG.states[-1]:  # the summary shows the draft itself
        text += views.draft_kept_text(shown.draft)
    if shown.editable is not None:
        return views.with_edit_button((text, keyboard), shown.editable)
    return text, keyboard


def _edited(event: Message | CallbackQuery) -> Message | None:
    """The message a tap came from, shown in place; a typed answer gets a new one."""
    if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
        return event.message
    return None


async def _present(
    event: Message | CallbackQuery,
    outcome: reporting.StepOutcome,
    member: Member,
    usecases: UseCaseContext,
    *,
    anew: bool = False,
) -> None:
    """A step, the round's end or a refused Save: in place of a tapped message, else anew."""
    bot, chat_id = event.bot, member.person.telegram_id
    edit = None if anew else _edited(event)
    assert bot is not None  # the dispatcher mounts every update on its bot
    if isinstance(outcome, StepShown):
        screen = step_screen(outcome, usecases)
        retire, remember = outcome.retire, member.dialog
        in_place = None if anew else retire  # a typed answer: the card follows in place
        await dialogs.show(
            bot, chat_id, screen, edit=edit, retire=retire, remember=remember, in_place=in_place
        )
    elif isinstance(outcome, reporting.RoundDone):
        text = views.round_done_text(outcome.saved == Saved.NO_CHANGE, outcome.worklist)
        await dialogs.show(bot, chat_id, (text, None), edit=edit)
    elif isinstance(outcome, reporting.NotSaved):
        await dialogs.show(bot, chat_id, (views.refusal_text(outcome.reason), None), edit=edit)
    elif isinstance(outcome, reporting.DraftCorrected):
        text = views.draft_corrected_text(outcome.item, outcome.correction)
        await dialogs.show(bot, chat_id, (text, None), edit=edit)
    elif isinstance(outcome, reporting.EditClosed):
        await dialogs.show(bot, chat_id, (views.edit_closed_text(outcome), None), edit=edit)


async def open_item(
    query: CallbackQuery,
    callback_data: callbacks.OpenItem,
    usecases: UseCaseContext,
    member: Member | None = None,
) -> None:
    if member is None:
        await query.answer(_("You do not have access."), show_alert=True)
        return
    edit = _edited(query)
    shown_in = edit.message_id if edit is not None else None
    outcome = await reporting.open_item(usecases, member, callback_data.item_id, shown_in=shown_in)
    if isinstance(outcome, reporting.Refused):
        await query.answer(views.refusal_text(outcome.reason), show_alert=True)
        return
    await query.answer()
    await _present(query, outcome, member, usecases)


async def report_command(
    message: Message,
    command: CommandObject,
    usecases: UseCaseContext,
    member: Member | None = None,
) -> None:
    if not await member_may_use(message, member):
        return
    assert member is not None
    code = parse_one_word(command.args)
    if code is None:
        await message.answer(views.usage("report"))
        return
    outcome = await reporting.open_item_by_code(usecases, member, code)
    if isinstance(outcome, reporting.Refused):
        await message.answer(views.refusal_text(outcome.reason, outcome.code))
        return
    await _present(message, outcome, member, usecases, anew=True)  # a command: a new card


# --- The dialog's steps (registered from REPORT_DIALOG) ---


async def dialog_tap(
    query: CallbackQuery,
    callback_data: CallbackData,
    raw_state: str,
    member: Member,
    usecases: UseCaseContext,
) -> None:
    """A button of the current step: what it does is the step's (the table's) to say."""
    answer = REPORT_DIALOG.tap(raw_state, callback_data)
    edit = _edited(query)
    outcome = await reporting.answer_step(
        usecases,
        member,
        answer,
        tap_item_id=getattr(callback_data, "item_id", None),
        shown_in=edit.message_id if edit is not None else None,
    )
    if isinstance(outcome, reporting.NotInDialog):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    if isinstance(outcome, reporting.Refused):
        await _refused_tap(query, outcome)
        return
    await query.answer()
    await _present(query, outcome, member, usecases)


async def _refused_tap(query: CallbackQuery, refused: reporting.Refused) -> None:
    """The item cannot be reported on any more: say why, and retire the step's buttons."""
    await query.answer(views.refusal_text(refused.reason), show_alert=True)
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=None)


async def dialog_typed(
    message: Message, raw_state: str, member: Member, usecases: UseCaseContext
) -> None:
    """A typed answer (or a file) the current step accepts."""
    answer = REPORT_DIALOG.typed(raw_state, message, usecases.i18n)
    outcome = await reporting.answer_step(usecases, member, answer)
    if isinstance(outcome, reporting.Rejected):
        await message.answer(outcome.reply)
    elif isinstance(outcome, reporting.Refused):
        await message.answer(views.refusal_text(outcome.reason))
    else:
        await _present(message, outcome, member, usecases)


async def dialog_other(message: Message, raw_state: str) -> None:
    """Anything else at a step: what the step expects."""
    otherwise = REPORT_DIALOG[raw_state].otherwise
    assert otherwise is not None  # registered only for steps that say it
    await message.answer(otherwise())


async def dialog_cancel(query: CallbackQuery, member: Member, usecases: UseCaseContext) -> None:
    """Cancel mid-round: what stays saved, and the way back to the list."""
    if not reporting.is_department_member(member.person):
        await reporting.cancel_report(member)
        await query.answer()
        return
    cancelled = await reporting.cancel_in_round(usecases, member)
    await query.answer()
    if isinstance(query.message, Message):
        text, keyboard = views.cancelled_step(cancelled.code, cancelled.saved)
        with suppress(TelegramBadRequest):
            await query.message.edit_text(text, reply_markup=keyboard)


async def stale_dialog_button(
    query: CallbackQuery, usecases: UseCaseContext, member: Member | None = None
) -> None:
    """A dialog button that does not belong to the active step: show where the dialog is."""
    if member is None:
        await query.answer(_("You do not have access."), show_alert=True)
        return
    outcome = await reporting.current_step(usecases, member)
    if isinstance(outcome, reporting.NotInDialog):
        await query.answer(_("This dialog was closed."), show_alert=False)
        item_id = callbacks.item_id_of(query.data)
        if item_id is not None and isinstance(query.message, Message):
            with suppress(TelegramBadRequest):
                await query.message.edit_text(
                    _("This dialog was closed. Tap to start again."),
                    reply_markup=views.restart_keyboard(item_id),
                )
        return
    await query.answer(_("This button is no longer valid. The current step is below."))
    if isinstance(outcome, reporting.Refused):
        await _refused_tap(query, outcome)
        return
    await _present(query, outcome, member, usecases, anew=True)  # the tap was an older step


async def cancel_command(message: Message, state: FSMContext | None = None) -> None:
    """`state` is missing when the message has no sender (an anonymous group admin)."""
    had_dialog = state is not None and await state.get_state() is not None
    if state is not None:
        await state.clear()
    if had_dialog:
        await message.answer(_("Cancelled. Nothing was saved."))
    else:
        await message.answer(_("There is nothing to cancel."))


# --- Routers ---

_STEPS = dialogs.DialogHandlers(
    tap=dialog_tap,
    typed=dialog_typed,
    other=dialog_other,
    cancel=dialog_cancel,
    stale=stale_dialog_button,
)


def create_button_router() -> Router:
    """The worklist's and the dialog's buttons. Their prefixes are theirs alone, so this router
    goes before the others: a tap is not first tried against every other router's filters."""
    router = REPORT_DIALOG.router(f"{__name__}.buttons", context=("member", Member.of_update))
    router.callback_query.register(worklist_page, callbacks.WorklistPage.filter())
    router.callback_query.register(confirm_item, callbacks.ConfirmItem.filter())
    router.callback_query.register(confirm_all, callbacks.ConfirmAll.filter())
    router.callback_query.register(open_item, callbacks.OpenItem.filter())
    REPORT_DIALOG.register(buttons=router, messages=None, handlers=_STEPS)
    return router


def create_router() -> Router:
    """Members' commands and the dialog's typed answers, after the other routers' commands."""
    router = REPORT_DIALOG.router(__name__, context=("member", Member.of_update))
    router.message.register(my_items, Command("myitems"))
    router.message.register(report_command, Command("report"))
    router.message.register(cancel_command, Command("cancel"))
    REPORT_DIALOG.register(buttons=None, messages=router, handlers=_STEPS)
    return router
