"""A person's words outside a dialog reach someone (issue 22, #14): what they type is kept and
offered as the items it names or, with one tap, sent to the secretariat; a secretary's
Telegram reply to the copy goes back to them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.parsing import item_codes_in
from bot.people import recipients
from bot.reporting import questions
from bot.usecases.access import can_see_item
from bot.usecases.people import JoiningDialog
from bot.usecases.ports import Person, UseCaseContext
from db.models import MemberQuestion, QuestionReply, RoadmapItem, Role

# Outside any dialog, or while the name question after joining is open (what is typed then and
# is no name is a question like any other: bot/core/parsing.looks_like_a_name).
FREE_STATES = (None, JoiningDialog.name)


@dataclass(frozen=True)
class MessageKept:
    """The message is stored; the items it names that the person may open."""

    question: MemberQuestion
    items: list[RoadmapItem]
    member: bool  # a department member: the items open the status dialog


@dataclass(frozen=True)
class QuestionSent:
    question: MemberQuestion
    secretaries: int  # how many copies went out (0: nobody to send to, the text is kept)


@dataclass(frozen=True)
class QuestionGone:
    """Not this person's message, or sent already (a second tap)."""


@dataclass(frozen=True)
class ReplyPassed:
    question: MemberQuestion
    reply: QuestionReply
    asker: Person


@dataclass(frozen=True)
class NotAQuestion:
    """The replied message is no question's copy in this chat."""


def may_ask_secretariat(person: Person | None) -> bool:
    """Everyone registered but the secretariat itself."""
    return person is not None and person.role != Role.SECRETARIAT


def answers_questions(person: Person | None) -> bool:
    """The secretariat answers what others send it."""
    return person is not None and person.role == Role.SECRETARIAT


async def keep_message(
    ctx: UseCaseContext,
    person: Person,
    text: str,
    message_id: int | None,
    *,
    voice_file_id: str | None = None,
    media_kind: str | None = None,
) -> MessageKept:
    """What a person typed (or said in a voice message or a video note, `media_kind`
    "video_note") outside a dialog: stored as it came, never dropped."""
    now = ctx.clock.now()
    assert person.id is not None
    async with ctx.session_maker() as session:
        question = MemberQuestion(
            person_id=person.id,
            text=text,
            voice_file_id=voice_file_id,
            media_kind=media_kind,
            message_id=message_id,
            asked_at=now,
        )
        session.add(question)
        named = await questions.items_named(session, item_codes_in(text))
        await session.commit()
        await session.refresh(question)
    visible = [item for item in named if can_see_item(person, item.department_id)]
    member = person.role == Role.MEMBER and person.department_id is not None
    return MessageKept(question, visible, member)


async def send_to_secretariat(
    ctx: UseCaseContext, person: Person, question_id: int
) -> QuestionSent | QuestionGone:
    """The kept message, one copy to each reachable secretary; once."""
    now = ctx.clock.now()
    async with ctx.session_maker() as session:
        question = await session.get(MemberQuestion, question_id)
        if question is None or question.person_id != person.id or question.sent_at is not None:
            return QuestionGone()
        secretaries = await recipients.secretariat(session)
        sent = await questions.enqueue_copies(
            session, ctx.i18n, question, person, secretaries, now=now
        )
        if sent:
            question.sent_at = now
            session.add(question)
        await session.commit()
        await session.refresh(question)
    if sent:
        ctx.signals.wake_outbox()
    return QuestionSent(question, sent)


async def reply_to_question(
    ctx: UseCaseContext, secretary: Person, replied_message_id: int, text: str
) -> ReplyPassed | NotAQuestion:
    """A secretary's Telegram reply to a question's copy: stored, and sent to the asker."""
    now = ctx.clock.now()
    async with ctx.session_maker() as session:
        question = await questions.question_of_copy(
            session, secretary.telegram_id, replied_message_id
        )
        asker = await session.get(Person, question.person_id) if question is not None else None
        if question is None or asker is None:
            return NotAQuestion()
        assert question.id is not None and secretary.id is not None
        reply = QuestionReply(
            question_id=question.id, replied_by_id=secretary.id, text=text, replied_at=now
        )
        session.add(reply)
        await session.flush()
        await questions.enqueue_reply(session, ctx.i18n, question, reply, asker, secretary, now=now)
        await session.commit()
    ctx.signals.wake_outbox()
    return ReplyPassed(question, reply, asker)
