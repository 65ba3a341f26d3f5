"""The ``taizhang`` command: run the bot, the offline demo, and admin tasks.

Exit codes: 0 success, 1 runtime failure (e.g. database unreachable), 2 bad
configuration or arguments. Errors are one Chinese line on stderr, no traceback wall.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update

from bot import admin, profile_cli, reports_cli
from bot.app import build_application, watch_webhook
from bot.config import ConfigError, load_config
from bot.durable import DurableApplication, InboxBot
from bot.logging_setup import configure_logging
from storage.db import Database, DatabaseUnavailableError

log = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace], int]


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def cmd_run(args: argparse.Namespace) -> int:
    """Long polling (default) or webhook."""
    config = load_config()
    configure_logging(
        secrets=[config.bot_token.value, config.webhook_secret.value], json_format=config.log_format == "json"
    )
    from bot.checks import check_files_dir

    files = check_files_dir(config.files_dir)  # fail now, not at the first upload
    if not files.ok:
        return _fail(files.line(), 2)
    database = Database(config.database_url)
    try:
        database.upgrade()
    except (DatabaseUnavailableError, SQLAlchemyError) as exc:
        database.dispose()
        return _fail(f"数据库不可用：{str(exc).splitlines()[0]}（检查 TAIZHANG_DATABASE_URL）", 2)
    app = build_application(config, database=database)
    try:
        if args.webhook:
            watch_webhook(app)
            app.run_webhook(
                listen=args.listen,
                port=args.port,
                url_path=args.url_path,
                webhook_url=args.webhook,
                allowed_updates=Update.ALL_TYPES,
                secret_token=config.webhook_secret.value,  # requests without it are answered 403
            )
        else:
            # Never drop pending updates: reports sent while we were down must be processed.
            if isinstance(app, DurableApplication):
                app.ends_run_polling = True
            app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    finally:
        database.dispose()
    if isinstance(app.bot, InboxBot) and app.bot.conflict is not None:
        return 1  # another instance polls this token (logged as one line by bot.durable)
    return 0


def cmd_demo(_args: argparse.Namespace) -> int:
    """Offline demo on the embedded SQLite default."""
    from bot.demo import run_demo

    configure_logging(level=logging.WARNING)
    return asyncio.run(run_demo())


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    """Apply migrations."""
    config = load_config(require_token=False)
    database = Database(config.database_url)
    try:
        database.upgrade()
    finally:
        database.dispose()
    print("数据库已升级到最新版本。")
    return 0


def cmd_doctor(_args: argparse.Namespace) -> int:
    """One line per check with its fix; exit 1 when any check failed."""
    from bot.checks import run_doctor

    checks = run_doctor()
    for check in checks:
        print(check.line(), flush=True)
    failed = [c for c in checks if not c.ok]
    if failed:
        print(f"{len(failed)} 项检查未通过", file=sys.stderr)
        return 1
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Database + evidence files + manifest into a new folder."""
    from datetime import UTC, datetime
    from pathlib import Path

    from bot.backup import BackupError, backup
    from storage.objects import open_store

    config = load_config(require_token=False)
    try:
        store = open_store(config.files_url, config.files_dir)
        outcome = backup(config.database_url, config.files_dir, Path(args.out), datetime.now(UTC), store)
    except BackupError as exc:
        return _fail(f"备份失败：{exc}", 1)
    print(f"已备份到 {outcome.folder}：{outcome.reports} 条报送记录，{outcome.files} 个材料文件，清单 manifest.json")
    if outcome.missing:
        return _fail(f"注意：{len(outcome.missing)} 个材料文件在磁盘上缺失或已损坏（见 manifest.json 的 missing）", 1)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """A backup folder into an empty database and an empty files folder."""
    from pathlib import Path

    from bot.backup import BackupError, restore
    from storage.objects import open_store

    config = load_config(require_token=False)
    try:
        store = open_store(config.files_url, config.files_dir)
        outcome = restore(Path(args.folder), config.database_url, config.files_dir, store)
    except BackupError as exc:
        return _fail(f"恢复失败：{exc}", 1)
    print(f"已从 {outcome.folder} 恢复：{outcome.reports} 条报送记录，{outcome.files} 个材料文件")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="taizhang", description="台账助手 管理命令")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="运行机器人（长轮询，或 --webhook）")
    run.add_argument("--webhook", metavar="URL", help="以 webhook 方式运行，Telegram 推送到此地址")
    run.add_argument("--listen", default="0.0.0.0", help="webhook 监听地址")
    run.add_argument("--port", type=int, default=8443, help="webhook 监听端口")
    run.add_argument("--url-path", default="", help="webhook 路径")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="离线演示：本地沙箱 + 控制台聊天")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="数据库维护")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="应用数据库迁移")
    upgrade.set_defaults(func=cmd_db_upgrade)

    doctor = sub.add_parser("doctor", help="检查配置、数据库、材料目录、时区、节假日数据和 Bot API 连接")
    doctor.set_defaults(func=cmd_doctor)

    backup = sub.add_parser("backup", help="备份数据库和材料文件（含 sha256 清单）")
    backup.add_argument("--out", required=True, help="新的空目录，如 backup-2026-11-02")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser("restore", help="把备份恢复到空数据库和空材料目录")
    restore.add_argument("folder", metavar="DIR", help="taizhang backup 写出的目录")
    restore.set_defaults(func=cmd_restore)

    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    admin.register,
    profile_cli.register,
    reports_cli.register,
]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``taizhang`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except DatabaseUnavailableError as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `taizhang search … | head`: the reader left; end quietly like other Unix tools.
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what the shell reports for a tool killed by SIGPIPE
    except SystemExit as exc:  # argument errors of our own, already phrased in Chinese
        if isinstance(exc.code, str):
            return _fail(exc.code, 2)
        raise
    except OSError as exc:  # e.g. --out in a folder that does not exist
        return _fail(f"错误：{exc.strerror or exc}" + (f"（{exc.filename}）" if exc.filename else ""), 1)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
