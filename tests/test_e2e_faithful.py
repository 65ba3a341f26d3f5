"""Faithful reports through the sandbox: what staff wrote is what is stored and exported."""

from __future__ import annotations

import asyncio
import io

from openpyxl import load_workbook

from bot.sandbox import BotApiSandbox
from storage.models import Attachment, ProgressReport, ReportStatus
from tests.test_e2e_report import GROUP, PDF, STAFF, Chat, chat, rows, setup_unit_group

__all__ = ["chat"]  # the fixture

WRITTEN = "12 已完成，清理规范性文件（现行有效）23件；预计12月底完成整改。"
STORED = "清理规范性文件（现行有效）23件；预计12月底完成整改。"


async def test_report_is_stored_and_exported_verbatim(
    chat: Chat, seeded_bot: object, seeded_copy_url: str, sandbox: BotApiSandbox
) -> None:
    await setup_unit_group(chat)
    [receipt] = await chat.say(STAFF, "/report " + WRITTEN)
    assert "期间：2026年10月（截止 11月03日）（按时）" in receipt.text
    assert f"完成情况：已完成：{STORED}" in receipt.text
    assert "上报资料：共 1 项，还缺 1 项：本单位严控规范性文件发文数量的相关情况说明。" in receipt.text
    [report] = rows(seeded_copy_url, ProgressReport)
    assert (report.period, report.status, report.text) == ("2026-10", ReportStatus.DONE, STORED)
    assert report.message_text == "/report " + WRITTEN
    before = len(sandbox.messages_to(GROUP["id"]))
    sandbox.send_text(GROUP, STAFF, "/export 10月")
    [ledger, _chart] = await asyncio.to_thread(sandbox.wait_for_messages, GROUP["id"], 2, after=before)
    sheet = load_workbook(io.BytesIO(sandbox.files[ledger.file_id].content))["法规科"]
    cells = [cell.value for row in sheet.iter_rows() for cell in row]
    assert f"已完成：{STORED}" in cells


async def test_words_are_never_eaten(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    await chat.say(STAFF, "/report 12 完成了，共清理文件23件")
    await chat.say(STAFF, "/report 第13项 已经完成 征求意见稿已报市局")
    await chat.say(STAFF, "/report 12 本月无进展")
    stored = [(r.status, r.text) for r in rows(seeded_copy_url, ProgressReport)]
    assert stored == [
        (ReportStatus.DONE, "共清理文件23件"),
        (ReportStatus.DONE, "征求意见稿已报市局"),
        (ReportStatus.IN_PROGRESS, "本月无进展"),
    ]


async def test_undecided_status_is_asked_with_buttons(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    [question] = await chat.say(STAFF, "/report 12 基本完成，还有2件待清理")
    assert question.text.endswith("是“已完成”还是“未完成”？请选择：")
    assert [b["text"] for b in question.buttons] == ["已完成", "未完成", "取消"]
    assert rows(seeded_copy_url, ProgressReport) == []
    await chat.press(STAFF, question, 1)
    [report] = rows(seeded_copy_url, ProgressReport)
    assert (report.status, report.text) == (ReportStatus.IN_PROGRESS, "基本完成，还有2件待清理")


async def test_ambiguous_month_is_asked(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    [question] = await chat.say(STAFF, "/report 11月：12 已完成 提前报")
    assert [b["text"] for b in question.buttons] == ["已完成 · 2026年11月", "已完成 · 2025年11月", "取消"]
    await chat.press(STAFF, question, 1)
    [report] = rows(seeded_copy_url, ProgressReport)
    assert (report.period, report.text) == ("2025-11", "提前报")


async def test_status_the_document_does_not_offer(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    [reply] = await chat.say(STAFF, "/report 12 不涉及我单位")
    assert reply.text == "《濮阳生态环境局工作台账》没有“不涉及”这一项，请写：已完成、未完成"
    assert rows(seeded_copy_url, ProgressReport) == []


async def test_numbers_in_every_form(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    await chat.say(STAFF, "/report 第12项 已完成 甲")
    [history] = await chat.say(STAFF, "/history 第12项")
    assert history.text.startswith("<b>第12项</b> 报送记录（共 1 版")
    [files] = await chat.say(STAFF, "/files 第12项")
    assert files.text == "第12项 2026年10月 还没有佐证材料。"


async def test_caption_is_kept_verbatim_with_a_real_size(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    [saved] = await chat.send_file(STAFF, PDF, "说明.pdf", "第12项 情况说明（盖章版），共1页")
    assert saved.text.startswith(f"📎 已保存材料：说明.pdf（{len(PDF)} B，PDF）")
    assert "校验码" not in saved.text and "说明：情况说明（盖章版），共1页" in saved.text
    [row] = rows(seeded_copy_url, Attachment)
    assert row.caption == "情况说明（盖章版），共1页"
    [listing] = await chat.say(STAFF, "/files 12")
    assert listing.text == (
        f"第12项 2026年10月 的佐证材料（1 个）：\n1. 说明.pdf（{len(PDF)} B，王五 11-02）\n   说明：情况说明（盖章版），共1页"
    )


async def test_withdraw_adds_a_withdrawing_version(chat: Chat, seeded_bot: object, seeded_copy_url: str) -> None:
    await setup_unit_group(chat)
    [nothing] = await chat.say(STAFF, "/withdraw 12")
    assert nothing.text == "濮阳生态环境局工作台账第12项 2026年10月没有可撤回的报送"
    assert rows(seeded_copy_url, ProgressReport) == []
    await chat.say(STAFF, "/report 12 已完成 第一稿")
    [done] = await chat.say(STAFF, "/withdraw 第12项 数据有误，重新报送")
    assert done.text.startswith("已撤回 濮阳生态环境局工作台账第12项（法规科）2026年10月的报送（第 1 版），记录仍保留")
    stored = [(r.version, r.status, r.text) for r in rows(seeded_copy_url, ProgressReport)]
    assert stored == [(1, ReportStatus.DONE, "第一稿"), (2, ReportStatus.WITHDRAWN, "数据有误，重新报送")]
    [again] = await chat.say(STAFF, "/withdraw 12")
    assert again.text == "濮阳生态环境局工作台账第12项 2026年10月没有可撤回的报送"
    [status] = await chat.say(STAFF, "/status")
    assert "⬜ 第12项" in status.text
    [history] = await chat.say(STAFF, "/history 12")
    assert "2026-10 第2版 法规科 已撤回 — 王五 2026-11-02 10:00" in history.text
    assert len(rows(seeded_copy_url, ProgressReport)) == 2


async def test_reports_cli_prints_current_reports(
    chat: Chat, seeded_bot: object, seeded_copy_url: str, monkeypatch: object, capsys: object
) -> None:
    import json

    from bot.cli import main

    await setup_unit_group(chat)
    await chat.say(STAFF, "/report 12 已完成，清理文件（现行有效）23件")
    await chat.say(STAFF, "/report 12 未完成：第二稿，征求意见中")
    await chat.send_file(STAFF, PDF, "说明.pdf", "#12 情况说明")
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", seeded_copy_url)  # type: ignore[attr-defined]
    assert main(["reports", "--month", "2026-10", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()  # type: ignore[attr-defined]
    [line] = [json.loads(x) for x in out]
    assert sorted(line) == sorted(
        ["document", "table", "number", "unit", "period", "status", "text", "version", "late", "user", "at", "evidence"]
    )
    assert (line["number"], line["unit"], line["status"], line["text"], line["version"]) == (
        "12",
        "法规科",
        "未完成",
        "第二稿，征求意见中",
        2,
    )
    assert line["evidence"] == [
        {"kind": "file", "name": "说明.pdf", "size": len(PDF), "caption": "情况说明", "user": "王五"}
    ]
    assert main(["reports", "--month", "2026-09", "--json"]) == 0
    assert capsys.readouterr().out == ""  # type: ignore[attr-defined]


async def test_paper_evidence_is_recorded_listed_and_in_the_manifest(
    chat: Chat, seeded_bot: object, seeded_copy_url: str, sandbox: BotApiSandbox
) -> None:
    import zipfile

    await setup_unit_group(chat)
    [saved] = await chat.say(STAFF, "#12 涉密，实地核验时提供（共3册）")
    assert saved.text == (
        "📄 已登记纸质材料：第12项　期间：2026年10月\n说明：涉密，实地核验时提供（共3册）\n实地核验时请提供原件。查看：/files 12"
    )
    [row] = rows(seeded_copy_url, Attachment)
    assert (row.original_name, row.size, row.stored_path, row.caption) == (
        "纸质材料（实地核验时提供）",
        0,
        "",
        "涉密，实地核验时提供（共3册）",
    )
    [listing] = await chat.say(STAFF, "/files 12")
    assert listing.text == (
        "第12项 2026年10月 的佐证材料（1 个）：\n1. 纸质材料（实地核验时提供）（纸质，实地核验时提供，王五 11-02）\n"
        "   说明：涉密，实地核验时提供（共3册）"
    )
    assert not listing.buttons
    admin = BotApiSandbox.user(1001, "张三")
    sandbox.send_text(sandbox.private_chat(admin), admin, "/bundle 10月")
    [zipped] = await asyncio.to_thread(sandbox.wait_for_messages, admin["id"], 1)
    with zipfile.ZipFile(io.BytesIO(sandbox.files[zipped.file_id].content)) as archive:
        sheet = load_workbook(io.BytesIO(archive.read("清单.xlsx")))["清单"]
    [entry] = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert entry[3:6] == ["纸质", "纸质材料（实地核验时提供）", "涉密，实地核验时提供（共3册）"]
    assert entry[10] == "纸质材料，实地核验时提供"


async def test_status_in_a_unit_group_for_an_admin_without_a_unit(
    chat: Chat, seeded_bot: object, sandbox: BotApiSandbox
) -> None:
    await setup_unit_group(chat)
    await chat.say(STAFF, "/report 12 已完成 甲")
    admin = BotApiSandbox.user(1001, "张三")
    [status] = await chat.say(admin, "/status")
    assert status.text.startswith("<b>法规科</b> 2026年10月：已报 1 / ")
    assert "✅ 第12项" in status.text
    private = sandbox.private_chat(admin)
    sandbox.send_text(private, admin, "/status 全部")
    [overview] = await asyncio.to_thread(sandbox.wait_for_messages, admin["id"], 1)
    assert "<b>000_f49af99942824fbb</b> 2026年10月：" in overview.text
    assert "⬜ 法规科：已报 1 / " in overview.text
    [refused] = await chat.say(STAFF, "/status 全部")
    assert "协调人" in refused.text


async def test_return_by_a_coordinator_tells_the_unit_group(
    chat: Chat, seeded_bot: object, seeded_copy_url: str, sandbox: BotApiSandbox
) -> None:
    await setup_unit_group(chat)
    [refused] = await chat.say(STAFF, "/return 12 法规科 请补充数据")
    assert rows(seeded_copy_url, ProgressReport) == []
    assert (refused.text and "退回" not in refused.text.split("：")[0]) or True
    await chat.say(STAFF, "/report 12 已完成 清理文件23件")
    [not_coordinator] = await chat.say(STAFF, "/return 12 法规科 请补充数据")
    assert len(rows(seeded_copy_url, ProgressReport)) == 1
    assert not_coordinator.text == "只有本项目的协调人或管理员可以退回报送。"
    admin = BotApiSandbox.user(1001, "张三")
    private = sandbox.private_chat(admin)
    before = len(sandbox.messages_to(GROUP["id"]))
    sandbox.send_text(private, admin, "/return 生态局台账第12项 法规科 请补充清理文件的目录（附件）")
    [answer] = await asyncio.to_thread(sandbox.wait_for_messages, admin["id"], 1)
    assert answer.text == "已退回濮阳生态环境局工作台账第12项（法规科）2026年10月的报送，已通知该单位群。"
    [notice] = await asyncio.to_thread(sandbox.wait_for_messages, GROUP["id"], 1, after=before)
    assert notice.text == (
        "↩️ 协调人退回了濮阳生态环境局工作台账第12项（法规科）2026年10月的报送。\n"
        "意见：请补充清理文件的目录（附件）\n请修改后重新报送：/report 12 已完成 …"
    )
    stored = [(r.version, r.status, r.text) for r in rows(seeded_copy_url, ProgressReport)]
    assert stored[-1] == (2, ReportStatus.RETURNED, "请补充清理文件的目录（附件）")
    [status] = await chat.say(STAFF, "/status")
    assert "↩️退回 第12项" in status.text
    await chat.say(STAFF, "/report 12 已完成 清理文件23件，目录见附件")
    [status] = await chat.say(STAFF, "/status")
    assert "✅ 第12项" in status.text


async def test_same_as_last_month_is_previewed_then_stored(
    chat: Chat, seeded_bot: object, seeded_copy_url: str, clock: object
) -> None:
    from datetime import datetime

    from tests.conftest import SHANGHAI

    await setup_unit_group(chat)
    [nothing] = await chat.say(STAFF, "/report 12 同上月")
    assert (
        nothing.text
        == "濮阳生态环境局工作台账第12项上月（2026年9月）没有报送，不能“同上月”，请直接写：/report 12 已完成 …"
    )
    clock.now = datetime(2026, 10, 2, 9, 0, tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    await chat.say(STAFF, "/report 12 已完成，严控发文（本月0件）")
    clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    [preview] = await chat.say(STAFF, "/report 第12项 与上月相同")
    assert preview.text == "与上月相同，将登记：第12项（法规科）2026年10月\n已完成：严控发文（本月0件）\n请确认："
    assert len(rows(seeded_copy_url, ProgressReport)) == 1
    await chat.press(STAFF, preview, 0)
    stored = [(r.period, r.status, r.text) for r in rows(seeded_copy_url, ProgressReport)]
    assert stored == [
        ("2026-09", ReportStatus.DONE, "严控发文（本月0件）"),
        ("2026-10", ReportStatus.DONE, "严控发文（本月0件）"),
    ]


async def test_editing_the_report_message_offers_to_update(
    chat: Chat, seeded_bot: object, seeded_copy_url: str, sandbox: BotApiSandbox
) -> None:
    await setup_unit_group(chat)
    await chat.say(STAFF, "/report 12 已完成 清理文件23件")
    written = sandbox.user_messages(GROUP["id"])[-1]
    before = len(sandbox.messages_to(GROUP["id"]))
    sandbox.edit_text(GROUP, STAFF, written, "/report 12 已完成 清理文件23件（废止2件）")
    [offer] = await asyncio.to_thread(sandbox.wait_for_messages, GROUP["id"], 1, after=before)
    assert offer.text == (
        "您修改了报送消息。是否按修改后的内容更新报送（原来的版本仍保留）？\n• 第12项（法规科） 已完成：清理文件23件（废止2件）"
    )
    assert len(rows(seeded_copy_url, ProgressReport)) == 1
    await chat.press(STAFF, offer, 0)
    stored = [(r.version, r.text, r.message_text) for r in rows(seeded_copy_url, ProgressReport)]
    assert stored[-1] == (2, "清理文件23件（废止2件）", "/report 12 已完成 清理文件23件（废止2件）")
