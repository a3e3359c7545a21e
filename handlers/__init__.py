"""aiogram routers, one per audience or feature, in the order they must be tried.

Each module builds its router in `create_router()`: a router can be attached to one
Dispatcher only, and the tests build a Dispatcher per test.
"""

from __future__ import annotations

from aiogram import Router

from handlers import (
    aliases,
    away,
    chair,
    corrections,
    edits,
    errors,
    fallback,
    items,
    questions,
    reporting,
    secretariat,
    spreadsheets,
    start,
)


def get_routers() -> list[Router]:
    # The fallback router answers whatever nobody else took, so it must come last. The
    # reporting buttons come first: the taps the bot gets most, with prefixes of their own.
    modules = (
        start,
        secretariat,
        aliases,
        spreadsheets,
        chair,
        corrections,
        items,
        edits,
        away,
        reporting,
        questions,
        fallback,
    )
    return [
        errors.create_router(),
        reporting.create_button_router(),
        *(module.create_router() for module in modules),
    ]
