"""Offline demo: the local sandbox, the real bot, and a console chat.

You type as a user (``张三``, an admin of the demo) in a private chat or in a group;
the bot's answers are printed. Buttons appear as ``[1] 详情``; type ``:1`` to press one.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.app import build_application, running
from bot.config import load_config
from bot.sandbox import BotApiSandbox, SentMessage
from handlers.deps import Services
from storage.catalog import import_samples_if_empty

DEMO_USER_ID = 1001
DEMO_GROUP_ID = -100_200_300

BANNER = """台账助手 离线演示（本地 Bot API 沙箱，无需令牌，不联网）
输入消息即以“张三”身份发给机器人。命令：
  /group    切换到群聊“法规科工作群”        /private  切换到私聊
  :N        按下上一条消息的第 N 个按钮      /attach 路径 [说明]  发送文件
  /quit     退出
"""


def to_plain(text: str) -> str:
    """Telegram HTML → console text."""
    text = re.sub(r"<br\s*/?>", "\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def render(message: SentMessage) -> str:
    """One bot message as console lines, with numbered buttons."""
    head = "🤖 "
    if message.kind != "text":
        head += f"[{'文件' if message.kind == 'document' else '图片'} {message.file_name or ''}] "
    lines = [head + to_plain(message.text)]
    if message.buttons:
        lines.append("   " + "  ".join(f"[{i}] {b.get('text', '')}" for i, b in enumerate(message.buttons, 1)))
    return "\n".join(lines)


class ConsoleChat:
    """Drives the sandbox from console lines and prints what the bot sends."""

    def __init__(self, sandbox: BotApiSandbox, out: TextIO) -> None:
        self.sandbox = sandbox
        self.out = out
        self.user = sandbox.user(DEMO_USER_ID, "张三", "zhangsan")
        self.private = sandbox.private_chat(self.user)
        self.group = sandbox.group_chat(DEMO_GROUP_ID, "法规科工作群")
        self.chat = self.private
        self._seen: dict[int, int] = {}  # message_id -> edits already printed

    def _snapshot(self) -> int:
        return len(self.sandbox.messages) + sum(m.edits for m in self.sandbox.messages)

    def handle_line(self, line: str) -> bool:
        """Act on one console line; returns False to quit."""
        line = line.strip()
        if not line:
            return True
        if line in {"/quit", "/exit"}:
            return False
        if line == "/group":
            self.chat = self.group
            print("（已切换到群聊：法规科工作群）", file=self.out)
            return True
        if line == "/private":
            self.chat = self.private
            print("（已切换到私聊）", file=self.out)
            return True
        before = self._snapshot()
        if line.startswith(":"):
            if not self._press(line[1:].strip()):
                return True
        elif line.startswith("/attach"):
            if not self._attach(line[len("/attach") :].strip()):
                return True
        else:
            self.sandbox.send_text(self.chat, self.user, line)
        self._wait_and_print(before)
        return True

    def _press(self, choice: str) -> bool:
        target = next((m for m in reversed(self.sandbox.messages_to(self.chat["id"])) if m.buttons), None)
        if target is None or not choice.isdigit() or not 1 <= int(choice) <= len(target.buttons):
            print("（没有这个按钮）", file=self.out)
            return False
        button = target.buttons[int(choice) - 1]
        self.sandbox.press_button(self.chat, self.user, target.message_id, str(button.get("callback_data", "")))
        return True

    def _attach(self, rest: str) -> bool:
        path_text, _, caption = rest.partition(" ")
        path = Path(path_text).expanduser()
        if not path_text or not path.is_file():
            print(f"（找不到文件：{path_text or '未指定'}）", file=self.out)
            return False
        self.sandbox.send_document(self.chat, self.user, path.read_bytes(), path.name, caption=caption or None)
        return True

    def _wait_and_print(self, before: int, first_timeout: float = 3.0) -> None:
        try:
            self.sandbox.wait_for(lambda: self._snapshot() > before, timeout=first_timeout)
        except TimeoutError:
            print("（机器人没有回复）", file=self.out)
            return
        # Let a burst of replies finish: wait until nothing new arrives for a moment.
        while True:
            current = self._snapshot()

            def grew(mark: int = current) -> bool:
                return self._snapshot() > mark

            try:
                self.sandbox.wait_for(grew, timeout=0.3)
            except TimeoutError:
                break
        for message in self.sandbox.messages:
            shown = self._seen.get(message.message_id)
            if shown is None or shown < message.edits:
                prefix = "" if shown is None else "（已编辑）"
                print(prefix + render(message), file=self.out)
                self._seen[message.message_id] = message.edits
        self.out.flush()


def seed_samples(services: Services) -> None:
    """First run: import the five bundled source documents into the fresh database."""
    reports = services.db.call(import_samples_if_empty, services.clock())
    if reports:
        total = sum(r.total for r in reports)
        print(f"（首次运行：已导入 {len(reports)} 份示例文档，共 {total} 项指标）")


async def run_demo(
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    on_services: Callable[[Services], None] | None = None,
) -> int:
    """Run the demo until ``/quit`` or end of input; returns the exit code."""
    sandbox = BotApiSandbox()
    sandbox.start()
    env = dict(__import__("os").environ)
    env.update(
        TAIZHANG_BOT_TOKEN=sandbox.token,
        TAIZHANG_API_BASE_URL=sandbox.base_url,
        TAIZHANG_ADMINS=str(DEMO_USER_ID),
    )
    env.pop("TAIZHANG_PROXY", None)
    config = load_config(env)
    app = build_application(config, on_services=on_services or seed_samples)
    console = ConsoleChat(sandbox, out)
    print(BANNER, file=out)
    try:
        async with running(app):
            while True:
                line = await asyncio.to_thread(stdin.readline)
                if not line:
                    break
                print(f"👤 {line.rstrip()}", file=out)
                if not await asyncio.to_thread(console.handle_line, line):
                    break
    finally:
        sandbox.stop()
    print("再见。", file=out)
    return 0
