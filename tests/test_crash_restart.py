"""Kill -9 a real bot process while 200 reports stream in; after a restart every report is
stored exactly once, and every receipt the bot sent matches a stored report."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.sandbox import BotApiSandbox
from storage.db import Database
from storage.models import Member, MemberRole, MemberStatus, ProgressReport, Unit

STAFF = BotApiSandbox.user(3003, "王五")
CHAT = BotApiSandbox.private_chat(STAFF)  # private: Telegram's 20-per-minute group limit would dominate
TOTAL = 200


def start_bot(sandbox: BotApiSandbox, db_url: str, tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TAIZHANG_BOT_TOKEN": sandbox.token,
        "TAIZHANG_API_BASE_URL": sandbox.base_url,
        "TAIZHANG_DATABASE_URL": db_url,
        "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
    }
    with (tmp_path / f"{name}.log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env, stdout=log, stderr=log, cwd=tmp_path)


def stored(db: Database) -> list[str]:
    with db.session_scope() as session:
        return list(session.scalars(select(ProgressReport.text)))


def wait_until(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)  # polling an external process; no clock of ours is involved


def test_kill_and_restart_loses_and_duplicates_nothing(
    sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path
) -> None:
    db = Database(seeded_copy_url)
    now = datetime.now(UTC)
    with db.session_scope() as session:
        unit = session.scalar(select(Unit).where(Unit.name == "法规科"))
        assert unit is not None
        session.add(Member(telegram_user_id=STAFF["id"], display_name="王五", unit_id=unit.id,
                           role=MemberRole.MEMBER, status=MemberStatus.ACTIVE, created_at=now))  # fmt: skip

    first = start_bot(sandbox, seeded_copy_url, tmp_path, "first")
    try:
        for number in range(TOTAL):
            sandbox.send_text(CHAT, STAFF, f"/report 61 已完成 第{number}条")  # 000 #61 (法规科 only there)
        wait_until(lambda: len(sandbox.messages_to(CHAT["id"])) >= 40, 60, "first bot answered 40 reports")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    acknowledged_before_kill = len(sandbox.messages_to(CHAT["id"]))
    assert 40 <= acknowledged_before_kill < TOTAL

    second = start_bot(sandbox, seeded_copy_url, tmp_path, "second")
    try:
        wait_until(lambda: len(stored(db)) >= TOTAL and sandbox.pending_updates() == 0, 120, "all reports stored")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)

    texts = stored(db)
    assert sorted(texts) == sorted(f"第{n}条" for n in range(TOTAL))  # each exactly once
    with db.session_scope() as session:
        versions = session.scalar(select(func.max(ProgressReport.version)))
    assert versions == TOTAL
    receipts = [m.text for m in sandbox.messages_to(CHAT["id"]) if m.text.startswith("✅ 已登记")]
    # Receipts carry no internal ids: each names the stored text and its version.
    acknowledged = {re.search(r"：(第\d+条)", t).group(1) for t in receipts}  # type: ignore[union-attr]
    assert acknowledged <= set(texts)  # every receipt the bot sent is a stored report
    assert len(acknowledged) >= TOTAL - 1  # at most the one in flight at the kill went unanswered
    db.dispose()
