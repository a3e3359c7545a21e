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
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.app.config import Settings
from bot.core.causes import Cause
from bot.core.clock import Clock, local_today
from bot.core.errors import AwayDateError, InvalidDeputyError, UnknownPersonError
from bot.core.limits import TELEGRAM_DOWNLOAD_LIMIT
from bot.core.parsing import DB_ID_MAX, parse_away, parse_int, parse_one_word
from bot.people import audit
from bot.people.service import set_away
from bot.reporting.service import (
    Draft,
    NothingToConfirmError,
    ReportRefusal,
    ReportRefusedError,
    Worklist,
    clean_comment,
    confirm_all_unchanged,
    confirm_unchanged,
    needs_explanation,
    parse_progress,
    reportable_item,
    sanity_warnings,
    save_update,
    worklist,
)
from bot.reporting.views import (
    NO_CHANGE,
    cause_choices,
    cause_step,
    comment_step,
    confirm_all_step,
    confirm_step,
    evidence_step,
    item_header,
    progress_step,
    restart_keyboard,
    round_summary,
    save_choices,
    status_choices,
    status_step,
    typed_choice,
    worklist_keyboard,
    worklist_text,
)
from bot.scheduling.jobs import Jobs
from bot.telegram import menus
from bot.telegram.callbacks import (
    ConfirmAll,
    ConfirmItem,
    DialogAction,
    OpenItem,
    PickCause,
    PickProgress,
    PickStatus,
    WorklistPage,
)
from bot.telegram.filters import HasPerson
from bot.telegram.i18n import ngettext
from bot.telegram.texts import (
    away_refusal_text,
    away_text,
    hidden_item_text,
    no_access_text,
    usage_line,
)
from db import queries
from db.engine import AsyncSession
from db.models import ItemStatus, Person, RoadmapItem, Role, StatusUpdate
from db.queries import ItemSnapshot


class ReportDialog(StatesGroup):
    status = State()
    progress = State()
    cause = State()
    comment = State()
    evidence = State()
    confirm = State()


STATE_BY_NAME = {state.state: state for state in ReportDialog.__states__}
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
        ReportRefusal.NOT_FOUND: hidden_item_text(),
        ReportRefusal.NOT_YOUR_DEPARTMENT: hidden_item_text(),
        ReportRefusal.ARCHIVED: _("This item has been archived; it needs no more updates."),
        ReportRefusal.ALREADY_DONE: _("This item is already done."),
    }
    return texts[reason]


def _start_of_local_day(clock: Clock, settings: Settings) -> datetime:
    return datetime.combine(local_today(clock, settings.tz), time(), tzinfo=settings.tz)


_DIALOG_PREFIXES = frozenset(
    str(factory.__prefix__)
    for factory in (OpenItem, PickStatus, PickProgress, PickCause, DialogAction)
)


async def item_of_update(update: TelegramObject, data: dict[str, Any]) -> int | None:
    """The item a dialog update is about (the button's, or the draft's for a typed answer), so
    the session middleware reads it with the person: one statement instead of three."""
    if not isinstance(update, Update):
        return None
    query = update.callback_query
    if query is not None:
        prefix, _separator, rest = (query.data or "").partition(":")
        if prefix not in _DIALOG_PREFIXES:
            return None
        return parse_int(rest.partition(":")[0], 1, DB_ID_MAX)
    state = data.get("state")
    if update.message is None or state is None or data.get("raw_state") not in STEP_BY_STATE:
        return None
    draft = Draft.from_data(await state.get_data())
    return draft.item_id if draft is not None else None


def _render(
    state_name: str, header: str, draft: Draft, latest: StatusUpdate | None
) -> tuple[str, InlineKeyboardMarkup]:
    step = STEP_BY_STATE[state_name]
    if step == "status":
        return status_step(header, draft.item_id, latest)
    if step == "progress":
        return progress_step(header, draft.item_id)
    if step == "cause":
        return cause_step(header, draft.item_id)
    if step == "comment":
        return comment_step(header, draft)
    if step == "evidence":
        return evidence_step(header, draft.item_id)
    return confirm_step(header, draft)


Show = Callable[[], Awaitable[None]]


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
        i18n: I18n,
        jobs: Jobs | None = None,
        snapshot: ItemSnapshot | None = None,
    ) -> None:
        self.i18n = i18n
        self.snapshot = snapshot
        self.session = session
        self.state = state
        self.person = person
        self.clock = clock
        self.settings = settings
        self.bot = bot
        self.jobs = jobs

    async def draft(self) -> Draft | None:
        return Draft.from_data(await self.state.get_data())

    async def latest(self, item: RoadmapItem) -> tuple[StatusUpdate | None, Person | None]:
        """The item's newest report and its author: from the update's snapshot when it is of
        this item, else from the database."""
        if self.snapshot is not None and self.snapshot.item is item:
            return self.snapshot.latest, self.snapshot.author
        latest = await queries.latest_update(self.session, item.id)  # type: ignore[arg-type]
        author = await queries.person_by_id(self.session, latest.author_id) if latest else None
        return latest, author

    async def known(self, item: RoadmapItem, latest: StatusUpdate | None) -> None:
        """The item's newest report as this update has just read it (in a worklist), so its
        card is not read again; its author is read only if the session does not hold it."""
        author = await queries.person_by_id(self.session, latest.author_id) if latest else None
        self.snapshot = ItemSnapshot(item=item, latest=latest, author=author)

    def reported(self) -> None:
        """A report was saved: the snapshot's newest report is no longer the newest."""
        self.snapshot = None

    async def _header(self, item: RoadmapItem) -> tuple[str, StatusUpdate | None]:
        """The item's card for the dialog, and its newest report (what "no change" repeats)."""
        latest, author = await self.latest(item)
        today = local_today(self.clock, self.settings.tz)
        return item_header(item, latest, author, today, self.settings.tz), latest

    def known_latest(self, item: RoadmapItem) -> tuple[StatusUpdate | None] | None:
        """The item's newest report if this update has read it already (the snapshot)."""
        if self.snapshot is not None and self.snapshot.item is item:
            return (self.snapshot.latest,)
        return None

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
        show = await self.prepare(state, draft, item, edit=edit, prefix=prefix)
        await show()

    async def prepare(
        self,
        state: State,
        draft: Draft,
        item: RoadmapItem,
        *,
        edit: Message | None = None,
        prefix: str = "",
    ) -> Show:
        """Move the dialog to `state` and return what shows that step. The state is set
        before the step is shown, so the next tap always finds it; inside a save it commits
        with the report, and only then is the step shown."""
        header, latest = await self._header(item)
        if state == ReportDialog.confirm:
            today = local_today(self.clock, self.settings.tz)
            warnings = sanity_warnings(draft, item, latest, today) if draft.warned else []
            text, keyboard = confirm_step(header, draft, warnings)
        else:
            text, keyboard = _render(state.state or "", header, draft, latest)
        text = prefix + text
        data = await self.state.get_data()
        await self.state.set_state(state)
        if edit is not None:
            await self.state.set_data({**draft.to_data(), "message_id": edit.message_id})

            async def show_in_place() -> None:
                await edit.edit_text(text, reply_markup=keyboard)

            return show_in_place
        await self.state.set_data(draft.to_data())

        async def show_anew() -> None:
            await self._retire_keyboard(data.get("message_id"))
            sent = await self.bot.send_message(self.person.telegram_id, text, reply_markup=keyboard)
            await self.state.set_data({**draft.to_data(), "message_id": sent.message_id})

        return show_anew

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
                i18n=data["i18n"],
                jobs=data.get("jobs"),
                snapshot=data.get("item_snapshot"),
            )
        return await handler(event, data)


def _is_member(person: Person | None) -> bool:
    return person is not None and person.role == Role.MEMBER and person.department_id is not None


async def _member_may_use(message: Message, person: Person | None) -> bool:
    """Members' commands: a stranger gets their id, anyone else is told whom they are for."""
    if person is None:
        await message.answer(no_access_text(message.chat.id))
        return False
    if not _is_member(person):
        await message.answer(_("This command is for department members."))
        return False
    return True


async def my_items(
    message: Message, person: Person | None, session: AsyncSession, clock: Clock, settings: Settings
) -> None:
    if not await _member_may_use(message, person):
        return
    assert person is not None
    work = await worklist(
        session,
        person.department_id,  # type: ignore[arg-type]
        _start_of_local_day(clock, settings),
    )
    if not work.items:
        await message.answer(_("Your department has no open items. Thank you!"))
        return
    await message.answer(worklist_text(work, 0), reply_markup=worklist_keyboard(work, 0))


async def away_command(
    message: Message, command: CommandObject, dialog: DialogContext | None = None
) -> None:
    """/away <date back> [deputy] or /away off: hand the requests over while away."""
    if not await _member_may_use(message, dialog.person if dialog else None):
        return
    assert dialog is not None
    request = parse_away(command.args)
    if request is None:
        await message.answer(usage_line(menus.AWAY))
        return
    try:
        deputy = await set_away(
            dialog.session,
            person=dialog.person,
            back=request.back,
            deputy_handle=request.deputy,
            actor=dialog.person,
            today=local_today(dialog.clock, dialog.settings.tz),
            now=dialog.clock.now(),
        )
    except (AwayDateError, InvalidDeputyError, UnknownPersonError) as error:
        await message.answer(away_refusal_text(error))
        return
    await message.answer(away_text(dialog.person, deputy))


async def worklist_page(
    query: CallbackQuery, callback_data: WorklistPage, dialog: DialogContext | None = None
) -> None:
    if dialog is None or not _is_member(dialog.person) or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await _show_worklist(dialog, query.message, callback_data.page)


async def _department_worklist(dialog: DialogContext) -> Worklist:
    return await worklist(
        dialog.session,
        dialog.person.department_id,  # type: ignore[arg-type]
        _start_of_local_day(dialog.clock, dialog.settings),
    )


async def _show_worklist(
    dialog: DialogContext, message: Message, page: int, prefix: str = ""
) -> None:
    """The worklist in place of `message` (the round's request or the /myitems answer)."""
    work = await _department_worklist(dialog)
    with suppress(TelegramBadRequest):  # a double tap leaves the page unchanged
        await message.edit_text(
            prefix + worklist_text(work, page), reply_markup=worklist_keyboard(work, page)
        )


async def confirm_item(
    query: CallbackQuery, callback_data: ConfirmItem, dialog: DialogContext | None = None
) -> None:
    """✓ in the worklist: one tap reports that the item has not changed."""
    if dialog is None or not _is_member(dialog.person) or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    if callback_data.item_id in (await _department_worklist(dialog)).updated_ids:
        await query.answer(_("Already saved in this round."))  # a second tap, an old message
        await _show_worklist(dialog, query.message, callback_data.page)
        return
    try:
        await confirm_unchanged(
            dialog.session,
            person=dialog.person,
            item_id=callback_data.item_id,
            now=dialog.clock.now(),
        )
    except ReportRefusedError as refused:
        await query.answer(refusal_text(refused.reason), show_alert=True)
        return
    except NothingToConfirmError:
        await query.answer(_("This item has no earlier report to confirm."), show_alert=True)
        return
    await query.answer(_("Saved: no change."))
    await _show_worklist(dialog, query.message, callback_data.page)


async def confirm_all(
    query: CallbackQuery, callback_data: ConfirmAll, dialog: DialogContext | None = None
) -> None:
    """ "Everything else unchanged": first the list to check, then one tap confirms it."""
    if dialog is None or not _is_member(dialog.person) or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    work = await _department_worklist(dialog)
    if callback_data.step != "yes":
        await query.answer()
        if not work.confirmable:
            await _show_worklist(dialog, query.message, callback_data.page)
            return
        text, keyboard = confirm_all_step(work, callback_data.page)
        with suppress(TelegramBadRequest):
            await query.message.edit_text(text, reply_markup=keyboard)
        return
    confirmed = await confirm_all_unchanged(
        dialog.session, person=dialog.person, items=work.confirmable, now=dialog.clock.now()
    )
    await query.answer()
    prefix = (
        "✅ "
        + ngettext(
            "Saved: {count} item without change.",
            "Saved: {count} items without change.",
            len(confirmed),
        ).format(count=len(confirmed))
        + "\n\n"
    )
    work = await _department_worklist(dialog)
    if not work.waiting:
        prefix += round_summary(work) + "\n\n"
    await _show_worklist(dialog, query.message, callback_data.page, prefix)


async def _begin(
    dialog: DialogContext,
    item_id: int,
    *,
    answer: Message | CallbackQuery,
    edit: Message | None,
    code: str | None = None,
) -> None:
    draft = Draft(item_id=item_id)
    try:
        item = await reportable_item(dialog.session, dialog.person, item_id)
    except ReportRefusedError as refused:
        if refused.reason == ReportRefusal.NOT_YOUR_DEPARTMENT:
            await audit.refused(
                dialog.session,
                dialog.person,
                "refused.report",
                str(item_id),
                now=dialog.clock.now(),
            )
        hidden = refused.reason in (ReportRefusal.NOT_FOUND, ReportRefusal.NOT_YOUR_DEPARTMENT)
        text = hidden_item_text(code) if hidden and code else refusal_text(refused.reason)
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
    if not await _member_may_use(message, dialog.person if dialog else None):
        return
    assert dialog is not None
    code = parse_one_word(command.args)
    if code is None:
        await message.answer(usage_line(menus.REPORT))
        return
    item = await queries.item_by_code(dialog.session, code)
    if item is None:
        await message.answer(hidden_item_text(code))
        return
    await _begin(dialog, item.id, answer=message, edit=None, code=code)  # type: ignore[arg-type]


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
        await dialog.go(ReportDialog.confirm, draft, item, edit=edit)


async def _choose_status(
    dialog: DialogContext, draft: Draft, item: RoadmapItem, status: str, edit: Message | None
) -> None:
    draft.status, draft.warned = status, False
    if status == ItemStatus.DONE:
        draft.progress, draft.cause = 100, None  # done is 100%: straight to the summary
        await dialog.go(ReportDialog.confirm, draft, item, edit=edit)
        return
    if not needs_explanation(status):
        draft.cause = None
    await dialog.go(ReportDialog.progress, draft, item, edit=edit)


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
    edit = query.message if isinstance(query.message, Message) else None
    await _choose_status(dialog, draft, item, callback_data.status, edit)


async def typed_status(message: Message, dialog: DialogContext) -> None:
    """A typed button label («по плану», «жоспар бойынша», «без изменений») is a tap."""
    draft = await dialog.draft()
    if draft is None:
        return
    choice = typed_choice(dialog.i18n, message.text, status_choices)
    if choice is None:
        await message.answer(_("Please choose one of the buttons above."))
        return
    item = await dialog.item_or_explain(draft, message)
    if item is None:
        return
    if choice == NO_CHANGE:
        await _confirm_same(dialog, draft, item, None)
    else:
        await _choose_status(dialog, draft, item, choice, None)


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
    draft.progress, draft.warned = callback_data.value, False
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
    draft.progress, draft.warned = value, False
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
    await _after_cause(dialog, draft, item, edit)


async def _after_cause(
    dialog: DialogContext, draft: Draft, item: RoadmapItem, edit: Message | None
) -> None:
    """A risk needs a comment: ask for it unless it was typed already."""
    next_state = ReportDialog.confirm if draft.comment else ReportDialog.comment
    await dialog.go(next_state, draft, item, edit=edit)


async def typed_cause(message: Message, dialog: DialogContext) -> None:
    draft = await dialog.draft()
    if draft is None:
        return
    cause = typed_choice(dialog.i18n, message.text, cause_choices)
    if cause is None:
        await message.answer(_("Please choose one of the buttons above."))
        return
    item = await dialog.item_or_explain(draft, message)
    if item is None:
        return
    draft.cause = cause
    await _after_cause(dialog, draft, item, None)


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
    await dialog.go(ReportDialog.confirm, draft, item)


async def typed_at_confirm(message: Message, dialog: DialogContext) -> None:
    """At the summary: the Save label saves, a number is the progress, other text the comment."""
    draft = await dialog.draft()
    if draft is None:
        return
    if typed_choice(dialog.i18n, message.text, save_choices) is not None:
        item = await dialog.item_or_explain(draft, message)
        if item is not None:
            await _save(dialog, draft, item, None)
        return
    value = parse_progress(message.text)
    if value is not None and draft.status != ItemStatus.DONE:
        item = await dialog.item_or_explain(draft, message)
        if item is not None:
            draft.progress, draft.warned = value, False
            await dialog.go(ReportDialog.confirm, draft, item)
        return
    await typed_comment(message, dialog)


async def comment_not_text(message: Message) -> None:
    await message.answer(_("Please write the comment as text."))


async def evidence_file(
    message: Message,
    dialog: DialogContext,
) -> None:
    draft = await dialog.draft()
    if draft is None:
        return
    name = None
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
        size, name = document.file_size, document.file_name
    if size is not None and size > TELEGRAM_DOWNLOAD_LIMIT:
        await message.answer(
            _("This file is larger than 20 MB, the limit for bots. Please send a smaller one.")
        )
        return
    item = await dialog.item_or_explain(draft, message)
    if item is None:
        return
    draft.evidence_kind, draft.evidence_file_id, draft.evidence_unique_id = kind, file_id, unique_id
    draft.evidence_name = name[:200] if name else None
    await dialog.go(ReportDialog.confirm, draft, item)


async def evidence_not_file(message: Message) -> None:
    await message.answer(_("Please send a photo or a document, or tap Back."))


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
    action = "back" if callback_data.action == "skip" else callback_data.action  # older buttons
    optional_comment = step == "comment" and not needs_explanation(draft.status or "")
    if action == "back" and (optional_comment or step == "evidence"):
        await dialog.go(ReportDialog.confirm, draft, item, edit=edit)
    elif step != "confirm" and step != "status":
        return
    elif action == "same" and step == "status":
        await _confirm_same(dialog, draft, item, edit)
    elif step != "confirm":
        return
    elif action == "change":
        await dialog.go(ReportDialog.status, Draft(item_id=draft.item_id), item, edit=edit)
    elif action == "comment":
        await dialog.go(ReportDialog.comment, draft, item, edit=edit)
    elif action == "file":
        await dialog.go(ReportDialog.evidence, draft, item, edit=edit)
    elif action == "save":
        await _save(dialog, draft, item, edit)


async def _save(
    dialog: DialogContext, draft: Draft, item: RoadmapItem, edit: Message | None
) -> None:
    """Save, unless the draft looks like a slip the head has not yet seen (then warn once)."""
    now = dialog.clock.now()
    if not draft.warned:
        previous, _author = await dialog.latest(item)
        today = local_today(dialog.clock, dialog.settings.tz)
        if sanity_warnings(draft, item, previous, today):
            draft.warned = True
            await dialog.go(ReportDialog.confirm, draft, item, edit=edit)
            return
    shows: list[Show] = []

    async def next_step() -> None:
        dialog.reported()
        shows.append(await _next_item(dialog, draft.item_id, edit, "✅ " + _("Saved.") + "\n\n"))

    try:
        saved = await save_update(
            dialog.session,
            person=dialog.person,
            draft=draft,
            now=now,
            known_previous=dialog.known_latest(item),
            before_commit=next_step,
        )
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
    await shows[0]()


async def _confirm_same(
    dialog: DialogContext, draft: Draft, item: RoadmapItem, edit: Message | None
) -> None:
    shows: list[Show] = []

    async def next_step() -> None:
        dialog.reported()
        saved_text = "✅ " + _("Saved: no change.") + "\n\n"
        shows.append(await _next_item(dialog, draft.item_id, edit, saved_text))

    try:
        await confirm_unchanged(
            dialog.session,
            person=dialog.person,
            item_id=draft.item_id,
            now=dialog.clock.now(),
            known_previous=dialog.known_latest(item),
            before_commit=next_step,
        )
    except (ReportRefusedError, NothingToConfirmError) as refused:
        await dialog.state.clear()
        text = (
            refusal_text(refused.reason)
            if isinstance(refused, ReportRefusedError)
            else _("This item has no earlier report to confirm.")
        )
        if edit is not None:
            await edit.edit_text(text, reply_markup=None)
        else:
            await dialog.bot.send_message(dialog.person.telegram_id, text)
        return
    await shows[0]()


async def _next_item(
    dialog: DialogContext, item_id: int, edit: Message | None, saved_text: str
) -> Show:
    """After a report: the next waiting item of the department, or the end of the round. The
    dialog is moved there at once; what shows it is returned, to run after the commit."""
    work = await worklist(
        dialog.session,
        dialog.person.department_id,  # type: ignore[arg-type]
        _start_of_local_day(dialog.clock, dialog.settings),
    )
    following = work.next_waiting(after_item_id=item_id)
    if following is None:
        await dialog.state.clear()
        text = saved_text + _("All items are up to date. Thank you!") + "\n" + round_summary(work)

        async def show_the_end() -> None:
            if edit is not None:
                await edit.edit_text(text, reply_markup=None)
            else:
                await dialog.bot.send_message(dialog.person.telegram_id, text)

        return show_the_end
    prefix = saved_text + _("Next item:") + "\n"
    assert following.id is not None
    await dialog.known(following, work.latest.get(following.id))
    return await dialog.prepare(
        ReportDialog.status, Draft(item_id=following.id), following, edit=edit, prefix=prefix
    )


async def _cancel(query: CallbackQuery, dialog: DialogContext) -> None:
    await dialog.state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        with suppress(TelegramBadRequest):
            await query.message.edit_text(_("Cancelled. Nothing was saved."), reply_markup=None)


async def cancel_command(message: Message, state: FSMContext | None = None) -> None:
    """`state` is missing when the message has no sender (an anonymous group admin)."""
    had_dialog = state is not None and await state.get_state() is not None
    if state is not None:
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
        await dialog.go(STATE_BY_NAME[current_state], draft, item)


def _item_id_of(data: str | None) -> int | None:
    parts = (data or "").split(":")
    return parse_int(parts[1], 1, DB_ID_MAX) if len(parts) > 1 else None


def create_button_router() -> Router:
    """The worklist's and the dialog's buttons. Their prefixes are theirs alone, so this router
    goes before the others: a tap is not first tried against every other router's filters."""
    router = Router(name=f"{__name__}.buttons")
    router.callback_query.middleware(DialogMiddleware())
    router.callback_query.register(worklist_page, WorklistPage.filter())
    router.callback_query.register(confirm_item, ConfirmItem.filter())
    router.callback_query.register(confirm_all, ConfirmAll.filter())
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
        StateFilter(
            ReportDialog.status, ReportDialog.comment, ReportDialog.evidence, ReportDialog.confirm
        ),
        member,
    )
    router.callback_query.register(
        stale_dialog_button,
        or_f(PickStatus.filter(), PickProgress.filter(), PickCause.filter(), DialogAction.filter()),
    )
    return router


def create_router() -> Router:
    """Members' commands and the dialog's typed answers, after the other routers' commands."""
    router = Router(name=__name__)
    router.message.middleware(DialogMiddleware())
    router.message.register(my_items, Command("myitems"))
    router.message.register(away_command, Command("away"))
    router.message.register(report_command, Command("report"))
    router.message.register(cancel_command, Command("cancel"))
    member = HasPerson()
    router.message.register(typed_status, ReportDialog.status, F.text, member)
    router.message.register(typed_progress, ReportDialog.progress, F.text, member)
    router.message.register(typed_cause, ReportDialog.cause, F.text, member)
    router.message.register(typed_comment, ReportDialog.comment, F.text, member)
    router.message.register(comment_not_text, ReportDialog.comment)
    router.message.register(evidence_file, ReportDialog.evidence, F.photo | F.document, member)
    router.message.register(evidence_not_file, ReportDialog.evidence)
    router.message.register(
        typed_at_confirm, ReportDialog.confirm, F.text, ~F.text.startswith("/"), member
    )
    router.message.register(evidence_file, ReportDialog.confirm, F.photo | F.document, member)
    router.message.register(typed_progress, ReportDialog.progress, member)
    router.message.register(
        use_the_buttons, StateFilter(ReportDialog.status, ReportDialog.cause, ReportDialog.confirm)
    )
    return router
