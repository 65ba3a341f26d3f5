"""/join, join confirmations, /addmember and /bind (coordinators and admins)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from html import escape
from typing import Any

from sqlalchemy.orm import Session
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers.callbacks import button, signed
from handlers.deps import Services, get_services, reporter_of
from handlers.replies import Markup, edit, reply
from knowledge.access import Action, Reporter, Target, require
from knowledge.domain import ChatKind, MemberRole
from knowledge.errors import Refusal
from knowledge.robots import WEBHOOK_KINDS, check_robot_url
from storage.chats import bound_document
from storage.membership import (
    BindingView,
    MemberView,
    add_member,
    bind_chat,
    coordinators_of,
    decide_join,
    find_document,
    member_view,
    request_join,
    set_webhook,
    unit_choices,
    unit_name_of,
    unit_programmes,
)
from storage.progress import find_unit

COMMANDS = [
    ("join", "登记所属单位：/join 法规科 刘海利"),
    ("bind", "绑定本群（协调人）：/bind 法规科 或 /bind 协调 [文档]"),
    ("addmember", "直接添加成员（协调人）：/addmember 用户ID 单位 姓名 [协调人 文档…]"),
    ("webhook", "提醒同步到企业微信/钉钉/飞书群机器人（协调人）：/webhook wecom 地址"),
]
COORDINATOR_WORD = "协调人"


async def _reporter(services: Services, update: Update) -> Reporter:
    assert update.effective_user is not None
    return await reporter_of(services, update.effective_user)


async def join(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/join 单位 [姓名] → pending request with 同意/拒绝 buttons for the programme's coordinators."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    args = context.args or []
    services = get_services(context)
    if not args:
        names = await services.db.run(unit_choices, message.chat_id)
        buttons = [button(context, message.chat_id, name, f"jp|{unit_id}", user.id) for unit_id, name in names]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        await reply(
            message,
            "请选择所属单位（也可以直接发送：/join 单位 姓名，例如 /join 法规科 刘海利）：",
            reply_markup=InlineKeyboardMarkup(rows) if rows else None,
        )
        return
    await _request(update, context, args[0], args[1] if len(args) > 1 else None)


@signed
async def pick_unit(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """A unit button of /join (only for the user who sent /join)."""
    query = update.callback_query
    if query is None:
        return
    services = get_services(context)
    name = await services.db.run(unit_name_of, int(payload.split("|", 1)[1]))
    await query.answer()
    if name:
        await _request(update, context, name, None)


def _join_and_deciders(session: Session, **request: object) -> tuple[MemberView, list[MemberView]]:
    view = request_join(session, **request)  # type: ignore[arg-type]
    programmes = unit_programmes(session, view.unit_id) if view.unit_id is not None else []
    return view, coordinators_of(session, programmes)


async def _request(update: Update, context: ContextTypes.DEFAULT_TYPE, unit: str, person: str | None) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = get_services(context)
    auto = services.is_admin(user.id)
    view, deciders = await services.db.run(
        _join_and_deciders,
        telegram_user_id=user.id,
        display_name=user.full_name,
        username=user.username or "",
        unit_name=unit,
        person_name=person,
        now=services.clock(),
        auto_approve=auto,
    )
    who = f"{escape(view.unit)}" + (f" {escape(view.person)}" if view.person else "")
    if auto:
        await reply(message, Markup(f"已登记：{who}（管理员，无需确认）。"))
        return
    buttons = InlineKeyboardMarkup(
        [
            [
                button(context, message.chat_id, "同意", f"jy|{view.member_id}"),
                button(context, message.chat_id, "拒绝", f"jn|{view.member_id}"),
            ]
        ]
    )
    names = "、".join(escape(d.person or d.display_name or str(d.telegram_user_id)) for d in deciders)
    deciding = f"本项目协调人（{names}）或管理员" if names else "管理员"
    await reply(
        message, Markup(f"{escape(user.full_name)} 申请登记为 <b>{who}</b>，请{deciding}确认。"), reply_markup=buttons
    )


def _decide(session: Session, reporter: Reporter, member_id: int, approve: bool) -> MemberView:
    """Decide a join request if the presser coordinates a programme of that unit (or is an admin)."""
    pending = member_view(session, member_id)
    if pending is None:
        raise Refusal("这条申请已不存在。")
    programmes = unit_programmes(session, pending.unit_id) if pending.unit_id is not None else []
    require(reporter.actor, Action.JOIN_DECIDE, Target(frozenset(programmes)))
    return decide_join(session, member_id, approve, reporter.telegram_user_id)


@signed
async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """同意/拒绝 a join request (the programme's coordinators and admins)."""
    query = update.callback_query
    if query is None:
        return
    action, member_id = payload.split("|", 1)
    services = get_services(context)
    reporter = await _reporter(services, update)
    view = await services.db.run(_decide, reporter, int(member_id), action == "jy")
    await query.answer()
    verdict = "已同意" if action == "jy" else "已拒绝"
    who = escape(view.unit) + (f" {escape(view.person)}" if view.person else "")
    await edit(query, Markup(f"{escape(view.display_name)} 登记为 {who}：{verdict}。"))


def _add(
    session: Session, reporter: Reporter, chat_id: int, args: list[str], now: datetime
) -> tuple[MemberView, MemberRole]:
    """/addmember 用户ID 单位 [姓名] [协调人 [文档…]], checked against the adder's programmes."""
    role = MemberRole.COORDINATOR if COORDINATOR_WORD in args[2:] else MemberRole.MEMBER
    cut = args.index(COORDINATOR_WORD) if role == MemberRole.COORDINATOR else len(args)
    names = args[2:cut]
    unit = find_unit(session, args[1])
    programmes = unit_programmes(session, unit.id) if unit is not None else []
    require(reporter.actor, Action.ADD_MEMBER, Target(frozenset(programmes)))
    scope: list[str] = []
    if role == MemberRole.COORDINATOR:
        hints = args[cut + 1 :]
        scope = [find_document(session, hint).id for hint in hints]
        if not hints and (chat_document := bound_document(session, chat_id)):
            scope = [chat_document]  # in a programme's group: that programme
        targets = [Target.of(document_id) for document_id in scope] or [Target()]  # no programme: all of them
        for target in targets:
            require(reporter.actor, Action.ADD_COORDINATOR, target)
    view = add_member(
        session,
        telegram_user_id=int(args[0]),
        unit_name=args[1],
        person_name=names[0] if names else None,
        role=role,
        added_by=reporter.telegram_user_id,
        now=now,
        programmes=scope,
    )
    return view, role


async def add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/addmember 用户ID 单位 [姓名] [协调人 [文档…]]."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = get_services(context)
    reporter = await _reporter(services, update)
    if not reporter.is_coordinator:
        raise Refusal("只有本项目的协调人或管理员可以添加成员。")
    args = context.args or []
    if len(args) < 2 or not args[0].lstrip("-").isdigit():
        await reply(
            message, "用法：/addmember 用户ID 单位 [姓名] [协调人 [文档…]]，例如：/addmember 123456 法规科 刘海利"
        )
        return
    view, role = await services.db.run(_add, reporter, message.chat_id, list(args), services.clock())
    label = "协调人" if role == MemberRole.COORDINATOR else "成员"
    scope = f"（负责文档：{'、'.join(view.programmes)}）" if role == MemberRole.COORDINATOR and view.programmes else ""
    await reply(message, f"已添加{label}：{view.telegram_user_id} → {view.unit} {view.person}".strip() + scope)


def _bind(session: Session, reporter: Reporter, **binding: object) -> BindingView:
    """Bind, then check the binder coordinates what was bound (a refusal rolls the binding back)."""
    view = bind_chat(session, **binding)  # type: ignore[arg-type]
    if view.document_id is not None:
        programmes = frozenset({view.document_id})
    elif view.unit_id is not None:
        programmes = frozenset(unit_programmes(session, view.unit_id))
    else:
        programmes = frozenset()  # a coordinator group for every programme
    require(reporter.actor, Action.BIND_CHAT, Target(programmes))
    return view


async def bind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bind 单位|协调 [文档] — groups only, the programme's coordinators only."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    if chat.type == ChatType.PRIVATE:
        await reply(message, "请在要绑定的群里发送 /bind。")
        return
    services = get_services(context)
    reporter = await _reporter(services, update)
    if not reporter.is_coordinator:
        raise Refusal("只有本项目的协调人或管理员可以绑定群。")
    args = context.args or []
    if not args:
        await reply(message, "用法：/bind 单位名称 [文档编号]，或 /bind 协调 [文档编号]（协调群）")
        return
    view = await services.db.run(
        _bind,
        reporter,
        chat_id=chat.id,
        title=chat.title or "",
        target=args[0],
        document_hint=args[1] if len(args) > 1 else None,
        bound_by=user.id,
        now=services.clock(),
    )
    what = "协调群" if view.kind == ChatKind.COORDINATOR else f"{view.unit}的单位群"
    scope = f"，文档：{view.document}" if view.document else "，全部文档"
    await reply(message, f"已将本群绑定为{what}{scope}。")


async def webhook(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/webhook wecom|dingtalk|feishu URL [密钥] or /webhook off, in a bound group (its programme's coordinators)."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    services = get_services(context)
    args = context.args or []
    quote: dict[str, Any] = {}
    if len(args) >= 2 and await _delete_quietly(message):  # the URL (and secret) are credentials
        quote = {"do_quote": False}  # the message is gone: answer without quoting it
    reporter = await _reporter(services, update)
    document_id = await services.db.run(bound_document, chat.id)
    require(reporter.actor, Action.WEBHOOK_SET, Target.of(document_id))
    try:
        if args[:1] == ["off"]:
            await services.db.run(set_webhook, chat.id, "", "", "")
            await reply(message, "已停止向群机器人同步提醒。", **quote)
            return
        if len(args) < 2 or args[0] not in WEBHOOK_KINDS:
            await reply(message, "用法：/webhook wecom|dingtalk|feishu https://… [签名密钥]，或 /webhook off", **quote)
            return
        await asyncio.to_thread(check_robot_url, args[1], services.config.robot_policy)
        await services.db.run(set_webhook, chat.id, args[0], args[1], args[2] if len(args) > 2 else "")
    except Refusal as exc:  # ReportError is an alias of Refusal
        await reply(message, f"未设置群机器人：{exc}", **quote)
        return
    names = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}
    signed = "（含签名密钥）" if len(args) > 2 else ""
    await reply(message, f"已设置：本群的提醒会同步发到{names[args[0]]}群机器人{signed}。", **quote)


async def _delete_quietly(message: Message) -> bool:
    """Delete a message if the bot is allowed to (group admin, or any private chat); whether it did."""
    with contextlib.suppress(TelegramError):
        return await message.delete()
    return False


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register membership and binding commands."""
    app.add_handler(CommandHandler("webhook", webhook))
    app.add_handler(CommandHandler("join", join))
    app.add_handler(CommandHandler("addmember", add))
    app.add_handler(CommandHandler("bind", bind))
    app.add_handler(CallbackQueryHandler(decide, pattern=r"^j[yn]\|"))
    app.add_handler(CallbackQueryHandler(pick_unit, pattern=r"^jp\|"))
