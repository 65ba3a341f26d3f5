"""Delivery: update claims per bot, replayed evidence, a second poller, webhook mode with its secret."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from telegram import Update

from bot.app import build_application, running
from bot.config import Config, derive_webhook_secret, load_config
from bot.durable import CONFLICT_LINE, InboxBot
from bot.sandbox import TERMINATED_BY_OTHER, BotApiSandbox
from storage.db import Database
from storage.models import Attachment, InboxUpdate, Member, MemberRole, MemberStatus, ProgressReport, Unit
from tests.conftest import SHANGHAI, FakeClock

STAFF = BotApiSandbox.user(3003, "王五")
CHAT = BotApiSandbox.private_chat(STAFF)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def bot_config(sandbox: BotApiSandbox, db_url: str, tmp_path: Path, **extra: str) -> Config:
    return load_config(
        {
            "TAIZHANG_BOT_TOKEN": sandbox.token,
            "TAIZHANG_API_BASE_URL": sandbox.base_url,
            "TAIZHANG_DATABASE_URL": db_url,
            "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
            "TAIZHANG_ADMINS": "1001",
            "TAIZHANG_REMINDERS": "off",
            **extra,
        }
    )


def add_staff(db_url: str) -> None:
    """王五 is a member of 法规科 (which alone owns #61 of document 000)."""
    db = Database(db_url)
    with db.session_scope() as session:
        unit = session.scalar(select(Unit).where(Unit.name == "法规科"))
        assert unit is not None
        session.add(Member(telegram_user_id=STAFF["id"], display_name="王五", unit_id=unit.id,
                           role=MemberRole.MEMBER, status=MemberStatus.ACTIVE,
                           created_at=datetime(2026, 11, 1, tzinfo=SHANGHAI)))  # fmt: skip
    db.dispose()


def stored(db_url: str, column: object) -> list[object]:
    db = Database(db_url)
    try:
        with db.session_scope() as session:
            return list(session.scalars(select(column)))  # type: ignore[call-overload]
    finally:
        db.dispose()


async def said(sandbox: BotApiSandbox, text: str) -> str:
    before = len(sandbox.messages_to(CHAT["id"]))
    sandbox.send_text(CHAT, STAFF, text)
    [answer] = await asyncio.to_thread(sandbox.wait_for_messages, CHAT["id"], 1, after=before)
    return answer.text


async def test_restarted_api_server_numbering_from_1_again_skips_nothing(
    seeded_copy_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    add_staff(seeded_copy_url)
    token = f"{BotApiSandbox().bot_id}:restarted-server-keeps-the-token-000"
    for run, text in enumerate(["第一次运行", "第二次运行"]):
        with BotApiSandbox(token) as sandbox:  # a fresh server: update ids start at 1 again
            app = build_application(bot_config(sandbox, seeded_copy_url, tmp_path), clock=clock)
            async with running(app):
                answer = await said(sandbox, f"/report 61 已完成 {text}")
            assert sandbox.calls[-1][0] == "getUpdates"
            assert answer.startswith("✅ 已登记") and f"完成情况：已完成：{text}" in answer, run
        clock.now = clock.now.replace(minute=run + 1)
    assert sorted(stored(seeded_copy_url, ProgressReport.text)) == ["第一次运行", "第二次运行"]  # type: ignore[type-var]
    assert stored(seeded_copy_url, InboxUpdate.update_id) == [1]  # the id reused, the row replaced


async def test_claims_of_another_bot_do_not_hide_updates(
    seeded_copy_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    add_staff(seeded_copy_url)
    for bot_id in (111111, 222222):  # a new token (another bot id) on the same database
        with BotApiSandbox(f"{bot_id}:another-bot-token-000000000") as sandbox:
            app = build_application(bot_config(sandbox, seeded_copy_url, tmp_path), clock=clock)
            async with running(app):
                assert "✅ 已登记" in await said(sandbox, f"/report 61 已完成 机器人{bot_id}")
    assert len(stored(seeded_copy_url, ProgressReport.id)) == 2
    assert sorted(stored(seeded_copy_url, InboxUpdate.bot_id)) == [111111, 222222]  # type: ignore[type-var]


async def test_evidence_replayed_after_a_crash_gets_its_receipt(
    sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """Stored and claimed, but the handled mark was lost (kill -9): the replay answers again."""
    add_staff(seeded_copy_url)
    config = bot_config(sandbox, seeded_copy_url, tmp_path)
    async with running(build_application(config, clock=clock)):
        sandbox.send_document(CHAT, STAFF, PDF, "情况说明.pdf", caption="#61 十月情况")
        [first] = await asyncio.to_thread(sandbox.wait_for_messages, CHAT["id"], 1)
    assert first.text.startswith("📎 已保存材料：情况说明.pdf")
    db = Database(seeded_copy_url)
    with db.session_scope() as session:  # what a kill -9 before the mark leaves behind
        session.execute(update(InboxUpdate).values(handled=False))
    db.dispose()
    async with running(build_application(config, clock=clock)):
        [_, again] = await asyncio.to_thread(sandbox.wait_for_messages, CHAT["id"], 2)
    assert again.text == first.text
    assert len(stored(seeded_copy_url, Attachment.id)) == 1


async def test_a_second_instance_polling_the_same_token_stops_with_one_line(
    sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    add_staff(seeded_copy_url)
    config = bot_config(sandbox, seeded_copy_url, tmp_path)
    first, second = build_application(config, clock=clock), build_application(config, clock=clock)
    with caplog.at_level(logging.ERROR, logger="bot.durable"):
        async with running(first), running(second):
            # The second one's getUpdates terminates the first one's (as Telegram does).
            await asyncio.to_thread(sandbox.wait_for, lambda: isinstance(first.bot, InboxBot) and first.bot.conflict)
            await asyncio.to_thread(sandbox.wait_for, lambda: first.updater is not None and not first.updater.running)
            for number in range(5):
                assert "✅ 已登记" in await said(sandbox, f"/report 61 已完成 第{number}条")
            await asyncio.sleep(0)
            polls = sum(1 for method, _ in sandbox.calls if method == "getUpdates")
            assert "✅ 已登记" in await said(sandbox, "/report 61 已完成 最后一条")
            assert sum(1 for method, _ in sandbox.calls if method == "getUpdates") - polls <= 3  # no ping-pong
            assert isinstance(second.bot, InboxBot) and second.bot.conflict is None
    assert [r.getMessage() for r in caplog.records] == [f"{CONFLICT_LINE} ({TERMINATED_BY_OTHER})"]
    receipts = [m.text for m in sandbox.messages_to(CHAT["id"])]
    assert len(receipts) == 6 and len(set(receipts)) == 6
    assert len(stored(seeded_copy_url, ProgressReport.id)) == 6


def test_webhook_secret_comes_from_the_environment_or_the_token(sandbox: BotApiSandbox, tmp_path: Path) -> None:
    derived = bot_config(sandbox, "sqlite:///x.db", tmp_path).webhook_secret
    assert derived.value == derive_webhook_secret(sandbox.token).value  # every instance agrees
    assert len(derived.value) == 64 and sandbox.token not in derived.value and str(derived) == "***"
    other = BotApiSandbox(f"{sandbox.bot_id}:another-token-000000000000").token
    assert derive_webhook_secret(other).value != derived.value
    chosen = bot_config(sandbox, "sqlite:///x.db", tmp_path, TAIZHANG_WEBHOOK_SECRET="my-secret_1")
    assert chosen.webhook_secret.value == "my-secret_1"
    with pytest.raises(ValueError, match="TAIZHANG_WEBHOOK_SECRET"):
        bot_config(sandbox, "sqlite:///x.db", tmp_path, TAIZHANG_WEBHOOK_SECRET="带空格 的")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_refuses_requests_without_the_secret_and_is_durable(
    sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    add_staff(seeded_copy_url)
    config = bot_config(sandbox, seeded_copy_url, tmp_path)
    app = build_application(config, clock=clock)
    port = free_port()
    forged = {
        "update_id": 7,
        "message": {"message_id": 1, "date": 1, "chat": CHAT, "from": STAFF, "text": "/report 61 已完成 伪造",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 7}]},
    }  # fmt: skip
    async with app:
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        await app.updater.start_webhook(  # the same call run_webhook makes for `taizhang run --webhook`
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            allowed_updates=Update.ALL_TYPES,
            secret_token=config.webhook_secret.value,
        )
        await app.start()
        try:
            assert sandbox.webhook_url == f"http://127.0.0.1:{port}/hook"
            assert sandbox.handle("getUpdates", {})[0] == 409  # no polling while the webhook is set
            url = f"http://127.0.0.1:{port}/hook"
            async with httpx.AsyncClient() as client:
                body = json.dumps(forged)
                headers = {"Content-Type": "application/json"}
                assert (await client.post(url, content=body, headers=headers)).status_code == 403
                wrong = {**headers, "X-Telegram-Bot-Api-Secret-Token": "guess"}
                assert (await client.post(url, content=body, headers=wrong)).status_code == 403
                assert stored(seeded_copy_url, ProgressReport.id) == []
                assert stored(seeded_copy_url, InboxUpdate.update_id) == []
                right = {**headers, "X-Telegram-Bot-Api-Secret-Token": config.webhook_secret.value}
                for _ in range(2):  # Telegram redelivers when it saw no 200 in time
                    assert (await client.post(url, content=body, headers=right)).status_code == 200
            [receipt] = await asyncio.to_thread(sandbox.wait_for_messages, CHAT["id"], 1)
            assert receipt.text.startswith("✅ 已登记")
            await asyncio.to_thread(sandbox.wait_for, lambda: stored(seeded_copy_url, InboxUpdate.handled) == [True], 5)
        finally:
            await app.updater.stop()
            await app.stop()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
    assert stored(seeded_copy_url, ProgressReport.text) == ["伪造"]  # once: the inbox dropped the second POST
    assert len(sandbox.messages_to(CHAT["id"])) == 1


async def test_taizhang_run_exits_1_when_another_instance_takes_over(
    sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path, clock: FakeClock
) -> None:
    """The real CLI process: its long poll is terminated by a newer poller, it says so once and exits 1."""
    import subprocess
    import sys

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TAIZHANG_BOT_TOKEN": sandbox.token,
        "TAIZHANG_API_BASE_URL": sandbox.base_url,
        "TAIZHANG_DATABASE_URL": seeded_copy_url,
        "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
    }
    log_path = tmp_path / "first.log"
    command = [sys.executable, "-m", "bot.cli", "run"]
    with log_path.open("wb") as log:  # the child keeps its own descriptor
        first = await asyncio.to_thread(subprocess.Popen, command, env=env, stdout=log, stderr=log, cwd=tmp_path)
    try:
        await asyncio.to_thread(
            sandbox.wait_for, lambda: any(method == "getUpdates" for method, _ in sandbox.calls), 60
        )
        async with running(build_application(bot_config(sandbox, seeded_copy_url, tmp_path), clock=clock)):
            code = await asyncio.to_thread(first.wait, 30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
    assert code == 1
    assert (
        log_path.read_text("utf-8").count("另一个实例正在用同一个机器人令牌接收消息（409 Conflict），本实例停止。") == 1
    )
