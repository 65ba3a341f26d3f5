"""/import: an admin or coordinator sends a .docx/.xlsx/.txt with caption ``/import``.

The file is parsed in a worker process with CPU-time and memory limits (the bot keeps
answering others meanwhile). An import that would remove indicators lists them and waits
for the sender's 确认删除 button; until then nothing changes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from handlers.callbacks import button, signed
from handlers.deps import Services, get_services, reporter_of
from handlers.replies import edit, reply
from knowledge.access import Action, Reporter, Target, require
from knowledge.files import ImportInputError, read_in_worker
from knowledge.imports import ImportReport, RemovalsNeedConfirmation
from knowledge.model import ParsedDocument
from storage.catalog import import_document

log = logging.getLogger(__name__)

COMMANDS = [("import", "导入指标表（管理员：发送 .docx/.xlsx/.txt 文件，说明写 /import）")]

USAGE = "请把指标表文件（.docx、.xlsx 或 .txt）作为附件发送，并在文件说明里写 /import。"


MAX_SHOWN_WARNINGS = 30


@dataclass
class PendingImport:
    """Parsed documents whose import would remove indicators, bound to who may confirm it."""

    user_id: int
    chat_id: int
    name: str
    documents: list[ParsedDocument]


def _import_all(session: Session, documents: list[ParsedDocument], now: datetime, replace: bool) -> list[ImportReport]:
    return [import_document(session, document, now=now, replace=replace) for document in documents]


def _report_text(reports: list[ImportReport]) -> str:
    """The summary with at most ``MAX_SHOWN_WARNINGS`` warnings (all of them: ``taizhang import``)."""
    parts: list[str] = []
    for report in reports:
        shown = report.warnings[:MAX_SHOWN_WARNINGS]
        hidden = len(report.warnings) - len(shown)
        summary = ImportReport(**{**report.__dict__, "warnings": shown}).summary()
        if hidden:
            summary += f"\n  另有 {hidden} 条提示未显示（用 taizhang import 查看全部）"
        parts.append(summary)
    text = "导入完成。\n" + "\n".join(parts)
    return text if len(text) <= 4000 else text[:3990] + "\n……"


async def _run_import(services: Services, documents: list[ParsedDocument], replace: bool) -> list[ImportReport]:
    reports = await services.db.run(_import_all, documents, services.clock().astimezone(UTC), replace)
    for callback in services.on_tables_changed:
        await asyncio.to_thread(callback)
    return reports


async def import_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the attached table, import it in one transaction, reply with the report."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.document is None:
        return
    services = get_services(context)
    reporter = await reporter_of(services, user)
    if not reporter.is_coordinator:  # before downloading anything; the programme is checked once parsed
        require(reporter.actor, Action.IMPORT)
    document = message.document
    name = document.file_name or "未命名文件"
    limit = services.config.import_max_bytes
    if document.file_size and document.file_size > limit:
        size_mb, limit_mb = document.file_size / 1024 / 1024, limit / 1024 / 1024
        await reply(message, f"文件“{name}”太大（{size_mb:.1f} MB），上限 {limit_mb:.0f} MB。")
        return
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("download of %s failed: %s", name, exc)
        await reply(message, f"无法下载文件“{name}”，请稍后重试。")
        return
    if document.file_size and len(data) != document.file_size:
        await reply(
            message, f"文件“{name}”下载不完整（收到 {len(data)} 字节，应为 {document.file_size} 字节），请重新发送。"
        )
        return
    try:
        parsed = await read_in_worker(data, name, max_bytes=limit, limits=services.config.import_limits)
    except ImportInputError as exc:
        await reply(message, f"导入失败：{exc}\n数据库未做任何改动。")
        return
    _require_programmes(reporter, parsed)
    try:
        reports = await _run_import(services, parsed, replace=False)
    except RemovalsNeedConfirmation as exc:
        token = secrets.token_urlsafe(12)
        services.state.pending_imports[token] = PendingImport(user.id, message.chat_id, name, parsed)
        buttons = [[button(context, message.chat_id, "确认删除并导入", f"ix|{token}", user.id),
                    button(context, message.chat_id, "取消", f"iq|{token}", user.id)]]  # fmt: skip
        text = f"导入未执行：{exc}。\n确认删除这些指标并导入，请按“确认删除并导入”；否则数据库不做任何改动。"
        await reply(message, text, reply_markup=InlineKeyboardMarkup(buttons))
        return
    except ImportInputError as exc:
        await reply(message, f"导入失败：{exc}\n数据库未做任何改动。")
        return
    await reply(message, _report_text(reports))


def _require_programmes(reporter: Reporter, parsed: list[ParsedDocument]) -> None:
    """A scoped coordinator imports only the programmes they coordinate (new ones: unscoped or admins)."""
    for read in parsed:
        require(reporter.actor, Action.IMPORT, Target.of(read.doc_id))


@signed
async def confirm_import(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """确认删除并导入 / 取消: only the sender of the file, in the same chat, once; rights re-checked."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    action, _, token = payload.partition("|")
    services = get_services(context)
    pending = services.state.pending_imports
    waiting = pending.get(token)
    if waiting is None:
        await query.answer("这次导入已处理或已过期，请重新发送文件。", show_alert=True)
        return
    if waiting.user_id != query.from_user.id or waiting.chat_id != query.message.chat_id:
        await query.answer("只有发送这个文件的人可以确认。", show_alert=True)
        return
    if action != "iq":
        _require_programmes(await reporter_of(services, query.from_user), waiting.documents)
    del pending[token]
    await query.answer()
    if action == "iq":
        await edit(query, f"已取消导入“{waiting.name}”，数据库未做任何改动。")
        return
    reports = await _run_import(services, waiting.documents, replace=True)
    await edit(query, _report_text(reports))


async def import_usage(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """/import without a file: explain how."""
    if update.effective_message:
        await reply(update.effective_message, USAGE)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register the import handlers."""
    app.add_handler(MessageHandler(filters.Document.ALL & filters.CaptionRegex(r"^/import(@\w+)?(\s|$)"), import_file))
    app.add_handler(CommandHandler("import", import_usage))
    app.add_handler(CallbackQueryHandler(confirm_import, pattern=r"^i[xq]\|"))
