"""Progress reports and evidence through the sandbox: rows in the database, bytes on disk."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.sandbox import BotApiSandbox
from storage.db import Database
from storage.models import Attachment, Indicator, Member, MemberStatus, ProgressReport, ReportStatus
from tests.conftest import SHANGHAI, FakeClock

ADMIN = BotApiSandbox.user(1001, "张三")
STAFF = BotApiSandbox.user(3003, "王五")
OTHER = BotApiSandbox.user(4004, "赵六")
GROUP = BotApiSandbox.group_chat(-100_321, "法规科工作群")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def tiny_jpeg() -> bytes:
    """A real (structurally valid) 4×4 JPEG."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


class Chat:
    """Helpers around the sandbox for one test."""

    def __init__(self, sandbox: BotApiSandbox) -> None:
        self.sandbox = sandbox

    async def say(self, user: dict, text: str, chat: dict | None = None, reply_to: int | None = None) -> list:
        chat = chat or GROUP
        before = len(self.sandbox.messages_to(chat["id"]))
        self.sandbox.send_text(chat, user, text, reply_to=reply_to)
        return await asyncio.to_thread(self.sandbox.wait_for_messages, chat["id"], 1, after=before)

    async def press(self, user: dict, message: object, index: int, chat: dict | None = None) -> list:
        chat = chat or GROUP
        before = len(self.sandbox.messages_to(chat["id"]))
        edits = message.edits  # type: ignore[attr-defined]
        answers = len(self.sandbox.callback_answers)
        self.sandbox.press_button(chat, user, message.message_id, message.buttons[index]["callback_data"])  # type: ignore[attr-defined]
        await asyncio.to_thread(
            self.sandbox.wait_for,
            lambda: (
                len(self.sandbox.messages_to(chat["id"])) > before
                or message.edits > edits  # type: ignore[attr-defined]
                or (
                    len(self.sandbox.callback_answers) > answers and self.sandbox.callback_answers[-1].get("show_alert")
                )
            ),
        )
        await asyncio.to_thread(self.sandbox.wait_for, lambda: len(self.sandbox.callback_answers) > answers)
        return self.sandbox.messages_to(chat["id"])[before:]

    async def send_file(self, user: dict, content: bytes, name: str, caption: str | None, **kw: object) -> list:
        before = len(self.sandbox.messages_to(GROUP["id"]))
        self.sandbox.send_document(GROUP, user, content, name, caption=caption, **kw)  # type: ignore[arg-type]
        return await asyncio.to_thread(self.sandbox.wait_for_messages, GROUP["id"], 1, after=before)


@pytest.fixture
def chat(sandbox: BotApiSandbox) -> Chat:
    return Chat(sandbox)


def rows(url: str, model: type) -> list:
    db = Database(url)
    try:
        with db.session_scope() as session:
            found = list(session.scalars(select(model).order_by(model.id)))
            session.expunge_all()
            return found
    finally:
        db.dispose()


async def setup_unit_group(chat: Chat) -> None:
    [bound] = await chat.say(ADMIN, "/bind 法规科 000")
    assert bound.text == "已将本群绑定为法规科的单位群，文档：濮阳生态环境局工作台账。"
    [request] = await chat.say(STAFF, "/join 法规科 王五")
    assert "申请登记为 <b>法规科 王五</b>" in request.text
    assert await chat.press(ADMIN, request, 0) == []  # the request message is edited in place
    assert request.text == "王五 登记为 法规科 王五：已同意。"


async def test_join_needs_a_coordinator(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    [request] = await chat.say(STAFF, "/join 法规科 王五")
    await chat.press(OTHER, request, 0)  # not a coordinator: refused with an alert
    assert rows(seeded_copy_url, Member)[0].status == MemberStatus.PENDING
    [unknown] = await chat.say(OTHER, "/join 法规课")
    assert unknown.text.startswith("找不到单位“法规课”，是不是：法规科")
    [refused] = await chat.say(OTHER, "/bind 法规科")
    assert refused.text == "只有本项目的协调人或管理员可以绑定群。"


async def test_one_line_report_versions_history_and_late(
    chat: Chat, seeded_bot: object, seeded_copy_url: str, clock: FakeClock
) -> None:
    await setup_unit_group(chat)
    [receipt] = await chat.say(STAFF, "/report 12 已完成 已将规范性文件发文数量压缩至3件")
    assert receipt.text.startswith("✅ 已登记\n") and "<code>" not in receipt.text  # no internal ids
    assert "指标：濮阳生态环境局工作台账 第12项" in receipt.text
    assert "期间：2026年10月（截止 11月03日）" in receipt.text and "逾期" not in receipt.text
    assert "完成情况：已完成：已将规范性文件发文数量压缩至3件" in receipt.text
    clock.now = datetime(2026, 11, 4, 9, 0, tzinfo=SHANGHAI)
    [late] = await chat.say(STAFF, "/report 12 推进中 第二稿已报法规科审核")
    assert "【逾期】" in late.text and "这是第 2 版" in late.text
    [september] = await chat.say(STAFF, "/report 12 2026年9月 已完成 九月补报")
    assert "期间：2026年9月" in september.text
    reports = rows(seeded_copy_url, ProgressReport)
    assert [(r.period, r.version, r.status, r.late) for r in reports] == [
        ("2026-10", 1, ReportStatus.DONE, False),
        ("2026-10", 2, ReportStatus.IN_PROGRESS, True),
        ("2026-09", 1, ReportStatus.DONE, True),
    ]
    assert all(r.reporter_telegram_id == STAFF["id"] and r.source_update_id for r in reports)
    [history] = await chat.say(STAFF, "/history 12")
    assert history.text.count("第1版") == 2 and history.text.count("第2版") == 1
    [status] = await chat.say(STAFF, "/status")
    assert status.text.startswith("<b>法规科</b> 2026年10月：已报 1 / ")


async def test_refusals_and_bad_input(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    cases = {
        "/report 1 已完成 审批时限已压缩": "指标 1 由环评科牵头，法规科不能报送；请联系牵头单位或协调人",
        "/report 999 已完成 x": "没有编号为 999 的指标",
        "/report 12 差不多 做了一些": "请写明完成情况",
        "/report 12 已完成": "请在“已完成”后写上具体完成情况",
        "/report 12 已完成 " + "很" * 10_000: "情况说明太长",
        "/report 12 13月 已完成 x": "“13月”不是有效的月份",
        "/report 12 2026年12月 已完成 未来": "不能报送未来月份",
    }
    for text, expected in cases.items():
        [reply] = await chat.say(STAFF, text)
        assert expected in reply.text, (text, reply.text)
    [typo] = await chat.say(STAFF, "/report 12 以完成 错别字也能认")
    assert "完成情况：已完成：错别字也能认" in typo.text
    assert len(rows(seeded_copy_url, ProgressReport)) == 1


async def test_bulk_paste_preview_confirm_and_cancel(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    [preview] = await chat.say(STAFF, "/report\n12 已完成 第一项\n13 未完成 正在征求意见\n1 已完成 不是本科室的")
    assert preview.text.startswith("将登记以下 2 项（请确认）")
    assert "第3行：指标 1 由环评科牵头" in preview.text
    assert rows(seeded_copy_url, ProgressReport) == []
    before = len(chat.sandbox.messages_to(GROUP["id"]))
    await chat.press(STAFF, preview, 0)
    messages = await asyncio.to_thread(chat.sandbox.wait_for_messages, GROUP["id"], 2, after=before)
    assert preview.text == "已登记 2 项，回执如下。"
    assert sum("✅ 已登记" in m.text for m in messages) == 2
    assert [(r.indicator_id, r.status) for r in rows(seeded_copy_url, ProgressReport)][1][1] == ReportStatus.IN_PROGRESS
    [again] = await chat.say(STAFF, "/report\n12 已完成 再来\n13 已完成 再来")
    await chat.press(STAFF, again, 1)
    assert again.text == "已取消，未登记任何内容。"
    assert len(rows(seeded_copy_url, ProgressReport)) == 2


async def test_guided_flow(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    [menu] = await chat.say(STAFF, "/report")
    assert menu.text.startswith("法规科 2026年10月：共 ")
    first_number = menu.buttons[0]["text"]
    [question] = await chat.press(STAFF, menu, 0)
    assert question.text.endswith("上月完成情况？")
    [prompt] = await chat.press(STAFF, question, 1)  # 未完成
    assert prompt.text == "请回复本消息，写上正在推进情况："
    [confirm] = await chat.say(STAFF, "已起草，正在征求意见", reply_to=prompt.message_id)
    assert confirm.text.startswith("请确认：第" + first_number)
    await chat.press(STAFF, confirm, 0)
    [report] = rows(seeded_copy_url, ProgressReport)
    assert report.status == ReportStatus.IN_PROGRESS and report.text == "已起草，正在征求意见"


async def test_redelivered_update_creates_no_duplicate(
    chat: Chat, sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    await setup_unit_group(chat)
    [receipt] = await chat.say(STAFF, "/report 12 已完成 只应登记一次")
    update_id = rows(seeded_copy_url, ProgressReport)[0].source_update_id
    assert receipt.text.startswith("✅ 已登记")
    sandbox.redeliver(update_id)  # Telegram sends it again (e.g. the offset was never confirmed)
    [status] = await chat.say(STAFF, "/status")  # answered after the redelivered update was seen
    assert status.text.startswith("<b>法规科</b>")
    assert len(rows(seeded_copy_url, ProgressReport)) == 1  # the inbox knew the update: nothing twice


async def test_evidence_files(
    chat: Chat, sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, tmp_path: Path
) -> None:
    await setup_unit_group(chat)
    [saved] = await chat.send_file(STAFF, PDF, "情况说明.pdf", "#12 10月情况说明")
    assert saved.text.startswith("📎 已保存材料：情况说明.pdf")
    [row] = rows(seeded_copy_url, Attachment)
    sha = hashlib.sha256(PDF).hexdigest()
    assert (row.sha256, row.size, row.mime, row.period, row.caption) == (
        sha,
        len(PDF),
        "application/pdf",
        "2026-10",
        "10月情况说明",
    )
    stored = tmp_path / "files" / sha[:2] / sha[2:4] / sha
    assert (
        stored.read_bytes() == PDF and row.stored_path == f"{sha[:2]}/{sha[2:4]}/{sha}"
    )  # relative to the files folder
    [same] = await chat.send_file(STAFF, PDF, "again.pdf", "#12")
    assert "未重复保存" in same.text
    [exe] = await chat.send_file(STAFF, b"MZ\x90\x00" + b"\x00" * 100, "tool.exe", "#12")
    assert exe.text.startswith("不支持的文件类型")
    [empty] = await chat.send_file(STAFF, b"", "空.pdf", "#12")
    assert empty.text == "文件是空的（0 字节），请重新发送"
    [big] = await chat.send_file(STAFF, PDF, "扫描件.pdf", "#12", declared_size=25 * 1024 * 1024)
    assert "超过 Telegram 机器人可下载的 20 MB 上限" in big.text
    [hostile] = await chat.send_file(STAFF, b"plain text evidence\n", "../../etc/pass\x07wd.txt", "#12")
    assert "已保存材料：pass_wd.txt".replace("_", "") in hostile.text.replace("_", "")
    [forbidden] = await chat.send_file(STAFF, PDF + b"x", "别人的.pdf", "#1")
    assert "由环评科牵头" in forbidden.text
    attachments = rows(seeded_copy_url, Attachment)
    assert [a.original_name for a in attachments] == ["情况说明.pdf", "passwd.txt"]
    assert not any((tmp_path / "files" / "tmp").rglob("*.part"))  # no partial download left in any temp space
    [listing] = await chat.say(STAFF, "/files 12")
    assert listing.text.startswith("第12项 2026年10月 的佐证材料（2 个）")
    sent = await chat.press(STAFF, listing, 0)
    assert sent[-1].kind == "document" and sent[-1].file_id == attachments[0].telegram_file_id
    assert [name for name, _ in sandbox.calls].count("sendDocument") == 1


async def test_reply_to_receipt_attaches(
    chat: Chat, sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    await setup_unit_group(chat)
    [receipt] = await chat.say(STAFF, "/report 13 已完成 已公开征求意见")
    before = len(sandbox.messages_to(GROUP["id"]))
    sandbox.send_photo(GROUP, STAFF, tiny_jpeg(), reply_to=receipt.message_id)
    [saved] = await asyncio.to_thread(sandbox.wait_for_messages, GROUP["id"], 1, after=before)
    assert "已保存材料：照片.jpg" in saved.text and "第13项" in saved.text
    [row] = rows(seeded_copy_url, Attachment)
    indicator = next(i for i in rows(seeded_copy_url, Indicator) if i.id == row.indicator_id)
    assert (indicator.document_id[:3], indicator.key, row.mime) == ("000", "13", "image/jpeg")


async def test_report_button_on_a_search_answer(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    [answer] = await chat.say(STAFF, "/ask 规范性文件发文数量")
    assert answer.buttons[1]["text"] == "报进度"
    [question] = await chat.press(STAFF, answer, 1)
    [prompt] = await chat.press(STAFF, question, 0)
    [confirm] = await chat.say(STAFF, "已完成发文清理", reply_to=prompt.message_id)
    await chat.press(STAFF, confirm, 0)
    [report] = rows(seeded_copy_url, ProgressReport)
    assert report.text == "发文清理" and report.status == ReportStatus.DONE  # a repeated status word is taken off


async def test_file_replying_to_a_detail_card_and_during_guided_report(
    chat: Chat, sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    await setup_unit_group(chat)
    [answer] = await chat.say(STAFF, "/ask 规范性文件发文数量")
    [card] = await chat.press(STAFF, answer, 0)  # 详情
    assert card.text.endswith("回复本消息发送文件，即作为本项的佐证材料。")
    before = len(sandbox.messages_to(GROUP["id"]))
    sandbox.send_document(GROUP, STAFF, PDF, "发文清单.pdf", reply_to=card.message_id)
    [saved] = await asyncio.to_thread(sandbox.wait_for_messages, GROUP["id"], 1, after=before)
    assert "已保存材料：发文清单.pdf" in saved.text
    [menu] = await chat.say(STAFF, "/report")
    [question] = await chat.press(STAFF, menu, 0)
    await chat.press(STAFF, question, 0)
    before = len(sandbox.messages_to(GROUP["id"]))
    sandbox.send_document(GROUP, STAFF, PDF + b"%v2", "过程材料.pdf")
    [during] = await asyncio.to_thread(sandbox.wait_for_messages, GROUP["id"], 1, after=before)
    assert "已保存材料：过程材料.pdf" in during.text
    assert len(rows(seeded_copy_url, Attachment)) == 2


def test_partial_downloads_are_dropped_at_start(tmp_path: Path) -> None:
    from storage.blobs import BlobStore

    store = BlobStore(tmp_path, instance="host-a")
    partial = store.temp_path("crashed")
    partial.write_bytes(b"half a file")
    store.prepare()
    assert not partial.exists()
    assert sorted(tmp_path.rglob("*")) == [tmp_path / "tmp", tmp_path / "tmp" / "host-a"]


def test_each_instance_has_its_own_temp_space(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    from storage.blobs import BlobStore

    first, second = BlobStore(tmp_path), BlobStore(tmp_path, instance="other-host-1")
    downloading = second.temp_path("in-progress")
    downloading.write_bytes(b"being downloaded by the other instance")
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = BlobStore(tmp_path, instance=f"{socket.gethostname()}-{int(finished.stdout)}")
    dead.temp_path("crashed").write_bytes(b"half")
    first.prepare()  # starting one instance never touches another's downloads
    assert downloading.read_bytes() == b"being downloaded by the other instance"
    assert not dead.tmp.exists()  # a dead process on this host: its leftovers go
    assert first.tmp.is_dir() and first.tmp != second.tmp


async def test_join_by_picking_a_unit(
    chat: Chat, sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    [bound] = await chat.say(ADMIN, "/bind 法规科 000")
    assert bound.text.startswith("已将本群绑定为法规科的单位群")
    [menu] = await chat.say(STAFF, "/join")
    assert menu.text.startswith("请选择所属单位") and [b["text"] for b in menu.buttons] == ["法规科"]
    [request] = await chat.press(STAFF, menu, 0)
    assert "申请登记为 <b>法规科</b>" in request.text
    private = sandbox.private_chat(OTHER)
    [offer] = await chat.say(OTHER, "/join", chat=private)
    assert len(offer.buttons) == 12 and offer.buttons[0]["text"] == "法规科"  # the units owning most indicators
