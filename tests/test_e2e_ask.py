"""Questions in chat through the sandbox with the real Application."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from sqlalchemy import select

from bot.sandbox import BotApiSandbox
from knowledge.bundled import sample_files
from storage.db import Database
from storage.models import ChatBinding, ChatKind, Member, MemberStatus, Unit

USER = BotApiSandbox.user(1001, "张三")
MEMBER = BotApiSandbox.user(3003, "王五")
GROUP = BotApiSandbox.group_chat(-100_900, "法规科工作群")


async def replies(sandbox: BotApiSandbox, chat_id: int, count: int = 1, after: int = 0) -> list:
    return await asyncio.to_thread(sandbox.wait_for_messages, chat_id, count, after=after)


async def test_group_ask_owner_question(sandbox: BotApiSandbox, seeded_bot: object) -> None:
    sandbox.send_text(GROUP, MEMBER, "/ask 执法文书格式谁负责")
    [reply] = await replies(sandbox, GROUP["id"])
    assert reply.parse_mode == "HTML"
    assert reply.text.startswith("🔎 <b>执法文书格式谁负责</b>：找到 6 项（第 1–3 项）\n范围：全部文档")
    assert "<b>负责单位</b>：市生态环境综合行政执法支队、法制仲裁科" in reply.text
    assert "1. <b>濮阳生态环境局工作台账 第30项</b>\n<b>牵头单位</b>：市生态环境综合行政执法支队" in reply.text
    assert "根据行政执法文书格式文本" in reply.text
    assert [b["text"] for b in reply.buttons] == [
        "1. 详情", "报进度", "上传材料", "2. 详情", "报进度", "上传材料", "3. 详情", "报进度", "上传材料", "更多结果 ▶",
    ]  # fmt: skip


async def test_more_results_edits_the_same_message(sandbox: BotApiSandbox, seeded_bot: object) -> None:
    sandbox.send_text(GROUP, MEMBER, "/ask 执法文书格式")
    [reply] = await replies(sandbox, GROUP["id"])
    first_page = reply.text
    more = reply.buttons[-1]["callback_data"]
    sandbox.press_button(GROUP, MEMBER, reply.message_id, more)
    await asyncio.to_thread(sandbox.wait_for, lambda: reply.edits == 1)
    assert len(sandbox.messages_to(GROUP["id"])) == 1  # edited, not a new message
    assert reply.text != first_page
    assert "（第 4–6 项）" in reply.text
    assert reply.buttons[0]["text"] == "4. 详情"


async def test_detail_button_sends_the_full_card(sandbox: BotApiSandbox, seeded_bot: object) -> None:
    sandbox.send_text(GROUP, MEMBER, "/ask 执法记录仪")
    [reply] = await replies(sandbox, GROUP["id"])
    sandbox.press_button(GROUP, MEMBER, reply.message_id, reply.buttons[0]["callback_data"])
    [_, card] = await replies(sandbox, GROUP["id"], 2)
    assert card.text.startswith("<b>濮阳生态环境局工作台账 第31项</b>\n<b>一级指标</b>：四、行政执法严格规范公正文明")
    assert "<b>内容</b>：根据实际情况为行政执法人员配备执法记录仪。" in card.text
    assert "<b>牵头单位</b>：市生态环境综合行政执法支队" in card.text
    assert "<b>上报资料</b>：当前本地区执法记录仪等音像设备配备的情况说明。" in card.text
    assert sandbox.callback_answers  # the button press was answered


async def test_person_lists_all_indicators(sandbox: BotApiSandbox, seeded_bot: object) -> None:
    sandbox.send_text(GROUP, MEMBER, "/ask 李建伟")
    [reply] = await replies(sandbox, GROUP["id"])
    assert reply.text.startswith(
        "👤 <b>李建伟</b> 负责的指标共 11 项：牵头 11 项，配合 0 项\n\n<b>濮阳司法局责任分工表</b>\n牵头 11 项：\n• 第7项 "
    )
    assert reply.text.count("\n• 第") == 11
    assert reply.buttons == []


async def test_number_in_a_bound_group(sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str) -> None:
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        session.add(
            ChatBinding(
                chat_id=GROUP["id"], kind=ChatKind.UNIT, document_id="002_34aef47c508b53d7",
                created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    db.dispose()
    sandbox.send_text(GROUP, MEMBER, "/ask 12")
    [reply] = await replies(sandbox, GROUP["id"])
    # 002 has no indicator 12 (the source skips it), so the answer falls back to every document.
    assert "范围：全部文档" in reply.text and "濮阳生态环境局工作台账 第12项" in reply.text
    sandbox.send_text(GROUP, MEMBER, "/ask 13")
    [_, bound] = await replies(sandbox, GROUP["id"], 2)
    assert "范围：本群绑定的文档" in bound.text
    assert "1. <b>濮阳司法局责任分工表 第13项</b>" in bound.text
    assert "焦作" not in bound.text


async def test_group_reply_and_mention(sandbox: BotApiSandbox, seeded_bot: object) -> None:
    sandbox.send_text(GROUP, MEMBER, "随便聊聊，不是问机器人")
    sandbox.send_text(GROUP, MEMBER, "/ask 双随机")
    [answer] = await replies(sandbox, GROUP["id"])
    sandbox.send_text(GROUP, MEMBER, "那复议呢", reply_to=answer.message_id)
    [_, second] = await replies(sandbox, GROUP["id"], 2)
    assert "行政复议" in second.text
    sandbox.send_text(GROUP, MEMBER, "@taizhang_sandbox_bot 记录仪归哪个科")
    [_, _, third] = await replies(sandbox, GROUP["id"], 3)
    assert "<b>负责单位</b>：" in third.text
    assert len(sandbox.messages_to(GROUP["id"])) == 3  # the chatter got no answer


async def test_private_text_and_escaping(sandbox: BotApiSandbox, seeded_bot: object) -> None:
    chat = sandbox.private_chat(USER)
    sandbox.send_text(chat, USER, "<i>航天</i> & <b>火箭</b>")
    [reply] = await replies(sandbox, USER["id"])
    assert reply.text.startswith("没有找到与“航天 &amp; 火箭”相关的指标。")
    sandbox.send_text(chat, USER, "/ask")
    [_, usage] = await replies(sandbox, USER["id"], 2)
    assert usage.text.startswith("请在 /ask 后面写上要查的内容")


async def test_index_refreshes_after_import(sandbox: BotApiSandbox, bot_app: object) -> None:
    chat = sandbox.private_chat(USER)
    sandbox.send_text(chat, USER, "分岗设权")
    [before] = await replies(sandbox, USER["id"])
    assert before.text.startswith("没有找到")
    name, data = sample_files()[1]
    sandbox.send_document(chat, USER, data, name, caption="/import")
    await replies(sandbox, USER["id"], 2)
    sandbox.send_text(chat, USER, "分岗设权")
    [_, _, after] = await replies(sandbox, USER["id"], 3)
    assert "焦作生态环境局指标体系 第45项" in after.text


COORD_GROUP = BotApiSandbox.group_chat(-100_901, "法规科协调群")


def _bind_and_join(db_url: str, unit_name: str, document_id: str) -> None:
    db = Database(db_url)
    with db.session_scope() as session:
        unit = session.scalar(select(Unit).where(Unit.name == unit_name))
        assert unit is not None
        now = datetime.now(UTC)
        session.add(ChatBinding(chat_id=GROUP["id"], kind=ChatKind.UNIT, document_id=document_id, created_at=now))
        session.add(ChatBinding(chat_id=COORD_GROUP["id"], kind=ChatKind.COORDINATOR, created_at=now))
        session.add(
            Member(
                telegram_user_id=MEMBER["id"], display_name="王五", unit_id=unit.id,
                status=MemberStatus.ACTIVE, created_at=now,
            )
        )  # fmt: skip
    db.dispose()


async def test_pending_lists_the_askers_unreported_indicators(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    _bind_and_join(seeded_copy_url, "法规科", "001_4c05958a6f6fc4a3")
    sandbox.send_text(GROUP, MEMBER, "/ask 我们科还有哪些没报")
    [reply] = await replies(sandbox, GROUP["id"])
    head, *lines = reply.text.split("\n")
    assert re.fullmatch(r"<b>法规科</b> \S+：共 (\d+) 项，还有 \1 项未报：", head), head
    assert lines[0].startswith("⬜ 第")
    assert lines[-1] == "报送：/report 编号 已完成 具体情况"


async def test_honest_miss_goes_to_the_coordinators(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    _bind_and_join(seeded_copy_url, "法规科", "001_4c05958a6f6fc4a3")
    sandbox.send_text(GROUP, MEMBER, "/ask 航天发射场建设")
    [reply] = await replies(sandbox, GROUP["id"])
    assert reply.text.startswith("没有找到与“航天发射场建设”明确对应的指标。下面是最接近的")
    forward = reply.buttons[-1]
    assert forward["text"] == "转给协调人"
    sandbox.press_button(GROUP, MEMBER, reply.message_id, forward["callback_data"])
    [sent] = await replies(sandbox, COORD_GROUP["id"])
    assert sent.text.startswith("❓ 王五（")  # the asker and the chat the question came from
    assert sent.text.endswith("）的问题，机器人没有找到答案：\n航天发射场建设")
    await asyncio.to_thread(
        sandbox.wait_for, lambda: any(a.get("text") == "已转给协调人" for a in sandbox.callback_answers)
    )
