"""/report (one line, bulk paste with preview, guided), /history and /status.

Every report is committed (with the update id claimed in the same transaction) before
the receipt is sent, so a redelivered update answers with the same receipt and stores nothing.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, tzinfo
from html import escape

from telegram import ForceReply, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.callbacks import button, signed
from handlers.cards import trim
from handlers.deps import Services, get_services, reporter_of
from handlers.replies import Markup, edit, reply, send
from knowledge.access import Action, Reporter, require
from knowledge.domain import ReportStatus, Role
from knowledge.errors import Refusal
from knowledge.report_line import parse_indicator_ref, parse_same_as_last_month
from knowledge.reports import (
    PendingReport,
    Receipt,
    ReportDraft,
    ReportRepository,
    check_lines,
    guided_items,
    indicator_history,
    parse_report_line,
    parse_status,
    question_choices,
    record_checked,
    record_line,
    return_report,
    same_as_last_month,
    status_of,
    status_of_all,
    withdraw_report,
)
from knowledge.schedule import local_time
from knowledge.statuses import STATUS_LABELS
from storage.anchors import load_draft, save_anchor, save_draft, take_draft
from storage.chats import bound_document, unit_chats
from storage.progress import document_period, with_reports

COMMANDS = [
    ("report", "报进度：/report 31 已完成 具体情况（可多行；单独 /report 逐项填报）"),
    ("status", "本单位本期报送情况（协调人可 /status 单位、/status 全部）"),
    ("history", "某项指标的全部报送记录：/history 31"),
    ("withdraw", "撤回本单位本期的报送：/withdraw 31 [原因]"),
    ("return", "协调人退回报送：/return 31 [单位] 意见"),
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
    late = " <b>【逾期】</b>" if receipt.period.late else "（按时）"
    lines = [
        "✅ 已登记" + ("（重复消息，未重复登记）" if receipt.duplicate else ""),
        f"指标：{escape(receipt.document_name)} 第{escape(receipt.indicator_number)}项 "
        f"{escape(trim(receipt.indicator_text, 40))}",
        f"单位：{escape(receipt.unit)}",
        f"期间：{receipt.period.label}（截止 {receipt.period.deadline:%m月%d日}）{late}",
        f"完成情况：{STATUS_LABELS[receipt.status]}：{escape(trim(receipt.details, 300))}",
    ]
    if receipt.materials_total:
        if receipt.missing:
            missing = "；".join(trim(item, 40) for item in receipt.missing[:5])
            lines.append(
                f"上报资料：共 {receipt.materials_total} 项，还缺 {len(receipt.missing)} 项：{escape(missing)}"
            )
        else:
            lines.append(f"上报资料：共 {receipt.materials_total} 项，均已有材料")
    if receipt.version > 1:
        lines.append(f"这是第 {receipt.version} 版，之前的版本仍保留（/history {escape(receipt.indicator_number)}）")
    lines.append("如有佐证材料，请回复本消息发送文件。")
    return "\n".join(lines)


async def _remember_receipt(context: ContextTypes.DEFAULT_TYPE, sent: Message, indicator_id: int, period: str) -> None:
    services = get_services(context)
    await services.db.run(save_anchor, sent.chat_id, sent.message_id, indicator_id, period, services.clock())


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
            await _remember_receipt(context, sent, indicator_id, receipt.period.period)


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
    same = parse_same_as_last_month(lines[0]) if len(lines) == 1 else None
    if same is not None:  # 同上月: last month's text again, shown before it is saved
        reporter = await _reporter(services, update)
        document_id = await services.db.run(bound_document, message.chat_id)
        item = await services.db.run(with_reports(same_as_last_month), reporter, same, document_id, now)
        token = await keep_draft(context, Draft(user.id, message.chat_id, [item]))
        await reply(
            message,
            f"与上月相同，将登记：{item.label}\n{STATUS_LABELS[item.status]}：{trim(item.details, 300)}\n请确认：",
            reply_markup=_confirm_buttons(context, message, token),
        )
        return
    if update.edited_message is not None and lines:  # the report message was edited: offer to update
        await _offer_update(message, context, services, lines)
        return
    if len(lines) == 1:  # the common case: one database round trip
        draft = parse_report_line(lines[0], now.date(), message_text=message.text)
        if draft.needs_question:
            await _ask_question(message, context, services, draft)
            return
        receipts = await services.db.run_retrying(
            with_reports(record_line, bot_id=context.bot.id),
            user=(user.id, user.full_name, services.is_admin(user.id)),
            draft=draft,
            now=now,
            update_id=update.update_id,
            chat_id=message.chat_id,
        )
        # Committed. The update counts as handled only once the receipt is out, so a crash in
        # between replays it and the (duplicate-safe) receipt is sent again.
        await _send_receipts(message, context, receipts)
        return
    reporter = await _reporter(services, update)
    document_id = await services.db.run(bound_document, message.chat_id)
    if not lines:
        await _guided_start(message, context, reporter, document_id)
        return
    await _bulk_preview(message, context, services, reporter, document_id, lines)


async def _offer_update(
    message: Message, context: ContextTypes.DEFAULT_TYPE, services: Services, lines: list[str]
) -> None:
    """An edited ``/report`` message: show what would be stored, store it only on 确认登记."""
    reporter = await _reporter(services, message.from_user) if message.from_user else None
    assert reporter is not None
    document_id = await services.db.run(bound_document, message.chat_id)
    items, errors = await services.db.run(
        with_reports(check_lines), reporter, document_id, lines, services.clock(), message.text or ""
    )
    if not items:
        await reply(message, "您修改了报送消息，但修改后的内容无法登记：" + "；".join(errors))
        return
    token = await keep_draft(context, Draft(reporter.telegram_user_id, message.chat_id, items))
    text = ["您修改了报送消息。是否按修改后的内容更新报送（原来的版本仍保留）？"]
    text += [f"• {i.label} {STATUS_LABELS[i.status]}：{trim(i.details, 100)}" for i in items]
    text += [f"• {e}" for e in errors]
    await reply(message, "\n".join(text), reply_markup=_confirm_buttons(context, message, token))


def _choice_label(item: PendingReport) -> str:
    period = f" · {item.period[:4]}年{int(item.period[5:])}月" if item.period else ""
    return f"{STATUS_LABELS[item.status]}{period}"


async def _ask_question(
    message: Message, context: ContextTypes.DEFAULT_TYPE, services: Services, draft: ReportDraft
) -> None:
    """基本完成 or an ambiguous month: one button per possible answer (for the writer only), nothing stored yet."""
    assert message.from_user is not None
    reporter = await _reporter(services, message.from_user)
    document_id = await services.db.run(bound_document, message.chat_id)
    choices = await services.db.run(with_reports(question_choices), reporter, document_id, draft)
    user_id = message.from_user.id
    token = await keep_draft(context, Draft(user_id, message.chat_id, choices))
    buttons = [
        button(context, message.chat_id, _choice_label(item), f"rq|{token}|{index}", user_id)
        for index, item in enumerate(choices)
    ]
    question = "是“已完成”还是“未完成”？" if draft.status is None else "是哪个月的进度？"
    await reply(
        message,
        f"{choices[0].label}：{trim(draft.details, 200)}\n{question}请选择：",
        reply_markup=InlineKeyboardMarkup(
            [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
            + [[button(context, message.chat_id, "取消", f"rx|{token}", user_id)]]
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
    items, errors = await services.db.run(with_reports(check_lines), reporter, document_id, lines, services.clock())
    text = [f"将登记以下 {len(items)} 项（请确认）："]
    text += [f"• {escape(i.label)} {STATUS_LABELS[i.status]}：{escape(trim(i.details, 60))}" for i in items]
    if errors:
        text.append("\n以下内容有问题，不会登记：")
        text += [f"• {escape(e)}" for e in errors]
    if not items:
        await reply(message, Markup("\n".join(text[1:]) if errors else "没有可登记的内容。"))
        return
    user_id = message.from_user.id if message.from_user else 0
    token = await keep_draft(context, Draft(user_id, message.chat_id, items))
    await reply(message, Markup("\n".join(text)), reply_markup=_confirm_buttons(context, message, token))


def _confirm_buttons(context: ContextTypes.DEFAULT_TYPE, message: Message, token: str) -> InlineKeyboardMarkup:
    """确认登记 / 取消, signed for this chat and only for the user who wrote the report."""
    user_id = message.from_user.id if message.from_user else 0
    return InlineKeyboardMarkup(
        [
            [
                button(context, message.chat_id, "确认登记", f"rc|{token}", user_id),
                button(context, message.chat_id, "取消", f"rx|{token}", user_id),
            ]
        ]
    )


async def keep_draft(context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> str:
    """Keep the draft in the database: the 确认 press may reach another instance, or a restarted one."""
    services = get_services(context)
    token = secrets.token_hex(4)  # callback data stays within 64 bytes with its signature
    items = [{**asdict(item), "status": item.status.value} for item in draft.items]
    await services.db.run(save_draft, token, draft.user_id, draft.chat_id, items, services.clock())
    return token


async def _load_draft(services: Services, token: str) -> Draft | None:
    stored = await services.db.run(load_draft, token)
    if stored is None:
        return None
    user_id, chat_id, items = stored
    return Draft(user_id, chat_id, [PendingReport(**{**i, "status": ReportStatus(i["status"])}) for i in items])


@signed
async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """确认登记 / 取消 of a preview."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    action, token, *choice = payload.split("|")
    services = get_services(context)
    draft = await _load_draft(services, token)
    if draft is None:
        await query.answer("这份预览已处理或已过期。", show_alert=True)
        return
    if draft.user_id != update.effective_user.id:
        await query.answer("只有提交人本人可以确认。", show_alert=True)
        return
    if action == "rx":
        await services.db.run(take_draft, token)
        await query.answer("已取消")
        await edit(query, "已取消，未登记任何内容。")
        return
    items = draft.items
    if action == "rq":  # one answer of a question
        if not choice or not choice[0].isdigit() or int(choice[0]) >= len(items):
            await query.answer("这个选项已失效，请重新报送。", show_alert=True)
            return
        items = [items[int(choice[0])]]
    if not await services.db.run(take_draft, token):  # a double press, or another instance was first
        await query.answer("这份预览已处理或已过期。", show_alert=True)
        return
    reporter = await _reporter(services, update)
    receipts = await services.db.run(
        with_reports(record_checked, bot_id=context.bot.id),
        reporter=reporter,
        items=items,
        now=services.clock(),
        update_id=update.update_id,
        chat_id=draft.chat_id,
    )
    await query.answer("已登记")
    await edit(query, f"已登记 {len(receipts)} 项，回执如下。")
    if isinstance(query.message, Message):
        await _send_receipts(query.message, context, receipts)


# ------------------------------------------------------------------ guided flow


async def _guided_start(
    message: Message, context: ContextTypes.DEFAULT_TYPE, reporter: Reporter, document_id: str | None
) -> None:
    services = get_services(context)
    items = await services.db.run(with_reports(guided_items), reporter, document_id, services.clock())
    if not items:
        await reply(message, "本单位没有需要报送的指标。")
        return
    period = await services.db.run(document_period, document_id, services.clock())
    missing = sum(1 for _, _, done in items if not done)
    buttons = [
        button(context, message.chat_id, f"{number}{' ✓' if done else ''}", f"rp|{indicator_id}")
        for indicator_id, number, done in items[:GUIDED_BUTTONS]
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    await reply(
        message,
        f"{reporter.unit_name} {period.label}：共 {len(items)} 项，未报 {missing} 项。\n"
        "请选择要报送的指标（未报的在前）；也可以直接发送：/report 编号 已完成 具体情况",
        reply_markup=InlineKeyboardMarkup(rows),
    )


def _may_report(repo: ReportRepository, reporter: Reporter, indicator_id: int) -> str:
    """The label of an indicator the reporter may report on now (Refusal otherwise)."""
    indicator = repo.indicator(indicator_id)
    if indicator is None:
        raise Refusal("找不到这项指标，请重新选择")
    require(reporter.actor, Action.REPORT, indicator.target())
    return f"第{indicator.number}项 {trim(indicator.text, 40)}"


@signed
async def pick_indicator(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """An indicator chosen (from /report or a search answer's 报进度) → 已完成 / 未完成."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    indicator_id = int(payload.split("|", 1)[1])
    services = get_services(context)
    reporter = await _reporter(services, update)
    label = await services.db.run(with_reports(_may_report), reporter, indicator_id)
    await query.answer()
    chat_id, user_id = query.message.chat_id, reporter.telegram_user_id
    buttons = InlineKeyboardMarkup(
        [
            [
                button(context, chat_id, "已完成", f"rs|{indicator_id}|done", user_id),
                button(context, chat_id, "未完成", f"rs|{indicator_id}|prog", user_id),
            ]
        ]
    )
    await reply(query.message, f"{label}\n上月完成情况？", reply_markup=buttons)


@signed
async def pick_status(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    """已完成 / 未完成 chosen → ask for the details as a reply."""
    query = update.callback_query
    if query is None or update.effective_user is None or not isinstance(query.message, Message):
        return
    _, indicator_id, status = payload.split("|", 2)
    done = status == "done"
    services = get_services(context)
    reporter = await _reporter(services, update)
    await services.db.run(with_reports(_may_report), reporter, int(indicator_id))
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
        with contextlib.suppress(Refusal):  # a status word typed again at the start overrides the button
            status, details = parse_status(details)
    if not details:
        await reply(message, "情况说明不能为空，请重新回复。")
        raise ApplicationHandlerStop
    context.user_data.pop(FLOW_KEY, None)  # type: ignore[union-attr]
    services = get_services(context)
    reporter = await _reporter(services, update)
    label = await services.db.run(with_reports(_may_report), reporter, flow["indicator_id"])
    item = PendingReport(flow["indicator_id"], status, details[:2000], None, label)
    token = await keep_draft(context, Draft(message.from_user.id if message.from_user else 0, message.chat_id, [item]))
    await reply(
        message,
        Markup(f"请确认：{escape(label)}\n{STATUS_LABELS[status]}：{escape(trim(details, 300))}"),
        reply_markup=_confirm_buttons(context, message, token),
    )
    raise ApplicationHandlerStop


# ------------------------------------------------------------------ history and status


def _history_text(
    repo: ReportRepository, reporter: Reporter, number: str, document_id: str | None, zone: tzinfo | None
) -> str:
    indicator, lines = indicator_history(repo, reporter, parse_indicator_ref(number), document_id)
    if not lines:
        return f"第{escape(indicator.number)}项还没有您可以查看的报送记录。"
    text = [f"<b>第{escape(indicator.number)}项</b> 报送记录（共 {len(lines)} 版，新的在前）："]
    for line in lines:
        late = "【逾期】" if line.late else ""
        text.append(
            f"• {line.period} 第{line.version}版 {escape(line.unit_name)} {STATUS_LABELS[line.status]}{late}"
            f" — {escape(line.reporter_name)} {local_time(line.created_at, zone):%Y-%m-%d %H:%M}\n"
            f"  {escape(trim(line.text, 80))}"
        )
    return "\n".join(text)[:4000]


async def show_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/history 31: the versions the user may see (own unit's; coordinators their programme's)."""
    message = update.effective_message
    if message is None:
        return
    if not context.args:
        await reply(message, "用法：/history 指标编号，例如：/history 31")
        return
    services = get_services(context)
    reporter = await _reporter(services, update)
    document_id = await services.db.run(bound_document, message.chat_id)
    text = await services.db.run(
        with_reports(_history_text), reporter, " ".join(context.args), document_id, services.clock().tzinfo
    )
    await reply(message, Markup(text))


def _status_text(
    repo: ReportRepository,
    reporter: Reporter,
    unit_name: str | None,
    document_id: str | None,
    now: datetime,
    chat_id: int | None = None,
) -> str:
    if unit_name == "全部":
        return _all_status_text(repo, reporter, document_id, now)
    in_unit_group = chat_id is not None and repo.bound_unit(chat_id) is not None
    if reporter.is_coordinator and not unit_name and reporter.unit_id is None and not in_unit_group:
        return _unassigned_text(repo, document_id) or "本群文档的指标都已分配责任单位。"
    status, period = status_of(repo, reporter, unit_name, document_id, now, chat_id)
    text = [f"<b>{escape(status.unit)}</b> {period.label}：已报 {status.reported} / {len(status.lines)} 项"]
    for line in status.lines[:80]:
        mark = _STATUS_MARKS.get(line.status, "🔄") if line.status else "⬜"
        role = "" if line.role == Role.LEAD else "（配合）"
        files = f" 📎{line.attachments}" if line.attachments else ""
        text.append(f"{mark} 第{escape(line.number)}项{role} {escape(trim(line.text, 30))}{files}")
    if len(status.lines) > 80:
        text.append(f"……另有 {len(status.lines) - 80} 项")
    if reporter.is_coordinator:
        text.append(_unassigned_text(repo, document_id))
    return "\n".join(t for t in text if t)[:4000]


def _unassigned_text(repo: ReportRepository, document_id: str | None) -> str:
    """For coordinators: the indicators no unit owns (未分配), so none is forgotten."""
    rows = repo.unassigned(document_id)
    if not rows:
        return ""
    numbers = "、".join(escape(f"{doc[:3]} {table}{number}" if not document_id else f"{table}{number}")
                       for doc, table, number, _ in rows[:40])  # fmt: skip
    more = f" 等 {len(rows)} 项" if len(rows) > 40 else ""
    return f"<b>未分配</b>（{len(rows)} 项，没有责任单位，请协调人指定）：{numbers}{more}"


_STATUS_MARKS = {
    ReportStatus.DONE: "✅",
    ReportStatus.RETURNED: "↩️退回",
    ReportStatus.NO_MATERIAL: "➖",
    ReportStatus.NOT_APPLICABLE: "➖",
}


def _all_status_text(repo: ReportRepository, reporter: Reporter, document_id: str | None, now: datetime) -> str:
    text = []
    for document, period, counts in status_of_all(repo, reporter, document_id, now):
        text.append(f"<b>{escape(document)}</b> {period.label}：")
        for unit, reported, total in counts:
            mark = "✅" if total and reported == total else "⬜"
            text.append(f"{mark} {escape(unit)}：已报 {reported} / {total} 项")
    return "\n".join(text)


async def show_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status [单位]: own unit; another unit only for its programme's coordinators and admins."""
    message = update.effective_message
    if message is None:
        return
    services = get_services(context)
    reporter = await _reporter(services, update)
    document_id = await services.db.run(bound_document, message.chat_id)
    unit_name = " ".join(context.args or []) or None
    text = await services.db.run(
        with_reports(_status_text), reporter, unit_name, document_id, services.clock(), message.chat_id
    )
    await reply(message, Markup(text))


async def withdraw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/withdraw 31 [原因]: 撤回 the unit's current report (a withdrawing version; history kept)."""
    message, user = update.effective_message, update.effective_user
    if message is None or message.text is None or user is None:
        return
    parts = message.text.split(maxsplit=1)
    if len(parts) < 2:
        await reply(message, "用法：/withdraw 指标编号 [原因]，例如：/withdraw 31 数据有误，重新报送")
        return
    services = get_services(context)
    reporter = await _reporter(services, update)
    done = await services.db.run(
        with_reports(withdraw_report),
        reporter=reporter,
        text=parts[1],
        message_text=message.text,
        now=services.clock(),
        update_id=update.update_id,
        chat_id=message.chat_id,
    )
    if done is None:
        return
    await reply(
        message,
        f"已撤回 {done.indicator.label}（{done.unit_name}）{done.period.label}的报送"
        f"（第 {done.withdrawn_version} 版），记录仍保留，本期现为未报送。"
        f"重新报送：/report {done.indicator.number} 已完成 …",
    )


async def return_to_unit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/return 31 [单位] 意见 (退回): coordinators send a report back; the unit group is told."""
    message, user = update.effective_message, update.effective_user
    if message is None or message.text is None or user is None:
        return
    parts = message.text.split(maxsplit=1)
    if len(parts) < 2:
        await reply(message, "用法：/return 指标编号 [单位] 退回意见，例如：/return 31 法规科 请补充具体数据")
        return
    services = get_services(context)
    reporter = await _reporter(services, update)
    done = await services.db.run(
        with_reports(return_report),
        reporter=reporter,
        text=parts[1],
        message_text=message.text,
        now=services.clock(),
        update_id=update.update_id,
        chat_id=message.chat_id,
    )
    if done is None:
        return
    notice = (
        f"↩️ 协调人退回了{done.indicator.label}（{done.unit_name}）{done.period.label}的报送。\n"
        f"意见：{done.comment}\n请修改后重新报送：/report {done.indicator.number} 已完成 …"
    )
    chats = await services.db.run(unit_chats, done.unit_id)
    for chat_id in chats:
        if chat_id != message.chat_id:
            with contextlib.suppress(TelegramError):  # a group that removed the bot must not undo the 退回
                await send(context.bot, chat_id, notice)
    told = "，已通知该单位群" if any(c != message.chat_id for c in chats) else "（该单位没有绑定的群，请另行通知）"
    await reply(message, f"已退回{done.indicator.label}（{done.unit_name}）{done.period.label}的报送{told}。")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register reporting handlers; the guided-flow text handler runs before questions (group -1)."""
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, flow_text), group=-1)
    app.add_handler(CommandHandler("report", report))
    app.add_handler(CommandHandler("history", show_history))
    app.add_handler(CommandHandler("withdraw", withdraw))
    app.add_handler(CommandHandler("return", return_to_unit))
    app.add_handler(CommandHandler("status", show_status))
    app.add_handler(CallbackQueryHandler(confirm, pattern=r"^r[cxq]\|"))
    app.add_handler(CallbackQueryHandler(pick_indicator, pattern=r"^rp\|"))
    app.add_handler(CallbackQueryHandler(pick_status, pattern=r"^rs\|"))
