"""/import: an admin or coordinator sends a .docx/.xlsx/.txt with caption ``/import``."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from handlers.deps import get_services
from knowledge.files import ImportInputError, read_document_bytes
from knowledge.imports import ImportReport
from knowledge.model import ParsedDocument
from storage.catalog import import_document
from storage.members import is_coordinator

log = logging.getLogger(__name__)

COMMANDS = [("import", "导入指标表（管理员：发送 .docx/.xlsx/.txt 文件，说明写 /import）")]

USAGE = "请把指标表文件（.docx、.xlsx 或 .txt）作为附件发送，并在文件说明里写 /import。"


def _import_all(session: Session, documents: list[ParsedDocument], now: datetime) -> list[ImportReport]:
    return [import_document(session, document, now=now) for document in documents]


async def import_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the attached table, import it in one transaction, reply with the report."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.document is None:
        return
    services = get_services(context)
    allowed = services.is_admin(user.id) or await services.db.run(is_coordinator, user.id)
    if not allowed:
        await message.reply_text("只有管理员或法规科协调人可以导入指标表。")
        return
    document = message.document
    name = document.file_name or "未命名文件"
    limit = services.config.import_max_bytes
    if document.file_size and document.file_size > limit:
        size_mb, limit_mb = document.file_size / 1024 / 1024, limit / 1024 / 1024
        await message.reply_text(f"文件“{name}”太大（{size_mb:.1f} MB），上限 {limit_mb:.0f} MB。")
        return
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("download of %s failed: %s", name, exc)
        await message.reply_text(f"无法下载文件“{name}”，请稍后重试。")
        return
    try:
        parsed = await asyncio.to_thread(read_document_bytes, data, name, max_bytes=limit)
    except ImportInputError as exc:
        await message.reply_text(f"导入失败：{exc}\n数据库未做任何改动。")
        return
    reports = await services.db.run(_import_all, parsed, services.clock().astimezone(UTC))
    for callback in services.on_tables_changed:
        await asyncio.to_thread(callback)
    text = "导入完成。\n" + "\n".join(report.summary() for report in reports)
    await message.reply_text(text[:4000])


async def import_usage(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """/import without a file: explain how."""
    if update.effective_message:
        await update.effective_message.reply_text(USAGE)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register the import handlers."""
    app.add_handler(MessageHandler(filters.Document.ALL & filters.CaptionRegex(r"^/import(@\w+)?(\s|$)"), import_file))
    app.add_handler(CommandHandler("import", import_usage))
