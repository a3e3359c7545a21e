"""Evidence people can see: /item says which update has a file and sends it again by its
Telegram file id; the export names it «фото» / «файл» with the file's name."""

from __future__ import annotations

import io

from aiogram.methods import SendDocument, SendMessage, SendPhoto, SendVideoNote, SendVoice
from aiogram.types import (
    Chat,
    Document,
    Message,
    PhotoSize,
    Update,
    User,
    VideoNote,
    Voice,
)
from openpyxl import load_workbook

from bot.telegram.callbacks import (
    AskUpdate,
    DialogAction,
    OpenItem,
    PickProgress,
    PickStatus,
    ResendEvidence,
)
from db.engine import SessionMaker
from db.models import AuditLog, StatusUpdate
from tests.helpers.chat import ADMIN_ID, START_MOMENT, rows
from tests.helpers.reporting_world import BUILD_HEAD, EDU_DEPUTY, World, buttons


def _media(user_id: int, **content: object) -> Update:
    return Update(
        update_id=30_000 + user_id,
        message=Message(
            message_id=700,
            date=START_MOMENT,
            chat=Chat(id=user_id, type="private"),
            from_user=User(id=user_id, is_bot=False, first_name="U", language_code="ru"),
            **content,
        ),
    )


async def _report_with(world: World, item: int, **content: object) -> None:
    chatter = world.chatter
    await chatter.press(EDU_DEPUTY, OpenItem(item_id=item).pack())
    await chatter.press(EDU_DEPUTY, PickStatus(item_id=item, status="on_track").pack())
    await chatter.press(EDU_DEPUTY, PickProgress(item_id=item, value=50).pack())
    await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="file").pack())
    await chatter.dispatcher.feed_update(chatter.bot, _media(EDU_DEPUTY, **content))
    chatter.bot.take()
    await chatter.press(EDU_DEPUTY, DialogAction(item_id=item, action="save").pack())


async def test_item_card_offers_the_evidence_again(
    world: World, session_maker: SessionMaker
) -> None:
    chatter = world.chatter
    document = Document(file_id="doc-1", file_unique_id="u1", file_name="акт.pdf", file_size=9)
    await _report_with(world, world.items["1.1"], document=document)
    photo = [PhotoSize(file_id="photo-1", file_unique_id="p1", width=10, height=10)]
    await _report_with(world, world.items["1.2"], photo=photo)

    (update,) = [
        u for u in await rows(session_maker, StatusUpdate) if u.evidence_kind == "document"
    ]
    assert update.evidence_name == "акт.pdf"
    (card,) = [r for r in await chatter.send(ADMIN_ID, "/item 1.1") if isinstance(r, SendMessage)]
    assert "📎 файл «акт.pdf»" in card.text
    # issue 23 (#6): one card everywhere; /item's has [Ask for an update] for the secretariat too
    assert buttons(card) == [
        AskUpdate(item_id=world.items["1.1"]).pack(),
        ResendEvidence(update_id=update.id).pack(),  # type: ignore[arg-type]
    ]
    sent = await chatter.press(ADMIN_ID, ResendEvidence(update_id=update.id).pack())  # type: ignore[arg-type]
    (again,) = [r for r in sent if isinstance(r, SendDocument)]
    assert again.document == "doc-1" and int(again.chat_id) == ADMIN_ID

    (photo_update,) = [
        u for u in await rows(session_maker, StatusUpdate) if u.evidence_kind == "photo"
    ]
    sent = await chatter.press(EDU_DEPUTY, ResendEvidence(update_id=photo_update.id).pack())  # type: ignore[arg-type]
    (photo_again,) = [r for r in sent if isinstance(r, SendPhoto)]
    assert photo_again.photo == "photo-1"

    # Another department's member may not have it: refused and on the record.
    refused = await chatter.press(BUILD_HEAD, ResendEvidence(update_id=update.id).pack())  # type: ignore[arg-type]
    assert not any(isinstance(r, SendDocument) for r in refused)
    actions = [entry.action for entry in await rows(session_maker, AuditLog)]
    assert "refused.evidence" in actions

    # The export's History sheet names the file in the reader's language.
    (export,) = [r for r in await chatter.send(ADMIN_ID, "/export") if isinstance(r, SendDocument)]
    workbook = load_workbook(io.BytesIO(export.document.data))
    cells = [cell.value for row in workbook.worksheets[1].iter_rows() for cell in row]
    assert "файл «акт.pdf»" in cells and "фото" in cells
    assert "document" not in cells and "photo" not in cells


async def test_a_voice_or_video_note_is_sent_again_as_itself(
    world: World, session_maker: SessionMaker
) -> None:
    """Issue 22: a voice note plays as a voice note again, a video note shows round; neither
    comes back as a file to download."""
    chatter = world.chatter
    voice = Voice(file_id="voice-1", file_unique_id="v1", duration=4, file_size=900)
    await _report_with(world, world.items["1.1"], voice=voice)
    note = VideoNote(file_id="round-1", file_unique_id="r1", length=240, duration=5)
    await _report_with(world, world.items["1.2"], video_note=note)
    kept = {u.evidence_kind: u for u in await rows(session_maker, StatusUpdate)}
    voice_update, note_update = kept["voice"], kept["video_note"]

    sent = await chatter.press(ADMIN_ID, ResendEvidence(update_id=voice_update.id).pack())  # type: ignore[arg-type]
    (again,) = [r for r in sent if isinstance(r, SendVoice)]
    assert again.voice == "voice-1" and int(again.chat_id) == ADMIN_ID
    assert "1.1" in (again.caption or "")
    assert not any(isinstance(r, SendDocument) for r in sent)

    sent = await chatter.press(EDU_DEPUTY, ResendEvidence(update_id=note_update.id).pack())  # type: ignore[arg-type]
    (round_again,) = [r for r in sent if isinstance(r, SendVideoNote)]
    assert round_again.video_note == "round-1"
    (line,) = [r for r in sent if isinstance(r, SendMessage)]
    assert "1.2" in line.text
    assert sent.index(line) < sent.index(round_again)  # the item's line, then the note
    assert not any(isinstance(r, SendDocument) for r in sent)
