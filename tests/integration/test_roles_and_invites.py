"""People and roles through Dispatcher.feed_update: outgoing requests and database rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMyCommands,
    EditMessageText,
    SendMessage,
    SetMyCommands,
)
from aiogram.types import BotCommandScopeChat
from aiogram.utils.i18n import I18n

from bot.core.clock import FrozenClock
from bot.telegram.i18n import in_locale
from bot.telegram.texts import no_access_text
from db.engine import SessionMaker
from db.models import AuditLog, Department, Invite, Notification, Person, Role
from tests.helpers.chat import ADMIN_ID, Chatter, invite_token, only_text, register_admin, rows

OUTSIDER = 555
HEAD = 777


async def test_stranger_gets_their_id_in_their_language(chatter: Chatter, i18n: I18n) -> None:
    ru = only_text(await chatter.send(OUTSIDER, "/start", language_code="ru"))
    kk = only_text(await chatter.send(OUTSIDER, "/start", language_code="kk"))
    other = only_text(await chatter.send(OUTSIDER, "/start", language_code="en"))
    assert str(OUTSIDER) in ru and str(OUTSIDER) in kk
    assert ru != kk
    assert other == kk  # DEFAULT_LOCALE is kk
    with in_locale(i18n, "ru"):
        assert ru == no_access_text(OUTSIDER)


async def test_stranger_learns_nothing_else(chatter: Chatter, session_maker: SessionMaker) -> None:
    await register_admin(chatter)
    await chatter.send(ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
    for text in ("/departments", "/people", "/item 1.1", "/help", "hello"):
        reply = only_text(await chatter.send(OUTSIDER, text))
        assert "Білім" not in reply and "User111" not in reply


async def test_admin_from_config_becomes_secretariat(
    chatter: Chatter, session_maker: SessionMaker, i18n: I18n
) -> None:
    prompt = (await chatter.send(ADMIN_ID, "/start"))[0]
    assert isinstance(prompt, SendMessage)
    assert [b.callback_data for b in prompt.reply_markup.inline_keyboard[0]] == [
        "lang:kk",
        "lang:ru",
    ]
    assert [b.text for b in prompt.reply_markup.inline_keyboard[0]] == ["Қазақша", "Русский"]
    requests = await chatter.press(ADMIN_ID, "lang:kk")
    menu = next(r for r in requests if isinstance(r, SetMyCommands))
    assert menu.scope == BotCommandScopeChat(chat_id=ADMIN_ID)
    names = [c.command for c in menu.commands]
    assert {"invite", "adddept", "additem", "assign", "deadline", "people", "revoke"} <= set(names)
    descriptions = {c.command: c.description for c in menu.commands}
    assert descriptions["invite"] == i18n.gettext(
        "Invitation link for a department, the chair or the secretariat", locale="kk"
    )
    assert any(isinstance(r, AnswerCallbackQuery) for r in requests)
    (person,) = await rows(session_maker, Person)
    assert (person.role, person.locale, person.telegram_id) == (Role.SECRETARIAT, "kk", ADMIN_ID)


async def test_invite_link_registers_a_department_head(
    chatter: Chatter, session_maker: SessionMaker, i18n: I18n
) -> None:
    await register_admin(chatter)
    await chatter.send(ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
    reply = only_text(await chatter.send(ADMIN_ID, "/invite edu"))
    assert "https://t.me/roadmap_test_bot?start=" in reply
    token = invite_token(reply)
    assert len(token) >= 22  # at least 128 bits of randomness, URL-safe

    prompt = (await chatter.send(HEAD, f"/start {token}", language_code="en"))[0]
    assert prompt.reply_markup is not None
    requests = await chatter.press(HEAD, "lang:kk", language_code="en")
    menu = next(r for r in requests if isinstance(r, SetMyCommands))
    assert "adddept" not in [c.command for c in menu.commands]
    descriptions = {c.command: c.description for c in menu.commands}
    assert descriptions["item"] == i18n.gettext("Road Map item card", locale="kk")

    head = next(p for p in await rows(session_maker, Person) if p.telegram_id == HEAD)
    (department,) = await rows(session_maker, Department)
    assert (head.role, head.department_id, head.locale) == (Role.MEMBER, department.id, "kk")
    (invite,) = await rows(session_maker, Invite)
    assert invite.used_by_id == head.id and invite.used_at is not None
    assert token not in invite.token_hash  # only the hash is stored

    # The same link a second time, by someone else: refused and recorded.
    again = only_text(await chatter.send(OUTSIDER, f"/start {token}"))
    assert again == i18n.gettext(
        "This invitation link has already been used. Ask the secretariat for a new one.",
        locale="ru",
    )
    actions = [entry.action for entry in await rows(session_maker, AuditLog)]
    assert "invite.redeem" in actions and "invite.reused" in actions
    assert all(p.telegram_id != OUTSIDER for p in await rows(session_maker, Person))


async def test_expired_and_forged_links_are_refused(
    chatter: Chatter, session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    await register_admin(chatter)
    token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite chair")))
    clock.advance(timedelta(days=7, seconds=1))
    expired = only_text(await chatter.send(HEAD, f"/start {token}"))
    assert expired == i18n.gettext(
        "This invitation link has expired. Ask the secretariat for a new one.", locale="ru"
    )
    forged = only_text(await chatter.send(HEAD, "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
    garbage = only_text(await chatter.send(HEAD, "/start <script>"))
    invalid = i18n.gettext(
        "This invitation link is not valid. Ask the secretariat for a new one.", locale="ru"
    )
    assert forged == garbage == invalid
    assert [p.telegram_id for p in await rows(session_maker, Person)] == [ADMIN_ID]


async def test_chair_invite(chatter: Chatter, session_maker: SessionMaker) -> None:
    await register_admin(chatter)
    token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite chair")))
    await chatter.send(HEAD, f"/start {token}")
    await chatter.press(HEAD, "lang:ru")
    chair = next(p for p in await rows(session_maker, Person) if p.telegram_id == HEAD)
    assert chair.role == Role.CHAIR and chair.department_id is None


@pytest.mark.parametrize(
    "command",
    [
        "/invite edu",
        "/adddept edu A | B",
        "/additem 1.1 edu 2025-09-01 A | B",
        "/assign 1.1 edu",
        "/deadline 1.1 2025-09-01",
        "/people",
        "/departments",
        f"/revoke {ADMIN_ID}",
    ],
)
async def test_secretariat_commands_refuse_others(
    chatter: Chatter, session_maker: SessionMaker, i18n: I18n, command: str
) -> None:
    await register_admin(chatter)
    token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite chair")))
    await chatter.send(HEAD, f"/start {token}")
    await chatter.press(HEAD, "lang:kk")
    refusal = i18n.gettext("This command is available to the secretariat only.", locale="kk")
    assert only_text(await chatter.send(HEAD, command)) == refusal  # the chair
    assert only_text(await chatter.send(OUTSIDER, command, language_code="kk")) == refusal
    refusals = [
        entry
        for entry in await rows(session_maker, AuditLog)
        if entry.action == "refused.secretariat_command"
    ]
    assert {entry.actor_telegram_id for entry in refusals} == {HEAD, OUTSIDER}
    assert all(entry.target == command.split()[0] for entry in refusals)
    assert await rows(session_maker, Department) == []


async def test_revoke_takes_access_away(
    chatter: Chatter, session_maker: SessionMaker, i18n: I18n
) -> None:
    await register_admin(chatter)
    token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite chair")))
    await chatter.send(HEAD, f"/start {token}")
    await chatter.press(HEAD, "lang:ru")
    question = await chatter.send(ADMIN_ID, f"/revoke {HEAD}")
    assert str(HEAD) in only_text(question)  # asked first (issue 22, #28)
    assert not any(isinstance(r, DeleteMyCommands) for r in question)
    before = [n.payload for n in await rows(session_maker, Notification)]
    assert not any('"deleteMyCommands"' in payload for payload in before)
    requests = await chatter.press(ADMIN_ID, f"rv:{HEAD}:1")
    # The menu goes through the outbox, with the person's notice (the web's revoke does too).
    queued = [n.payload for n in await rows(session_maker, Notification) if n.chat_id == HEAD]
    assert any('"deleteMyCommands"' in payload for payload in queued), queued
    assert any(isinstance(r, EditMessageText) and str(HEAD) in r.text for r in requests)
    reply = only_text(await chatter.send(HEAD, "/help"))
    assert str(HEAD) in reply  # the stranger's answer: their id and how to get access
    own = only_text(await chatter.send(ADMIN_ID, f"/revoke {ADMIN_ID}"))
    assert own == i18n.gettext(
        "This access cannot be revoked: it is your own or it is set in ADMIN_IDS.", locale="ru"
    )
    unknown = only_text(await chatter.send(ADMIN_ID, "/revoke 424242"))
    assert "424242" in unknown
    people = {p.telegram_id: p for p in await rows(session_maker, Person)}
    assert people[HEAD].active is False and people[ADMIN_ID].active is True


async def test_language_switch_and_help_by_role(chatter: Chatter, i18n: I18n) -> None:
    await register_admin(chatter, "ru")
    help_ru = only_text(await chatter.send(ADMIN_ID, "/help"))
    prompt = (await chatter.send(ADMIN_ID, "/language"))[0]
    assert prompt.reply_markup is not None
    switched = await chatter.press(ADMIN_ID, "lang:kk")
    edit = next(r for r in switched if isinstance(r, EditMessageText))
    help_kk = only_text(await chatter.send(ADMIN_ID, "/help"))
    assert help_kk != help_ru and help_kk in edit.text
    assert "/adddept" in help_kk

    token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite chair")))
    await chatter.send(HEAD, f"/start {token}")
    await chatter.press(HEAD, "lang:kk")
    chair_help = only_text(await chatter.send(HEAD, "/help"))
    assert "/adddept" not in chair_help and "/item" in chair_help
    assert i18n.gettext("chair", locale="kk") in chair_help


async def test_forged_language_callback_is_ignored(chatter: Chatter) -> None:
    await register_admin(chatter, "ru")
    requests = await chatter.press(ADMIN_ID, "lang:en")
    assert [type(r) for r in requests] == [AnswerCallbackQuery]
    stranger = await chatter.press(OUTSIDER, "lang:kk")
    assert [type(r) for r in stranger] == [AnswerCallbackQuery]
    assert stranger[0].show_alert is True


async def test_chair_buttons_and_commands_refuse_others_on_the_record(
    chatter: Chatter, session_maker: SessionMaker, i18n: I18n
) -> None:
    from bot.telegram.callbacks import ChairItem

    await register_admin(chatter)
    await chatter.send(ADMIN_ID, "/adddept edu Білім | Образование")
    token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite edu")))
    await chatter.send(HEAD, f"/start {token}")
    await chatter.press(HEAD, "lang:ru")
    refusal = i18n.gettext("This is available to the chair and the secretariat only.", locale="ru")
    assert only_text(await chatter.send(HEAD, "/summary")) == refusal
    pressed = await chatter.press(HEAD, ChairItem(item_id=1).pack())
    assert [(type(r), r.text, r.show_alert) for r in pressed] == [
        (AnswerCallbackQuery, refusal, True)
    ]
    targets = [
        entry.target
        for entry in await rows(session_maker, AuditLog)
        if entry.action == "refused.summary_command"
    ]
    assert targets == ["/summary", ChairItem(item_id=1).pack()]


async def test_a_name_sent_a_day_late_is_not_taken_as_the_name(
    chatter: Chatter, session_maker: SessionMaker, clock: FrozenClock
) -> None:
    """The name question waits a day; later words go where they would have gone anyway."""
    await register_admin(chatter)
    await chatter.send(ADMIN_ID, "/adddept edu Білім басқармасы | Управление образования")
    token = invite_token(only_text(await chatter.send(ADMIN_ID, "/invite edu")))
    await chatter.send(HEAD, f"/start {token}")
    welcome = await chatter.press(HEAD, "lang:ru")
    asked = next(r for r in welcome if isinstance(r, EditMessageText))
    assert "ФИО и должность" in asked.text and asked.reply_markup is not None
    clock.advance(timedelta(days=2))
    late = await chatter.send(HEAD, "Школа будет сдана в срок")
    answers = [r.text or "" for r in late if isinstance(r, SendMessage)]
    assert answers and not any("Спасибо" in text for text in answers), answers  # not lost
    head = next(p for p in await rows(session_maker, Person) if p.telegram_id == HEAD)
    assert head.full_name is None
    # The old [Skip] later: nothing breaks, nothing is set.
    await chatter.press(HEAD, "nm:skip")
    head = next(p for p in await rows(session_maker, Person) if p.telegram_id == HEAD)
    assert head.full_name is None
