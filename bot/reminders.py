"""The reminder engine: plan from the database, claim each occurrence in the send log, send.

Runs as a PTB JobQueue job every minute (APScheduler underneath, Asia/Shanghai). ``tick`` is
also called directly by tests with an injected clock. Because an occurrence is claimed under
a unique (rule, key, chat) before it is sent, a restart or a second process never sends it twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Bot
from telegram.error import ChatMigrated, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot import channels
from handlers.deps import SERVICES_KEY, Services
from handlers.replies import Markup, send
from knowledge.reminders import OVERDUE, UNIT, ChatSpec, Occurrence, RuleSpec, plan
from knowledge.workdays import WorkCalendar, weekday_name
from storage.db import Database
from storage.models import ChatBinding, ReminderRule
from storage.profiles import load_profile, programme_deadlines
from storage.reminders import (
    calendar_overrides,
    claim,
    coordinator_chat_ids,
    deactivate_chat,
    finish,
    unit_progress,
    units_of_document,
)

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=14)  # long enough to span the 国庆/春节 holidays after downtime
INTERVAL_SECONDS = 60


def rule_specs(session: Session) -> list[RuleSpec]:
    """Active rules as plain values."""
    return [
        RuleSpec(
            rule_id=r.id,
            kind=r.kind.value,
            document_id=r.document_id,
            day_of_month=r.day_of_month,
            due_date=r.due_date,
            title=r.title,
            working_days_before=tuple(int(x) for x in r.remind_working_days_before or [2, 0]),
            remind_time=r.remind_time,
            overdue_notice=r.overdue_notice,
            target_unit_ids=tuple(int(x) for x in r.target_unit_ids or []),
            attach_ledger=r.attach_ledger,
        )
        for r in session.scalars(select(ReminderRule).where(ReminderRule.active.is_(True)).order_by(ReminderRule.id))
    ]


def chat_specs(session: Session) -> list[ChatSpec]:
    """Active chat bindings as plain values."""
    return [
        ChatSpec(
            b.chat_id, b.kind.value, b.document_id, b.unit_id, b.title, b.webhook_kind, b.webhook_url, b.webhook_secret
        )
        for b in session.scalars(select(ChatBinding).where(ChatBinding.active.is_(True)).order_by(ChatBinding.id))
    ]


def planned(db: Database, start: datetime, end: datetime) -> tuple[list[Occurrence], WorkCalendar]:
    """The plan for a window: the profiles' deadlines, the rules, bindings and calendar overrides."""
    # Deadlines are read a little beyond the window: reminders go out days before a deadline.
    first, last = start.date() - timedelta(days=20), end.date() + timedelta(days=45)
    with db.session_scope() as session:
        rules, chats, overrides = rule_specs(session), chat_specs(session), calendar_overrides(session)
        deadlines, unit_ids = programme_deadlines(session, first, last)
    calendar = WorkCalendar(overrides)
    tz = start.tzinfo
    assert tz is not None
    return plan(rules, chats, calendar, start, end, tz, deadlines, unit_ids), calendar  # type: ignore[arg-type]


def _deadline_text(occurrence: Occurrence) -> str:
    return f"{occurrence.deadline.month}月{occurrence.deadline.day}日（{weekday_name(occurrence.deadline)}）"


def _period_text(period: str) -> str:
    year, month = period.split("-")
    return f"{year}年{int(month)}月"


def _lead_only(session: Session, occurrence: Occurrence) -> bool:
    """Whether only lead units report in the occurrence's programme (000: cooperating units do not)."""
    profile = load_profile(session, occurrence.document_id) if occurrence.document_id else None
    return profile is not None and not profile.reports_for(False)


def compose(session: Session, occurrence: Occurrence) -> str | None:
    """The Chinese HTML text of a reminder; None when there is nothing to remind of."""
    title = escape(occurrence.title or "报送")
    if occurrence.audience == UNIT:
        if occurrence.unit_id is None:
            return None
        progress = unit_progress(
            session, occurrence.unit_id, occurrence.period, occurrence.document_id, _lead_only(session, occurrence)
        )
        mentions = " ".join(
            f'<a href="tg://user?id={uid}">{escape(name or str(uid))}</a>' for uid, name in progress.member_links
        )
        if occurrence.rule_kind in ("one_off", "dated"):
            return f"⏰ <b>提醒</b>：{title}截止 {_deadline_text(occurrence)}。{(' ' + mentions) if mentions else ''}"
        if not progress.missing_numbers:
            return None
        numbers = "、".join(progress.missing_numbers[:30]) + ("…" if len(progress.missing_numbers) > 30 else "")
        month = _period_text(occurrence.period)
        missing_count = len(progress.missing_numbers)
        return (
            f"⏰ <b>提醒</b>：请于 {_deadline_text(occurrence)}前报送 <b>{month}</b> 的工作进展。\n"
            f"{escape(progress.unit)}尚未报送 {missing_count} 项（共 {progress.owned} 项）：第{numbers}项\n"
            f"发送 /report 编号 已完成 具体情况，或 /report 逐项填报。{(chr(10) + mentions) if mentions else ''}"
        )
    lead_only = _lead_only(session, occurrence)
    rows = [unit_progress(session, unit_id, occurrence.period, occurrence.document_id, lead_only)
            for unit_id in units_of_document(session, occurrence.document_id, lead_only)]  # fmt: skip
    rows = [r for r in rows if r.owned]
    missing = [r for r in rows if r.missing_numbers]
    period = _period_text(occurrence.period)
    if not missing:
        return f"✅ <b>{period} 全部报齐</b>：{len(rows)} 个单位均已报送，可以汇总上报。"
    if occurrence.audience == OVERDUE:
        names = "、".join(escape(r.unit) for r in missing)
        return f"⚠️ <b>逾期未报</b>（{period}，截止 {_deadline_text(occurrence)}）：{names}"
    table = "\n".join(
        f"• {escape(r.unit)}：已报 {r.reported}/{r.owned}，缺 {len(r.missing_numbers)}" for r in rows[:60]
    )
    names = "、".join(escape(r.unit) for r in missing)
    return (
        f"📋 <b>{period} 报送情况</b>（{title}截止 {_deadline_text(occurrence)}）\n{table}\n"
        f"<b>尚未报齐</b>（{len(missing)} 个）：{names}"
    )


def _is_stale(occurrence: Occurrence, now: datetime) -> bool:
    if occurrence.audience == OVERDUE:
        return now.date() > occurrence.when.date() + timedelta(days=1)
    return now.date() > occurrence.deadline


async def tick(bot: Bot, services: Services, now: datetime) -> list[Occurrence]:
    """Send every due, unclaimed occurrence; returns those sent."""
    db = services.db
    occurrences, calendar = await asyncio.to_thread(planned, db, now - LOOKBACK, now)
    specs = await db.run(chat_specs)
    webhooks = {c.chat_id: (c.webhook_kind, c.webhook_url, c.webhook_secret) for c in specs if c.webhook_url}
    latest: dict[tuple[int, int, str, object], Occurrence] = {}
    for occurrence in occurrences:  # after downtime, only the latest missed reminder of a deadline goes out
        latest[(occurrence.rule_id, occurrence.chat_id, occurrence.audience, occurrence.deadline)] = occurrence
    sent: list[Occurrence] = []
    for occurrence in occurrences:
        superseded = latest[(occurrence.rule_id, occurrence.chat_id, occurrence.audience, occurrence.deadline)]
        if superseded is not occurrence:
            await db.run(claim, occurrence.rule_id, occurrence.key, occurrence.chat_id, now, "superseded")
            continue
        if _is_stale(occurrence, now):
            if await db.run(claim, occurrence.rule_id, occurrence.key, occurrence.chat_id, now, "skipped"):
                log.info("reminder %s for chat %s skipped: the deadline has passed", occurrence.key, occurrence.chat_id)
            continue
        if not await db.run(claim, occurrence.rule_id, occurrence.key, occurrence.chat_id, now):
            continue  # sent before (or by another process)
        text = await db.run(compose, occurrence)
        if text is None:
            await db.run(finish, occurrence.rule_id, occurrence.key, occurrence.chat_id, "nothing_due", "", now)
            continue
        status, detail = await _send(bot, db, occurrence.chat_id, text)
        if status == "sent" and occurrence.attach_ledger:
            await _send_ledger(bot, db, occurrence, now)
        webhook = webhooks.get(occurrence.chat_id)
        if webhook is not None:  # the same text to the group's WeCom/DingTalk/Feishu robot
            problem = await channels.post(*webhook, text, policy=services.config.robot_policy)
            detail = (detail + f" webhook: {problem}").strip() if problem else detail
        await db.run(finish, occurrence.rule_id, occurrence.key, occurrence.chat_id, status, detail, now)
        if status == "sent":
            sent.append(occurrence)
    await _warn_missing_calendar(bot, services, calendar, occurrences, now)
    return sent


async def _send(bot: Bot, db: Database, chat_id: int, text: str) -> tuple[str, str]:
    try:
        await send(bot, chat_id, Markup(text))  # split safely if a long unit list overflows
        return "sent", ""
    except Forbidden as exc:
        await db.run(deactivate_chat, chat_id, f"机器人已被移出：{exc}")
        await _tell_coordinators(bot, db, f"⚠️ 无法向群 {chat_id} 发送提醒（机器人可能已被移出），已停用该群的绑定。")
        return "forbidden", str(exc)
    except ChatMigrated as exc:
        await db.run(deactivate_chat, chat_id, f"已升级为超级群 {exc.new_chat_id}")
        await _tell_coordinators(bot, db, f"⚠️ 群 {chat_id} 已升级为超级群，请在新群里重新 /bind。")
        return "migrated", str(exc)
    except TelegramError as exc:
        log.warning("reminder to %s failed: %s", chat_id, exc)
        return "failed", str(exc)


async def _send_ledger(bot: Bot, db: Database, occurrence: Occurrence, now: datetime) -> None:
    """The coordinator deadline's morning: the compiled ledger, ready to submit."""
    import tempfile
    from pathlib import Path

    from knowledge.ledger_xlsx import write_export
    from storage.ledger_data import ledger_data
    from storage.progress import ReportError

    try:
        data = await db.run(ledger_data, occurrence.period, occurrence.document_id)
    except ReportError:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"工作台账_{occurrence.period}.xlsx"
        await asyncio.to_thread(write_export, data, path, now)
        try:
            await bot.send_document(occurrence.chat_id, path, filename=path.name, caption="本月工作台账（自动汇总）")
        except TelegramError as exc:
            log.warning("ledger to %s failed: %s", occurrence.chat_id, exc)


async def _tell_coordinators(bot: Bot, db: Database, text: str) -> None:
    for chat_id in await db.run(coordinator_chat_ids):
        try:
            await send(bot, chat_id, text)
        except TelegramError:
            log.warning("could not tell coordinator chat %s", chat_id)


async def _warn_missing_calendar(
    bot: Bot, services: Services, calendar: WorkCalendar, occurrences: list[Occurrence], now: datetime
) -> None:
    if not calendar.missing_years or not occurrences:
        return
    rule_id = occurrences[0].rule_id
    for year in sorted(calendar.missing_years):
        for chat_id in await services.db.run(coordinator_chat_ids):
            if await services.db.run(claim, rule_id, f"calendar-missing:{year}", chat_id, now, "sent"):
                await bot.send_message(
                    chat_id,
                    f"⚠️ 节假日库还没有 {year} 年的放假安排，提醒暂按周末计算。"
                    f"请管理员录入：taizhang calendar add 日期 holiday|workday",
                )


async def reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The JobQueue callback."""
    services = context.bot_data.get(SERVICES_KEY)
    if isinstance(services, Services):
        await tick(context.bot, services, services.clock())


def schedule(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Run the engine every minute (the first run catches up what was missed while down)."""
    if app.job_queue is not None:
        app.job_queue.run_repeating(reminder_job, interval=INTERVAL_SECONDS, first=5, name="reminders")
