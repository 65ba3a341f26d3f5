"""Questions: ``/ask 问题`` in groups (or a reply to the bot, or a mention); any text in private.

The answer shows up to 3 indicators with buttons: 详情 (full card), 更多结果 (next page,
editing the same message). Other modules may add per-result buttons via ``result_actions``.
An owner's list comes complete in one message; a programme question is answered from the
profiles; ``我们科还有哪些没报`` lists the asker's unit's unreported indicators of the period.
When nothing matches well (an honest miss) the reply says so and offers 转给协调人, which
posts the question to the coordinator groups.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.callbacks import button, signed
from handlers.cards import full_card, result_page, trim
from handlers.deps import Services, get_services, reporter_of
from handlers.replies import Markup, edit, html, reply, send
from knowledge.domain import Role
from knowledge.search import Hit, SearchResult
from storage.anchors import save_anchor
from storage.chats import bound_document
from storage.progress import document_period, unit_status
from storage.reminders import coordinator_chat_ids

COMMANDS = [("ask", "查询指标：/ask 执法文书格式谁负责、/ask 李建伟、/ask 12")]

USAGE = "请在 /ask 后面写上要查的内容，例如：\n/ask 执法文书格式谁负责\n/ask 李建伟负责哪些\n/ask 12号指标"


@dataclass(frozen=True)
class AskSession:
    """What a 更多结果 button needs to redo the search."""

    question: str
    preferred_document: str | None


def _remember(services: Services, session: AskSession) -> str:
    token = secrets.token_hex(4)
    services.state.ask_sessions[token] = session
    return token


def _run(services: Services, session: AskSession) -> SearchResult:
    return services.search.index.search(session.question, limit=50, preferred_document=session.preferred_document)


def _names(services: Services) -> dict[str, str]:
    return {doc_id: doc.short_name or doc_id for doc_id, doc in services.search.index.documents.items()}


def _keyboard(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    result: SearchResult,
    page: int,
    token: str,
    hits_shown: list[Hit],
    has_more: bool,
) -> InlineKeyboardMarkup | None:
    """详情 / result actions / 更多结果, signed for this chat (anyone in it may press them)."""
    rows: list[list[InlineKeyboardButton]] = []
    if result.intent != "owner":
        actions = get_services(context).result_actions
        for number, hit in enumerate(hits_shown, page * 3 + 1):
            indicator_id = hit.entry.indicator.db_id
            if indicator_id is None:
                continue
            row = [button(context, chat_id, f"{number}. 详情", f"d|{indicator_id}")]
            row += [button(context, chat_id, text, f"{prefix}|{indicator_id}") for text, prefix in actions]
            rows.append(row)
    if has_more:
        rows.append([button(context, chat_id, "更多结果 ▶", f"s|{token}|{page + 1}")])
    return InlineKeyboardMarkup(rows) if rows else None


FORWARD_BUTTON = "转给协调人"
PENDING_LIMIT = 60


def is_miss(result: SearchResult) -> bool:
    """Nothing answered the question well: offer to send it to the coordinator."""
    if result.intent == "topic":
        return result.uncertain or not result.hits
    return result.programme is not None and not result.programme.lines


def _pending_text(session: Session, unit_id: int, document_id: str | None, now: datetime) -> str:
    """The asker's unit: indicators without a report for the current period."""
    period = document_period(session, document_id, now)
    status = unit_status(session, unit_id, period.period, document_id)
    missing = [line for line in status.lines if line.status is None]
    head = f"<b>{escape(status.unit)}</b> {escape(period.label)}：共 {len(status.lines)} 项，还有 {len(missing)} 项未报"
    if not missing:
        return f"<b>{escape(status.unit)}</b> {escape(period.label)}：{len(status.lines)} 项都已报送。"
    lines = [head + "："]
    for line in missing[:PENDING_LIMIT]:
        role = "" if line.role == Role.LEAD else "（配合）"
        lines.append(f"⬜ 第{escape(line.number)}项{role} {escape(trim(line.text, 30))}")
    if len(missing) > PENDING_LIMIT:
        lines.append(f"……另有 {len(missing) - PENDING_LIMIT} 项")
    lines.append("报送：/report 编号 已完成 具体情况")
    return "\n".join(lines)[:4000]


async def answer(message: Message, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Search and reply with the first page."""
    services = get_services(context)
    preferred = await services.db.run(bound_document, message.chat.id)
    session = AskSession(question, preferred)
    result = _run(services, session)
    if result.intent == "pending" and message.from_user is not None:
        reporter = await reporter_of(services, message.from_user)
        if reporter.unit_id is not None:
            text = await services.db.run(_pending_text, reporter.unit_id, preferred, services.clock())
            await reply(message, Markup(text))
            return
    text, shown, has_more = result_page(result, 0, _names(services))
    token = _remember(services, session) if has_more or is_miss(result) else ""
    markup = _keyboard(context, message.chat_id, result, 0, token, shown, has_more)
    if is_miss(result):
        rows = list(markup.inline_keyboard) if markup else []
        rows.append((button(context, message.chat.id, FORWARD_BUTTON, f"fq|{token}"),))
        markup = InlineKeyboardMarkup(rows)
    await reply(message, Markup(text), reply_markup=markup)


async def _forward(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """转给协调人: post the question to every coordinator group."""
    query = update.callback_query
    if query is None:
        return
    services = get_services(context)
    session = services.state.ask_sessions.get(payload.split("|", 1)[1])
    if session is None:
        await query.answer("这条问题已过期，请重新提问。", show_alert=True)
        return
    chats = await services.db.run(coordinator_chat_ids)
    if not chats:
        await query.answer("还没有绑定法规科协调群，请直接联系协调人。", show_alert=True)
        return
    asker = update.effective_user.full_name if update.effective_user else "群成员"
    where = query.message.chat.title if query.message is not None and query.message.chat.title else "私聊"
    for chat_id in chats:
        await send(context.bot, chat_id, f"❓ {asker}（{where}）的问题，机器人没有找到答案：\n{session.question}")
    await query.answer("已转给协调人")
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask 问题."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    if not question.strip():
        await reply(message, USAGE)
        return
    await answer(message, context, question)


def _addressed_to_bot(message: Message, bot_id: int, username: str) -> str | None:
    """The question text if a group message is a reply to the bot or mentions it."""
    text = message.text or ""
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return text
    for entity, value in message.parse_entities([MessageEntityType.MENTION]).items():
        if value.lstrip("@").lower() == username.lower():
            return text.replace(value, " ", 1) if entity else text
    return None


async def ask_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Plain text: every message in private; in groups only replies to the bot and mentions."""
    message = update.effective_message
    if message is None or not message.text:
        return
    if message.chat.type == ChatType.PRIVATE:
        await answer(message, context, message.text)
        return
    question = _addressed_to_bot(message, context.bot.id, context.bot.username or "")
    if question is not None:
        if question.strip():
            await answer(message, context, question)
        else:
            await reply(message, USAGE)


@signed
async def more_results(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """更多结果: show the next page by editing the same message (public: indicators and owners)."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    _, token, page_text = payload.split("|", 2)
    services = get_services(context)
    session = services.state.ask_sessions.get(token)
    if session is None or not page_text.isdigit():
        await query.answer("这条结果已过期，请重新提问。", show_alert=True)
        return
    result = _run(services, session)
    page = int(page_text)
    text, shown, has_more = result_page(result, page, _names(services))
    await query.answer()
    try:
        markup = _keyboard(context, query.message.chat.id, result, page, token, shown, has_more)
        await edit(query, Markup(text), reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


@signed
async def show_detail(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """详情: the full card of one indicator, as a reply to the answer (public: indicator and owners)."""
    query = update.callback_query
    if query is None:
        return
    raw_id = payload.split("|", 1)[1]
    services = get_services(context)
    entry = services.search.index.find(int(raw_id)) if raw_id.isdigit() else None
    if entry is None:
        await query.answer("找不到这项指标（可能已被重新导入），请重新提问。", show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        sent = await reply(
            query.message, html(Markup(full_card(entry)), "\n\n回复本消息发送文件，即作为本项的佐证材料。")
        )
        # A file sent as a reply to this card attaches to this indicator (see handlers.evidence).
        await services.db.run(save_anchor, sent.chat_id, sent.message_id, int(raw_id), None, services.clock())


_checked_forward = signed(_forward)


async def forward_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """转给协调人 (signed button)."""
    await _checked_forward(update, context)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /ask, text questions and the result buttons."""
    app.add_handler(CommandHandler("ask", ask_command))
    app.add_handler(CallbackQueryHandler(more_results, pattern=r"^s\|"))
    app.add_handler(CallbackQueryHandler(show_detail, pattern=r"^d\|"))
    app.add_handler(CallbackQueryHandler(forward_question, pattern=r"^fq\|"))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, ask_text))
