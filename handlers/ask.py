"""Questions: ``/ask 问题`` in groups (or a reply to the bot, or a mention); any text in private.

The answer shows up to 3 indicators with buttons: 详情 (full card), 更多结果 (next page,
editing the same message). Other modules may add per-result buttons via ``RESULT_ACTIONS``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

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

from handlers.cards import full_card, result_page
from handlers.deps import Services, get_services
from handlers.replies import Markup, edit, html, reply
from knowledge.search import Hit, SearchResult
from storage.chats import bound_document

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
    services: Services, result: SearchResult, page: int, token: str, hits_shown: list[Hit], has_more: bool
) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    if result.intent != "owner":
        actions = services.result_actions
        for number, hit in enumerate(hits_shown, page * 3 + 1):
            indicator_id = hit.entry.indicator.db_id
            if indicator_id is None:
                continue
            row = [InlineKeyboardButton(f"{number}. 详情", callback_data=f"d|{indicator_id}")]
            row += [InlineKeyboardButton(text, callback_data=f"{prefix}|{indicator_id}") for text, prefix in actions]
            rows.append(row)
    if has_more:
        rows.append([InlineKeyboardButton("更多结果 ▶", callback_data=f"s|{token}|{page + 1}")])
    return InlineKeyboardMarkup(rows) if rows else None


async def answer(message: Message, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Search and reply with the first page."""
    services = get_services(context)
    preferred = await services.db.run(bound_document, message.chat.id)
    session = AskSession(question, preferred)
    result = _run(services, session)
    text, shown, has_more = result_page(result, 0, _names(services))
    token = _remember(services, session) if has_more else ""
    await reply(message, Markup(text), reply_markup=_keyboard(services, result, 0, token, shown, has_more))


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


async def more_results(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """更多结果: show the next page by editing the same message."""
    query = update.callback_query
    if query is None or not query.data:
        return
    _, token, page_text = query.data.split("|", 2)
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
        await edit(query, Markup(text), reply_markup=_keyboard(services, result, page, token, shown, has_more))
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def show_detail(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """详情: the full card of one indicator, as a reply to the answer."""
    query = update.callback_query
    if query is None or not query.data:
        return
    raw_id = query.data.split("|", 1)[1]
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
        services.state.receipts[(sent.chat_id, sent.message_id)] = (int(raw_id), None)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /ask, text questions and the result buttons."""
    app.add_handler(CommandHandler("ask", ask_command))
    app.add_handler(CallbackQueryHandler(more_results, pattern=r"^s\|"))
    app.add_handler(CallbackQueryHandler(show_detail, pattern=r"^d\|"))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, ask_text))
