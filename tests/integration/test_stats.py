"""Response statistics per department over the last rounds, on a known history."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from aiogram.methods import SendMessage
from aiogram.utils.i18n import I18n

from bot.core.clock import FrozenClock
from bot.risk.labels import reason_label
from bot.risk.rules import RiskReason, RiskThresholds
from bot.spreadsheets.stats import department_stats, latest_updates, risk_labels
from bot.telegram.i18n import in_locale
from bot.telegram.menus import STATS
from bot.telegram.texts import usage_line
from db.engine import SessionMaker
from db.models import (
    StatusUpdate,
)
from tests.helpers.chat import ADMIN_ID, Chatter, register_admin
from tests.helpers.history import _at, seed_history

THRESHOLDS = RiskThresholds()
TZ = ZoneInfo("Asia/Almaty")


async def test_department_stats_over_the_last_rounds(
    session_maker: SessionMaker, clock: FrozenClock
) -> None:
    await seed_history(session_maker, clock)
    async with session_maker() as session:
        stats = await department_stats(session, today=date(2025, 3, 3))
    table = [
        (
            s.department.code,
            s.requests,
            s.answered,
            s.median_answer,
            s.last_update.date() if s.last_update else None,
            s.overdue_items,
        )
        for s in stats
    ]
    assert table == [
        ("water", 8, 0, None, None, 0),
        ("build", 2, 1, timedelta(days=3), date(2025, 3, 1), 1),
        ("health", 8, 4, timedelta(days=2), date(2025, 2, 25), 0),
        ("edu", 8, 8, timedelta(hours=6, minutes=30), date(2025, 2, 20), 1),
        ("culture", 0, 0, None, None, 0),
    ]
    assert stats[0].never_answers and not stats[-1].never_answers
    assert {s.department.code for s in stats if s.nobody_registered} == {"water", "culture"}
    assert stats[2].share_answered == 0.5

    async with session_maker() as session:
        two = {
            s.department.code: s
            for s in await department_stats(session, today=date(2025, 3, 3), rounds=2)
        }
    assert (two["edu"].requests, two["edu"].median_answer) == (2, timedelta(hours=9, minutes=30))
    assert (two["health"].answered, two["health"].requests) == (1, 2)


async def test_latest_update_is_the_newest_by_time_then_id(
    session_maker: SessionMaker, clock: FrozenClock
) -> None:
    history = await seed_history(session_maker, clock)
    async with session_maker() as session:
        # A second update at the very same moment: the higher id wins.
        session.add(
            StatusUpdate(
                item_id=history.items["1.2"],
                author_id=history.people["edu"],
                status="at_risk",
                progress=50,
                created_at=_at(date(2025, 1, 15)),
            )
        )
        await session.commit()
        latest = await latest_updates(session)
        commented = await latest_updates(session, with_comment=True)
    assert {
        code: latest[item_id].status for code, item_id in history.items.items() if item_id in latest
    } == {
        "1.1": "at_risk",
        "1.2": "at_risk",
        "2.1": "done",
        "2.2": "done",
        "3.1": "blocked",
    }
    assert commented[history.items["3.1"]].comment == "Подрядчик выбран"
    assert history.items["1.2"] not in commented


async def test_risk_labels_come_from_the_risk_rules(
    session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    history = await seed_history(session_maker, clock)
    async with session_maker() as session:
        with in_locale(i18n, "ru"):
            found = await risk_labels(
                session, today=date(2025, 3, 3), thresholds=THRESHOLDS, tz=TZ, year=None
            )
            declared = reason_label(RiskReason.DECLARED)
            overdue = reason_label(RiskReason.OVERDUE)
    by_code = {code: found.get(item_id) or [] for code, item_id in history.items.items()}
    assert declared in by_code["1.1"] and declared in by_code["3.1"]
    assert overdue in by_code["1.2"] and overdue in by_code["3.2"]
    assert by_code["2.1"] == by_code["2.2"] == []  # done
    assert by_code["5.1"] == []  # archived


async def test_stats_command(
    chatter: Chatter, session_maker: SessionMaker, clock: FrozenClock, i18n: I18n
) -> None:
    await register_admin(chatter, "ru")
    await seed_history(session_maker, clock)
    messages = [
        r.text for r in await chatter.send(ADMIN_ID, "/stats") if isinstance(r, SendMessage)
    ]
    text = "\n".join(messages)
    order = [
        text.index(f"<code>{code}</code>")
        for code in ("water", "build", "health", "edu", "culture")
    ]
    assert order == sorted(order)
    assert "(50%)" in text and "(0%)" in text and "(100%)" in text
    assert "Управление водных ресурсов" in text
    # Issue 22 (#23): a true heading, one line per department asked, the never-asked
    # departments with nobody registered once, by code, at the end.
    assert text.startswith("<b>Как управления ответили на 8 последних запросов</b>")
    nobody = text.split("\n")[-1]
    with in_locale(i18n, "ru"):
        expected = i18n.gettext(
            "Nobody registered, nothing asked yet ({count} department): {codes}. "
            "Invite them with /invite and the code.",
            "Nobody registered, nothing asked yet ({count} departments): {codes}. "
            "Invite them with /invite and the code.",
            1,
            locale="ru",
        ).format(count=1, codes="<code>culture</code>")
    assert nobody == expected
    assert text.count("culture") == 1
    with in_locale(i18n, "ru"):
        usage = usage_line(STATS)
    for wrong in ("/stats abc", "/stats 0", "/stats 101", "/stats 3 4"):
        replies = [
            r.text for r in await chatter.send(ADMIN_ID, wrong) if isinstance(r, SendMessage)
        ]
        assert replies == [usage]
    two = "\n".join(
        r.text for r in await chatter.send(ADMIN_ID, "/stats 2") if isinstance(r, SendMessage)
    )
    assert "(50%)" in two and "2" in two
