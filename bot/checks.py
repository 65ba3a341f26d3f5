"""Operational checks shared by ``taizhang doctor``, start-up and ``/healthz``.

Each check returns a :class:`Check` (status, what was found, how to fix it) and never
raises, so the doctor can print every line even when the first one fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import text
from telegram import Bot
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from bot.config import Config, ConfigError, load_config, read_environment
from knowledge.workdays import WorkCalendar
from storage.db import Database, DatabaseUnavailableError
from storage.objects import ObjectStore, open_store

Status = Literal["ok", "warn", "fail"]
_MARKS: dict[Status, str] = {"ok": "[通过]", "warn": "[警告]", "fail": "[失败]"}


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        """Not a failure (warnings pass)."""
        return self.status != "fail"

    def line(self) -> str:
        """One line: mark, name, finding, and the fix when there is something to fix."""
        fix = f" → 处理：{self.fix}" if self.fix and self.status != "ok" else ""
        return f"{_MARKS[self.status]} {self.name}：{self.detail}{fix}"


def check_files_dir(root: Path) -> Check:
    """The evidence folder exists (or can be created) and a file can be written, read and removed."""
    probe = root / "tmp" / f".doctor-{uuid.uuid4().hex}"
    try:
        probe.parent.mkdir(parents=True, exist_ok=True)
        payload = os.urandom(32)
        probe.write_bytes(payload)
        if probe.read_bytes() != payload:
            raise OSError("读回的内容与写入的不同")
    except OSError as exc:
        return Check(
            "材料目录",
            "fail",
            f"{root} 不可写（{exc.strerror or exc}）",
            "创建该目录并交给运行机器人的用户（chown），或把 TAIZHANG_FILES_DIR 指向可写目录",
        )
    finally:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
    return Check("材料目录", "ok", f"{root.resolve()} 可写")


def check_database(database: Database) -> Check:
    """The database answers and carries the newest migration."""
    try:
        current, head = database.revisions()
    except DatabaseUnavailableError as exc:
        return Check("数据库", "fail", str(exc), "检查 TAIZHANG_DATABASE_URL、数据库服务是否在运行、账号与密码")
    except Exception as exc:  # a broken file or driver error: report, do not crash the doctor
        return Check("数据库", "fail", f"{type(exc).__name__}: {exc}", "检查 TAIZHANG_DATABASE_URL")
    if current != head:
        found = f"已连接，但版本为 {current or '空库'}，最新为 {head}"
        return Check("数据库", "fail", found, "运行 taizhang db upgrade")
    return Check("数据库", "ok", f"已连接，已迁移到最新版本 {head}")


def check_timezone(timezone: ZoneInfo, now: datetime) -> Check:
    """The configured zone and the time it gives (reminders fire on this clock)."""
    local = now.astimezone(timezone)
    detail = f"{timezone.key}，现在是 {local:%Y-%m-%d %H:%M}"
    if timezone.key != "Asia/Shanghai":
        return Check("时区", "warn", detail, "提醒按此时区发送；一般应为 Asia/Shanghai（TAIZHANG_TIMEZONE）")
    return Check("时区", "ok", detail)


def check_calendar(today: date, overrides: Mapping[date, bool] | None = None) -> Check:
    """Holiday and 调休 data for this year and the next (chinese-calendar, plus entered days)."""
    calendar = WorkCalendar(overrides or {})
    for year in (today.year, today.year + 1):
        calendar.is_workday(date(year, 6, 1))  # records the year as missing when the library lacks it
    entered_years = {day.year for day in (overrides or {})}
    missing = sorted(calendar.missing_years - entered_years)
    fix = "升级 chinese-calendar（pip install -U chinese-calendar），或用 taizhang calendar add 录入放假与调休"
    if today.year in missing:
        return Check("节假日数据", "fail", f"缺少 {today.year} 年的放假与调休数据，提醒日期会按周末计算", fix)
    if missing:
        return Check("节假日数据", "warn", f"有 {today.year} 年的数据，缺少 {today.year + 1} 年的", fix)
    return Check("节假日数据", "ok", f"{today.year}、{today.year + 1} 年均有数据")


def _proxy_label(proxy: str | None) -> str:
    if not proxy:
        return "直连"
    parts = urlsplit(proxy)
    return f"经代理 {parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


async def check_bot_api(config: Config, wait_seconds: float = 10.0) -> Check:
    """``getMe`` through the configured API root and proxy (HTTP or SOCKS5)."""
    route = _proxy_label(config.proxy)
    token = config.bot_token.value
    try:
        request = HTTPXRequest(proxy=config.proxy, connect_timeout=wait_seconds, read_timeout=wait_seconds)
        bot = Bot(token, base_url=config.api_base_url, base_file_url=config.file_base_url, request=request)
        me = await asyncio.wait_for(bot.get_me(), wait_seconds * 2)
        await request.shutdown()
    except InvalidToken:
        return Check("Bot API", "fail", f"{route}可以访问，但令牌被拒绝", "向 @BotFather 核对 TAIZHANG_BOT_TOKEN")
    except (TelegramError, OSError, RuntimeError, TimeoutError) as exc:
        detail = f"{route}无法访问 {config.api_base_url}：{type(exc).__name__}: {exc}".replace(token, "<token>")
        return Check("Bot API", "fail", detail, "检查网络和 TAIZHANG_PROXY（支持 http:// 与 socks5://）")
    return Check("Bot API", "ok", f"{route}连接成功，机器人 @{me.username}")


def check_object_store(store: ObjectStore) -> Check:
    """Evidence storage accepts a write, a read and a delete (local folder or S3 bucket)."""
    try:
        store.probe()
    except (OSError, ValueError) as exc:
        return Check(
            "材料存储",
            "fail",
            f"{store.describe()} 不可写（{exc}）",
            "本地目录：检查权限与 TAIZHANG_FILES_DIR；S3：检查 TAIZHANG_FILES_URL、AWS_ENDPOINT_URL 与密钥",
        )
    return Check("材料存储", "ok", f"{store.describe()} 可写")


async def health_problems(
    database: Database, store: ObjectStore | None, silent_seconds: float, stale_after: float
) -> list[str]:
    """What makes ``/healthz`` answer 503: database silent, storage not writable, no updates lately."""
    problems: list[str] = []
    try:
        await database.run(lambda session: session.execute(text("SELECT 1")))
    except Exception as exc:  # any failure of the database is a health failure, never a crash
        problems.append(f"database: {type(exc).__name__}")
    if store is None:
        problems.append("storage: not started")
    else:
        files = await asyncio.to_thread(check_object_store, store)
        if not files.ok:
            problems.append(f"storage: {files.detail}")
    if silent_seconds > stale_after:
        problems.append(f"updates: none fetched or received for {silent_seconds:.0f} s")
    return problems


def run_doctor(env: Mapping[str, str] | None = None, *, now: datetime | None = None) -> list[Check]:
    """Every check, in order; later checks are skipped when the configuration is unusable."""
    values = read_environment(env)
    checks: list[Check] = []
    config: Config | None = None
    try:
        config = load_config(values)
        checks.append(Check("配置", "ok", "TAIZHANG_* 变量有效"))
        checks.append(Check("令牌格式", "ok", "形如 123456:ABC…"))
    except ConfigError as exc:
        if exc.variable != "TAIZHANG_BOT_TOKEN":
            checks.append(Check("配置", "fail", str(exc), f"修改 {exc.variable}（环境变量或 .env 文件）"))
            return checks
        checks.append(Check("配置", "ok", "TAIZHANG_* 变量有效（令牌除外）"))
        checks.append(Check("令牌格式", "fail", str(exc), "从 @BotFather 复制完整令牌到 TAIZHANG_BOT_TOKEN"))
        try:
            config = load_config({**values, "TAIZHANG_BOT_TOKEN": ""}, require_token=False)
        except ConfigError as again:
            checks.append(Check("配置", "fail", str(again), f"修改 {again.variable}"))
            return checks
    database = Database(config.database_url)
    overrides: dict[date, bool] = {}
    try:
        db_check = check_database(database)
        checks.append(db_check)
        if db_check.ok:
            from storage.reminders import calendar_overrides

            overrides = dict(database.call(calendar_overrides))
    finally:
        database.dispose()
    checks.append(check_files_dir(config.files_dir))  # temp downloads are local in every case
    if config.files_url:
        try:
            checks.append(check_object_store(open_store(config.files_url, config.files_dir)))
        except Exception as exc:  # boto3 configuration errors: report, do not crash the doctor
            checks.append(Check("材料存储", "fail", f"{config.files_url}：{exc}", "检查 AWS_* 变量"))
    moment = now or datetime.now(config.timezone)
    checks.append(check_timezone(config.timezone, moment))
    checks.append(check_calendar(moment.astimezone(config.timezone).date(), overrides))
    if config.bot_token:
        checks.append(asyncio.run(check_bot_api(config)))
    else:
        checks.append(Check("Bot API", "fail", "没有可用的令牌，无法测试连接", "设置 TAIZHANG_BOT_TOKEN"))
    return checks
