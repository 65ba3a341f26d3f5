"""/deadline add|list|remove — one-off deadlines, for coordinators."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers.deps import get_services, reporter_of
from handlers.replies import Markup, bold, html, join_lines, reply
from knowledge.access import Action, Reporter, Target, require
from knowledge.dates import parse_date
from knowledge.schedule import MILESTONE, ONE_OFF, PHASE
from knowledge.workdays import weekday_name
from storage.chats import bound_document
from storage.models import ReminderRule, RuleKind
from storage.profiles import programme_deadlines
from storage.progress import ReportError
from storage.reminders import add_one_off, edit_profile, list_rules, remove_rule, set_monthly_day

COMMANDS = [("deadline", "截止日期（协调人）：/deadline add 10月28日 自查报告 [单位…]、list、remove 编号|日期、day 3")]
USAGE = (
    "用法：\n/deadline add 10月28日 自查报告 [单位 …]（日期可写 10月28日、2026年10月28日、10.28、2026-10-28、下周五）\n"
    "/deadline list\n/deadline remove 编号（或 /deadline remove 10月28日）\n"
    "/deadline day 3（各单位每月报送日）\n/deadline coordday 5（每月汇总上报日）"
)
UPCOMING_DAYS = 400


def _list_text(session: Session, now: datetime) -> Markup:
    """Active rules, and for a programme's dated rule its coming deadlines (from its profile)."""
    rules = list_rules(session)
    if not rules:
        return html("还没有提醒规则。")
    today = now.date()
    coming, _ = programme_deadlines(session, today, today + timedelta(days=UPCOMING_DAYS))
    lines: list[Markup] = [bold("提醒规则")]
    for rule in rules:
        scope = rule.document_id or "全部文档"
        if rule.kind == RuleKind.ONE_OFF and rule.due_date:
            when = f"{rule.due_date:%Y-%m-%d}（{weekday_name(rule.due_date)}）"
        elif rule.kind == RuleKind.DATED:
            dated = [d for d in coming if d.document == rule.document_id and d.kind in (ONE_OFF, PHASE, MILESTONE)]
            items = "；".join(f"{d.date:%Y-%m-%d} {d.title}" for d in dated[:5]) or "没有尚未到期的日期"
            lines.append(html(f"{rule.id}. 文档中的截止日期 → 单位群（", scope, "）：", items))
            continue
        else:
            when = f"每月{rule.day_of_month}日"
        who = "协调群" if rule.kind == RuleKind.MONTHLY_COORDINATOR else "单位群"
        lines.append(html(f"{rule.id}. {when} ", rule.title, f" → {who}（", scope, "）"))
    return join_lines(lines)


def _remove(session: Session, reporter: Reporter, rule_id: int, now: datetime) -> ReminderRule:
    """Remove a rule if the user coordinates its programme (a refusal rolls back)."""
    rule = session.get(ReminderRule, rule_id)
    require(reporter.actor, Action.DEADLINE_EDIT, Target.of(rule.document_id if rule else None))
    return remove_rule(session, rule_id, now)


async def deadline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Dispatch /deadline subcommands."""
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    if not args or args[0] not in {"add", "list", "remove", "day", "coordday"}:
        await reply(message, USAGE)
        return
    services = get_services(context)
    now = services.clock()
    if args[0] != "list":  # changes: the coordinators of the group's programme (or unscoped ones, admins)
        reporter = await reporter_of(services, update.effective_user)  # type: ignore[arg-type]
        chat_document = await services.db.run(bound_document, message.chat_id)
        require(reporter.actor, Action.DEADLINE_EDIT, Target.of(chat_document))
    try:
        document_id = await services.db.run(bound_document, message.chat_id)
        if args[0] == "add":
            if len(args) < 3:
                raise ReportError(USAGE)
            due = parse_date(args[1], now.date())
            rule = await services.db.run(
                add_one_off, due=due, title=args[2], unit_names=args[3:], document_id=document_id, now=now
            )
            scope = f"，对象：{'、'.join(args[3:])}" if args[3:] else "，对象：全部单位群"
            text = html(f"已添加截止日期（编号 {rule.id}）：{due:%Y-%m-%d}（{weekday_name(due)}）", args[2], scope)
        elif args[0] in {"day", "coordday"}:
            if len(args) < 2 or not args[1].isdigit():
                raise ReportError(USAGE)
            rule = await services.db.run(set_monthly_day, document_id, args[0] == "coordday", int(args[1]), now)
            who = "每月汇总上报日" if args[0] == "coordday" else "各单位每月报送日"
            after = "（报送是否逾期也按这个日期判断）" if document_id else ""
            text = html(f"已设置{who}：每月{rule.day_of_month}日（规则 {rule.id}）{after}")
        elif args[0] == "remove":
            if len(args) < 2:
                raise ReportError("用法：/deadline remove 编号（/deadline list 查看编号）或 /deadline remove 10月28日")
            if args[1].isdigit():
                rule = await services.db.run(_remove, reporter, int(args[1]), now)
                text = html(f"已删除提醒规则 {rule.id}（", rule.title, "）")
            elif document_id:
                text = html(await services.db.run(edit_profile, document_id, "one_off.remove", args[1], now))
            else:
                raise ReportError("请在绑定了文档的群里按日期删除，或用 /deadline remove 编号")
        else:
            text = await services.db.run(_list_text, now)
    except ReportError as exc:
        await reply(message, str(exc))
        return
    await reply(message, text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /deadline."""
    app.add_handler(CommandHandler("deadline", deadline))
