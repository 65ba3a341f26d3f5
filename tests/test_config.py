"""Configuration: validation, defaults, secrets, and the CLI's one-line errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, derive_file_url, load_config
from bot.logging_setup import RedactingFilter

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345"


def test_defaults() -> None:
    config = load_config({"TAIZHANG_BOT_TOKEN": TOKEN})
    assert config.database_url == "sqlite:///data/taizhang.sqlite3"
    assert config.files_dir == Path("data/files")
    assert str(config.timezone) == "Asia/Shanghai"
    assert config.api_base_url == "https://api.telegram.org/bot"
    assert config.file_base_url == "https://api.telegram.org/file/bot"
    assert config.admins == frozenset()
    assert config.proxy is None
    assert config.reminders_enabled and config.max_sends_per_second == 30
    assert "pdf" in config.allowed_file_types and "exe" not in config.allowed_file_types


def test_values_are_parsed() -> None:
    config = load_config(
        {
            "TAIZHANG_BOT_TOKEN": TOKEN,
            "TAIZHANG_ADMINS": "11, 22，33",
            "TAIZHANG_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "TAIZHANG_PROXY": "http://proxy.local:3128",
            "TAIZHANG_TIMEZONE": "Asia/Urumqi",
        }
    )
    assert config.admins == frozenset({11, 22, 33})
    assert config.file_base_url == "http://127.0.0.1:8081/file/bot"
    assert config.proxy == "http://proxy.local:3128"
    assert str(config.timezone) == "Asia/Urumqi"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "TAIZHANG_BOT_TOKEN"),
        ({"TAIZHANG_BOT_TOKEN": "not-a-token"}, "TAIZHANG_BOT_TOKEN"),
        ({"TAIZHANG_BOT_TOKEN": TOKEN, "TAIZHANG_ADMINS": "12,abc"}, "TAIZHANG_ADMINS"),
        ({"TAIZHANG_BOT_TOKEN": TOKEN, "TAIZHANG_TIMEZONE": "Mars/Base"}, "TAIZHANG_TIMEZONE"),
        ({"TAIZHANG_BOT_TOKEN": TOKEN, "TAIZHANG_DATABASE_URL": "mysql://x"}, "TAIZHANG_DATABASE_URL"),
        ({"TAIZHANG_BOT_TOKEN": TOKEN, "TAIZHANG_API_BASE_URL": "telegram"}, "TAIZHANG_API_BASE_URL"),
        ({"TAIZHANG_BOT_TOKEN": TOKEN, "TAIZHANG_PROXY": "ftp://x"}, "TAIZHANG_PROXY"),
        ({"TAIZHANG_BOT_TOKEN": TOKEN, "TAIZHANG_REMINDERS": "maybe"}, "TAIZHANG_REMINDERS"),
        ({"TAIZHANG_BOT_TOKEN": TOKEN, "TAIZHANG_MAX_SENDS_PER_SECOND": "-1"}, "TAIZHANG_MAX_SENDS_PER_SECOND"),
        ({"TAIZHANG_BOT_TOKEN": TOKEN, "TAIZHANG_ALLOWED_FILE_TYPES": "pdf,../x"}, "TAIZHANG_ALLOWED_FILE_TYPES"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env)
    assert info.value.variable == variable
    assert variable in str(info.value)


def test_env_file_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"TAIZHANG_BOT_TOKEN={TOKEN}\nTAIZHANG_ADMINS=5\n", encoding="utf-8")
    monkeypatch.setenv("TAIZHANG_ADMINS", "7")
    monkeypatch.delenv("TAIZHANG_BOT_TOKEN", raising=False)
    config = load_config(env_file=env_file)
    assert config.bot_token.value == TOKEN
    assert config.admins == frozenset({7})


def test_token_is_hidden_in_repr_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    config = load_config({"TAIZHANG_BOT_TOKEN": TOKEN})
    assert TOKEN not in repr(config)
    assert TOKEN not in str(config.bot_token)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "POST %s/getMe", (f"https://h/bot{TOKEN}",), None)
    RedactingFilter([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage()
    assert "<token>" in record.getMessage()


def test_file_url_derivation() -> None:
    assert derive_file_url("http://localhost:8081/bot") == "http://localhost:8081/file/bot"
    assert derive_file_url("http://localhost:8081/bot/") == "http://localhost:8081/file/bot"


def test_cli_missing_token_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TAIZHANG_BOT_TOKEN", raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "TAIZHANG_BOT_TOKEN" in err


def test_cli_unreachable_database_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAIZHANG_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/none")
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("无法连接数据库")
    assert "secret" not in err
    assert "Traceback" not in err


def test_run_stops_with_one_line_when_the_files_folder_or_database_is_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setattr("bot.cli.configure_logging", lambda **_kw: None)  # keep pytest's stderr handlers
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TAIZHANG_BOT_TOKEN", "123456:" + "A" * 30)
    monkeypatch.setenv("TAIZHANG_FILES_DIR", str(blocker / "files"))
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"[失败] 材料目录：{blocker / 'files'} 不可写") and "\n" not in err
    monkeypatch.setenv("TAIZHANG_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", "postgresql://nobody:pw@127.0.0.1:1/none")
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("数据库不可用：无法连接数据库 postgresql://nobody:***@127.0.0.1:1/none") and "\n" not in err
