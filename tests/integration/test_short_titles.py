"""Items' short titles (issue 22, #16): the secretariat sets what an item's buttons show with
/short (audited, refused to others); without one, items whose titles begin alike still get
buttons that differ, and the worklist's text carries the full titles."""

from __future__ import annotations

from aiogram.methods import SendMessage

from db.engine import SessionMaker
from db.models import AuditLog, RoadmapItem
from tests.helpers.chat import ADMIN_ID, rows
from tests.helpers.reporting_world import EDU_DEPUTY, EDU_HEAD, World

ALIKE = (
    "/additem 1.4 edu 2027-06-01 Мектептерде бейнебақылау жүйесін енгізу | "
    "Внедрение системы видеонаблюдения в общеобразовательных школах",
    "/additem 1.5 edu 2027-06-01 Мектептерде электрондық журнал жүйесін енгізу | "
    "Внедрение системы видеонаблюдения в детских садах и яслях",
)


def _labels(sent: list[object]) -> list[str]:
    (listing,) = [r for r in sent if isinstance(r, SendMessage)]
    assert listing.reply_markup is not None
    return [b.text for row in listing.reply_markup.inline_keyboard for b in row]  # type: ignore[union-attr]


async def test_short_titles_set_by_the_secretariat_and_guessed_otherwise(
    world: World, session_maker: SessionMaker
) -> None:
    chatter = world.chatter
    for command in ALIKE:
        await chatter.send(ADMIN_ID, command)

    # Guessed: the two «Внедрение системы видеонаблюдения…» items differ on their buttons.
    sent = await chatter.send(EDU_DEPUTY, "/myitems")
    labels = [label for label in _labels(sent) if label.startswith(("1.4", "1.5"))]
    assert len(labels) == 2 and labels[0] != labels[1], labels
    assert "общеобразовательных" in labels[0] and "детских" in labels[1]
    (listing,) = [r for r in sent if isinstance(r, SendMessage)]
    assert "Внедрение системы видеонаблюдения в детских садах и яслях" in listing.text

    # Set by the secretariat: both languages, then back to the guess with «-».
    done = await chatter.send(
        ADMIN_ID, "/short 1.4 Мектеп бейнебақылауы | Видеонаблюдение в школах"
    )
    assert "Видеонаблюдение в школах" in done[0].text
    assert "1.4 · Видеонаблюдение в школах" in _labels(await chatter.send(EDU_DEPUTY, "/myitems"))
    kk = _labels(await chatter.send(EDU_HEAD, "/myitems", language_code="kk"))
    assert "1.4 · Мектеп бейнебақылауы" in kk
    await chatter.send(ADMIN_ID, "/short 1.4 -")
    (item,) = [i for i in await rows(session_maker, RoadmapItem) if i.code == "1.4"]
    assert (item.short_title_kk, item.short_title_ru) == (None, None)
    assert any(entry.action == "item.short_title" for entry in await rows(session_maker, AuditLog))

    # Bad input gets the usage or the missing item; another role is refused.
    assert "/short" in (await chatter.send(ADMIN_ID, "/short 1.4"))[0].text
    assert "9.9" in (await chatter.send(ADMIN_ID, "/short 9.9 Бір | Один"))[0].text
    await chatter.send(EDU_DEPUTY, "/short 1.5 Сады | Сады")
    (item,) = [i for i in await rows(session_maker, RoadmapItem) if i.code == "1.5"]
    assert item.short_title_ru is None
