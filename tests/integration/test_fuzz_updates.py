"""A fuzzer in the suite: random and forged updates through the real Dispatcher.

People of every role (secretariat, chair, members of two departments, a revoked member, a
stranger) send commands with random arguments, random text in whatever dialog state they are
in, buttons built from EVERY CallbackData class with random and extreme values, raw random
callback strings, documents and photos with random names, sizes, types and contents, messages
without a sender and group messages. After each update:

- nothing ended in an unhandled exception (the error handler logged nothing);
- the tables only the secretariat may change are unchanged when anyone else sent it, and a
  member's new status updates are theirs and on their own department's items;
- the replies went to the chat the update came from: at most one answer to a button, at most
  one apology, at most one message to someone without access, nothing to group chatter.

Seeded (derandomized) and bounded: FUZZ_EXAMPLES sequences (default 60) of up to 20 updates
in the fast lane; the slow run (marked `slow`) runs when CI sets FUZZ_EXAMPLES_SLOW, e.g. 300
sequences, a few thousand updates.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    Document,
    Message,
    PhotoSize,
    Sticker,
    Update,
    User,
)
from aiogram.utils.i18n import I18n
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import SQLModel, select

import handlers  # noqa: F401  (every router's CallbackData classes are defined on import)
from bot.core.causes import Cause
from bot.core.clock import FrozenClock
from bot.telegram import menus
from db.engine import SessionMaker
from db.models import (
    AppSetting,
    CalendarOverride,
    DeadlineChange,
    Department,
    Invite,
    ItemStatus,
    Person,
    RiskDismissal,
    RoadmapItem,
    Role,
    StatusRound,
    StatusUpdate,
)
from tests.helpers.chat import ADMIN_ID, Chatter
from tests.helpers.mocked_bot import MockedBot
from tests.helpers.reporting_world import BUILD_HEAD, EDU_DEPUTY, EDU_HEAD

CHAIR_ID = 3001
# An item's fields that others' actions rightly move: the newest report (kept by a trigger
# when a member saves one) and the chair's open question (his [Ask for an update]).
DERIVED_FIELDS = {"last_update_id", "last_update_at", "last_update_done", "awaiting_answer"}
REVOKED = 3002
STRANGER = 3003
GROUP = -1001234567890
PEOPLE = (ADMIN_ID, CHAIR_ID, EDU_HEAD, EDU_DEPUTY, BUILD_HEAD, REVOKED, STRANGER)
FAST_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
SLOW_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES_SLOW", "0"))
UPDATES_PER_EXAMPLE = 20

# Only the secretariat changes these (a member's own status updates are checked separately).
SECRETARIAT_TABLES: tuple[type[SQLModel], ...] = (
    Department,
    RoadmapItem,
    DeadlineChange,
    Invite,
    RiskDismissal,
    CalendarOverride,
    AppSetting,
    StatusRound,
)
PERSON_FIELDS = ("id", "telegram_id", "role", "department_id", "active")
APOLOGY = (
    "Sorry, something went wrong on our side. Nothing was lost: please try again. "
    "If it happens again, tell the secretariat."
)
ITEM_IDS = [1, 2, 3]  # reset_world's three items


def all_callback_classes() -> list[type[CallbackData]]:
    found: list[type[CallbackData]] = []
    pending = list(CallbackData.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__prefix__)


# ---- strategies --------------------------------------------------------------------------------

EXTREME_INTS = st.sampled_from(
    [0, -1, 1, 2**31 - 1, 2**31, 2**52, 2**63 - 1, 2**63, 2**64, -(2**63), 10**30]
)
WORDS = st.sampled_from(
    [
        *ItemStatus,
        *Cause,
        "kk",
        "ru",
        "en",
        "skip",
        "save",
        "change",
        "cancel",
        "ok",
        "apply",
        "edu",
        "build",
        "1.1",
        "2.1",
        "",
        "²",
        "<b>",
        "&amp;",
        ":",
        "%",
        "..",
        "x" * 70,
    ]
)
ANY_TEXT = st.text(max_size=60)
NUMBERS = st.one_of(
    EXTREME_INTS, st.integers(-1000, 1000), st.integers(min_value=-(2**80), max_value=2**80)
)


def number_words() -> st.SearchStrategy[str]:
    return st.one_of(
        NUMBERS.map(str),
        st.sampled_from(["²", "٣", "１２", "1e3", "0x10", "-0", "+1", "50%", "100 %", "1_000"]),
    )


DATES = st.sampled_from(["2025-02-30", "01.09.2025", "9999-12-31", "0001-01-01", "1.1.1"])
ARGUMENT = st.one_of(WORDS, number_words(), number_words(), ANY_TEXT, DATES)


@dataclass(frozen=True)
class Event:
    actor: int
    kind: str  # command, text, callback, document, photo, sticker, anonymous, group
    text: str = ""
    document: tuple[str | None, str | None, int | None, bytes] | None = None


def command_strategy() -> st.SearchStrategy[str]:
    specs = [spec for spec in vars(menus).values() if isinstance(spec, menus.CommandSpec)]
    names = sorted({spec.name for spec in specs} | {"cancel", "start", "nonsense"})
    return st.builds(
        lambda name, args, mention: (
            f"/{name}{'@roadmap_test_bot' if mention else ''}"
            + (" " + " ".join(args) if args else "")
        ),
        st.sampled_from(names),
        st.lists(ARGUMENT, max_size=5),
        st.booleans(),
    )


def callback_strategy(real_ids: list[int]) -> st.SearchStrategy[str]:
    """Packed by hand (pack() would refuse the forged values this is about)."""
    real = st.sampled_from(real_ids).map(str)

    def field_value(annotation: Any) -> st.SearchStrategy[str]:
        text = str(annotation)
        if "int" in text or "Id" in text or "Int" in text:  # mostly real, sometimes forged
            return st.one_of(real, real, real, number_words())
        return st.one_of(WORDS, WORDS, WORDS, ANY_TEXT.filter(lambda s: ":" not in s))

    def for_class(cls: type[CallbackData]) -> st.SearchStrategy[str]:
        fields = [field_value(f.annotation) for f in cls.model_fields.values()]
        return st.tuples(*fields).map(lambda values: ":".join([cls.__prefix__, *values]))

    built = st.one_of(*(for_class(cls) for cls in all_callback_classes()))
    return st.one_of(built, built, ANY_TEXT, st.binary(max_size=64).map(lambda b: b.hex()))


def document_strategy() -> st.SearchStrategy[Any]:
    return st.tuples(
        st.one_of(st.none(), ANY_TEXT, st.sampled_from(["roadmap.xlsx", "r.csv", "a.pdf"])),
        st.one_of(
            st.none(),
            st.sampled_from(["text/csv", "application/pdf", "image/png", "application/zip"]),
            ANY_TEXT,
        ),
        st.one_of(st.none(), st.integers(0, 2**41)),
        st.one_of(
            st.binary(max_size=200),
            st.just(b"PK\x03\x04" + b"\0" * 40),
            st.just("код;название\n1.1;a\r2".encode()),
        ),
    )


def dialog_walk(real_ids: list[int]) -> st.SearchStrategy[list[Event]]:
    """A member opens an item and then taps, types and sends in whatever order: every dialog
    state meets stale buttons, foreign ids, text and files."""

    def walk(actor: int, item_id: int, steps: list[tuple[str, str, Any]]) -> list[Event]:
        return [Event(actor, "callback", f"ri:{item_id}")] + [
            Event(actor, kind, text.replace("#", str(item_id)), document)
            for kind, text, document in steps
        ]

    tap = st.one_of(
        st.sampled_from([f"rs:#:{status}" for status in (*ItemStatus, "nonsense")]),
        st.sampled_from([f"rp:#:{value}" for value in (0, 50, 100, 101, -1)]),
        st.sampled_from([f"rc:#:{cause}" for cause in (*Cause, "x")]),
        st.sampled_from([f"ra:#:{action}" for action in ("skip", "save", "change", "cancel", "")]),
        st.sampled_from(["ri:#", "wp:0", "wp:99999999999"]),
        callback_strategy(real_ids),
    )
    step = st.one_of(
        st.tuples(st.just("callback"), tap, st.none()),
        st.tuples(st.just("callback"), tap, st.none()),
        st.tuples(st.just("text"), st.one_of(number_words(), ANY_TEXT), st.none()),
        st.tuples(st.just("photo"), st.just(""), st.none()),
        st.tuples(st.just("document"), st.just(""), document_strategy()),
        st.tuples(
            st.just("command"), st.sampled_from(["/cancel", "/myitems", "/report 1.1"]), st.none()
        ),
    )
    members = st.sampled_from((EDU_HEAD, EDU_DEPUTY, BUILD_HEAD, REVOKED, CHAIR_ID))
    return st.builds(walk, members, st.sampled_from(real_ids), st.lists(step, max_size=8))


def import_walk(real_ids: list[int]) -> st.SearchStrategy[list[Event]]:
    """The secretariat starts an import and sends whatever: files of every kind, text, taps."""
    step = st.one_of(
        st.builds(Event, st.just(ADMIN_ID), st.just("document"), st.just(""), document_strategy()),
        st.builds(Event, st.just(ADMIN_ID), st.just("callback"), callback_strategy(real_ids)),
        st.builds(Event, st.just(ADMIN_ID), st.just("text"), ANY_TEXT),
        st.builds(Event, st.just(ADMIN_ID), st.just("photo")),
    )
    start = st.just(Event(ADMIN_ID, "command", "/import"))
    return st.builds(lambda first, rest: [first, *rest], start, st.lists(step, max_size=4))


def single_events(real_ids: list[int]) -> st.SearchStrategy[Event]:
    # The people with the most to do come up most often.
    actors = st.sampled_from((*PEOPLE, ADMIN_ID, EDU_HEAD, EDU_HEAD, EDU_DEPUTY))
    open_real = st.sampled_from(real_ids).map(lambda item_id: f"ri:{item_id}")
    document = document_strategy()
    return st.one_of(
        st.builds(Event, actors, st.just("command"), command_strategy()),
        st.builds(Event, actors, st.just("text"), st.one_of(ANY_TEXT, number_words())),
        st.builds(Event, actors, st.just("command"), command_strategy()),
        st.builds(Event, actors, st.just("text"), st.one_of(ANY_TEXT, number_words())),
        st.builds(Event, actors, st.just("callback"), callback_strategy(real_ids)),
        st.builds(Event, actors, st.just("callback"), callback_strategy(real_ids)),
        st.builds(Event, actors, st.just("callback"), callback_strategy(real_ids)),
        st.builds(Event, actors, st.just("callback"), open_real),
        st.builds(Event, actors, st.just("document"), st.just(""), document),
        st.builds(Event, actors, st.just("photo")),
        st.builds(Event, actors, st.just("sticker")),
        st.builds(Event, actors, st.just("anonymous"), st.one_of(command_strategy(), ANY_TEXT)),
        st.builds(Event, actors, st.just("group"), st.one_of(command_strategy(), ANY_TEXT)),
    )


# ---- the world and the feeding ------------------------------------------------------------------


class Fuzz:
    def __init__(self, chatter: Chatter, session_maker: SessionMaker, item_ids: list[int]):
        self.chatter = chatter
        self.bot: MockedBot = chatter.bot
        self.session_maker = session_maker
        self.item_ids = item_ids
        self.ids = itertools.count(10_000_000)
        self.files: dict[str, bytes] = {}

    def user(self, user_id: int) -> User:
        return User(id=user_id, is_bot=False, first_name=f"<U{user_id}>", language_code="ru")

    def update(self, event: Event) -> tuple[Update, int | None]:
        """The update, and the chat the replies may go to."""
        uid = next(self.ids)
        if event.kind == "callback":
            query = CallbackQuery(
                id=str(uid),
                from_user=self.user(event.actor),
                chat_instance="ci",
                message=Message(
                    message_id=uid % 5 + 1,
                    date=datetime.now(UTC),
                    chat=Chat(id=event.actor, type="private"),
                    text="…",
                ),
                data=event.text,
            )
            return Update(update_id=uid, callback_query=query), event.actor
        chat = Chat(id=event.actor, type="private")
        sender: User | None = self.user(event.actor)
        fields: dict[str, Any] = {}
        if event.kind in ("command", "text", "anonymous", "group"):
            fields["text"] = event.text
        if event.kind == "anonymous":
            sender = None
        if event.kind == "group":
            chat = Chat(id=GROUP, type="supergroup", title="Council")
        if event.kind == "document" and event.document is not None:
            name, mime, size, content = event.document
            file_id = f"F{uid}"
            self.files[file_id] = content
            fields["document"] = Document(
                file_id=file_id,
                file_unique_id=f"U{uid}",
                file_name=name,
                mime_type=mime,
                file_size=size,
            )
        if event.kind == "photo":
            fields["photo"] = [
                PhotoSize(file_id=f"P{uid}", file_unique_id=f"Q{uid}", width=9, height=9)
            ]
        if event.kind == "sticker":
            fields["sticker"] = Sticker(
                file_id=f"S{uid}",
                file_unique_id=f"T{uid}",
                type="regular",
                width=9,
                height=9,
                is_animated=False,
                is_video=False,
            )
        message = Message(
            message_id=uid, date=datetime.now(UTC), chat=chat, from_user=sender, **fields
        )
        return Update(update_id=uid, message=message), chat.id

    async def download(self, file: Any, destination: Any = None, **kwargs: Any) -> io.BytesIO:
        file_id = file if isinstance(file, str) else file.file_id
        return io.BytesIO(self.files.get(file_id, b""))

    async def snapshot(self) -> dict[str, Any]:
        async with self.session_maker() as session:
            tables: dict[str, Any] = {}
            for model in SECRETARIAT_TABLES:
                found = (await session.exec(select(model))).all()
                tables[model.__name__] = sorted(
                    repr(row.model_dump(exclude=DERIVED_FIELDS)) for row in found
                )
            people = (await session.exec(select(Person))).all()
            tables["Person"] = sorted(
                repr(tuple(getattr(p, f) for f in PERSON_FIELDS)) for p in people
            )
            updates = (await session.exec(select(StatusUpdate))).all()
            tables["StatusUpdate"] = {u.id: (u.author_id, u.item_id) for u in updates}
            items = (await session.exec(select(RoadmapItem))).all()
            tables["item_department"] = {i.id: i.department_id for i in items}
            tables["person"] = {p.telegram_id: p for p in people}
            return tables


@contextmanager
def errors_logged() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.ERROR)
    loggers = [logging.getLogger(name) for name in ("handlers.errors", "aiogram.event")]
    for log in loggers:
        log.addHandler(handler)
    try:
        yield records
    finally:
        for log in loggers:
            log.removeHandler(handler)


def replies_of(requests: list[TelegramMethod[Any]]) -> list[TelegramMethod[Any]]:
    kinds = (
        SendMessage,
        SendPhoto,
        SendDocument,
        EditMessageText,
        EditMessageReplyMarkup,
        AnswerCallbackQuery,
    )
    return [r for r in requests if isinstance(r, kinds)]


async def check_one(fuzz: Fuzz, event: Event, apologies: tuple[str, ...]) -> None:
    before = await fuzz.snapshot()
    update, reply_chat = fuzz.update(event)
    with errors_logged() as records:
        await fuzz.chatter.dispatcher.feed_update(fuzz.bot, update)
    requests = fuzz.bot.take()
    where = f"{event!r}"
    assert not records, f"unhandled exception for {where}: {records[0].exc_info!r}"

    after = await fuzz.snapshot()
    actor = before["person"].get(event.actor)
    is_secretariat = (
        actor is not None
        and actor.active
        and actor.role == Role.SECRETARIAT
        and event.kind not in ("anonymous", "group")
    )
    if not is_secretariat:
        for name in (*(m.__name__ for m in SECRETARIAT_TABLES), "Person"):
            assert before[name] == after[name], f"{name} changed by {where}"
        new = {k: v for k, v in after["StatusUpdate"].items() if k not in before["StatusUpdate"]}
        member = actor is not None and actor.active and actor.role == Role.MEMBER
        assert not new or member, f"status update by a non-member: {where}"
        for author_id, item_id in new.values():
            assert author_id == actor.id, where
            assert after["item_department"][item_id] == actor.department_id, where

    replies = replies_of(requests)
    for request in replies:
        chat_id = getattr(request, "chat_id", None)
        if chat_id is not None:
            assert int(chat_id) == reply_chat, f"a reply to another chat for {where}: {request!r}"
    answers = [r for r in replies if isinstance(r, AnswerCallbackQuery)]
    assert len(answers) <= (1 if event.kind == "callback" else 0), where
    texts = [getattr(r, "text", None) or "" for r in replies]
    assert sum(text in apologies for text in texts) <= 1, where
    sends = [r for r in replies if isinstance(r, SendMessage | SendPhoto | SendDocument)]
    if event.kind == "group" and not event.text.startswith("/"):
        assert sends == [], f"group chatter answered: {where}"
    if actor is None or not actor.active or event.kind == "anonymous":
        assert len(sends) <= 1, f"{len(sends)} messages to someone without access: {where}"


PEOPLE_ROWS = (  # telegram id, role, department code, locale, active
    (ADMIN_ID, Role.SECRETARIAT, None, "ru", True),
    (CHAIR_ID, Role.CHAIR, None, "ru", True),
    (EDU_HEAD, Role.MEMBER, "edu", "kk", True),
    (EDU_DEPUTY, Role.MEMBER, "edu", "ru", True),
    (BUILD_HEAD, Role.MEMBER, "build", None, True),
    (REVOKED, Role.MEMBER, "build", "kk", False),
)


async def reset_world(session_maker: SessionMaker, now: datetime) -> None:
    """Every example starts from the same database, ids from 1, so a failure replays."""
    async with session_maker() as session:
        tables = [table.name for table in SQLModel.metadata.sorted_tables]
        if session.bind.dialect.name == "postgresql":
            names = ", ".join(f'"{name}"' for name in tables)
            truncate = f"TRUNCATE {names} RESTART IDENTITY CASCADE"
            await session.exec(text(truncate))  # type: ignore[call-overload]
        else:
            for name in reversed(tables):
                await session.exec(text(f'DELETE FROM "{name}"'))  # type: ignore[call-overload]
        departments = {
            code: Department(
                code=code, name_kk=f"{code} <басқармасы>", name_ru=f"{code} & Ко", created_at=now
            )
            for code in ("edu", "build")
        }
        session.add_all(departments.values())
        await session.flush()
        for code, department, deadline in (
            ("1.1", "edu", date(2025, 6, 1)),
            ("1.2", "edu", date(2025, 4, 1)),
            ("2.1", "build", date(2025, 9, 1)),
        ):
            session.add(
                RoadmapItem(
                    code=code,
                    title_kk=f"Тармақ <{code}>",
                    title_ru=f"Пункт & {code}",
                    department_id=departments[department].id,  # type: ignore[arg-type]
                    deadline=deadline,
                    year=deadline.year,
                    created_at=now,
                )
            )
        for telegram_id, role, department, locale, active in PEOPLE_ROWS:
            session.add(
                Person(
                    telegram_id=telegram_id,
                    display_name=f"<P{telegram_id}> & Co",
                    locale=locale,
                    role=role,
                    department_id=departments[department].id if department else None,
                    active=active,
                    created_at=now,
                    updated_at=now,
                )
            )
        await session.commit()
        item_ids = sorted(i.id for i in (await session.exec(select(RoadmapItem))).all())
    assert item_ids == ITEM_IDS


@pytest.fixture
def fuzz(
    chatter: Chatter,
    session_maker: SessionMaker,
    bot: MockedBot,
    monkeypatch: pytest.MonkeyPatch,
) -> Fuzz:
    state = Fuzz(chatter, session_maker, ITEM_IDS)
    monkeypatch.setattr(bot, "download", state.download)
    return state


def run_fuzz(examples: int) -> Any:
    def decorate(test: Any) -> Any:
        pieces = st.one_of(
            single_events(ITEM_IDS).map(lambda event: [event]), dialog_walk(ITEM_IDS)
        )
        strategy = st.lists(pieces, min_size=1, max_size=UPDATES_PER_EXAMPLE // 4).map(
            lambda parts: [event for part in parts for event in part]
        )
        return settings(
            max_examples=examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )(given(sequence=strategy)(test))

    return decorate


async def _feed(fuzz: Fuzz, i18n: I18n, clock: FrozenClock, sequence: list[Event]) -> None:
    await reset_world(fuzz.session_maker, clock.now())
    fuzz.bot.take()
    apologies = tuple(i18n.gettext(APOLOGY, locale=locale) for locale in ("kk", "ru"))
    for event in sequence:
        await check_one(fuzz, event, apologies)


@run_fuzz(FAST_EXAMPLES)
async def test_random_updates_never_end_in_a_traceback(
    fuzz: Fuzz, i18n: I18n, clock: FrozenClock, sequence: list[Event]
) -> None:
    await _feed(fuzz, i18n, clock, sequence)


@pytest.mark.slow
@pytest.mark.skipif(not SLOW_EXAMPLES, reason="the long run: set FUZZ_EXAMPLES_SLOW (CI)")
@run_fuzz(max(SLOW_EXAMPLES, 1))
async def test_random_updates_long_run(
    fuzz: Fuzz, i18n: I18n, clock: FrozenClock, sequence: list[Event]
) -> None:
    await _feed(fuzz, i18n, clock, sequence)
