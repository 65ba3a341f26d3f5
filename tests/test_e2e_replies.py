"""Hostile values through every reply path, delivered by the strict sandbox: exact texts.

``<``, ``>``, ``&``, ``‹``, emoji and 5 000-character values in names, details, captions, file
names, titles and questions. The sandbox refuses malformed HTML and over-long messages the way
Telegram does, so a missing escape or a bad split shows up as a missing or generic reply here.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from sqlalchemy import select

from bot.sandbox import BotApiSandbox, SentMessage, parse_telegram_html
from storage.db import Database
from storage.models import Member, MemberRole, MemberStatus, ProgressReport, Unit
from tests.conftest import SHANGHAI

HOSTILE = "<i>&amp;</i> A&B‹科 😀 >"
ESCAPED = "&lt;i&gt;&amp;amp;&lt;/i&gt; A&amp;B‹科 😀 &gt;"
ADMIN = BotApiSandbox.user(1001, "张三")
STAFF = BotApiSandbox.user(3003, HOSTILE)
GROUP = BotApiSandbox.group_chat(-100_321, "法规科工作群")
PDF = b"%PDF-1.4\n%%EOF\n"


def add_member(db_url: str, user: dict[str, object]) -> None:
    db = Database(db_url)
    with db.session_scope() as session:
        unit = session.scalar(select(Unit).where(Unit.name == "法规科"))
        assert unit is not None
        session.add(Member(telegram_user_id=user["id"], display_name=HOSTILE, unit_id=unit.id,
                           role=MemberRole.MEMBER, status=MemberStatus.ACTIVE,
                           created_at=datetime(2026, 11, 1, tzinfo=SHANGHAI)))  # fmt: skip
    db.dispose()


class Chat:
    def __init__(self, sandbox: BotApiSandbox) -> None:
        self.sandbox = sandbox

    async def say(self, user: dict[str, object], text: str, count: int = 1) -> list[SentMessage]:
        before = len(self.sandbox.messages_to(GROUP["id"]))
        self.sandbox.send_text(GROUP, user, text)
        return await self._answers(before, count)

    async def send(self, user: dict[str, object], name: str, caption: str) -> list[SentMessage]:
        before = len(self.sandbox.messages_to(GROUP["id"]))
        self.sandbox.send_document(GROUP, user, PDF, name, caption=caption)
        return await self._answers(before, 1)

    async def _answers(self, before: int, count: int) -> list[SentMessage]:
        found = await asyncio.to_thread(self.sandbox.wait_for_messages, GROUP["id"], count, after=before)
        for message in found:
            assert message.parse_mode == "HTML"
            assert len(message.text.encode("utf-16-le")) // 2 <= 4096
            parse_telegram_html(message.text)  # valid on its own
        return found


async def test_hostile_values_in_every_reply_path(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    add_member(seeded_copy_url, STAFF)
    chat = Chat(sandbox)
    await chat.say(ADMIN, "/bind 法规科 000")

    # Receipts: the details as written, however long.
    details = f"{HOSTILE}。" + "长" * 1970
    receipt = await chat.say(STAFF, f"/report 61 已完成 {details}")
    assert receipt[0].text.startswith("✅ 已登记\n")  # plain words, no internal ids
    assert f"完成情况：已完成：{ESCAPED}。长长" in receipt[0].text
    stored = Database(seeded_copy_url)
    with stored.session_scope() as session:
        assert list(session.scalars(select(ProgressReport.text))) == [details]
    stored.dispose()

    # History and status.
    [history] = await chat.say(STAFF, "/history 61")
    assert history.text.startswith("<b>第61项</b> 报送记录（共 1 版，新的在前）：\n• 2026-10 第1版 法规科 已完成 — ")
    assert f" — {ESCAPED} " in history.text
    [status] = await chat.say(STAFF, "/status")
    assert status.text.startswith("<b>法规科</b> 2026年10月：已报 1 / 38 项\n")

    # A file with a hostile name and caption, its receipt and the files list.
    [saved] = await chat.send(STAFF, HOSTILE + ".pdf", "#61 " + HOSTILE)
    assert saved.text == (
        "📎 已保存材料：i_ A&amp;B‹科 😀 _.pdf（15 B，PDF）\n指标：第61项\u3000期间：2026年10月\n"
        f"说明：{ESCAPED}\n查看：/files 61"
    )
    [files] = await chat.say(STAFF, "/files 61")
    assert files.text == (
        f"第61项 2026年10月 的佐证材料（1 个）：\n1. i_ A&amp;B‹科 😀 _.pdf（15 B，{ESCAPED} 11-02）\n   说明：{ESCAPED}"
    )

    # Join requests name the applicant as Telegram shows them.
    [request] = await chat.say(BotApiSandbox.user(5005, HOSTILE), "/join 法规科 王&五")
    assert request.text == f"{ESCAPED} 申请登记为 <b>法规科 王&amp;五</b>，请管理员确认。"

    # Refusals echo what the user wrote, escaped.
    [refusal] = await chat.say(STAFF, f"/history {HOSTILE}")
    assert refusal.text == f"“{ESCAPED}”不是指标编号，请写成 31、第31项、（1）、★1、加分项2 或 政府21"
    [unknown_unit] = await chat.say(ADMIN, f"/deadline add 2026-12-10 {HOSTILE}")
    assert unknown_unit.text == "找不到单位“A&amp;B‹科”"

    # Import reports name the hostile file.
    before = len(sandbox.messages_to(GROUP["id"]))
    sandbox.send_document(GROUP, ADMIN, b"\x00\x01garbage", HOSTILE + ".txt", caption="/import")
    [imported] = await chat._answers(before, 1)
    assert imported.text.startswith(f"导入失败：文件“{ESCAPED}.txt”：")

    # Search answers echo the (trimmed) question, escaped.
    [answer] = await chat.say(STAFF, f"/ask {HOSTILE}" + "长" * 5000)
    assert answer.text.startswith("没有找到与“&amp;amp; A&amp;B‹科 😀 长长长")

    # A 5 000-character title, echoed in full: split before escaping, in order, never in an entity.
    value = "&<" * 2500
    parts = await chat.say(ADMIN, f"/deadline add 2026-12-10 {value}", count=6)
    shown = "".join(parse_telegram_html(p.text) for p in parts)
    assert re.fullmatch(rf"已添加截止日期（编号 \d+）：2026-12-10（星期四）{re.escape(value)}，对象：全部单位群", shown)
    assert all(len(p.text) <= 4096 and p.text.endswith(("&amp;", "&lt;", "全部单位群")) for p in parts)
    [listing] = await chat.say(ADMIN, "/deadline list")
    assert listing.text.startswith("<b>提醒规则</b>\n1. ")
    assert "&amp;&lt;&amp;&lt;" in listing.text
