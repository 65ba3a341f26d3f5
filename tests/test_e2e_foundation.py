"""End to end through the sandbox with the real PTB Application."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.app import build_application, running
from bot.config import Config
from bot.sandbox import BotApiSandbox, Fault
from handlers.common import help_text
from knowledge.intent import HELP_TEXT

USER = BotApiSandbox.user(1001, "张三")
OTHER = BotApiSandbox.user(2002, "李四")
GROUP = BotApiSandbox.group_chat(-100_555, "法规科工作群")

EXPECTED_HELP = (
    "<b>可用命令</b>\n"
    "/start — 开始使用台账助手\n"
    "/help — 查看可用命令\n"
    "/import — 导入指标表（管理员：发送 .docx/.xlsx/.txt 文件，说明写 /import）\n"
    "/join — 登记所属单位：/join 法规科 刘海利\n"
    "/bind — 绑定本群（协调人）：/bind 法规科 或 /bind 协调 [文档]\n"
    "/addmember — 直接添加成员（协调人）：/addmember 用户ID 单位 姓名 [协调人 文档…]\n"
    "/webhook — 提醒同步到企业微信/钉钉/飞书群机器人（协调人）：/webhook wecom 地址\n"
    "/report — 报进度：/report 31 已完成 具体情况（可多行；单独 /report 逐项填报）\n"
    "/status — 本单位本期报送情况（协调人可 /status 单位、/status 全部）\n"
    "/history — 某项指标的全部报送记录：/history 31\n"
    "/withdraw — 撤回本单位本期的报送：/withdraw 31 [原因]\n"
    "/return — 协调人退回报送：/return 31 [单位] 意见\n"
    "/files — 查看并重发某项指标本期的佐证材料：/files 31\n"
    "/deadline — 截止日期（协调人）：/deadline add 10月28日 自查报告 [单位…]、list、remove 编号|日期、day 3\n"
    "/rules — 报送规则：/rules [文档]（每月几号前报、报给谁、阶段、状态、材料要求、联系人）\n"
    "/export — 导出工作台账 xlsx：/export [10月|2026-10|上月] [单位]\n"
    "/bundle — 打包佐证材料 zip：/bundle [10月|2026-10|上月] [指标编号]\n"
    "/score — 打分表自评：/score 党委2 1.5 理由；/score 党委2 查看记录\n"
    "/ask — 查询指标：/ask 执法文书格式谁负责、/ask 李建伟、/ask 12\n"
    "\n"
    "群聊中请用命令（如 /help），或回复我的消息。"
)


async def wait_messages(sandbox: BotApiSandbox, chat_id: int, count: int = 1, after: int = 0) -> list:
    return await asyncio.to_thread(sandbox.wait_for_messages, chat_id, count, after=after)


async def test_start_in_private(sandbox: BotApiSandbox, bot_app: object) -> None:
    sandbox.send_text(sandbox.private_chat(USER), USER, "/start")
    [reply] = await wait_messages(sandbox, USER["id"])
    assert reply.text.startswith("您好，我是<b>台账助手</b>")
    assert reply.text.endswith(EXPECTED_HELP)
    assert reply.parse_mode == "HTML"


async def test_help_with_bot_name_in_group(sandbox: BotApiSandbox, bot_app: object) -> None:
    sandbox.send_text(GROUP, USER, "/help@taizhang_sandbox_bot")
    [reply] = await wait_messages(sandbox, GROUP["id"])
    assert reply.text == EXPECTED_HELP
    assert help_text() == EXPECTED_HELP


async def test_commands_are_published_at_start(sandbox: BotApiSandbox, bot_app: object) -> None:
    assert [c["command"] for c in sandbox.commands] == [
        "start", "help", "import", "join", "bind", "addmember", "webhook", "report", "status", "history", "withdraw", "return", "files", "deadline", "rules", "export", "bundle", "score", "ask",
    ]  # fmt: skip
    assert sandbox.commands[0]["description"] == "开始使用台账助手"


async def test_429_then_500_is_retried(sandbox: BotApiSandbox, bot_app: object) -> None:
    sandbox.inject_fault("sendMessage", Fault.retry_after_seconds(1))
    sandbox.inject_fault("sendMessage", Fault.server_error(500))
    sandbox.send_text(sandbox.private_chat(OTHER), OTHER, "/help")
    [reply] = await wait_messages(sandbox, OTHER["id"])
    assert reply.text == EXPECTED_HELP
    assert sandbox.faults_served == [("sendMessage", "retry_after"), ("sendMessage", "server_error")]
    assert [name for name, _ in sandbox.calls].count("sendMessage") == 1  # then success


async def test_dropped_connection_is_retried(sandbox: BotApiSandbox, bot_app: object) -> None:
    sandbox.inject_fault("sendMessage", Fault.drop())
    sandbox.send_text(sandbox.private_chat(USER), USER, "/help")
    [reply] = await wait_messages(sandbox, USER["id"])
    assert reply.text == EXPECTED_HELP


async def test_unknown_command(sandbox: BotApiSandbox, bot_app: object) -> None:
    sandbox.send_text(sandbox.private_chat(USER), USER, "/nosuch 参数")
    sandbox.send_text(GROUP, USER, "/other_bots_command")  # not ours: silence in groups
    sandbox.send_text(GROUP, USER, "/nosuch@taizhang_sandbox_bot")
    [private] = await wait_messages(sandbox, USER["id"])
    [group] = await wait_messages(sandbox, GROUP["id"])
    assert private.text == "未知命令 /nosuch，发送 /help 查看可用命令。"
    assert group.text == "未知命令 /nosuch，发送 /help 查看可用命令。"


async def test_plain_text_in_private_is_a_question(sandbox: BotApiSandbox, bot_app: object) -> None:
    sandbox.send_text(sandbox.private_chat(USER), USER, "<b>你好</b>")
    [reply] = await wait_messages(sandbox, USER["id"])
    assert reply.text == HELP_TEXT  # markup stripped; a greeting gets the short help, not a search miss
    sandbox.send_text(sandbox.private_chat(USER), USER, "<i>执法记录仪</i>")
    [_, reply] = await wait_messages(sandbox, USER["id"], count=2)
    assert reply.text.startswith("没有找到与“执法记录仪”相关的指标。")  # no tables yet


async def test_malformed_update_does_not_stop_the_bot(sandbox: BotApiSandbox, bot_app: object) -> None:
    sandbox.push_raw_update({"unknown_kind": {"x": 1}})
    sandbox.push_raw_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}})
    sandbox.send_text(sandbox.private_chat(USER), USER, "/help")
    [reply] = await wait_messages(sandbox, USER["id"])
    assert reply.text == EXPECTED_HELP


async def test_handler_crash_is_answered_in_chinese(
    sandbox: BotApiSandbox, bot_app: object, caplog: pytest.LogCaptureFixture
) -> None:
    from telegram.ext import Application, CommandHandler

    async def broken(*_args: object) -> None:
        raise ValueError("kaputt")

    assert isinstance(bot_app, Application)
    bot_app.handlers[0].insert(0, CommandHandler("broken", broken))  # before the fallbacks
    with caplog.at_level(logging.ERROR):
        sandbox.send_text(sandbox.private_chat(USER), USER, "/broken")
        [reply] = await wait_messages(sandbox, USER["id"])
    assert reply.text.startswith("抱歉，处理您的消息时出错了（错误编号 ")
    assert any("kaputt" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    sandbox.send_text(sandbox.private_chat(USER), USER, "/help")
    [_, second] = await wait_messages(sandbox, USER["id"], count=2)
    assert second.text == EXPECTED_HELP


async def test_unknown_method_answers_400(sandbox: BotApiSandbox, bot_app: object) -> None:
    from telegram.error import BadRequest
    from telegram.ext import Application

    assert isinstance(bot_app, Application)
    with pytest.raises(BadRequest, match="does not support"):
        await bot_app.bot.get_chat(-1)
    assert sandbox.unsupported_calls == ["getChat"]


async def test_clean_shutdown_under_a_second(config: Config) -> None:
    app = build_application(config)
    async with running(app):
        started = time.monotonic()
    assert time.monotonic() - started < 1.0
    assert not app.running


async def test_token_never_logged(sandbox: BotApiSandbox, config: Config, caplog: pytest.LogCaptureFixture) -> None:
    from bot.logging_setup import configure_logging

    configure_logging(logging.DEBUG, secrets=[sandbox.token])
    for handler in logging.getLogger().handlers:
        caplog.handler.filters = handler.filters
    with caplog.at_level(logging.DEBUG):
        app = build_application(config)
        async with running(app):
            sandbox.send_text(sandbox.private_chat(USER), USER, "/help")
            await wait_messages(sandbox, USER["id"])
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert text  # something was logged
    assert sandbox.token not in text
