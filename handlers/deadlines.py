"""/deadline add|list|remove — one-off deadlines, for coordinators."""

from __future__ import annotations

import re
from datetime import date

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers.deps import get_services
from handlers.members import is_coordinator
from handlers.replies import Markup, bold, html, join_lines, reply
from knowledge.workdays import weekday_name
from storage.chats import bound_document
from storage.models import RuleKind
from storage.progress import ReportError
from storage.reminders import add_one_off, list_rules, remove_rule, set_monthly_day

COMMANDS = [("deadline", "截止日期（协调人）：/deadline add 2026-12-10 自查报告 [单位…]、list、remove 编号、day 3")]
USAGE = (
    "用法：\n/deadline add 2026-12-10 自查报告 [单位 …]\n/deadline list\n/deadline remove 编号\n"
    "/deadline day 3（各单位每月报送日）\n/deadline coordday 5（法规科每月上报日）"
)


def _parse_date(text: str) -> date:
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not match:
        raise ReportError(f"“{text}”不是日期，请写成 2026-12-10")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise ReportError(f"{text} 不存在（请检查月份和日期）") from exc


async def deadline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Dispatch /deadline subcommands."""
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    if not args or args[0] not in {"add", "list", "remove", "day", "coordday"}:
        await reply(message, USAGE)
        return
    if args[0] != "list" and not await is_coordinator(update, context):
        await reply(message, "只有法规科协调人或管理员可以修改截止日期。")
        return
    services = get_services(context)
    try:
        if args[0] == "add":
            if len(args) < 3:
                raise ReportError(USAGE)
            due = _parse_date(args[1])
            document_id = await services.db.run(bound_document, message.chat_id)
            rule = await services.db.run(
                add_one_off, due=due, title=args[2], unit_names=args[3:], document_id=document_id,
                now=services.clock(),
            )  # fmt: skip
            scope = f"，对象：{'、'.join(args[3:])}" if args[3:] else "，对象：全部单位群"
            text = html(f"已添加截止日期（编号 {rule.id}）：{due:%Y-%m-%d}（{weekday_name(due)}）", args[2], scope)
        elif args[0] in {"day", "coordday"}:
            if len(args) < 2 or not args[1].isdigit():
                raise ReportError(USAGE)
            document_id = await services.db.run(bound_document, message.chat_id)
            rule = await services.db.run(
                set_monthly_day, document_id, args[0] == "coordday", int(args[1]), services.clock()
            )
            who = "法规科每月上报日" if args[0] == "coordday" else "各单位每月报送日"
            text = html(f"已设置{who}：每月{rule.day_of_month}日（规则 {rule.id}）")
        elif args[0] == "remove":
            if len(args) < 2 or not args[1].isdigit():
                raise ReportError("用法：/deadline remove 编号（/deadline list 查看编号）")
            rule = await services.db.run(remove_rule, int(args[1]))
            text = html(f"已删除提醒规则 {rule.id}（", rule.title, "）")
        else:
            rules = await services.db.run(list_rules)
            lines: list[Markup] = [bold("提醒规则")]
            for rule in rules:
                if rule.kind == RuleKind.ONE_OFF and rule.due_date:
                    when = f"{rule.due_date:%Y-%m-%d}（{weekday_name(rule.due_date)}）"
                else:
                    when = f"每月{rule.day_of_month}日"
                who = "协调群" if rule.kind == RuleKind.MONTHLY_COORDINATOR else "单位群"
                lines.append(
                    html(f"{rule.id}. {when} ", rule.title, f" → {who}（", rule.document_id or "全部文档", "）")
                )
            text = join_lines(lines) if rules else html("还没有提醒规则。")
    except ReportError as exc:
        await reply(message, str(exc))
        return
    await reply(message, text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /deadline."""
    app.add_handler(CommandHandler("deadline", deadline))
