"""What every chat view shares: the usage line of a command, by its name."""

from __future__ import annotations

from bot.telegram.menus import COMMANDS_BY_ROLE, CommandSpec
from bot.telegram.texts import usage_line


def _spec(name: str) -> CommandSpec:
    for specs in COMMANDS_BY_ROLE.values():
        for spec in specs:
            if spec.name == name:
                return spec
    raise KeyError(name)


def usage(command: str) -> str:
    """ "Usage: /command <arguments>" for a command of the menus, in the current language."""
    return usage_line(_spec(command))
