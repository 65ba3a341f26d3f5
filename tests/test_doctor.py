"""`taizhang doctor`: one line per check with a fix, non-zero exit on failure; SOCKS5 proxies work."""

from __future__ import annotations

import asyncio
import socket
import struct
from datetime import datetime
from pathlib import Path

import pytest

from bot.checks import check_bot_api, run_doctor
from bot.cli import main
from bot.config import load_config
from bot.sandbox import BotApiSandbox
from storage.db import Database

from .conftest import SHANGHAI

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)


def _env(sandbox: BotApiSandbox, db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TAIZHANG_BOT_TOKEN": sandbox.token,
        "TAIZHANG_API_BASE_URL": sandbox.base_url,
        "TAIZHANG_DATABASE_URL": db_url,
        "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
        **extra,
    }


def test_doctor_passes_on_a_working_setup(sandbox: BotApiSandbox, database: Database, tmp_path: Path) -> None:
    lines = [c.line() for c in run_doctor(_env(sandbox, database.url, tmp_path), now=NOW)]
    assert lines[:4] == [
        "[通过] 配置：TAIZHANG_* 变量有效",
        "[通过] 令牌格式：形如 123456:ABC…",
        "[通过] 数据库：已连接，已迁移到最新版本 " + str(database.revisions()[1]),
        f"[通过] 材料目录：{(tmp_path / 'files').resolve()} 可写",
    ]
    assert lines[4] == "[通过] 时区：Asia/Shanghai，现在是 2026-11-02 10:00"
    # chinese-calendar 1.11 ends with 2026: next year's gap is a warning with its fix.
    assert lines[5].startswith("[警告] 节假日数据：有 2026 年的数据，缺少 2027 年的 → 处理：升级 chinese-calendar")
    assert lines[6] == f"[通过] Bot API：直连连接成功，机器人 @{sandbox.bot_user()['username']}"
    assert not list((tmp_path / "files" / "tmp").iterdir())  # the probe file is removed


def test_doctor_names_each_failure_with_a_fix_and_exits_1(
    sandbox: BotApiSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "blocked").write_text("a file where the folder should be")
    env = _env(sandbox, f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path, TAIZHANG_BOT_TOKEN="not-a-token")
    env["TAIZHANG_FILES_DIR"] = str(tmp_path / "blocked")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["doctor"]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[1].startswith("[失败] 令牌格式：配置错误 TAIZHANG_BOT_TOKEN: 格式不对")
    assert lines[1].endswith("→ 处理：从 @BotFather 复制完整令牌到 TAIZHANG_BOT_TOKEN")
    assert (
        lines[2]
        == "[失败] 数据库：已连接，但版本为 空库，最新为 "
        + str(Database(env["TAIZHANG_DATABASE_URL"]).revisions()[1])
        + " → 处理：运行 taizhang db upgrade"
    )
    assert lines[3].startswith(f"[失败] 材料目录：{tmp_path / 'blocked'} 不可写")
    assert lines[-1] == "[失败] Bot API：没有可用的令牌，无法测试连接 → 处理：设置 TAIZHANG_BOT_TOKEN"
    assert err == "4 项检查未通过\n"


async def _socks5_proxy(seen: list[tuple[str, int]]) -> tuple[asyncio.Server, int]:
    """A minimal SOCKS5 CONNECT proxy (no auth) that records where clients went."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _version, methods = await reader.readexactly(2)
        await reader.readexactly(methods)
        writer.write(b"\x05\x00")
        _v, _cmd, _rsv, kind = await reader.readexactly(4)
        if kind == 1:
            host = socket.inet_ntoa(await reader.readexactly(4))
        else:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        seen.append((host, port))
        upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        writer.write(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", port))
        await writer.drain()
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_bot_api_check_goes_through_a_socks5_proxy(sandbox: BotApiSandbox, db_url: str, tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []
    server, port = await _socks5_proxy(seen)
    async with server:
        config = load_config(_env(sandbox, db_url, tmp_path, TAIZHANG_PROXY=f"socks5://127.0.0.1:{port}"))
        check = await check_bot_api(config)
    assert (
        check.line()
        == f"[通过] Bot API：经代理 socks5://127.0.0.1:{port}连接成功，机器人 @{sandbox.bot_user()['username']}"
    )
    assert seen == [("127.0.0.1", sandbox.port)]


async def test_unreachable_socks5_proxy_is_reported_not_a_crash(
    sandbox: BotApiSandbox, db_url: str, tmp_path: Path
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = load_config(_env(sandbox, db_url, tmp_path, TAIZHANG_PROXY=f"socks5://127.0.0.1:{port}"))
    check = await check_bot_api(config, wait_seconds=2)
    assert check.status == "fail"
    assert check.line().startswith(f"[失败] Bot API：经代理 socks5://127.0.0.1:{port}无法访问 {sandbox.base_url}")
    assert sandbox.token not in check.line()
    assert check.line().endswith("→ 处理：检查网络和 TAIZHANG_PROXY（支持 http:// 与 socks5://）")
