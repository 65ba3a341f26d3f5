"""A filled-in ledger sent back (xlsx with caption ``/report``): preview, then 确认登记 records each row.

The preview and the confirmation are the bulk report's (``handlers.report``): the same draft,
the same 确认登记 / 取消 buttons, the same receipts.
"""

from __future__ import annotations

import asyncio
import logging
from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from handlers.callbacks import button
from handlers.cards import trim
from handlers.deps import get_services, reporter_of
from handlers.replies import Markup, reply
from handlers.report import Draft, keep_draft
from knowledge.errors import Refusal
from knowledge.ledger_import import check_filled, read_filled_ledger
from knowledge.ledger_spec import templates
from knowledge.statuses import STATUS_LABELS
from storage.chats import bound_document
from storage.ledger_data import document_with_prefix
from storage.progress import with_reports

log = logging.getLogger(__name__)
PREVIEW_LINES = 40


async def receive_ledger(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The filled template: read it, show what will be recorded and what could not be matched."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.document is None:
        return
    services = get_services(context)
    document = message.document
    limit = services.config.import_max_bytes
    if document.file_size and document.file_size > limit:
        await reply(
            message, f"文件太大（{document.file_size / 1024 / 1024:.1f} MB），上限 {limit / 1024 / 1024:.0f} MB。"
        )
        return
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("download of a returned ledger failed: %s", exc)
        await reply(message, "无法下载这个文件，请稍后重试。")
        return
    reporter = await reporter_of(services, user)
    try:
        filled = await asyncio.to_thread(read_filled_ledger, data)
        spec = templates().get(filled.template)
        bound = await services.db.run(bound_document, message.chat_id)
        document_id = bound or await services.db.run(document_with_prefix, spec.documents if spec else ())
        items, problems = await services.db.run(with_reports(check_filled), reporter, filled, document_id)
    except Refusal as exc:
        await reply(message, str(exc))
        return
    period = f"（{filled.period[:4]}年{int(filled.period[5:])}月）" if filled.period else ""
    text = [f"从台账{period}读到 {len(items)} 项，确认后登记为本单位报送："]
    text += [f"• {escape(i.label)} {STATUS_LABELS[i.status]}：{escape(trim(i.details, 50))}" for i in items]
    if len(text) > PREVIEW_LINES + 1:
        text = [*text[: PREVIEW_LINES + 1], f"……另有 {len(items) - PREVIEW_LINES} 项"]
    if problems:
        text.append(f"\n以下 {len(problems)} 行无法对应，不会登记：")
        text += [f"• {escape(p)}" for p in problems[:PREVIEW_LINES]]
    if not items:
        text[0] = "台账里没有可登记的行（完成进度为空或“未报送”）。"
        await reply(message, Markup("\n".join(text)))
        return
    token = await keep_draft(context, Draft(user.id, message.chat_id, items))
    buttons = InlineKeyboardMarkup(  # the bulk report's signed 确认登记 / 取消 (handlers.report.confirm)
        [[button(context, message.chat_id, "确认登记", f"rc|{token}", user.id),
          button(context, message.chat_id, "取消", f"rx|{token}", user.id)]]
    )  # fmt: skip
    await reply(message, Markup("\n".join(text)), reply_markup=buttons)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """A returned ledger (xlsx, caption /report) — before the evidence handler takes every document."""
    returned = filters.Document.FileExtension("xlsx") & filters.CaptionRegex(r"^\s*/report(?:@\w+)?\s*$")
    app.add_handler(MessageHandler(returned, receive_ledger))
