"""The error handler: log with context, answer the user in Chinese, never crash.

It is also the one place a refusal becomes a reply: a handler (or the rule it calls) raises
``knowledge.errors.Refusal`` and this answers with its reason, as a reply to the message or as
an alert on the pressed button. The database work of that update was rolled back.
"""

from __future__ import annotations

import logging
import secrets

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from handlers.replies import reply, send
from knowledge.errors import Refusal

log = logging.getLogger(__name__)

USER_ERROR_TEXT = "抱歉，处理您的消息时出错了（错误编号 {ref}）。请稍后再试，或联系管理员。"


async def answer_refusal(update: Update, refusal: Refusal) -> None:
    """The refusal's reason: an alert on a pressed button, else a reply to the message."""
    reason = refusal.reason[:200] if update.callback_query is not None else refusal.reason[:4000]
    if update.callback_query is not None:
        await update.callback_query.answer(reason, show_alert=True)
    elif update.effective_message is not None:
        await reply(update.effective_message, reason)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Refusals: answer with the reason. Anything else: log with ids and tell the user politely."""
    if isinstance(context.error, Refusal) and isinstance(update, Update):
        try:
            await answer_refusal(update, context.error)
        except TelegramError:
            log.warning("could not send a refusal for update %s", update.update_id)
        return
    ref = secrets.token_hex(3)
    chat_id = user_id = update_id = None
    if isinstance(update, Update):
        update_id = update.update_id
        chat_id = update.effective_chat.id if update.effective_chat else None
        user_id = update.effective_user.id if update.effective_user else None
    log.error(
        "error %s handling update=%s chat=%s user=%s",
        ref,
        update_id,
        chat_id,
        user_id,
        exc_info=context.error,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await send(context.bot, update.effective_chat.id, USER_ERROR_TEXT.format(ref=ref))
        except TelegramError:
            log.warning("could not tell chat %s about error %s", chat_id, ref)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Install the error handler."""
    app.add_error_handler(on_error)
