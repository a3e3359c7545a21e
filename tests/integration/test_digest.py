"""The digest: counts and plurals, splitting at item boundaries, /summary, the weekly job."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from datetime import date, timedelta

import pytest
from aiogram.methods import SendChatAction, SendMessage, SendPhoto
from aiogram.utils.i18n import I18n
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.clock import FrozenClock
from bot.core.text import TELEGRAM_TEXT_LIMIT, Block, split_blocks, visible_length
from bot.risk.assess import assess_items
from bot.risk.digest import (
    DEPARTMENT_BUTTONS,
    Category,
    Summary,
    at_risk_by_department,
    category,
    collect_digest,
    digest_blocks,
    enqueue_weekly_digest,
    render_chart_pngs,
    render_digest,
    summarize,
)
from bot.risk.rules import ItemFacts, ItemRisk, RiskReason, RiskState
from bot.telegram.callbacks import ChairDepartment, ChairItem, DismissPick
from bot.telegram.i18n import in_locale
from db.engine import SessionMaker
from db.models import AuditLog, Department, Notification
from tests.helpers.chat import Chatter
from tests.helpers.risk_world import (
    CHAIR,
    MEMBER,
    NOW,
    SECRETARY,
    THRESHOLDS,
    TODAY,
    TZ,
    World,
    build_world,
    readers,
)

NASTY = "Школа <№5> & «сад» </b><i> a&amp;b <script>"


def fake_risk(
    n: int, department_id: int, reasons: list[RiskReason], title: str = NASTY
) -> ItemRisk:
    facts = ItemFacts(
        deadline=date(2025, 5, 1),
        start=date(2025, 1, 1),
        latest_status="blocked" if RiskReason.DECLARED in reasons else "on_track",
        latest_progress=10,
        latest_day=date(2025, 4, 1),
        flat_streak=3,
        postponements=2,
    )
    return ItemRisk(
        item_id=n,
        code=f"{n // 10}.{n % 10}",
        title_kk=title,
        title_ru=title + f" {n}",
        department_id=department_id,
        deadline=facts.deadline,
        year=2025,
        facts=facts,
        reasons=reasons,
        state=RiskState.AT_RISK if reasons else RiskState.NONE,
        thresholds=THRESHOLDS,
        latest_update_id=n,
        latest_status=facts.latest_status,
        latest_progress=10,
        latest_cause="contractor",
    )


def departments(count: int) -> dict[int, Department]:
    return {
        n: Department(
            id=n,
            code=f"d{n}",
            name_kk=f"Басқарма <{n}> & Ко",
            name_ru=f"Управление <{n}> & Ко",
            created_at=NOW,
        )
        for n in range(1, count + 1)
    }


def test_a_departments_items_worst_first_then_by_code_as_numbers(i18n: I18n) -> None:
    """Whatever order the assessment met them in: equal severity goes by code, 2.10 after
    2.9, and an item with more reasons (or overdue) comes first."""
    stale, flat = [RiskReason.STALE], [RiskReason.STALE, RiskReason.FLAT]
    risks = [fake_risk(n, 1, stale) for n in (210, 29, 21)] + [fake_risk(22, 1, flat)]
    for risk, code in zip(risks, ("2.10", "2.9", "2.1", "2.2"), strict=True):
        risk.code = code
    overdue = fake_risk(23, 1, [RiskReason.OVERDUE])
    overdue.state = RiskState.OVERDUE
    summary = summarize({risk.item_id: risk for risk in [*risks, overdue]})
    with in_locale(i18n, "ru"):
        ((_dept, ordered),) = at_risk_by_department(summary, departments(1))
    assert [risk.code for risk in ordered] == ["2.3", "2.2", "2.1", "2.9", "2.10"]


def balanced(text: str) -> bool:
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([a-z]+)[^>]*>", text):
        closing, name = match.group(1) == "/", match.group(2)
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def test_categories_are_exclusive_and_at_risk_includes_overdue() -> None:
    risks = {
        1: fake_risk(1, 1, [RiskReason.OVERDUE, RiskReason.STALE]),
        2: fake_risk(2, 1, [RiskReason.STALE]),
        3: fake_risk(3, 2, []),
    }
    never = fake_risk(4, 2, [])
    never.latest_update_id, never.latest_status = None, None
    done = fake_risk(5, 2, [])
    done.latest_status = "done"
    risks |= {4: never, 5: done}
    assert [category(risks[n]) for n in range(1, 6)] == [
        Category.OVERDUE,
        Category.AT_RISK,
        Category.ON_TRACK,
        Category.NOT_REPORTED,
        Category.DONE,
    ]
    summary = summarize(risks)
    assert (summary.total, summary.at_risk) == (5, 2)
    assert summary.by_department[2] == Counter(
        {Category.ON_TRACK: 1, Category.NOT_REPORTED: 1, Category.DONE: 1}
    )


@pytest.mark.parametrize("locale", ["ru", "kk"])
@pytest.mark.parametrize("count", [1, 2, 5, 21])
def test_counts_use_plural_forms(i18n: I18n, locale: str, count: int) -> None:
    risks = {n: fake_risk(n, 1, [RiskReason.STALE]) for n in range(1, count + 1)}
    with in_locale(i18n, locale):
        (message,) = render_digest(summarize(risks), departments(1), year=2025, today=TODAY)
    total = i18n.gettext("{count} item in total", "{count} items in total", count, locale=locale)
    at_risk = i18n.gettext("{count} item at risk", "{count} items at risk", count, locale=locale)
    assert total.format(count=count) in message.text
    assert at_risk.format(count=count) in message.text
    stale = i18n.gettext("no recent update", locale=locale)  # the summary's short reason
    assert f"<i>{stale}</i>" in message.text


def test_long_digests_split_at_item_boundaries_with_escaped_titles(i18n: I18n) -> None:
    long_title = (NASTY + " ") * 9  # ~450 characters, cut to the title limit
    risks = {
        n: fake_risk(
            n, n % 60 + 1, [RiskReason.DECLARED, RiskReason.OVERDUE, RiskReason.FLAT], long_title
        )
        for n in range(1, 301)
    }
    with in_locale(i18n, "ru"):
        messages = render_digest(summarize(risks), departments(60), year=2025, today=TODAY)
    assert len(messages) > 1
    seen: Counter[str] = Counter()
    headings: Counter[str] = Counter()
    for message in messages:
        assert visible_length(message.text) <= TELEGRAM_TEXT_LIMIT
        assert balanced(message.text), message.text[:300]
        assert "<script>" not in message.text and "&lt;script&gt;" in message.text
        assert "a&amp;amp;b" in message.text  # data is escaped once, as typed
        lines = message.text.split("\n")
        for line in lines:
            if line.startswith("• "):
                seen[line.split("</b>")[0]] += 1
                assert line.endswith("</i>")  # each item whole, on its own line
            if line.startswith("<b>Управление"):
                headings[line] += 1
        # Every message past the first starts with a department's heading, whole.
        if message is not messages[0]:
            assert message.text.startswith("<b>Управление")
        if message is not messages[-1]:
            assert message.markup is None  # the department buttons come with the last
    assert len(headings) == 60 and set(headings.values()) == {1}  # 5 items each
    assert len(seen) == 60 * 3 and set(seen.values()) == {1}  # the worst three of each
    assert sum("…" in line for m in messages for line in m.text.split("\n")) >= 60
    last_buttons = [b for row in messages[-1].markup.inline_keyboard for b in row]
    assert all(len(b.callback_data.encode()) <= 64 for b in last_buttons)
    assert len(last_buttons) == DEPARTMENT_BUTTONS  # the departments with the most first
    assert ChairDepartment.unpack(last_buttons[0].callback_data).year == 2025


def test_splitter_refuses_nothing_small_and_repeats_headings() -> None:
    blocks = [Block(("head",))] + [
        Block((f"line {n} " + "x" * 50,), (n,), "cont") for n in range(100)
    ]
    parts = split_blocks(blocks, limit=500)
    assert all(visible_length(part.text) <= 500 for part in parts)
    assert all(part.text.startswith("cont") for part in parts[1:])
    assert sum(len(part.keys) for part in parts) == 100
    with pytest.raises(ValueError, match="longer"):
        split_blocks([Block(("y" * 600,))], limit=500)


def test_no_items_at_risk(i18n: I18n) -> None:
    with in_locale(i18n, "ru"):
        blocks = digest_blocks(Summary(), {}, year=2025, today=TODAY)
    assert blocks[-1].lines[-1] == i18n.gettext("No items are at risk.", locale="ru")


@pytest.fixture
async def digest_world(session: AsyncSession, clock: FrozenClock) -> World:
    world = await build_world(session)  # the same roadmap as the engine tests
    await readers(session, world)
    clock.set(NOW)
    return world


async def test_summary_command_for_the_chair(
    chatter: Chatter, digest_world: World, i18n: I18n
) -> None:
    requests = await chatter.send(CHAIR, "/summary")
    # The answer first (#32): ONE message with the department buttons; "uploading a photo"
    # while the chart draws; then the chart, captioned with what it draws.
    assert [type(r) for r in requests] == [SendMessage, SendChatAction, SendPhoto]
    assert requests[1].action == "upload_photo"
    assert "⚠" in requests[2].caption and "<b>" not in requests[2].caption
    text = requests[0].text
    total = i18n.gettext("{count} item in total", "{count} items in total", 9, locale="ru")
    assert total.format(count=9) in text
    assert "Нет &lt;денег&gt;" not in text  # comments stay in the alerts and the card
    # build has four items at risk, each for one reason: three by code, then "…and 1 more";
    # in edu the overdue item comes before the declared one.
    for code in ("1.3", "1.2", "2.1", "2.2", "2.3"):
        assert f"<b>{code}</b>" in text
    assert text.index("<b>1.3</b>") < text.index("<b>1.2</b>")
    assert "<b>1.1</b>" not in text and "<b>2.5</b>" not in text and "<b>2.4</b>" not in text
    assert i18n.gettext("…and {count} more", locale="ru").format(count=1) in text
    markup = requests[0].reply_markup
    packed = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert packed == [
        ChairDepartment(department_id=digest_world.departments[code].id, year=2025).pack()
        for code in ("build", "edu")
    ]
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels == ["Управление build · 4", "Управление edu · 2"]


async def test_summary_for_another_year_and_bad_arguments(
    chatter: Chatter, digest_world: World, i18n: I18n
) -> None:
    replies = await chatter.send(CHAIR, "/summary 2026")
    texts = [r.text for r in replies if isinstance(r, SendMessage)]
    assert any("1 " in text for text in texts)  # the single 2026 item
    empty = await chatter.send(CHAIR, "/summary 2030")
    assert [r.text for r in empty] == [
        i18n.gettext("There are no Road Map items for {year}.", locale="ru").format(year=2030)
    ]
    bad = await chatter.send(CHAIR, "/summary twenty")
    assert "/summary" in bad[0].text


async def test_summary_is_refused_to_members_and_strangers(
    chatter: Chatter, digest_world: World, i18n: I18n
) -> None:
    refusal = i18n.gettext("This is available to the chair and the secretariat only.", locale="ru")
    assert [r.text for r in await chatter.send(MEMBER, "/summary")] == [refusal]
    for command in ("/summary", "/dept edu"):
        replies = await chatter.send(99999, command)
        assert all("Тармақ" not in (r.text or "") for r in replies)


async def test_department_drill_down_and_item_button(chatter: Chatter, digest_world: World) -> None:
    replies = await chatter.send(CHAIR, "/dept build")
    (text,) = [r.text for r in replies if isinstance(r, SendMessage)]
    assert "2.1" in text and "2.5" in text and "1.2" not in text
    pressed = await chatter.press(
        CHAIR, ChairDepartment(department_id=digest_world.departments["edu"].id, year=2025).pack()
    )
    assert any("1.2" in (r.text or "") for r in pressed if isinstance(r, SendMessage))
    opened = await chatter.press(CHAIR, ChairItem(item_id=digest_world.items["1.2"].id).pack())
    (card,) = [r for r in opened if isinstance(r, SendMessage)]
    assert "Нет &lt;денег&gt; &amp; всё" in card.text
    packed = [b.callback_data for row in card.reply_markup.inline_keyboard for b in row]
    assert packed and packed[0].startswith("cu:")


async def test_dismiss_command(
    chatter: Chatter, digest_world: World, session: AsyncSession
) -> None:
    done = await chatter.send(SECRETARY, "/dismiss 2.1 stale Подрядчик отчитается в понедельник")
    assert "2.1" in done[0].text
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert risks[digest_world.items["2.1"].id].reasons == []
    refused = await chatter.send(SECRETARY, "/dismiss 1.3 overdue нет")
    assert "2.1" not in refused[0].text
    usage = await chatter.send(SECRETARY, "/dismiss 2.2 behind_plan")
    assert "/dismiss" in usage[0].text
    by_chair = await chatter.send(CHAIR, "/dismiss 2.2 behind_plan Почему бы и нет")
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert risks[digest_world.items["2.2"].id].reasons == [RiskReason.BEHIND_PLAN]
    assert len(by_chair) == 1


async def test_dismiss_offers_the_items_reasons_as_buttons_and_the_card_shows_it(
    chatter: Chatter, digest_world: World, session: AsyncSession
) -> None:
    """/dismiss CODE (#25): the item's current reasons as buttons, then one explanation."""
    item = digest_world.items["2.2"]
    (choice,) = await chatter.send(SECRETARY, "/dismiss 2.2")
    buttons = [b for row in choice.reply_markup.inline_keyboard for b in row]
    assert [b.text for b in buttons] == ["жоспардан артта қалу"]  # the secretary reads kk
    assert buttons[0].callback_data == DismissPick(item_id=item.id, reason="behind_plan").pack()
    assert len(buttons[0].callback_data.encode()) <= 64
    # the chair may not press it (the callback is the secretariat's too)
    refused = await chatter.press(CHAIR, buttons[0].callback_data)
    assert not any(isinstance(r, SendMessage) and "Неге" in r.text for r in refused)

    asked = await chatter.press(SECRETARY, buttons[0].callback_data)
    (question,) = [r for r in asked if isinstance(r, SendMessage)]
    assert "«жоспардан артта қалу»" in question.text and "2.2" in question.text
    assert "500" in (await chatter.send(SECRETARY, "   "))[0].text  # still waiting
    done = await chatter.send(SECRETARY, "График <утверждён> советом")
    assert "2.2" in done[0].text
    risks = await assess_items(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    assert item.id not in risks or risks[item.id].reasons == []

    (card,) = [r for r in await chatter.send(CHAIR, "/item 2.2") if isinstance(r, SendMessage)]
    assert "снял причину «отставание от плана»: График &lt;утверждён&gt; советом" in card.text
    # an item with nothing to dismiss says so; an unknown one too
    overdue_only = await chatter.send(SECRETARY, "/dismiss 1.3")
    assert "1.3" in overdue_only[0].text and overdue_only[0].reply_markup is None
    assert "9.9" in (await chatter.send(SECRETARY, "/dismiss 9.9"))[0].text


async def test_weekly_digest_goes_through_the_outbox_once_a_week(
    session_maker: SessionMaker, digest_world: World, i18n: I18n
) -> None:
    async with session_maker() as session:
        added = await enqueue_weekly_digest(
            session,
            i18n=i18n,
            today=TODAY,
            now=NOW,
            not_before=NOW + timedelta(hours=8),
            thresholds=THRESHOLDS,
            tz=TZ,
        )
    async with session_maker() as session:
        rows = (await session.exec(select(Notification))).all()
    assert added == len(rows) == 2  # chair and secretariat: the chart with the summary each
    keys = sorted(row.idempotency_key for row in rows)
    week = TODAY.isocalendar()
    assert keys[0].startswith(f"digest:{week.year}-W{week.week:02d}:")
    photos = [json.loads(row.payload) for row in rows if "chart" in row.idempotency_key]
    assert {p["method"] for p in photos} == {"sendPhoto"}
    assert all(p["params"]["photo"]["filename"] == "summary.png" for p in photos)
    captions = [p["params"] for p in photos]
    assert all(c["parse_mode"] == "HTML" and c["reply_markup"]["inline_keyboard"] for c in captions)
    assert all(c["caption"].startswith("<b>") for c in captions)
    assert all(row.not_before == NOW + timedelta(hours=8) for row in rows)
    # One drawing for both languages: the Russian chair gets the Russian chart, the Kazakh
    # secretary the Kazakh one.
    charts = {
        row.chat_id: base64.b64decode(json.loads(row.payload)["params"]["photo"]["base64"])
        for row in rows
        if "chart" in row.idempotency_key
    }
    async with session_maker() as session:
        data = await collect_digest(session, today=TODAY, year=2025, thresholds=THRESHOLDS, tz=TZ)
    expected = render_chart_pngs(data, i18n, ["kk", "ru"])
    assert charts == {CHAIR: expected["ru"], SECRETARY: expected["kk"]}
    assert expected["ru"] != expected["kk"]
    async with session_maker() as session:
        again = await enqueue_weekly_digest(
            session,
            i18n=i18n,
            today=TODAY,
            now=NOW,
            not_before=NOW,
            thresholds=THRESHOLDS,
            tz=TZ,
        )
    assert again == 0


async def test_item_command_explains_each_reason_with_its_threshold(
    chatter: Chatter, digest_world: World, i18n: I18n
) -> None:
    (card,) = [r for r in await chatter.send(CHAIR, "/item 2.1") if isinstance(r, SendMessage)]
    heading = i18n.gettext("At risk:", locale="ru")
    assert f"🔴 <b>{heading}</b>" in card.text
    (reason,) = [line for line in card.text.split("\n") if line.startswith("• ")]
    assert "20 дней назад" in reason and "дней без обновлений — 14" in reason
    (healthy,) = [r for r in await chatter.send(CHAIR, "/item 1.1") if isinstance(r, SendMessage)]
    assert heading not in healthy.text
    opened = await chatter.press(CHAIR, ChairItem(item_id=digest_world.items["2.1"].id).pack())
    (button_card,) = [r for r in opened if isinstance(r, SendMessage)]
    assert reason in button_card.text


async def test_the_secretariat_sets_a_department_short_name(
    chatter: Chatter, digest_world: World, session: AsyncSession, i18n: I18n
) -> None:
    done = await chatter.send(SECRETARY, "/shortname build Құрылыс | Стройка")
    assert "Стройка" in done[0].text
    refused = await chatter.send(CHAIR, "/shortname build X | Y")
    assert "Стройка" not in refused[0].text
    assert "/shortname" in (await chatter.send(SECRETARY, "/shortname build Құрылыс"))[0].text
    assert "nope" in (await chatter.send(SECRETARY, "/shortname nope A | B"))[0].text
    summary = await chatter.send(CHAIR, "/summary")
    labels = [b.text for row in summary[0].reply_markup.inline_keyboard for b in row]
    assert labels[0] == "Стройка · 4"
    assert "<b>Стройка</b>" in summary[0].text
    audit = (
        await session.exec(select(AuditLog).where(AuditLog.action == "department.short_name"))
    ).all()
    assert [entry.target for entry in audit] == ["build"]
