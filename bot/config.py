"""Typed configuration read from the environment (and an optional ``.env`` file).

Every variable is validated once at start; a bad value raises :class:`ConfigError`
naming the variable, which the CLI turns into one line on stderr and exit code 2.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from knowledge.files import ImportLimits
from knowledge.robots import DEFAULT_ROBOT_HOSTS, RobotPolicy

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite:///data/taizhang.sqlite3"
DEFAULT_FILES_DIR = "data/files"
DEFAULT_TIMEZONE = "Asia/Shanghai"

_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")


class ConfigError(ValueError):
    """A configuration variable is missing or invalid."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"配置错误 {variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Secret:
    """A string that never shows itself in ``repr``/``str`` (and so never in logs)."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "***" if self.value else ""

    def __repr__(self) -> str:
        return "Secret('***')"

    def __bool__(self) -> bool:
        return bool(self.value)


@dataclass(frozen=True)
class Config:
    """Validated settings of one bot process."""

    bot_token: Secret
    database_url: str
    files_dir: Path
    timezone: ZoneInfo
    admins: frozenset[int]
    api_base_url: str
    proxy: str | None
    max_upload_bytes: int = 20 * 1024 * 1024
    import_max_bytes: int = 10 * 1024 * 1024
    retry_backoff_seconds: float = 0.5
    max_sends_per_second: float = 30.0
    allowed_file_types: tuple[str, ...] = ()
    reminders_enabled: bool = True
    metrics_port: int | None = None
    files_url: str | None = None
    log_format: str = "text"
    retention_days: int = 90
    robot_hosts: tuple[str, ...] = DEFAULT_ROBOT_HOSTS
    robot_allow_loopback: bool = False  # tests only: their stand-in robot listens on http://localhost
    import_limits: ImportLimits = field(default_factory=ImportLimits)
    webhook_secret_value: Secret = field(default_factory=lambda: Secret(""))

    @property
    def webhook_secret(self) -> Secret:
        """``TAIZHANG_WEBHOOK_SECRET``, or one derived from the bot token (same on every instance)."""
        return self.webhook_secret_value or derive_webhook_secret(self.bot_token.value)

    @property
    def robot_policy(self) -> RobotPolicy:
        """Where robot webhooks may post (the allow-list of hosts)."""
        return RobotPolicy(self.robot_hosts, self.robot_allow_loopback)

    @property
    def file_base_url(self) -> str:
        """Bot API file root derived from the API root (``…/bot`` → ``…/file/bot``)."""
        return derive_file_url(self.api_base_url)


def derive_webhook_secret(bot_token: str) -> Secret:
    """HMAC-SHA256 of a fixed label keyed by the token: 64 hex characters, which Telegram accepts
    as ``secret_token`` (1-256 of ``A-Za-z0-9_-``); nobody without the token can compute it."""
    digest = hmac.new(bot_token.encode(), b"taizhang webhook secret_token", hashlib.sha256).hexdigest()
    return Secret(digest)


def derive_file_url(api_base_url: str) -> str:
    """Turn ``https://host/bot`` into ``https://host/file/bot`` (Telegram's layout)."""
    base = api_base_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def read_environment(env: Mapping[str, str] | None = None, env_file: Path | None = None) -> dict[str, str]:
    """The variables: ``env`` if given, else ``.env`` overlaid by the real environment."""
    if env is not None:
        return dict(env)
    merged: dict[str, str] = {}
    path = env_file or Path(".env")
    if path.is_file():
        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(os.environ)  # the real environment wins over the file
    return merged


def _parse_admins(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in re.split(r"[,\s，；;]+", raw.strip()):
        if not part:
            continue
        if not re.fullmatch(r"-?\d+", part):
            raise ConfigError("TAIZHANG_ADMINS", f"“{part}”不是 Telegram 用户 ID（应为数字，用逗号分隔）")
        ids.add(int(part))
    return frozenset(ids)


def _check_url(variable: str, value: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(variable, f"“{value}”不是有效地址（应以 {' / '.join(schemes)}:// 开头）")
    return value


def load_config(
    env: Mapping[str, str] | None = None,
    *,
    require_token: bool = True,
    env_file: Path | None = None,
) -> Config:
    """Read and validate the ``TAIZHANG_*`` variables; raise :class:`ConfigError` on bad input."""
    values = read_environment(env, env_file)

    token = values.get("TAIZHANG_BOT_TOKEN", "").strip()
    if require_token and not token:
        raise ConfigError("TAIZHANG_BOT_TOKEN", "未设置（向 @BotFather 申请机器人令牌）")
    if token and not _TOKEN_RE.match(token):
        raise ConfigError("TAIZHANG_BOT_TOKEN", "格式不对（应形如 123456:ABC-DEF…）")

    database_url = values.get("TAIZHANG_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", database_url):
        raise ConfigError("TAIZHANG_DATABASE_URL", "只支持 sqlite:/// 或 postgresql:// 地址")

    tz_name = values.get("TAIZHANG_TIMEZONE", "").strip() or DEFAULT_TIMEZONE
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError("TAIZHANG_TIMEZONE", f"未知时区“{tz_name}”（例如 Asia/Shanghai）") from exc

    api_base_url = values.get("TAIZHANG_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
    _check_url("TAIZHANG_API_BASE_URL", api_base_url, ("http", "https"))

    proxy = values.get("TAIZHANG_PROXY", "").strip() or None
    if proxy:
        _check_url("TAIZHANG_PROXY", proxy, ("http", "https", "socks5", "socks5h"))

    rate_text = values.get("TAIZHANG_MAX_SENDS_PER_SECOND", "").strip() or "30"
    try:
        max_sends = float(rate_text)
        if max_sends < 0:
            raise ValueError
    except ValueError as exc:
        raise ConfigError("TAIZHANG_MAX_SENDS_PER_SECOND", f"“{rate_text}”不是非负数字（0 表示不限速）") from exc

    from knowledge.filetypes import ALLOWED_TYPES

    types_text = values.get("TAIZHANG_ALLOWED_FILE_TYPES", "").strip()
    allowed = tuple(t.strip().lower().lstrip(".") for t in re.split(r"[,，\s]+", types_text) if t.strip())
    unknown = [t for t in allowed if not re.fullmatch(r"[a-z0-9]{1,8}", t)]
    if unknown:
        raise ConfigError("TAIZHANG_ALLOWED_FILE_TYPES", f"无效的文件类型：{'、'.join(unknown)}（例如 pdf,docx,jpg）")

    reminders_text = values.get("TAIZHANG_REMINDERS", "").strip().lower() or "on"
    if reminders_text not in {"on", "off", "1", "0", "true", "false"}:
        raise ConfigError("TAIZHANG_REMINDERS", f"“{reminders_text}”应为 on 或 off")

    hosts_text = values.get("TAIZHANG_ROBOT_HOSTS", "").strip()
    robot_hosts = tuple(h.strip().lower() for h in re.split(r"[,，\s]+", hosts_text) if h.strip())
    bad_hosts = [h for h in robot_hosts if not re.fullmatch(r"[a-z0-9.-]{1,253}", h)]
    if bad_hosts:
        raise ConfigError("TAIZHANG_ROBOT_HOSTS", f"无效的主机名：{'、'.join(bad_hosts)}（例如 qyapi.weixin.qq.com）")
    loopback_text = values.get("TAIZHANG_ROBOT_ALLOW_LOOPBACK", "").strip().lower() or "off"
    if loopback_text not in {"on", "off", "1", "0", "true", "false"}:
        raise ConfigError("TAIZHANG_ROBOT_ALLOW_LOOPBACK", f"“{loopback_text}”应为 on 或 off（仅供测试）")

    metrics_text = values.get("TAIZHANG_METRICS_PORT", "").strip()
    if metrics_text and not (metrics_text.isdigit() and int(metrics_text) <= 65535):
        raise ConfigError("TAIZHANG_METRICS_PORT", f"“{metrics_text}”不是端口号（0–65535，例如 9108）")

    files_url = values.get("TAIZHANG_FILES_URL", "").strip() or None
    if files_url and not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?", files_url):
        problem = f"“{files_url}”应形如 s3://存储桶/前缀（不设置则用本地 TAIZHANG_FILES_DIR）"
        raise ConfigError("TAIZHANG_FILES_URL", problem)

    log_format = values.get("TAIZHANG_LOG_FORMAT", "").strip().lower() or "text"
    if log_format not in {"text", "json"}:
        raise ConfigError("TAIZHANG_LOG_FORMAT", f"“{log_format}”应为 text 或 json")

    retention_text = values.get("TAIZHANG_RETENTION_DAYS", "").strip() or "90"
    if not retention_text.isdigit() or int(retention_text) < 1:
        raise ConfigError("TAIZHANG_RETENTION_DAYS", f"“{retention_text}”不是正整数天数（默认 90）")

    webhook_secret = values.get("TAIZHANG_WEBHOOK_SECRET", "").strip()
    if webhook_secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", webhook_secret):
        raise ConfigError("TAIZHANG_WEBHOOK_SECRET", "只能含字母、数字、_ 和 -，1 到 256 个字符（Telegram 的要求）")

    return Config(
        webhook_secret_value=Secret(webhook_secret),
        robot_hosts=robot_hosts or DEFAULT_ROBOT_HOSTS,
        robot_allow_loopback=loopback_text in {"on", "1", "true"},
        import_limits=_import_limits(values),
        metrics_port=int(metrics_text) if metrics_text else None,
        files_url=files_url,
        log_format=log_format,
        retention_days=int(retention_text),
        reminders_enabled=reminders_text in {"on", "1", "true"},
        allowed_file_types=allowed or ALLOWED_TYPES,
        max_sends_per_second=max_sends,
        bot_token=Secret(token),
        database_url=database_url,
        files_dir=Path(values.get("TAIZHANG_FILES_DIR", "").strip() or DEFAULT_FILES_DIR),
        timezone=timezone,
        admins=_parse_admins(values.get("TAIZHANG_ADMINS", "")),
        api_base_url=api_base_url,
        proxy=proxy,
    )


_LIMIT_VARIABLES = {
    "max_rows": "TAIZHANG_IMPORT_MAX_ROWS",
    "max_columns": "TAIZHANG_IMPORT_MAX_COLUMNS",
    "max_cell_chars": "TAIZHANG_IMPORT_MAX_CELL_CHARS",
    "max_text_chars": "TAIZHANG_IMPORT_MAX_TEXT_CHARS",
    "max_part_mb": "TAIZHANG_IMPORT_MAX_PART_MB",
    "cpu_seconds": "TAIZHANG_IMPORT_CPU_SECONDS",
    "memory_mb": "TAIZHANG_IMPORT_MEMORY_MB",
}


def _import_limits(values: Mapping[str, str]) -> ImportLimits:
    """Caps of the table importer (rows, columns, cell length, total text, worker CPU/memory)."""
    defaults = ImportLimits()
    chosen: dict[str, int] = {}
    for name, variable in _LIMIT_VARIABLES.items():
        text = values.get(variable, "").strip()
        if not text:
            continue
        if not text.isdigit() or int(text) <= 0:
            raise ConfigError(variable, f"“{text}”不是正整数（默认 {getattr(defaults, name)}）")
        chosen[name] = int(text)
    return ImportLimits(**{**defaults.__dict__, **chosen})
