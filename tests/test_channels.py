"""Reminder fan-out: robot webhooks (against a local HTTP server) and groups that removed the bot."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from bot.channels import feishu_sign, plain_text, request_for
from bot.sandbox import BotApiSandbox, Fault
from storage.db import Database
from storage.membership import set_webhook
from storage.models import ChatBinding
from tests.test_reminders import COORD_GROUP, UNIT_GROUP, at, bind, run_at


class Robots:
    """A local stand-in for the WeCom/DingTalk/Feishu webhook endpoints."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.path, json.loads(body)))
                answer = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robots() -> Iterator[Robots]:
    server = Robots()
    yield server
    server.close()


def test_message_shapes_and_signatures() -> None:
    url, body = request_for("wecom", "https://qyapi.example/send?key=k", "", "提醒", 1700000000.0)
    assert url == "https://qyapi.example/send?key=k"
    assert body == {"msgtype": "text", "text": {"content": "提醒"}}
    signed, body = request_for(
        "dingtalk", "https://oapi.example/robot/send?access_token=t", "SEC", "提醒", 1700000000.0
    )
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(signed).query)
    expected = base64.b64encode(hmac.new(b"SEC", b"1700000000000\nSEC", hashlib.sha256).digest()).decode()
    assert query["timestamp"] == ["1700000000000"] and query["sign"] == [expected]
    _, body = request_for("feishu", "https://open.example/hook/x", "KEY", "提醒", 1700000000.0)
    assert body["msg_type"] == "text" and body["content"] == {"text": "提醒"}
    assert body["sign"] == feishu_sign("KEY", 1700000000)
    assert plain_text("⏰ <b>提醒</b>：A &amp; B") == "⏰ 提醒：A & B"


async def test_reminder_goes_to_the_groups_robot_too(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, clock: object, robots: Robots
) -> None:
    bind(seeded_copy_url)
    db = Database(seeded_copy_url)
    db.call(set_webhook, UNIT_GROUP, "dingtalk", f"{robots.base}/robot/send?access_token=t", "SEC")
    db.call(set_webhook, COORD_GROUP, "feishu", f"{robots.base}/hook/abc", "")
    db.dispose()
    assert await run_at(seeded_bot, clock, at(9, 29)) == 2  # type: ignore[arg-type]
    paths = sorted(path.split("?")[0] for path, _ in robots.received)
    assert paths == ["/hook/abc", "/robot/send"]
    ding = next(body for path, body in robots.received if path.startswith("/robot/send"))
    assert ding["msgtype"] == "text" and ding["text"]["content"].startswith(
        "⏰ 提醒：请于 10月3日（星期六）前报送 2026年9月"
    )
    assert "sign=" in next(path for path, _ in robots.received if path.startswith("/robot/send"))


async def test_a_group_that_removed_the_bot_is_recorded_and_reported(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, clock: object
) -> None:
    bind(seeded_copy_url)
    sandbox.inject_fault("sendMessage", Fault.error(403, "Forbidden: bot was kicked from the supergroup chat"))
    await run_at(seeded_bot, clock, at(9, 29))  # type: ignore[arg-type]
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        unit_binding = session.scalar(select(ChatBinding).where(ChatBinding.chat_id == UNIT_GROUP))
        assert unit_binding is not None and not unit_binding.active
        assert "机器人已被移出" in unit_binding.inactive_reason
    db.dispose()
    coordinator = [m.text for m in sandbox.messages_to(COORD_GROUP)]
    assert any(f"无法向群 {UNIT_GROUP} 发送提醒" in t for t in coordinator)
    await run_at(seeded_bot, clock, at(9, 30))  # type: ignore[arg-type]
    assert sandbox.messages_to(UNIT_GROUP) == []  # not retried forever
