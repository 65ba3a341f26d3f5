"""/report (one line, bulk paste with preview, guided), /history and /status.

Every report is committed (with the update id claimed in the same transaction) before
the receipt is sent, so a redelivered update answers with the same receipt and stores nothing.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy.orm import Session
from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.cards import trim
from handlers.deps import Services, get_services, reporter_of
from handlers.replies import Markup, edit, reply
from knowledge.report_line import parse_indicator_ref
from knowledge.reports import (
    PendingReport,
    ReportDraft,
    check_lines,
    guided_items,
    parse_report_line,
    parse_status,
    question_choices,
    record_checked,
    record_line,
)
from storage.chats import bound_document
from storage.models import Indicator, ReportStatus, Role
from storage.progress import (
    STATUS_LABELS,
    Receipt,
    Reporter,
    ReportError,
    document_period,
    find_unit,
    history,
    resolve_indicator,
    unit_status,
)

COMMANDS = [
    ("report", "报进度：/report 31 已完成 具体情况（可多行；单独 /report 逐项填报）"),
    ("status", "本单位本期报送情况（协调人可 /status 单位）"),
    ("history", "某项指标的全部报送记录：/history 31"),
]
FLOW_KEY = "report_flow"
GUIDED_BUTTONS = 8


@dataclass
class Draft:
    """Reports a user previewed; stored on 确认."""

    user_id: int
    chat_id: int
    items: list[PendingReport]


def receipt_text(receipt: Receipt) -> str:
    """The receipt message (HTML)."""
    late = " <b>【逾期】</b>" if receipt.period.late else ""
    lines = [
        f"✅ 已登记（回执 <code>{receipt.short_id}</code>）"
        + ("（重复消息，未重复登记）" if receipt.duplicate else ""),
        f"指标：{escape(receipt.document_name)} 第{escape(receipt.indicator_number)}项 "
        f"{escape(trim(receipt.indicator_text, 40))}",
        f"单位：{escape(receipt.unit)}",
        f"期间：{receipt.period.label}（截止 {receipt.period.deadline:%m月%d日}）{late}",
        f"完成情况：{STATUS_LABELS[receipt.status]}：{escape(trim(receipt.details, 300))}",
    ]
    if receipt.version > 1:
        lines.append(f"这是第 {receipt.version} 版，之前的版本仍保留（/history {escape(receipt.indicator_number)}）")
    lines.append("如有佐证材料，请回复本消息发送文件。")
    return "\n".join(lines)


def _remember_receipt(context: ContextTypes.DEFAULT_TYPE, sent: Message, indicator_id: int, period: str) -> None:
    get_services(context).state.receipts[(sent.chat_id, sent.message_id)] = (indicator_id, period)


async def _reporter(services: Services, update: Update | User) -> Reporter:
    user = update.effective_user if isinstance(update, Update) else update
    assert user is not None
    return await reporter_of(services, user)


async def _send_receipts(
    message: Message, context: ContextTypes.DEFAULT_TYPE, receipts: list[tuple[Receipt, int]]
) -> None:
    for receipt, indicator_id in receipts:
        sent = await reply(message, Markup(receipt_text(receipt)))
        if indicator_id:
            _remember_receipt(context, sent, indicator_id, receipt.period.period)


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report: one line → stored; several lines → preview; nothing → guided."""
    message = update.effective_message
    if message is None or message.text is None or update.effective_user is None:
        return
    body = message.text.split(maxsplit=1)[1] if len(message.text.split(maxsplit=1)) > 1 else ""
    lines = [line for line in body.splitlines() if line.strip()]
    services = get_services(context)
    now = services.clock()
    user = update.effective_user
    if len(lines) == 1:  # the common case: one database round trip
        try:
            draft = parse_report_line(lines[0], now.date(), message_text=message.text)
            if draft.needs_question:
                await _ask_question(message, context, services, draft)
                return
            receipts = await services.db.run_retrying(
                record_line,
                user=(user.id, user.full_name, services.is_admin(user.id)),
                draft=draft,
                now=now,
                update_id=update.update_id,
                chat_id=message.chat_id,
            )
        except ReportError as exc:
            await reply(message, str(exc))
            return
        # Committed. The update counts as handled only once the receipt is out, so a crash in
        # between replays it and the (duplicate-safe) receipt is sent again.
        await _send_receipts(message, context, receipts)
        return
    reporter = await _reporter(services, update)
    document_id = await services.db.run(bound_document, message.chat_id)
    if not lines:
        await _guided_start(message, services, reporter, document_id)
        return
    await _bulk_preview(message, context, services, reporter, document_id, lines)


def _choice_label(item: PendingReport) -> str:
    period = f" · {item.period[:4]}年{int(item.period[5:])}月" if item.period else ""
    return f"{STATUS_LABELS[item.status]}{period}"


async def _ask_question(
    message: Message, context: ContextTypes.DEFAULT_TYPE, services: Services, draft: ReportDraft
) -> None:
    """基本完成 or an ambiguous month: one button per possible answer, nothing stored yet."""
    reporter = await _reporter(services, message.from_user) if message.from_user else None
    assert reporter is not None
    document_id = await services.db.run(bound_document, message.chat_id)
    try:
        choices = await services.db.run(question_choices, reporter, document_id, draft)
    except ReportError as exc:
        await reply(message, str(exc))
        return
    token = _save_draft(context, Draft(message.from_user.id if message.from_user else 0, message.chat_id, choices))
    buttons = [
        InlineKeyboardButton(_choice_label(item), callback_data=f"rq|{token}|{index}")
        for index, item in enumerate(choices)
    ]
    question = "是“已完成”还是“未完成”？" if draft.status is None else "是哪个月的进度？"
    await reply(
        message,
        f"{choices[0].label}：{trim(draft.details, 200)}\n{question}请选择：",
        reply_markup=InlineKeyboardMarkup(
            [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
            + [[InlineKeyboardButton("取消", callback_data=f"rx|{token}")]]
        ),
    )


async def _bulk_preview(
    message: Message,
    context: ContextTypes.DEFAULT_TYPE,
    services: Services,
    reporter: Reporter,
    document_id: str | None,
    lines: list[str],
) -> None:
    items, errors = await services.db.run(check_lines, reporter, document_id, lines, services.clock())
    text = [f"将登记以下 {len(items)} 项（请确认）："]
    text += [f"• {escape(i.label)} {STATUS_LABELS[i.status]}：{escape(trim(i.details, 60))}" for i in items]
    if errors:
        text.append("\n以下内容有问题，不会登记：")
        text += [f"• {escape(e)}" for e in errors]
    if not items:
        await reply(message, Markup("\n".join(text[1:]) if errors else "没有可登记的内容。"))
        return
    token = _save_draft(context, Draft(message.from_user.id if message.from_user else 0, message.chat_id, items))
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("确认登记", callback_data=f"rc|{token}"),
                InlineKeyboardButton("取消", callback_data=f"rx|{token}"),
            ]
        ]
    )
    await reply(message, Markup("\n".join(text)), reply_markup=buttons)


def _save_draft(context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> str:
    token = secrets.token_hex(4)
    get_services(context).state.drafts[token] = draft
    return token


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """确认登记 / 取消 of a preview."""
    query = update.callback_query
    if query is None or not query.data or update.effective_user is None:
        return
    action, token, *choice = query.data.split("|")
    drafts = get_services(context).state.drafts
    draft = drafts.get(token)
    if draft is None:
        await query.answer("这份预览已处理或已过期。", show_alert=True)
        return
    if draft.user_id != update.effective_user.id:
        await query.answer("只有提交人本人可以确认。", show_alert=True)
        return
    if action == "rx":
        drafts.pop(token, None)
        await query.answer("已取消")
        await edit(query, "已取消，未登记任何内容。")
        return
    items = draft.items
    if action == "rq":  # one answer of a question
        if not choice or not choice[0].isdigit() or int(choice[0]) >= len(items):
            await query.answer("这个选项已失效，请重新报送。", show_alert=True)
            return
        items = [items[int(choice[0])]]
    services = get_services(context)
    reporter = await _reporter(services, update)
    try:
        receipts = await services.db.run(
            record_checked,
            reporter=reporter,
            items=items,
            now=services.clock(),
            update_id=update.update_id,
            chat_id=draft.chat_id,
        )
    except ReportError as exc:
        await query.answer(str(exc), show_alert=True)
        return
    drafts.pop(token, None)
    await query.answer("已登记")
    await edit(query, f"已登记 {len(receipts)} 项，回执如下。")
    if isinstance(query.message, Message):
        await _send_receipts(query.message, context, receipts)


# ------------------------------------------------------------------ guided flow


async def _guided_start(message: Message, services: Services, reporter: Reporter, document_id: str | None) -> None:
    try:
        items = await services.db.run(guided_items, reporter, document_id, services.clock())
    except ReportError as exc:
        await reply(message, str(exc))
        return
    if not items:
        await reply(message, "本单位没有需要报送的指标。")
        return
    period = await services.db.run(document_period, document_id, services.clock())
    missing = sum(1 for _, _, done in items if not done)
    buttons = [
        InlineKeyboardButton(f"{number}{' ✓' if done else ''}", callback_data=f"rp|{indicator_id}")
        for indicator_id, number, done in items[:GUIDED_BUTTONS]
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    await reply(
        message,
        f"{reporter.unit_name} {period.label}：共 {len(items)} 项，未报 {missing} 项。\n"
        "请选择要报送的指标（未报的在前）；也可以直接发送：/report 编号 已完成 具体情况",
        reply_markup=InlineKeyboardMarkup(rows),
    )


def _indicator_label(session: Session, indicator_id: int) -> str:
    indicator = session.get(Indicator, indicator_id)
    if indicator is None:
        raise ReportError("找不到这项指标，请重新选择")
    return f"第{indicator.number}项 {trim(indicator.text, 40)}"


async def pick_indicator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An indicator chosen (from /report or a search answer's 报进度) → 已完成 / 未完成."""
    query = update.callback_query
    if query is None or not query.data:
        return
    indicator_id = query.data.split("|", 1)[1]
    services = get_services(context)
    try:
        label = await services.db.run(_indicator_label, int(indicator_id))
    except (ReportError, ValueError):
        await query.answer("找不到这项指标，请重新选择。", show_alert=True)
        return
    await query.answer()
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("已完成", callback_data=f"rs|{indicator_id}|done"),
                InlineKeyboardButton("未完成", callback_data=f"rs|{indicator_id}|prog"),
            ]
        ]
    )
    if isinstance(query.message, Message):
        await reply(query.message, f"{label}\n上月完成情况？", reply_markup=buttons)


async def pick_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """已完成 / 未完成 chosen → ask for the details as a reply."""
    query = update.callback_query
    if query is None or not query.data or update.effective_user is None or not isinstance(query.message, Message):
        return
    _, indicator_id, status = query.data.split("|", 2)
    done = status == "done"
    await query.answer()
    prompt = await reply(
        query.message,
        "请回复本消息，写上" + ("具体完成情况" if done else "正在推进情况") + "：",
        reply_markup=ForceReply(selective=True, input_field_placeholder="具体情况"),
    )
    context.user_data[FLOW_KEY] = {  # type: ignore[index]
        "indicator_id": int(indicator_id),
        "status": "done" if done else "in_progress",
        "chat_id": prompt.chat_id,
        "prompt_id": prompt.message_id,
    }


async def flow_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The details of a guided report (a reply to the prompt; any text in private)."""
    message = update.effective_message
    flow = (context.user_data or {}).get(FLOW_KEY)
    if message is None or not message.text or not flow or flow["chat_id"] != message.chat_id:
        return
    replied = message.reply_to_message
    if message.chat.type != ChatType.PRIVATE and (replied is None or replied.message_id != flow["prompt_id"]):
        return
    details = message.text.strip()
    status = ReportStatus(flow["status"])
    if details.startswith(("已完成", "未完成")):
        with contextlib.suppress(ReportError):  # a status word typed again at the start overrides the button
            status, details = parse_status(details)
    if not details:
        await reply(message, "情况说明不能为空，请重新回复。")
        raise ApplicationHandlerStop
    context.user_data.pop(FLOW_KEY, None)  # type: ignore[union-attr]
    services = get_services(context)
    label = await services.db.run(_indicator_label, flow["indicator_id"])
    item = PendingReport(flow["indicator_id"], status, details[:2000], None, label)
    token = _save_draft(context, Draft(message.from_user.id if message.from_user else 0, message.chat_id, [item]))
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("确认登记", callback_data=f"rc|{token}"),
                InlineKeyboardButton("取消", callback_data=f"rx|{token}"),
            ]
        ]
    )
    await reply(
        message,
        Markup(f"请确认：{escape(label)}\n{STATUS_LABELS[status]}：{escape(trim(details, 300))}"),
        reply_markup=buttons,
    )
    raise ApplicationHandlerStop


# ------------------------------------------------------------------ history and status


def _history_text(session: Session, reporter: Reporter, number: str, document_id: str | None) -> str:
    indicator = resolve_indicator(session, reporter, parse_indicator_ref(number), document_id)
    unit_ids = None if reporter.is_coordinator or reporter.unit_id is None else [reporter.unit_id]
    lines = history(session, indicator, unit_ids)
    if not lines:
        return f"第{escape(indicator.number)}项还没有报送记录。"
    text = [f"<b>第{escape(indicator.number)}项</b> 报送记录（共 {len(lines)} 版，新的在前）："]
    for line in lines:
        late = "【逾期】" if line.late else ""
        text.append(
            f"• {line.period} 第{line.version}版 {escape(line.unit)} {STATUS_LABELS[line.status]}{late}"
            f" — {escape(line.reporter)} {line.created_at:%m-%d %H:%M}（{line.short_id}）\n"
            f"  {escape(trim(line.details, 80))}"
        )
    return "\n".join(text)[:4000]


async def show_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/history 31."""
    message = update.effective_message
    if message is None:
        return
    if not context.args:
        await reply(message, "用法：/history 指标编号，例如：/history 31")
        return
    services = get_services(context)
    reporter = await _reporter(services, update)
    document_id = await services.db.run(bound_document, message.chat_id)
    try:
        text = await services.db.run(_history_text, reporter, " ".join(context.args), document_id)
    except ReportError as exc:
        await reply(message, str(exc))
        return
    await reply(message, Markup(text))


def _status_text(
    session: Session, reporter: Reporter, unit_name: str | None, document_id: str | None, now: datetime
) -> str:
    if unit_name:
        if not reporter.is_coordinator:
            raise ReportError("只有法规科协调人可以查看其他单位；查看本单位请直接发送 /status")
        unit = find_unit(session, unit_name)
        if unit is None:
            raise ReportError(f"找不到单位“{unit_name}”")
        unit_id = unit.id
    elif reporter.unit_id is not None:
        unit_id = reporter.unit_id
    else:
        raise ReportError("您还没有登记所属单位，请先发送 /join 单位 姓名")
    period = document_period(session, document_id, now)
    status = unit_status(session, unit_id, period.period, document_id)
    text = [f"<b>{escape(status.unit)}</b> {period.label}：已报 {status.reported} / {len(status.lines)} 项"]
    for line in status.lines[:80]:
        mark = "✅" if line.status == ReportStatus.DONE else ("🔄" if line.status else "⬜")
        role = "" if line.role == Role.LEAD else "（配合）"
        files = f" 📎{line.attachments}" if line.attachments else ""
        text.append(f"{mark} 第{escape(line.number)}项{role} {escape(trim(line.text, 30))}{files}")
    if len(status.lines) > 80:
        text.append(f"……另有 {len(status.lines) - 80} 项")
    return "\n".join(text)[:4000]


async def show_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status [单位]."""
    message = update.effective_message
    if message is None:
        return
    services = get_services(context)
    reporter = await _reporter(services, update)
    document_id = await services.db.run(bound_document, message.chat_id)
    unit_name = " ".join(context.args or []) or None
    try:
        text = await services.db.run(_status_text, reporter, unit_name, document_id, services.clock())
    except ReportError as exc:
        await reply(message, str(exc))
        return
    await reply(message, Markup(text))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register reporting handlers; the guided-flow text handler runs before questions (group -1)."""
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, flow_text), group=-1)
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CommandHandler("history", show_history))
    app.add_handler(CommandHandler("status", show_status))
    app.add_handler(CallbackQueryHandler(confirm, pattern=r"^r[cxq]\|"))
    app.add_handler(CallbackQueryHandler(pick_indicator, pattern=r"^rp\|"))
    app.add_handler(CallbackQueryHandler(pick_status, pattern=r"^rs\|"))
