"""/export (the ledger xlsx) and /bundle (the evidence zip) in chat."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers.deps import Services, get_services, reporter_of
from handlers.replies import captioned, reply
from knowledge.access import Action, require
from knowledge.chart import completion_chart
from knowledge.errors import Refusal
from knowledge.ledger import recent_periods, write_bundle
from knowledge.ledger_xlsx import write_export
from knowledge.records import EvidenceFile
from knowledge.report_line import looks_like_period, parse_indicator_ref, parse_period_argument
from knowledge.schedule import previous_month
from storage.chats import bound_document
from storage.ledger import evidence, reporting_trend
from storage.ledger_data import ledger_data
from storage.objects import materialize

COMMANDS = [
    ("export", "导出工作台账 xlsx：/export [10月|2026-10|上月] [单位]"),
    ("bundle", "打包佐证材料 zip：/bundle [10月|2026-10|上月] [指标编号]"),
]
UPLOAD_LIMIT = 50 * 1024 * 1024  # Telegram bots may upload at most 50 MB


def _period(args: list[str], services: Services) -> tuple[str, list[str]]:
    """A leading month argument (``10月``, ``2026年10月``, ``2026-10``, ``上月``), else last month."""
    now = services.clock()
    if args and looks_like_period(args[0]):
        return parse_period_argument(args[0], now.date()), args[1:]
    return previous_month(now.date()), args


def _within(documents: frozenset[str] | None, bound: str | None) -> frozenset[str] | None:
    """The chat's bound programme (its own template and files), within the asker's programmes."""
    if bound is None:
        return documents
    if documents is not None and bound not in documents:
        raise Refusal("本群绑定的项目不在您协调的范围内。")
    return frozenset({bound})


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The ledger of a month (coordinators: any unit or all; members: their own unit)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = get_services(context)
    period, rest = _period(list(context.args or []), services)
    reporter = await reporter_of(services, user)
    unit = " ".join(rest) or None
    documents: frozenset[str] | None = None  # None: every programme
    if not reporter.is_coordinator:
        if reporter.unit_id is None:
            require(reporter.actor, Action.EXPORT)  # strangers: join first
        if unit and unit != reporter.unit_name:
            raise Refusal("只能导出本单位的台账；导出其他单位请联系本项目协调人")
        unit = reporter.unit_name
    elif not reporter.is_admin and reporter.programmes:
        documents = reporter.programmes  # a scoped coordinator: their programmes only
    bound = await services.db.run(bound_document, message.chat_id)
    documents = _within(documents, bound)
    data = await services.db.run(ledger_data, period, None, unit, documents)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"工作台账_{period}{('_' + unit) if unit else ''}.xlsx"
        result = await asyncio.to_thread(write_export, data, path, services.clock())
        units = result.units
        await message.reply_document(
            path,
            filename=path.name,
            **captioned(f"{period} 工作台账：{len(units)} 个单位，已报 {result.reported}/{result.owned} 项"),
        )
        chart = Path(folder) / "chart.png"
        trend = await services.db.run(reporting_trend, recent_periods(period), unit)
        await asyncio.to_thread(completion_chart, units, period, chart, trend)
        await message.reply_photo(chart, **captioned(f"{period} 各单位报送情况"))


async def bundle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The evidence zip of a month (or of one indicator number), coordinators only."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = get_services(context)
    period, rest = _period(list(context.args or []), services)
    reporter = await reporter_of(services, user)
    if not reporter.is_coordinator:
        require(reporter.actor, Action.BUNDLE)
    documents = reporter.programmes if reporter.programmes and not reporter.is_admin else None
    documents = _within(documents, await services.db.run(bound_document, message.chat_id))
    files = await services.db.run(
        evidence, period, parse_indicator_ref(" ".join(rest)).key if rest else None, documents
    )
    if not files:
        await reply(message, f"{period} 还没有佐证材料。")
        return
    with tempfile.TemporaryDirectory() as folder:
        files = await asyncio.to_thread(materialize, services.blobs.objects, files, Path(folder))
        path = Path(folder) / f"佐证材料_{period}.zip"
        added, missing = await asyncio.to_thread(write_bundle, files, path, files_root=services.blobs.root)
        note = f"；{len(missing)} 个文件在服务器上缺失（见清单）" if missing else ""
        if path.stat().st_size <= UPLOAD_LIMIT:
            await message.reply_document(
                path, filename=path.name, **captioned(f"{period} 佐证材料：{added} 个文件{note}")
            )
            return
        # Over Telegram's 50 MB upload limit: one zip per 一级指标.
        groups: dict[str, list[EvidenceFile]] = {}
        for item in files:
            groups.setdefault(item.level1 or "其他", []).append(item)
        await reply(message, f"打包后超过 50 MB，按一级指标分成 {len(groups)} 个压缩包发送{note}。")
        for number, (level1, items) in enumerate(groups.items(), 1):
            part = Path(folder) / f"佐证材料_{period}_{number}.zip"
            count, _ = await asyncio.to_thread(write_bundle, items, part, files_root=services.blobs.root)
            if part.stat().st_size > UPLOAD_LIMIT:
                await reply(message, f"“{level1}”的材料单独打包仍超过 50 MB，请由管理员用 taizhang bundle 导出。")
                continue
            await message.reply_document(part, filename=part.name, **captioned(level1, f"：{count} 个文件"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Register /export and /bundle."""
    app.add_handler(CommandHandler("export", export))
    app.add_handler(CommandHandler("bundle", bundle))
