"""Commands per role: the Telegram command menu and /help are built from the same list."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n

from bot.core.catalogs import SUPPORTED_LOCALES
from bot.telegram.i18n import N_
from db.models import Person, Role


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str  # msgid, translated when the menu is built
    usage: str | None = None  # msgid of the argument hint shown in /help and on misuse


START = CommandSpec("start", N_("Start or restart the bot"))
HELP = CommandSpec("help", N_("What I can do for you"))
LANGUAGE = CommandSpec("language", N_("Change the language"))
ITEM = CommandSpec("item", N_("Road Map item card"), N_("/item <item code>"))
INVITE = CommandSpec(
    "invite",
    N_("Invitation link for a department, the chair or the secretariat"),
    N_("/invite <department code> | chair | secretariat [Full name, position]"),
)
DEPARTMENTS = CommandSpec("departments", N_("Responsible departments"))
ADD_DEPARTMENT = CommandSpec(
    "adddept",
    N_("Add a department"),
    N_("/adddept <code> <name in Kazakh> | <name in Russian>"),
)
ADD_ITEM = CommandSpec(
    "additem",
    N_("Add a Road Map item"),
    N_("/additem <item code> <department code> <deadline> <title in Kazakh> | <title in Russian>"),
)
ASSIGN = CommandSpec(
    "assign",
    N_("Give an item to another department"),
    N_("/assign <item code> <department code>"),
)
DEADLINE = CommandSpec(
    "deadline",
    N_("Change an item's deadline"),
    N_("/deadline <item code> <date, e.g. 2025-09-01 or 01.09.2025> [reason]"),
)
PEOPLE = CommandSpec("people", N_("People with access"))
REVOKE = CommandSpec("revoke", N_("Take access away"), N_("/revoke <Telegram ID>"))

MY_ITEMS = CommandSpec("myitems", N_("My department's items waiting for an update"))
REPORT = CommandSpec("report", N_("Update the status of an item"), N_("/report <item code>"))
CANCEL = CommandSpec("cancel", N_("Stop the current dialog"))
REQUEST_NOW = CommandSpec(
    "request_now",
    N_("Ask departments for status updates now"),
    N_("/request_now [department code]"),
)
SCHEDULE = CommandSpec(
    "schedule",
    N_("When status updates are requested"),
    N_("/schedule <days> <time>, e.g. /schedule mon,thu 10:00"),
)
HOLIDAY = CommandSpec(
    "holiday",
    N_("Add or remove a day off, or add a working day"),
    N_("/holiday add|remove|workday <date>"),
)
SUMMARY = CommandSpec("summary", N_("Summary of the Road Map"), N_("/summary [year]"))
DEPARTMENT = CommandSpec("dept", N_("A department's items"), N_("/dept <department code>"))
DISMISS = CommandSpec(
    "dismiss",
    N_("Dismiss a computed risk reason for an item"),
    N_("/dismiss <item code> [<reason> <explanation>]"),
)
SHORT_NAME = CommandSpec(
    "shortname",
    N_("Set the short name a department is shown by"),
    N_("/shortname <code> <short name in Kazakh> | <short name in Russian>"),
)
SHORT_TITLE = CommandSpec(
    "short",
    N_("Set the short title an item's buttons show"),
    N_("/short <item code> <short title in Kazakh> | <short title in Russian>"),
)
IMPORT = CommandSpec("import", N_("Load the Road Map from Excel or CSV"))
TEMPLATE = CommandSpec("template", N_("Empty import template"))
EXPORT = CommandSpec("export", N_("Export to Excel"))
STATS = CommandSpec("stats", N_("How departments answer"), N_("/stats [number of rounds]"))
RISK_REPORT = CommandSpec(
    "risk_report",
    N_("Report on at-risk items for the central office (DOCX)"),
    N_("/risk_report [kk|ru]"),
)

AWAY = CommandSpec(
    "away",
    N_("Time away: requests go to your deputy"),
    N_("/away <date you are back> [deputy's Telegram ID or @username] | off"),
)
SET_AWAY = CommandSpec(
    "setaway",
    N_("Time away for a department member"),
    N_("/setaway <Telegram ID> <date back> [deputy's Telegram ID or @username] | off"),
)

UNREGISTERED_COMMANDS: tuple[CommandSpec, ...] = (START, HELP)
COMMANDS_BY_ROLE: dict[str, tuple[CommandSpec, ...]] = {
    Role.MEMBER: (MY_ITEMS, REPORT, ITEM, AWAY, CANCEL, LANGUAGE, HELP),
    Role.CHAIR: (SUMMARY, DEPARTMENT, ITEM, LANGUAGE, HELP),
    Role.SECRETARIAT: (
        SUMMARY,
        REQUEST_NOW,
        ITEM,
        DEPARTMENT,
        DISMISS,
        SHORT_NAME,
        SHORT_TITLE,
        IMPORT,
        TEMPLATE,
        EXPORT,
        STATS,
        RISK_REPORT,
        SCHEDULE,
        HOLIDAY,
        DEPARTMENTS,
        ADD_DEPARTMENT,
        ADD_ITEM,
        ASSIGN,
        DEADLINE,
        INVITE,
        PEOPLE,
        REVOKE,
        SET_AWAY,
        LANGUAGE,
        HELP,
    ),
}


def commands_for(role: str | None) -> tuple[CommandSpec, ...]:
    return COMMANDS_BY_ROLE.get(role or "", UNREGISTERED_COMMANDS)


def bot_commands(specs: tuple[CommandSpec, ...], i18n: I18n, locale: str) -> list[BotCommand]:
    return [
        BotCommand(command=spec.name, description=i18n.gettext(spec.description, locale=locale))
        for spec in specs
    ]


async def set_default_menus(bot: Bot, i18n: I18n) -> None:
    """The menu strangers see, in Kazakh and Russian, plus the default language for the rest.

    The three calls are independent, so they go out together: one round trip at the start,
    not three."""
    scope = BotCommandScopeDefault()
    calls = [
        bot.set_my_commands(
            bot_commands(UNREGISTERED_COMMANDS, i18n, locale), scope=scope, language_code=locale
        )
        for locale in SUPPORTED_LOCALES
    ]
    default = bot_commands(UNREGISTERED_COMMANDS, i18n, i18n.default_locale)
    calls.append(bot.set_my_commands(default, scope=scope))
    await asyncio.gather(*calls)


async def set_person_menu(bot: Bot, i18n: I18n, person: Person) -> None:
    """A chat-scoped menu in the language the person chose in the bot, for their role."""
    locale = person.locale or i18n.default_locale
    commands = bot_commands(commands_for(person.role), i18n, locale)
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=person.telegram_id))
