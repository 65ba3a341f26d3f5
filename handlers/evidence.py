"""Evidence files: a document or photo with caption ``#31 说明`` (or replying to a receipt),
``#31 涉密，实地核验时提供`` for evidence kept on paper, and ``/files 31`` to list and re-send
them (by Telegram file id, no re-upload).

The file is downloaded to a temp file, checked, fsynced and moved into the store, and the
attachment row committed, all before the bot answers.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import datetime
from html import escape

from sqlalchemy.orm import Session
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from handlers.callbacks import button, signed
from handlers.deps import get_services, reporter_of
from handlers.replies import Markup, captioned, reply
from handlers.report import FLOW_KEY
from knowledge.access import Action, Reporter, Target, require
from knowledge.errors import Refusal
from knowledge.evidence_items import PAPER_MIME
from knowledge.report_line import IndicatorRef, human_size, parse_caption, parse_indicator_ref
from knowledge.reports import reporting_unit, resolve_indicator, visible_units
from knowledge.schedule import report_period
from storage.anchors import anchor_of
from storage.blobs import (
    MAX_TELEGRAM_DOWNLOAD,
    StoredBlob,
    add_attachment,
    add_paper_entry,
    attachment_for_update,
    attachments_for,
    sanitise_name,
)
from storage.chats import bound_document
from storage.models import Attachment, Indicator, Unit
from storage.progress import SqlReports, claim_update, period_for

COMMANDS = [("files", "查看并重发某项指标本期的佐证材料：/files 31")]


def _target(
    session: Session,
    reporter: Reporter,
    number: IndicatorRef | None,
    indicator_id: int | None,
    document_id: str | None,
) -> tuple[int, int]:
    """(indicator id, unit id) of an upload the reporter may make (Refusal otherwise)."""
    repo = SqlReports(session)
    if indicator_id is not None:
        indicator = repo.indicator(indicator_id)
        if indicator is None:
            raise Refusal("找不到这项指标")
    else:
        assert number is not None
        indicator = resolve_indicator(repo, reporter, number, document_id)
    unit = reporting_unit(reporter, indicator, Action.UPLOAD)
    return indicator.id, unit.unit_id


def _record(
    session: Session,
    *,
    reporter: Reporter,
    indicator_id: int,
    unit_id: int,
    period: str | None,
    blob: StoredBlob,
    name: str,
    caption: str,
    file_id: str,
    unique_id: str,
    update_id: int,
    bot_id: int,
    now: datetime,
) -> tuple[Attachment, bool, str, str, bool]:
    indicator = session.get(Indicator, indicator_id)
    unit = session.get(Unit, unit_id)
    assert indicator is not None and unit is not None
    resolved = period_for(indicator.document, now, period)
    if not claim_update(session, update_id, "attachment", now, bot_id=bot_id):
        # Replayed after a crash (stored, receipt maybe never sent): answer as the first time.
        stored = attachment_for_update(session, update_id, bot_id=bot_id)
        return stored or Attachment(), stored is None, resolved.label, indicator.number, True
    row, duplicate = add_attachment(
        session,
        indicator=indicator,
        unit=unit,
        period=resolved.period,
        blob=blob,
        original_name=name,
        caption=caption,
        telegram_file_id=file_id,
        telegram_file_unique_id=unique_id,
        uploader_id=reporter.telegram_user_id,
        uploader_name=reporter.name,
        update_id=update_id,
        now=now,
    )
    return row, duplicate, resolved.label, indicator.number, False


async def receive_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document/photo captioned ``#31``, or sent as a reply to a receipt."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    caption = message.caption or ""
    match = parse_caption(caption)
    receipt = None
    if message.reply_to_message is not None:  # a reply to a receipt or to an indicator's 详情 card
        receipt = await get_services(context).db.run(anchor_of, message.chat_id, message.reply_to_message.message_id)
    flow = (context.user_data or {}).get(FLOW_KEY)
    if match is None and receipt is None and flow and flow.get("chat_id") == message.chat_id:
        receipt = (flow["indicator_id"], None)  # a file sent while answering /report step by step
    if match is None and receipt is None:
        if message.chat.type == "private":
            await reply(message, "如要作为佐证材料，请重新发送并在文件说明里写 #指标编号，例如：#31 情况说明")
        return  # in groups: a file not meant for us
    if message.document is not None:
        file_id, unique_id = message.document.file_id, message.document.file_unique_id
        size, name = message.document.file_size or 0, message.document.file_name or "附件"
    elif message.photo:
        photo = message.photo[-1]
        file_id, unique_id, size, name = photo.file_id, photo.file_unique_id, photo.file_size or 0, "照片.jpg"
    else:
        return
    if size > MAX_TELEGRAM_DOWNLOAD:
        await reply(
            message,
            f"文件“{sanitise_name(name)}”有 {size / 1024 / 1024:.1f} MB，超过 Telegram 机器人可下载的 20 MB 上限。"
            "请压缩或拆分后再发送，或在实地核验时提供。",
        )
        return
    services = get_services(context)
    reporter = await reporter_of(services, user)
    document_id = await services.db.run(bound_document, message.chat_id)
    note = match[1] if match else caption.strip()  # kept as written
    indicator_id, unit_id = await services.db.run(
        _target,
        reporter,
        match[0] if match else None,
        None if match or receipt is None else receipt[0],
        document_id,
    )
    temp = services.blobs.temp_path(secrets.token_hex(8))
    try:
        telegram_file = await context.bot.get_file(file_id)
        await telegram_file.download_to_drive(temp)
        # Telegram's announced size: a download of any other length is refused, never stored.
        expected = size or telegram_file.file_size
        blob = await asyncio.to_thread(services.blobs.commit, temp, name, expected)  # a Refusal is answered
    except TelegramError:
        if temp.exists():
            temp.unlink()
        await reply(message, "文件下载失败，请稍后重新发送。")
        return
    _row, duplicate, period_label, number, _replayed = await services.db.run(
        _record,
        reporter=reporter,
        indicator_id=indicator_id,
        unit_id=unit_id,
        period=receipt[1] if receipt and not match else None,
        blob=blob,
        name=name,
        caption=note,
        file_id=file_id,
        unique_id=unique_id,
        update_id=update.update_id,
        bot_id=context.bot.id,
        now=services.clock(),
    )
    safe = escape(sanitise_name(name))
    if duplicate:
        text = f"📎 “{safe}”已在第{escape(number)}项 {period_label} 的材料里（相同内容），未重复保存。"
    else:
        text = (
            f"📎 已保存材料：{safe}（{human_size(blob.size)}，{blob.kind.upper()}）\n"
            f"指标：第{escape(number)}项　期间：{period_label}\n"
            + (f"说明：{escape(note)}\n" if note else "")
            + f"查看：/files {escape(number)}"
        )
    await reply(message, Markup(text))


_PAPER_WORDS_RE = re.compile(r"涉密|纸质|实地核验")


def _record_paper(
    session: Session,
    *,
    reporter: Reporter,
    ref: IndicatorRef,
    note: str,
    document_id: str | None,
    update_id: int,
    now: datetime,
) -> tuple[str, str] | None:
    """A paper-evidence entry for the indicator and the current period; (number, period label)."""
    indicator_id, unit_id = _target(session, reporter, ref, None, document_id)
    indicator = session.get(Indicator, indicator_id)
    unit = session.get(Unit, unit_id)
    assert indicator is not None and unit is not None
    period = period_for(indicator.document, now)
    if not claim_update(session, update_id, "paper", now):
        return None
    add_paper_entry(
        session,
        indicator=indicator,
        unit=unit,
        period=period.period,
        note=note,
        uploader_id=reporter.telegram_user_id,
        uploader_name=reporter.name,
        update_id=update_id,
        now=now,
    )
    return indicator.number, period.label


async def paper_evidence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``#31 涉密，实地核验时提供``: the evidence is kept on paper; recorded instead of a file."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not message.text:
        return
    found = parse_caption(message.text)
    if found is None or not _PAPER_WORDS_RE.search(found[1]):
        return
    ref, note = found
    services = get_services(context)
    reporter = await reporter_of(services, user)
    document_id = await services.db.run(bound_document, message.chat_id)
    done = await services.db.run(
        _record_paper,
        reporter=reporter,
        ref=ref,
        note=note,
        document_id=document_id,
        update_id=update.update_id,
        now=services.clock(),
    )
    if done is None:
        return
    number, period_label = done
    await reply(
        message,
        f"📄 已登记纸质材料：第{number}项　期间：{period_label}\n说明：{note}\n"
        f"实地核验时请提供原件。查看：/files {number}",
    )


def _list_files(
    session: Session, reporter: Reporter, number: IndicatorRef, document_id: str | None, now: datetime
) -> tuple[str, list[tuple[int, str]]]:
    repo = SqlReports(session)
    indicator = resolve_indicator(repo, reporter, number, document_id)
    units = visible_units(reporter, indicator, Action.VIEW_FILES)
    period = report_period(indicator.profile, now)
    files = attachments_for(session, indicator.id, period.period, sorted(units) if units is not None else None)
    if not files:
        return f"第{indicator.number}项 {period.label} 还没有佐证材料。", []
    lines = [f"第{indicator.number}项 {period.label} 的佐证材料（{len(files)} 个）："]
    for position, row in enumerate(files, 1):
        size = "纸质，实地核验时提供" if row.mime == PAPER_MIME else human_size(row.size)
        lines.append(
            f"{position}. {row.original_name}（{size}，{row.uploader_name} {row.created_at:%m-%d}）"
            + (f"\n   说明：{row.caption}" if row.caption else "")
        )
    buttons = [(row.id, f"重发 {position}") for position, row in enumerate(files, 1) if row.mime != PAPER_MIME]
    return "\n".join(lines), buttons


async def list_files(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/files 31 → list with 重发 buttons."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if not context.args:
        await reply(message, "用法：/files 指标编号，例如：/files 31")
        return
    services = get_services(context)
    reporter = await reporter_of(services, user)
    document_id = await services.db.run(bound_document, message.chat_id)
    text, buttons = await services.db.run(
        _list_files, reporter, parse_indicator_ref(" ".join(context.args)), document_id, services.clock()
    )
    rows = [[button(context, message.chat_id, label, f"fs|{att_id}")] for att_id, label in buttons[:20]]
    await reply(message, text, reply_markup=InlineKeyboardMarkup(rows) if rows else None)


def _file_for(session: Session, reporter: Reporter, attachment_id: int) -> Attachment:
    """The attachment, if the reporter may see it now (its unit's members, its programme's coordinators)."""
    row = session.get(Attachment, attachment_id)
    indicator = session.get(Indicator, row.indicator_id) if row is not None else None
    if row is None or indicator is None:
        raise Refusal("找不到这个文件。")
    units = [row.unit_id] if row.unit_id is not None else []
    require(reporter.actor, Action.VIEW_FILES, Target.of(indicator.document_id, units=units))
    return row


@signed
async def resend(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """重发: send a stored file again by its Telegram file id (rights re-checked at the press)."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    services = get_services(context)
    reporter = await reporter_of(services, update.effective_user)  # type: ignore[arg-type]
    row = await services.db.run(_file_for, reporter, int(payload.split("|", 1)[1]))
    await query.answer()
    if row.mime.startswith("image/") and row.original_name == "照片.jpg":
        await context.bot.send_photo(query.message.chat_id, row.telegram_file_id, **captioned(row.original_name))
    else:
        await context.bot.send_document(query.message.chat_id, row.telegram_file_id, **captioned(row.original_name))


def _upload_number(session: Session, reporter: Reporter, indicator_id: int) -> str:
    indicator = SqlReports(session).indicator(indicator_id)
    if indicator is None:
        raise Refusal("找不到这项指标（可能已被重新导入），请重新提问。")
    require(reporter.actor, Action.UPLOAD, indicator.target())
    return indicator.number


@signed
async def upload_hint(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """上传材料 button of a search answer: say how to send the file (owners and coordinators)."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    services = get_services(context)
    reporter = await reporter_of(services, update.effective_user)  # type: ignore[arg-type]
    number = await services.db.run(_upload_number, reporter, int(payload.split("|", 1)[1]))
    await query.answer()
    await reply(query.message, f"请发送文件，并在文件说明里写 #{number}（可加一句说明），例如：#{number} 情况说明")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register evidence handlers (files captioned /import belong to the tables module, earlier)."""
    app.add_handler(MessageHandler(filters.Document.ALL | filters.PHOTO, receive_file))
    app.add_handler(CommandHandler("files", list_files))
    paper_text = filters.Regex(r"(?s)^\s*[#＃].*(?:涉密|纸质|实地核验)")
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & paper_text, paper_evidence))
    app.add_handler(CallbackQueryHandler(resend, pattern=r"^fs\|"))
    app.add_handler(CallbackQueryHandler(upload_hint, pattern=r"^ru\|"))
