"""Reminder fan-out: robot webhooks (against a local HTTP server) and groups that removed the bot."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from bot.channels import feishu_sign, plain_text, post, request_for
from bot.sandbox import BotApiSandbox, Fault
from handlers.deps import SERVICES_KEY
from knowledge.robots import RobotPolicy
from storage.db import Database
from storage.membership import set_webhook
from storage.models import ChatBinding
from tests.test_reminders import COORD_GROUP, UNIT_GROUP, at, bind, run_at


class Robots:
    """A local stand-in for the WeCom/DingTalk/Feishu webhook endpoints."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.hosts: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.path, json.loads(body)))
                outer.hosts.append(self.headers["Host"])
                if self.path.startswith("/moved"):  # a redirect towards the cloud metadata address
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        # By name: literal IPs are refused; the tests allow-list localhost explicitly.
        self.base = f"http://localhost:{self.server.server_address[1]}"

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


LOCAL_ROBOTS = RobotPolicy(hosts=("localhost",), allow_loopback=True)  # TAIZHANG_ROBOT_ALLOW_LOOPBACK: tests only


def allow_local_robots(app: object, policy: RobotPolicy = LOCAL_ROBOTS) -> None:
    """What TAIZHANG_ROBOT_HOSTS=localhost and TAIZHANG_ROBOT_ALLOW_LOOPBACK=on would configure."""
    services = app.bot_data[SERVICES_KEY]  # type: ignore[attr-defined]
    services.config = replace(services.config, robot_hosts=policy.hosts, robot_allow_loopback=policy.allow_loopback)


async def test_reminder_goes_to_the_groups_robot_too(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, clock: object, robots: Robots
) -> None:
    bind(seeded_copy_url)
    allow_local_robots(seeded_bot)
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
    assert set(robots.hosts) == {robots.base.removeprefix("http://")}  # sent by name, to the checked address


async def test_send_time_check_refuses_a_name_now_pointing_inside(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, clock: object, robots: Robots
) -> None:
    """A stored URL whose host now resolves to a loopback address (DNS rebinding) is not posted to."""
    bind(seeded_copy_url)
    allow_local_robots(seeded_bot, RobotPolicy(hosts=("localhost",), allow_loopback=False))
    db = Database(seeded_copy_url)
    db.call(set_webhook, UNIT_GROUP, "wecom", "https://localhost/cgi-bin/webhook/send?key=k", "")
    db.dispose()
    await run_at(seeded_bot, clock, at(9, 29))  # type: ignore[arg-type]
    assert robots.received == []
    problem = await post(
        "wecom", "https://localhost/cgi-bin/webhook/send?key=k", "", "提醒", policy=RobotPolicy(("localhost",))
    )
    assert problem == "refused: 机器人地址 localhost 指向内网或保留地址，已拒绝"
    default = await post("wecom", f"{robots.base}/x", "", "提醒")  # the default allow-list: robots' hosts only
    assert default == "refused: 机器人地址必须以 https:// 开头"
    assert robots.received == []


async def test_redirects_are_not_followed(robots: Robots) -> None:
    problem = await post("wecom", f"{robots.base}/moved?key=k", "", "提醒", policy=LOCAL_ROBOTS)
    assert problem == "HTTP 302 (redirect not followed)"
    assert [path for path, _ in robots.received] == ["/moved?key=k"]


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
