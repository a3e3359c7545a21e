"""Department members report on their items: the worklist and the per-item status dialog.

Taps edit the dialog message in place; typed answers (progress, comment, evidence) get the
next step as a new message and the old keyboard is removed, so only one step is ever active.
The dialog state lives in the database FSM storage and survives a restart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, time
from typing import Any

from aiogram import BaseMiddleware, Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter, or_f
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app.config import Settings
from bot.core.clock import Clock, local_today
from bot.core.parsing import parse_one_word
from bot.core.text import quote
from bot.reporting.service import (
    TELEGRAM_DOWNLOAD_LIMIT,
    Cause,
    Draft,
    ReportRefusal,
    ReportRefusedError,
    clean_comment,
    needs_explanation,
    parse_progress,
    reportable_item,
    save_update,
    worklist,
)
from bot.reporting.views import (
    cause_step,
    comment_step,
    confirm_step,
    evidence_step,
    item_header,
    progress_step,
    restart_keyboard,
    status_step,
    worklist_keyboard,
    worklist_text,
)
from bot.scheduling.jobs import Jobs
from bot.telegram import menus
from bot.telegram.callbacks import (
    DialogAction,
    OpenItem,
    PickCause,
    PickProgress,
    PickStatus,
    WorklistPage,
)
from bot.telegram.filters import HasPerson
from bot.telegram.texts import no_access_text, usage_line
from db import queries
from db.models import ItemStatus, Person, RoadmapItem, Role


class ReportDialog(StatesGroup):
    status = State()
    progress = State()
    cause = State()
    comment = State()
    evidence = State()
    confirm = State()


STEP_BY_STATE = {
    ReportDialog.status.state: "status",
    ReportDialog.progress.state: "progress",
    ReportDialog.cause.state: "cause",
    ReportDialog.comment.state: "comment",
    ReportDialog.evidence.state: "evidence",
    ReportDialog.confirm.state: "confirm",
}


def refusal_text(reason: ReportRefusal) -> str:
    texts = {
        ReportRefusal.NOT_FOUND: _("This item no longer exists."),
        ReportRefusal.NOT_YOUR_DEPARTMENT: _(
            "You can only report on the items of your own department."
        ),
        ReportRefusal.ARCHIVED: _("This item has been archived; it needs no more updates."),
        ReportRefusal.ALREADY_DONE: _("This item is already done."),
    }
    return texts[reason]


def _start_of_local_day(clock: Clock, settings: Settings) -> datetime:
    return datetime.combine(local_today(clock, settings.tz), time(), tzinfo=settings.tz)


async def _header(
    session: AsyncSession, item: RoadmapItem, clock: Clock, settings: Settings
) -> str:
    latest = await queries.latest_update(session, item.id)  # type: ignore[arg-type]
    author = await session.get(Person, latest.author_id) if latest else None
    return item_header(item, latest, author, local_today(clock, settings.tz), settings.tz)


def _render(state_name: str, header: str, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    step = STEP_BY_STATE[state_name]
    if step == "status":
        return status_step(header, draft.item_id)
    if step == "progress":
        return progress_step(header, draft.item_id)
    if step == "cause":
        return cause_step(header, draft.item_id)
    if step == "comment":
        return comment_step(header, draft)
    if step == "evidence":
        return evidence_step(header, draft.item_id)
    return confirm_step(header, draft)


class DialogContext:
    """The pieces every step needs, gathered once per update."""

    def __init__(
        self,
        *,
        session: AsyncSession,
        state: FSMContext,
        person: Person,
        clock: Clock,
        settings: Settings,
        bot: Bot,
        jobs: Jobs | None = None,
    ) -> None:
        self.session = session
        self.state = state
        self.person = person
        self.clock = clock
        self.settings = settings
        self.bot = bot
        self.jobs = jobs

    async def draft(self) -> Draft | None:
        return Draft.from_data(await self.state.get_data())

    async def go(
        self,
        state: State,
        draft: Draft,
        item: RoadmapItem,
        *,
        edit: Message | None = None,
        prefix: str = "",
    ) -> None:
        """Move the dialog to `state` and show that step: in place after a tap, else anew."""
        header = await _header(self.session, item, self.clock, self.settings)
        text, keyboard = _render(state.state or "", header, draft)
        text = prefix + text
        data = await self.state.get_data()
        # The state is saved before the step is shown, so the next tap always finds it.
        await self.state.set_state(state)
        if edit is not None:
            await self.state.set_data({**draft.to_data(), "message_id": edit.message_id})
            await edit.edit_text(text, reply_markup=keyboard)
            return
        await self._retire_keyboard(data.get("message_id"))
        sent = await self.bot.send_message(self.person.telegram_id, text, reply_markup=keyboard)
        await self.state.set_data({**draft.to_data(), "message_id": sent.message_id})

    async def _retire_keyboard(self, message_id: object) -> None:
        if isinstance(message_id, int):
            with suppress(TelegramBadRequest):
                await self.bot.edit_message_reply_markup(
                    chat_id=self.person.telegram_id, message_id=message_id, reply_markup=None
                )

    async def item_or_explain(
        self, draft: Draft, answer: Message | CallbackQuery
    ) -> RoadmapItem | None:
        """The item if it can still be reported on; otherwise explain and close the dialog."""
        try:
            return await reportable_item(self.session, self.person, draft.item_id)
        except ReportRefusedError as refused:
            await self.state.clear()
            text = refusal_text(refused.reason)
            if isinstance(answer, CallbackQuery):
                await answer.answer(text, show_alert=True)
                if isinstance(answer.message, Message):
                    with suppress(TelegramBadRequest):
                        await answer.message.edit_reply_markup(reply_markup=None)
            else:
                await answer.answer(text)
            return None


class DialogMiddleware(BaseMiddleware):
    """Gives the dialog handlers one `dialog` object instead of six dependencies."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        person = data.get("person")
        if person is not None:
            data["dialog"] = DialogContext(
                session=data["session"],
                state=data["state"],
                person=person,
                clock=data["clock"],
                settings=data["settings"],
                bot=data["bot"],
                jobs=data.get("jobs"),
            )
        return await handler(event, data)


def _is_member(person: Person | None) -> bool:
    return person is not None and person.role == Role.MEMBER and person.department_id is not None


async def my_items(
    message: Message, person: Person | None, session: AsyncSession, clock: Clock, settings: Settings
) -> None:
    if person is None:
        await message.answer(no_access_text(message.chat.id))
        return
    if not _is_member(person):
        await message.answer(_("This command is for department members."))
        return
    work = await worklist(
        session,
        person.department_id,  # type: ignore[arg-type]
        _start_of_local_day(clock, settings),
    )
    if not work.items:
        await message.answer(_("Your department has no open items. Thank you!"))
        return
    await message.answer(worklist_text(work, 0), reply_markup=worklist_keyboard(work, 0))


async def worklist_page(
    query: CallbackQuery,
    callback_data: WorklistPage,
    person: Person | None,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
) -> None:
    if not _is_member(person) or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    work = await worklist(
        session,
        person.department_id,  # type: ignore[arg-type, union-attr]
        _start_of_local_day(clock, settings),
    )
    await query.answer()
    with suppress(TelegramBadRequest):  # a double tap leaves the page unchanged
        await query.message.edit_text(
            worklist_text(work, callback_data.page),
            reply_markup=worklist_keyboard(work, callback_data.page),
        )


async def _begin(
    dialog: DialogContext, item_id: int, *, answer: Message | CallbackQuery, edit: Message | None
) -> None:
    draft = Draft(item_id=item_id)
    try:
        item = await reportable_item(dialog.session, dialog.person, item_id)
    except ReportRefusedError as refused:
        if refused.reason == ReportRefusal.NOT_YOUR_DEPARTMENT:
            await queries.add_audit(
                dialog.session,
                at=dialog.clock.now(),
                action="refused.report",
                actor=dialog.person,
                target=str(item_id),
            )
            await dialog.session.commit()
        text = refusal_text(refused.reason)
        if isinstance(answer, CallbackQuery):
            await answer.answer(text, show_alert=True)
        else:
            await answer.answer(text)
        return
    if isinstance(answer, CallbackQuery):
        await answer.answer()
    await dialog.go(ReportDialog.status, draft, item, edit=edit)


async def open_item(
    query: CallbackQuery, callback_data: OpenItem, dialog: DialogContext | None = None
) -> None:
    if dialog is None:
        await query.answer(_("You do not have access."), show_alert=True)
        return
    edit = query.message if isinstance(query.message, Message) else None
    await _begin(dialog, callback_data.item_id, answer=query, edit=edit)


async def report_command(
    message: Message, command: CommandObject, dialog: DialogContext | None = None
) -> None:
    if dialog is None:
        await message.answer(no_access_text(message.chat.id))
        return
    if not _is_member(dialog.person):
        await message.answer(_("This command is for department members."))
        return
    code = parse_one_word(command.args)
    if code is None:
        await message.answer(usage_line(menus.REPORT))
        return
    item = await queries.item_by_code(dialog.session, code)
    if item is None:
        await message.answer(
            _("There is no Road Map item with the code {code}.").format(code=quote(code))
        )
        return
    await _begin(dialog, item.id, answer=message, edit=None)  # type: ignore[arg-type]


async def _current(
    query: CallbackQuery, item_id: int, dialog: DialogContext
) -> tuple[Draft, RoadmapItem] | None:
    """The draft and item for a tap on the active step; None (already answered) otherwise."""
    draft = await dialog.draft()
    if draft is None or draft.item_id != item_id:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return None
    item = await dialog.item_or_explain(draft, query)
    if item is None:
        return None
    await query.answer()
    return draft, item


async def _after_progress(
    dialog: DialogContext, draft: Draft, item: RoadmapItem, edit: Message | None
) -> None:
    if needs_explanation(draft.status or ""):
        await dialog.go(ReportDialog.cause, draft, item, edit=edit)
    else:
        await dialog.go(ReportDialog.comment, draft, item, edit=edit)


async def pick_status(
    query: CallbackQuery,
    callback_data: PickStatus,
    dialog: DialogContext,
) -> None:
    current = await _current(query, callback_data.item_id, dialog)
    if current is None:
        return
    draft, item = current
    if callback_data.status not in set(ItemStatus):
        return
    draft.status = callback_data.status
    edit = query.message if isinstance(query.message, Message) else None
    if draft.status == ItemStatus.DONE:
        draft.progress, draft.cause = 100, None
        await dialog.go(ReportDialog.comment, draft, item, edit=edit)
        return
    await dialog.go(ReportDialog.progress, draft, item, edit=edit)


async def pick_progress(
    query: CallbackQuery,
    callback_data: PickProgress,
    dialog: DialogContext,
) -> None:
    current = await _current(query, callback_data.item_id, dialog)
    if current is None:
        return
    draft, item = current
    if not 0 <= callback_data.value <= 100:
        return
    draft.progress = callback_data.value
    edit = query.message if isinstance(query.message, Message) else None
    await _after_progress(dialog, draft, item, edit)


async def typed_progress(
    message: Message,
    dialog: DialogContext,
) -> None:
    draft = await dialog.draft()
    value = parse_progress(message.text)
    if draft is None:
        return
    if value is None:
        await message.answer(_("Please send a whole number from 0 to 100, or tap a button above."))
        return
    item = await dialog.item_or_explain(draft, message)
    if item is None:
        return
    draft.progress = value
    await _after_progress(dialog, draft, item, None)


async def pick_cause(
    query: CallbackQuery,
    callback_data: PickCause,
    dialog: DialogContext,
) -> None:
    current = await _current(query, callback_data.item_id, dialog)
    if current is None or callback_data.cause not in set(Cause):
        return
    draft, item = current
    draft.cause = callback_data.cause
    edit = query.message if isinstance(query.message, Message) else None
    await dialog.go(ReportDialog.comment, draft, item, edit=edit)


async def typed_comment(
    message: Message,
    dialog: DialogContext,
) -> None:
    draft = await dialog.draft()
    if draft is None:
        return
    comment = clean_comment(message.text)
    if comment is None:
        await message.answer(
            _("The comment must be between 1 and 1000 characters. Please write it again.")
        )
        return
    item = await dialog.item_or_explain(draft, message)
    if item is None:
        return
    draft.comment = comment
    await dialog.go(ReportDialog.evidence, draft, item)


async def comment_not_text(message: Message) -> None:
    await message.answer(_("Please write the comment as text."))


async def evidence_file(
    message: Message,
    dialog: DialogContext,
) -> None:
    draft = await dialog.draft()
    if draft is None:
        return
    if message.photo:
        photo = message.photo[-1]
        kind, file_id, unique_id, size = (
            "photo",
            photo.file_id,
            photo.file_unique_id,
            photo.file_size,
        )
    else:
        document = message.document
        assert document is not None  # the filter guarantees a photo or a document
        kind, file_id, unique_id = "document", document.file_id, document.file_unique_id
        size = document.file_size
    if size is not None and size > TELEGRAM_DOWNLOAD_LIMIT:
        await message.answer(
            _("This file is larger than 20 MB, the limit for bots. Please send a smaller one.")
        )
        return
    item = await dialog.item_or_explain(draft, message)
    if item is None:
        return
    draft.evidence_kind, draft.evidence_file_id, draft.evidence_unique_id = kind, file_id, unique_id
    await dialog.go(ReportDialog.confirm, draft, item)


async def evidence_not_file(message: Message) -> None:
    await message.answer(_("Please send a photo or a document, or tap Skip."))


async def use_the_buttons(message: Message) -> None:
    await message.answer(_("Please choose one of the buttons above."))


async def dialog_action(
    query: CallbackQuery,
    callback_data: DialogAction,
    dialog: DialogContext,
) -> None:
    if callback_data.action == "cancel":
        await _cancel(query, dialog)
        return
    current = await _current(query, callback_data.item_id, dialog)
    if current is None:
        return
    draft, item = current
    step = STEP_BY_STATE.get(await dialog.state.get_state() or "")
    edit = query.message if isinstance(query.message, Message) else None
    if (
        callback_data.action == "skip"
        and step == "comment"
        and not needs_explanation(draft.status or "")
    ):
        await dialog.go(ReportDialog.evidence, draft, item, edit=edit)
    elif callback_data.action == "skip" and step == "evidence":
        await dialog.go(ReportDialog.confirm, draft, item, edit=edit)
    elif callback_data.action == "change" and step == "confirm":
        await dialog.go(ReportDialog.status, Draft(item_id=draft.item_id), item, edit=edit)
    elif callback_data.action == "save" and step == "confirm":
        await _save(dialog, draft, edit)


async def _save(dialog: DialogContext, draft: Draft, edit: Message | None) -> None:
    now = dialog.clock.now()
    try:
        saved = await save_update(dialog.session, person=dialog.person, draft=draft, now=now)
    except ReportRefusedError as refused:
        await dialog.state.clear()
        text = refusal_text(refused.reason)
        if edit is not None:
            await edit.edit_text(text, reply_markup=None)
        else:
            await dialog.bot.send_message(dialog.person.telegram_id, text)
        return
    if saved.risk_event is not None and dialog.jobs is not None:
        dialog.jobs.alert_soon()  # the chair hears of a declared risk at once, Save does not wait
    saved_text = "✅ " + _("Saved.") + "\n\n"
    work = await worklist(
        dialog.session,
        dialog.person.department_id,  # type: ignore[arg-type]
        _start_of_local_day(dialog.clock, dialog.settings),
    )
    following = work.next_waiting(after_item_id=draft.item_id)
    if following is None:
        await dialog.state.clear()
        text = saved_text + _("All items are up to date. Thank you!")
        if edit is not None:
            await edit.edit_text(text, reply_markup=None)
        else:
            await dialog.bot.send_message(dialog.person.telegram_id, text)
        return
    prefix = saved_text + _("Next item:") + "\n"
    await dialog.go(
        ReportDialog.status,
        Draft(item_id=following.id),
        following,
        edit=edit,
        prefix=prefix,  # type: ignore[arg-type]
    )


async def _cancel(query: CallbackQuery, dialog: DialogContext) -> None:
    await dialog.state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):
            await query.message.edit_text(_("Cancelled. Nothing was saved."), reply_markup=None)


async def cancel_command(message: Message, state: FSMContext) -> None:
    had_dialog = await state.get_state() is not None
    await state.clear()
    if had_dialog:
        await message.answer(_("Cancelled. Nothing was saved."))
    else:
        await message.answer(_("There is nothing to cancel."))


async def stale_dialog_button(query: CallbackQuery, dialog: DialogContext | None = None) -> None:
    """A dialog button that does not belong to the active step: show where the dialog is."""
    if dialog is None:
        await query.answer(_("You do not have access."), show_alert=True)
        return
    draft = await dialog.draft()
    current_state = await dialog.state.get_state()
    if draft is None or current_state not in STEP_BY_STATE:
        await query.answer(_("This dialog was closed."), show_alert=False)
        item_id = _item_id_of(query.data)
        if item_id is not None and isinstance(query.message, Message):
            with suppress(TelegramBadRequest):
                await query.message.edit_text(
                    _("This dialog was closed. Tap to start again."),
                    reply_markup=restart_keyboard(item_id),
                )
        return
    await query.answer(_("This button is no longer valid. The current step is below."))
    item = await dialog.item_or_explain(draft, query)
    if item is not None:
        await dialog.go(State(state=current_state), draft, item)


def _item_id_of(data: str | None) -> int | None:
    parts = (data or "").split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.middleware(DialogMiddleware())
    router.callback_query.middleware(DialogMiddleware())
    router.message.register(my_items, Command("myitems"))
    router.message.register(report_command, Command("report"))
    router.message.register(cancel_command, Command("cancel"))
    router.callback_query.register(worklist_page, WorklistPage.filter())
    router.callback_query.register(open_item, OpenItem.filter())

    member = HasPerson()
    router.callback_query.register(
        dialog_action, DialogAction.filter(F.action == "cancel"), StateFilter(ReportDialog), member
    )
    router.callback_query.register(pick_status, PickStatus.filter(), ReportDialog.status, member)
    router.callback_query.register(
        pick_progress, PickProgress.filter(), ReportDialog.progress, member
    )
    router.callback_query.register(pick_cause, PickCause.filter(), ReportDialog.cause, member)
    router.callback_query.register(
        dialog_action,
        DialogAction.filter(),
        StateFilter(ReportDialog.comment, ReportDialog.evidence, ReportDialog.confirm),
        member,
    )
    router.callback_query.register(
        stale_dialog_button,
        or_f(PickStatus.filter(), PickProgress.filter(), PickCause.filter(), DialogAction.filter()),
    )

    router.message.register(typed_progress, ReportDialog.progress, F.text, member)
    router.message.register(typed_comment, ReportDialog.comment, F.text, member)
    router.message.register(comment_not_text, ReportDialog.comment)
    router.message.register(evidence_file, ReportDialog.evidence, F.photo | F.document, member)
    router.message.register(evidence_not_file, ReportDialog.evidence)
    router.message.register(typed_progress, ReportDialog.progress, member)
    router.message.register(
        use_the_buttons, StateFilter(ReportDialog.status, ReportDialog.cause, ReportDialog.confirm)
    )
    return router
