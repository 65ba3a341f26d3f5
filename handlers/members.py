"""/join, join confirmations, /addmember and /bind (coordinators and admins)."""

from __future__ import annotations

import asyncio
import contextlib
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.deps import get_services, reporter_of
from handlers.replies import Markup, edit, reply
from knowledge.errors import Refusal
from knowledge.robots import WEBHOOK_KINDS, check_robot_url
from storage.membership import (
    add_member,
    bind_chat,
    decide_join,
    request_join,
    set_webhook,
    unit_choices,
    unit_name_of,
)
from storage.models import ChatKind, MemberRole
from storage.progress import ReportError

COMMANDS = [
    ("join", "登记所属单位：/join 法规科 刘海利"),
    ("bind", "绑定本群（协调人）：/bind 法规科 或 /bind 协调"),
    ("addmember", "直接添加成员（协调人）：/addmember 用户ID 单位 姓名"),
    ("webhook", "提醒同步到企业微信/钉钉/飞书群机器人（协调人）：/webhook wecom 地址"),
]


async def is_coordinator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Admins (TAIZHANG_ADMINS) and active coordinator members."""
    user = update.effective_user
    if user is None:
        return False
    services = get_services(context)
    reporter = await reporter_of(services, user)
    return reporter.is_coordinator


async def join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/join 单位 [姓名] → pending request with 同意/拒绝 buttons for coordinators."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    args = context.args or []
    services = get_services(context)
    if not args:
        names = await services.db.run(unit_choices, message.chat_id)
        buttons = [InlineKeyboardButton(name, callback_data=f"jp|{unit_id}") for unit_id, name in names]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        await reply(
            message,
            "请选择所属单位（也可以直接发送：/join 单位 姓名，例如 /join 法规科 刘海利）：",
            reply_markup=InlineKeyboardMarkup(rows) if rows else None,
        )
        return
    await _request(update, context, args[0], args[1] if len(args) > 1 else None)


async def pick_unit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A unit button of /join."""
    query = update.callback_query
    if query is None or not query.data:
        return
    services = get_services(context)
    name = await services.db.run(unit_name_of, int(query.data.split("|", 1)[1]))
    await query.answer()
    if name:
        await _request(update, context, name, None)


async def _request(update: Update, context: ContextTypes.DEFAULT_TYPE, unit: str, person: str | None) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = get_services(context)
    auto = services.is_admin(user.id)
    try:
        view = await services.db.run(
            request_join,
            telegram_user_id=user.id,
            display_name=user.full_name,
            username=user.username or "",
            unit_name=unit,
            person_name=person,
            now=services.clock(),
            auto_approve=auto,
        )
    except ReportError as exc:
        await reply(message, str(exc))
        return
    who = f"{escape(view.unit)}" + (f" {escape(view.person)}" if view.person else "")
    if auto:
        await reply(message, Markup(f"已登记：{who}（管理员，无需确认）。"))
        return
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("同意", callback_data=f"jy|{view.member_id}"),
                InlineKeyboardButton("拒绝", callback_data=f"jn|{view.member_id}"),
            ]
        ]
    )
    await reply(
        message,
        Markup(f"{escape(user.full_name)} 申请登记为 <b>{who}</b>，请法规科协调人或管理员确认。"),
        reply_markup=buttons,
    )


async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """同意/拒绝 a join request (coordinators only)."""
    query = update.callback_query
    if query is None or not query.data or update.effective_user is None:
        return
    if not await is_coordinator(update, context):
        await query.answer("只有法规科协调人或管理员可以确认。", show_alert=True)
        return
    action, member_id = query.data.split("|", 1)
    services = get_services(context)
    try:
        view = await services.db.run(decide_join, int(member_id), action == "jy", update.effective_user.id)
    except (ReportError, ValueError):
        await query.answer("这条申请已不存在。", show_alert=True)
        return
    await query.answer()
    verdict = "已同意" if action == "jy" else "已拒绝"
    who = escape(view.unit) + (f" {escape(view.person)}" if view.person else "")
    await edit(query, Markup(f"{escape(view.display_name)} 登记为 {who}：{verdict}。"))


async def add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addmember 用户ID 单位 [姓名] [协调人]."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if not await is_coordinator(update, context):
        await reply(message, "只有法规科协调人或管理员可以添加成员。")
        return
    args = context.args or []
    if len(args) < 2 or not args[0].lstrip("-").isdigit():
        await reply(message, "用法：/addmember 用户ID 单位 [姓名] [协调人]，例如：/addmember 123456 法规科 刘海利")
        return
    role = MemberRole.COORDINATOR if "协调人" in args[2:] else MemberRole.MEMBER
    names = [a for a in args[2:] if a != "协调人"]
    services = get_services(context)
    try:
        view = await services.db.run(
            add_member,
            telegram_user_id=int(args[0]),
            unit_name=args[1],
            person_name=names[0] if names else None,
            role=role,
            added_by=user.id,
            now=services.clock(),
        )
    except ReportError as exc:
        await reply(message, str(exc))
        return
    label = "协调人" if role == MemberRole.COORDINATOR else "成员"
    await reply(message, f"已添加{label}：{view.telegram_user_id} → {view.unit} {view.person}".strip())


async def bind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bind 单位|协调 [文档] — groups only, coordinators only."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    if chat.type == ChatType.PRIVATE:
        await reply(message, "请在要绑定的群里发送 /bind。")
        return
    if not await is_coordinator(update, context):
        await reply(message, "只有法规科协调人或管理员可以绑定群。")
        return
    args = context.args or []
    if not args:
        await reply(message, "用法：/bind 单位名称 [文档编号]，或 /bind 协调（法规科协调群）")
        return
    services = get_services(context)
    try:
        view = await services.db.run(
            bind_chat,
            chat_id=chat.id,
            title=chat.title or "",
            target=args[0],
            document_hint=args[1] if len(args) > 1 else None,
            bound_by=user.id,
            now=services.clock(),
        )
    except ReportError as exc:
        await reply(message, str(exc))
        return
    what = "法规科协调群" if view.kind == ChatKind.COORDINATOR else f"{view.unit}的单位群"
    scope = f"，文档：{view.document}" if view.document else "，全部文档"
    await reply(message, f"已将本群绑定为{what}{scope}。")


async def webhook(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/webhook wecom|dingtalk|feishu URL [密钥] or /webhook off, in a bound group."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    if not await is_coordinator(update, context):
        await reply(message, "只有法规科协调人或管理员可以设置群机器人。")
        return
    args = context.args or []
    services = get_services(context)
    if len(args) >= 2:  # the URL (and secret) are credentials: remove them from the chat when we may
        await _delete_quietly(message)
    try:
        if args[:1] == ["off"]:
            await services.db.run(set_webhook, chat.id, "", "", "")
            await reply(message, "已停止向群机器人同步提醒。")
            return
        if len(args) < 2 or args[0] not in WEBHOOK_KINDS:
            raise ReportError("用法：/webhook wecom|dingtalk|feishu https://… [签名密钥]，或 /webhook off")
        await asyncio.to_thread(check_robot_url, args[1], services.config.robot_policy)
        await services.db.run(set_webhook, chat.id, args[0], args[1], args[2] if len(args) > 2 else "")
    except Refusal as exc:  # ReportError is an alias of Refusal
        await reply(message, f"未设置群机器人：{exc}")
        return
    names = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}
    signed = "（含签名密钥）" if len(args) > 2 else ""
    await reply(message, f"已设置：本群的提醒会同步发到{names[args[0]]}群机器人{signed}。")


async def _delete_quietly(message: Message) -> None:
    """Delete a message if the bot is allowed to (group admin, or any private chat)."""
    with contextlib.suppress(TelegramError):
        await message.delete()


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register membership and binding commands."""
    app.add_handler(CommandHandler("webhook", webhook))
    app.add_handler(CommandHandler("join", join))
    app.add_handler(CommandHandler("addmember", add))
    app.add_handler(CommandHandler("bind", bind))
    app.add_handler(CallbackQueryHandler(decide, pattern=r"^j[yn]\|"))
    app.add_handler(CallbackQueryHandler(pick_unit, pattern=r"^jp\|"))
