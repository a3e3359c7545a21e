"""What a person types to the bot outside a dialog (issue 22, #14): kept, offered as the
items it names, sent on to the secretariat with one tap, and the secretariat's Telegram reply
carried back. The rows and the notices; the use cases are bot/usecases/questions.py.

The copy each secretary gets goes through the outbox under a key naming the question, and the
outbox keeps the message id Telegram gave it: a reply to that message finds its question by
the chat and the message id, with no table of copies of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.text import quote, shorten
from bot.delivery.enqueue import PersonMessage, enqueue_messages
from bot.telegram.callbacks import ChairItem, OpenItem, SendQuestion
from bot.telegram.i18n import in_locale, pick_name
from bot.telegram.keyboards import BUTTON_TITLE_LENGTH, cut_label
from bot.telegram.texts import department_name, role_label
from db.models import Department, MemberQuestion, Notification, Person, QuestionReply, RoadmapItem
from db.outbox import Outgoing, enqueue_many

QUESTION_KIND = "question"
VIDEO_NOTE = "video_note"  # MemberQuestion.media_kind of a round video message
REPLY_KIND = "question_reply"
QUOTED_QUESTION = 300  # how much of the question the answer repeats
# A copy or an answer fits one message (4,096 characters) beside its framing; the full text
# stays in the database.
PASSED_ON = 3_500


def _fitted(text: str) -> str:
    """The text as written (its line breaks too), cut at a space only when it would not fit."""
    if len(text) <= PASSED_ON:
        return text
    cut = text[: PASSED_ON - 1]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:boundary] if boundary > 0 else cut).rstrip() + "…"


def _copy_key(question_id: int, secretary_id: int) -> str:
    return f"question:{question_id}:{secretary_id}"


async def items_named(session: AsyncSession, codes: Sequence[str]) -> list[RoadmapItem]:
    """The open items with these codes, in the order they were named."""
    if not codes:
        return []
    statement = select(RoadmapItem).where(
        col(RoadmapItem.code).in_(list(codes)), col(RoadmapItem.archived).is_(False)
    )
    found = {item.code: item for item in (await session.exec(statement)).all()}
    return [found[code] for code in codes if code in found]


async def enqueue_copies(
    session: AsyncSession,
    i18n: I18n,
    question: MemberQuestion,
    asker: Person,
    secretaries: Sequence[Person],
    *,
    now: datetime,
) -> int:
    """One copy for each secretary, in their language, asking them to answer by a reply."""
    department = await session.get(Department, asker.department_id) if asker.department_id else None
    assert question.id is not None
    messages = []
    for secretary in secretaries:
        assert secretary.id is not None
        with in_locale(i18n, secretary.locale):
            text = question_notice(question, asker, department)
        key = _copy_key(question.id, secretary.id)
        message = PersonMessage(key, QUESTION_KIND, secretary, text)
        if question.voice_file_id is None:
            messages.append(message.outgoing())
        elif question.media_kind == VIDEO_NOTE:  # a video note takes no caption: then the text
            note = {"video_note": question.voice_file_id}
            messages.append(
                Outgoing(
                    f"{key}:note",
                    QUESTION_KIND,
                    secretary.telegram_id,
                    "sendVideoNote",
                    note,
                    person_id=secretary.id,
                )
            )
            messages.append(message.outgoing())
        else:  # the voice message itself, with who asks as its caption
            params = {"voice": question.voice_file_id, "caption": text, "parse_mode": "HTML"}
            messages.append(
                Outgoing(
                    key,
                    QUESTION_KIND,
                    secretary.telegram_id,
                    "sendVoice",
                    params,
                    person_id=secretary.id,
                )
            )
    return await enqueue_many(session, messages, now=now)


async def question_of_copy(
    session: AsyncSession, chat_id: int, message_id: int
) -> MemberQuestion | None:
    """The question whose copy is the message `message_id` in `chat_id`, if it is one."""
    statement = select(Notification.idempotency_key).where(
        Notification.chat_id == chat_id,
        Notification.telegram_message_id == message_id,
        Notification.kind == QUESTION_KIND,
    )
    key = (await session.exec(statement)).first()
    if key is None:
        return None
    question_id = int(key.split(":")[1])
    return await session.get(MemberQuestion, question_id)


async def enqueue_reply(
    session: AsyncSession,
    i18n: I18n,
    question: MemberQuestion,
    reply: QuestionReply,
    asker: Person,
    secretary: Person,
    *,
    now: datetime,
) -> bool:
    """The reply to the person who asked, framed in their language."""
    with in_locale(i18n, asker.locale):
        text = reply_notice(question, reply, secretary)
    message = PersonMessage(f"question_reply:{reply.id}", REPLY_KIND, asker, text)
    return await enqueue_messages(session, [message], now=now) == 1


# --- Texts ---


def question_notice(question: MemberQuestion, asker: Person, department: Department | None) -> str:
    """The secretariat's copy of a question: who asks, what, and how to answer."""
    who = role_label(asker.role)
    if department is not None:
        who = f"{who}, {department_name(department)}"
    said = quote(_fitted(question.text)) if question.text else _spoken_mark(question)
    return "\n".join(
        (
            "❓ "
            + _("{name} ({who}) asks the secretariat:").format(
                name=quote(asker.display_name), who=quote(who)
            ),
            "",
            said,
            "",
            "<i>"
            + _("Reply to this message (Telegram's Reply) and your answer goes to them.")
            + "</i>",
        )
    )


def reply_notice(question: MemberQuestion, reply: QuestionReply, secretary: Person) -> str:
    """The secretariat's answer, as the person who asked reads it."""
    if question.media_kind == VIDEO_NOTE:
        heading = _("The secretariat answered your video message:")
    elif question.voice_file_id is not None:
        heading = _("The secretariat answered your voice message:")
    else:
        heading = _("The secretariat answered your question «{question}»:").format(
            question=quote(shorten(question.text, QUOTED_QUESTION))
        )
    return "\n".join(
        (
            "💬 " + heading,
            "",
            quote(_fitted(reply.text)),
            "— " + quote(secretary.display_name),
        )
    )


def _spoken_mark(question: MemberQuestion) -> str:
    """What stands for a spoken question in the copy's text: the voice message is the copy
    itself; a video note is the message just above it."""
    if question.media_kind == VIDEO_NOTE:
        return "🎥 " + _("(the video message above)")
    return "🎤"


def offer_text(items: Sequence[RoadmapItem], *, spoken: MemberQuestion | None = None) -> str:
    """Free text outside a dialog: the items it names, and the offer to pass it on."""
    if spoken is not None and spoken.media_kind == VIDEO_NOTE:
        return _("Send this video message to the secretariat? They will answer here.")
    if spoken is not None and spoken.voice_file_id is not None:
        return _("Send this voice message to the secretariat? They will answer here.")
    lines = []
    if items:
        lines.append(_("Your message names these items; tap one to open it:"))
        lines.extend(
            f"<b>{quote(item.code)}</b> {quote(pick_name(item.title_kk, item.title_ru))}"
            for item in items
        )
        lines.append("")
        lines.append(_("Or is it a question? I can send it to the secretariat."))
    else:
        lines.append(_("Send this message to the secretariat? They will answer here."))
    return "\n".join(lines)


def offer_keyboard(
    question_id: int, items: Sequence[RoadmapItem], *, member: bool
) -> InlineKeyboardMarkup:
    """The items' buttons (the dialog for a department member, the card for the others),
    then [Send to the secretariat]."""
    rows = []
    for item in items:
        assert item.id is not None
        title = cut_label(f"{item.code} · {pick_name(item.title_kk, item.title_ru)}")
        data = OpenItem(item_id=item.id) if member else ChairItem(item_id=item.id)
        rows.append([InlineKeyboardButton(text=title, callback_data=data.pack())])
    send = cut_label("✉️ " + _("Send to the secretariat"), BUTTON_TITLE_LENGTH)
    send_data = SendQuestion(question_id=question_id).pack()
    rows.append([InlineKeyboardButton(text=send, callback_data=send_data)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def sent_text(question: MemberQuestion, secretaries: int) -> str:
    if question.media_kind == VIDEO_NOTE:
        if secretaries == 0:
            return _("Nobody in the secretariat can be reached yet. Your video message is kept.")
        return "✉️ " + _(
            "Your video message was sent to the secretariat. Their answer will come to this chat."
        )
    if question.voice_file_id is not None:
        if secretaries == 0:
            return _("Nobody in the secretariat can be reached yet. Your voice message is kept.")
        return "✉️ " + _(
            "Your voice message was sent to the secretariat. Their answer will come to this chat."
        )
    if secretaries == 0:
        return _(
            "Nobody in the secretariat can be reached yet. Your message is kept: {text}"
        ).format(text=quote(shorten(question.text, QUOTED_QUESTION)))
    return "✉️ " + _(
        "Sent to the secretariat: «{text}». Their answer will come to this chat."
    ).format(text=quote(shorten(question.text, QUOTED_QUESTION)))


def reply_passed_text(asker: Person) -> str:
    return "✅ " + _("Your answer was sent to {name}.").format(name=quote(asker.display_name))
