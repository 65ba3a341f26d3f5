"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers import registry
from handlers.replies import Markup, reply

COMMANDS = [
    ("start", "开始使用台账助手"),
    ("help", "查看可用命令"),
]

WELCOME = (
    "您好，我是<b>台账助手</b>：法治政府建设指标台账的群机器人。\n"
    "我可以回答“哪个指标管这件事、归谁负责”，收集每月进度和佐证材料，"
    "在截止日前提醒未报送的单位，并导出工作台账。\n\n"
)


def help_text() -> str:
    """The /help text: every command that exists, with its Chinese description."""
    lines = ["<b>可用命令</b>"]
    lines += [f"/{name} — {description}" for name, description in registry.all_commands()]
    lines.append("")
    lines.append("群聊中请用命令（如 /help），或回复我的消息。")
    return "\n".join(lines)


async def start(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet and show the commands."""
    if update.effective_message:
        await reply(update.effective_message, Markup(WELCOME + help_text()))


async def show_help(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands."""
    if update.effective_message:
        await reply(update.effective_message, Markup(help_text()))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /start and /help."""
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", show_help))
