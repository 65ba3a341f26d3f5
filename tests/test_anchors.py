"""A file sent in reply to a receipt attaches there even when another process (or a restart) handles it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from bot.app import build_application, running
from bot.config import load_config
from bot.sandbox import BotApiSandbox
from storage.db import Database
from storage.models import Attachment, Indicator, MessageAnchor, ProgressReport
from tests.conftest import FakeClock
from tests.test_e2e_report import GROUP, STAFF, Chat, rows, setup_unit_group, tiny_jpeg


async def test_reply_to_a_receipt_from_before_a_restart_attaches(
    sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    config = load_config(
        {
            "TAIZHANG_BOT_TOKEN": sandbox.token,
            "TAIZHANG_API_BASE_URL": sandbox.base_url,
            "TAIZHANG_DATABASE_URL": seeded_copy_url,
            "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
            "TAIZHANG_ADMINS": "1001",
            "TAIZHANG_REMINDERS": "off",
        }
    )
    chat = Chat(sandbox)
    async with running(build_application(config, clock=clock)):
        await setup_unit_group(chat)
        [receipt] = await chat.say(STAFF, "/report 13 已完成 已公开征求意见")
    database = Database(seeded_copy_url)
    [anchor] = database.call(lambda session: list(session.scalars(select(MessageAnchor))))
    database.dispose()
    assert (anchor.chat_id, anchor.message_id, anchor.period) == (GROUP["id"], receipt.message_id, "2026-10")
    async with running(build_application(config, clock=clock)):  # a new process: nothing in memory
        before = len(sandbox.messages_to(GROUP["id"]))
        photo = tiny_jpeg()  # a real JPEG: evidence is checked by content
        sandbox.send_photo(GROUP, STAFF, photo, reply_to=receipt.message_id)
        [saved] = await asyncio.to_thread(sandbox.wait_for_messages, GROUP["id"], 1, after=before)
    assert "已保存材料：照片.jpg" in saved.text and "第13项" in saved.text
    [row] = rows(seeded_copy_url, Attachment)
    indicator = next(i for i in rows(seeded_copy_url, Indicator) if i.id == row.indicator_id)
    assert (indicator.key, row.period, row.indicator_id) == ("13", "2026-10", anchor.indicator_id)


async def test_a_preview_confirmed_after_a_restart_is_stored_once(
    sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    config = load_config(
        {
            "TAIZHANG_BOT_TOKEN": sandbox.token,
            "TAIZHANG_API_BASE_URL": sandbox.base_url,
            "TAIZHANG_DATABASE_URL": seeded_copy_url,
            "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
            "TAIZHANG_ADMINS": "1001",
            "TAIZHANG_REMINDERS": "off",
        }
    )
    chat = Chat(sandbox)
    async with running(build_application(config, clock=clock)):
        await setup_unit_group(chat)
        [preview] = await chat.say(STAFF, "/report\n12 已完成 压缩发文\n13 推进中 征求意见")
    assert [b["text"] for b in preview.buttons] == ["确认登记", "取消"]
    confirm_data = preview.buttons[0]["callback_data"]
    async with running(build_application(config, clock=clock)):  # another process gets the press
        before = len(sandbox.messages_to(GROUP["id"]))
        await chat.press(STAFF, preview, 0)
        receipts = await asyncio.to_thread(sandbox.wait_for_messages, GROUP["id"], 2, after=before)
        answers = len(sandbox.callback_answers)
        sandbox.press_button(GROUP, STAFF, preview.message_id, confirm_data)  # a double press
        await asyncio.to_thread(sandbox.wait_for, lambda: len(sandbox.callback_answers) > answers)
    assert preview.text == "已登记 2 项，回执如下。"
    assert sum("✅ 已登记" in m.text for m in receipts) == 2
    assert sandbox.callback_answers[-1]["text"] == "这份预览已处理或已过期。"
    assert [(r.period, r.version) for r in rows(seeded_copy_url, ProgressReport)] == [("2026-10", 1)] * 2
