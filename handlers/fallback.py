"""Fallbacks, registered last: unknown commands and plain private text nobody handled."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from handlers.replies import reply


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer commands we do not know: always in private, in groups only when addressed to us."""
    message = update.effective_message
    if message is None or not message.text:
        return
    command = message.text.split(maxsplit=1)[0]
    name, _, target = command.partition("@")
    in_group = message.chat.type != ChatType.PRIVATE
    if in_group and target.lower() != (context.bot.username or "").lower():
        return  # another bot's command, or a general one: stay quiet in groups
    await reply(message, f"未知命令 {name}，发送 /help 查看可用命令。")


async def private_text(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything else in private (stickers, files without a command…)."""
    if update.effective_message:
        await reply(update.effective_message, "我只看得懂文字提问和命令，发送 /help 查看我能做什么。")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register the fallbacks; must come after every other module (same group, first match wins)."""
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, private_text))
