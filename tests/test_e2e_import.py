"""/import in chat through the sandbox: admin imports, others are refused, bad files explained."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.sandbox import BotApiSandbox
from knowledge.bundled import sample_files
from storage.db import Database
from storage.models import Indicator
from tests.test_import_store import _docx_table_bytes

ADMIN = BotApiSandbox.user(1001, "张三")
STRANGER = BotApiSandbox.user(2002, "李四")


async def replies(sandbox: BotApiSandbox, chat_id: int, count: int = 1) -> list:
    return await asyncio.to_thread(sandbox.wait_for_messages, chat_id, count)


def indicator_count(db_url: str) -> int:
    db = Database(db_url)
    try:
        with db.session_scope() as session:
            return int(session.scalar(select(func.count()).select_from(Indicator)) or 0)
    finally:
        db.dispose()


async def test_admin_imports_a_docx(sandbox: BotApiSandbox, bot_app: object, db_url: str) -> None:
    chat = sandbox.private_chat(ADMIN)
    sandbox.send_document(chat, ADMIN, _docx_table_bytes(), "分工表.docx", caption="/import")
    [reply] = await replies(sandbox, ADMIN["id"])
    assert reply.text.startswith("导入完成。\n文档 分工表")
    assert "新增 3 项" in reply.text
    assert indicator_count(db_url) == 3


async def test_seed_text_file_in_a_group(sandbox: BotApiSandbox, bot_app: object, db_url: str) -> None:
    group = sandbox.group_chat(-100_777, "法规科工作群")
    name, data = sample_files()[2]
    sandbox.send_document(group, ADMIN, data, name, caption="/import@taizhang_sandbox_bot")
    [reply] = await replies(sandbox, group["id"])
    assert "共 125 项指标" in reply.text
    assert "未分配责任单位：(7)、76、77、(17)、减分1、减分2" in reply.text
    assert indicator_count(db_url) == 125


async def test_non_admin_is_refused(sandbox: BotApiSandbox, bot_app: object, db_url: str) -> None:
    chat = sandbox.private_chat(STRANGER)
    sandbox.send_document(chat, STRANGER, _docx_table_bytes(), "分工表.docx", caption="/import")
    [reply] = await replies(sandbox, STRANGER["id"])
    assert reply.text == "只有本项目的协调人或管理员可以导入指标表。"
    assert indicator_count(db_url) == 0


async def test_bad_file_changes_nothing(sandbox: BotApiSandbox, bot_app: object, db_url: str) -> None:
    chat = sandbox.private_chat(ADMIN)
    sandbox.send_document(chat, ADMIN, b"PK\x03\x04 junk", "坏.xlsx", caption="/import")
    sandbox.send_text(chat, ADMIN, "/import")
    first, second = await replies(sandbox, ADMIN["id"], 2)
    assert first.text == "导入失败：文件“坏.xlsx”已损坏，或不是有效的 Office 文件（.docx/.xlsx）\n数据库未做任何改动。"
    assert second.text.startswith("请把指标表文件")
    assert indicator_count(db_url) == 0


async def test_removals_wait_for_the_senders_confirmation(sandbox: BotApiSandbox, bot_app: object, db_url: str) -> None:
    chat = sandbox.private_chat(ADMIN)
    name, data = sample_files()[1]  # 001: 64 indicators
    sandbox.send_document(chat, ADMIN, data, name, caption="/import")
    await replies(sandbox, ADMIN["id"])
    text = data.decode("utf-8")
    start, end = text.index("\t60\n"), text.index("\t十一、附加项")
    sandbox.send_document(chat, ADMIN, (text[:start] + text[end:]).encode(), name, caption="/import")
    [_, asked] = await replies(sandbox, ADMIN["id"], 2)
    assert asked.text.startswith("导入未执行：文档 001_4c05958a6f6fc4a3 导入后将删除 1 项指标（文件中已没有）：60。")
    assert [b["text"] for b in asked.buttons] == ["确认删除并导入", "取消"]
    assert indicator_count(db_url) == 64  # nothing changed yet
    sandbox.press_button(chat, STRANGER, asked.message_id, asked.buttons[0]["callback_data"])
    await asyncio.to_thread(sandbox.wait_for, lambda: len(sandbox.callback_answers) == 1)
    assert sandbox.callback_answers[0]["text"] == "这个按钮无效或已过期，请重新发送命令。"  # signed for the sender only
    assert indicator_count(db_url) == 64
    sandbox.press_button(chat, ADMIN, asked.message_id, asked.buttons[0]["callback_data"])
    await asyncio.to_thread(sandbox.wait_for, lambda: asked.edits == 1)
    assert asked.text.startswith("导入完成。\n文档 001_4c05958a6f6fc4a3")
    assert "文件中已没有、已删除：60" in asked.text
    assert indicator_count(db_url) == 63
