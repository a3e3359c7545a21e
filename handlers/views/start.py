"""First contact's answers: the language question, welcome, refusals of an invitation."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.core.catalogs import SUPPORTED_LOCALES as SUPPORTED_LOCALES
from bot.core.errors import InviteExpiredError, InviteUsedError
from bot.core.text import quote
from bot.roadmap.views import person_name
from bot.telegram.callbacks import FullHelp as FullHelp
from bot.telegram.callbacks import NameStep
from bot.telegram.i18n import N_, current_locale, ngettext, pick_name
from bot.telegram.keyboards import language_keyboard
from bot.telegram.menus import commands_for, set_person_menu
from bot.telegram.texts import help_text as help_text
from bot.telegram.texts import no_access_text as no_access_text
from bot.telegram.texts import role_label
from bot.usecases.caller import Refused
from bot.usecases.people import RoadmapState, Welcome
from bot.usecases.people import is_secretariat as is_secretariat
from bot.usecases.ports import Person

CHOOSE_LANGUAGE = N_("Choose your language")


def language_prompt(i18n: I18n) -> tuple[str, InlineKeyboardMarkup]:
    """Shown before the person has chosen: the question in both languages, and the buttons."""
    question = " / ".join(
        i18n.gettext(CHOOSE_LANGUAGE, locale=locale) for locale in SUPPORTED_LOCALES
    )
    return question, language_keyboard()


def language_question() -> tuple[str, InlineKeyboardMarkup]:
    """/language: the question in the person's own language."""
    return _("Choose your language"), language_keyboard()


def invite_refused(outcome: Refused) -> str:
    if isinstance(outcome.error, InviteUsedError):
        return _("This invitation link has already been used. Ask the secretariat for a new one.")
    if isinstance(outcome.error, InviteExpiredError):
        return _("This invitation link has expired. Ask the secretariat for a new one.")
    return _("This invitation link is not valid. Ask the secretariat for a new one.")


# The secretariat's short /help: the commands of every week; the rest is one tap away.
SECRETARIAT_DAILY = ("import", "invite", "request_now", "stats", "people")


def next_step(state: RoadmapState) -> str:
    """What the secretariat does next, judged by how far the Road Map is set up."""
    if state.departments == 0:
        return _(
            "The Road Map is empty. Add the departments (/adddept), then get the template "
            "(/template), fill it in and send it with /import. To try the bot on sample data, "
            "run «./scripts/run.sh seed-demo» on the server."
        )
    if state.items == 0:
        return _(
            "Next: load the items. /template gives the workbook to fill in, /import loads it "
            "(or /additem, one by one)."
        )
    if state.departments_without_members:
        return ngettext(
            "Next: invite the heads. {count} department has nobody in the bot yet: "
            "/invite and its code (codes: /departments).",
            "Next: invite the heads. {count} departments have nobody in the bot yet: "
            "/invite and their codes (codes: /departments).",
            state.departments_without_members,
        ).format(count=state.departments_without_members)
    if state.rounds == 0:
        return _(
            "Everyone is invited. Status requests go out on schedule (/schedule); "
            "/request_now asks now."
        )
    return _("Where things stand: /stats shows how departments answer, /export the Road Map.")


def short_help(person: Person, state: RoadmapState | None) -> str:
    """/help for the secretariat: the next step and the everyday commands; for anyone else
    (or without a state) the full list, which is short for them."""
    if not is_secretariat(person) or state is None:
        return help_text(person)
    lines = [
        _("You are registered as: <b>{role}</b>.").format(role=role_label(person.role)),
        "",
        next_step(state),
        "",
    ]
    for spec in commands_for(person.role):
        if spec.name in SECRETARIAT_DAILY:
            lines.append(f"/{spec.name} — {quote(_(spec.description))}")
    return "\n".join(lines)


def help_keyboard(person: Person, state: RoadmapState | None) -> InlineKeyboardMarkup | None:
    """[All commands] under the secretariat's short /help."""
    if not is_secretariat(person) or state is None:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("All commands"), callback_data=FullHelp().pack())]
        ]
    )


def welcome_back(outcome: Welcome) -> str:
    person = outcome.person
    return (
        _("Welcome back, {name}!").format(name=quote(person.display_name))
        + "\n\n"
        + short_help(person, outcome.state)
    )


def already_registered(outcome: Welcome) -> str:
    """A registered person who opens an invitation link again (his own, used one)."""
    person, department = outcome.person, outcome.department
    role = role_label(person.role)
    if department is not None:
        role += ", " + pick_name(department.name_kk, department.name_ru)
    return (
        _("You are already registered: {role}.").format(role=quote(role))
        + "\n\n"
        + short_help(person, outcome.state)
    )


def no_access() -> str:
    return _("You do not have access.")


def language_saved() -> str:
    return _("Language saved.")


def language_done(outcome: Welcome) -> str:
    """After the language choice: a member learns where he stands, then the commands."""
    lines = [_("Done! I will write to you in this language.")]
    if outcome.department is not None and outcome.schedule is not None:
        department = pick_name(outcome.department.name_kk, outcome.department.name_ru)
        lines.append(_("Your department: {name}.").format(name=quote(department)))
        lines.append(
            ngettext(
                "It has {count} open item of the Road Map.",
                "It has {count} open items of the Road Map.",
                outcome.open_items,
            ).format(count=outcome.open_items)
        )
        lines.append(
            _(
                "Status update requests come every {schedule}: answer with the buttons in a few "
                "taps, or in your own words. Your items at any time: /myitems"
            ).format(schedule=outcome.schedule.describe(current_locale()))
        )
    text = "\n\n".join(lines) + "\n\n" + short_help(outcome.person, outcome.state)
    if outcome.ask_name:
        text += "\n\n" + _(
            "<b>One more thing:</b> your full name and position, in one message. For example: "
            "<i>Bakhytzhan Seitov, deputy head</i>. Alerts to the chair will name you so."
        )
    return text


def name_keyboard() -> InlineKeyboardMarkup:
    """[Skip] under the name question: one tap, and the Telegram name stays."""
    skip = InlineKeyboardButton(text=_("Skip"), callback_data=NameStep(action="skip").pack())
    return InlineKeyboardMarkup(inline_keyboard=[[skip]])


def language_done_keyboard(outcome: Welcome) -> InlineKeyboardMarkup | None:
    """Under the welcome: [Skip] when the name is asked, the secretariat's [All commands]."""
    rows = name_keyboard().inline_keyboard if outcome.ask_name else []
    commands = help_keyboard(outcome.person, outcome.state)
    if commands is not None:
        rows = [*rows, *commands.inline_keyboard]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def name_saved(person: Person) -> str:
    return _("Thank you. Alerts and answers will name you: {name}.").format(
        name=quote(person_name(person))
    )


def name_invalid() -> str:
    return _(
        "Please send your full name and position in one message, for example: "
        "<i>Bakhytzhan Seitov, deputy head</i> (up to 200 characters each), or press «Skip»."
    )


def name_skipped() -> str:
    return _("Skipped: alerts will show your Telegram name.")


async def set_menu(bot: Bot, i18n: I18n, outcome: Welcome) -> None:
    """The person's commands menu, in their language and for their role."""
    await set_person_menu(bot, i18n, outcome.person)
