"""Admin subcommands of ``taizhang`` that work on the tables: import, indicators, template."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import distinct, func, select

from bot.config import load_config
from knowledge.files import ImportInputError, read_document_file
from knowledge.imports import RemovalsNeedConfirmation
from knowledge.template import write_template
from storage.catalog import import_document, load_documents
from storage.db import Database
from storage.models import Assignment, Indicator


def _database() -> Database:
    config = load_config(require_token=False)
    database = Database(config.database_url)
    database.upgrade()
    return database


def cmd_import(args: argparse.Namespace) -> int:
    """Import each file in its own transaction; a failing file changes nothing.

    Removing indicators that vanished from a file needs ``--replace``; without it the removals
    are listed and nothing changes (exit 1).
    """
    if args.document_id and len(args.paths) > 1:
        print("--document-id 只能配合一个文件使用", file=sys.stderr)
        return 2
    config = load_config(require_token=False)
    database = _database()
    failures = 0
    try:
        for raw in args.paths:
            path = Path(raw)
            try:
                documents = read_document_file(
                    path, document_id=args.document_id, max_bytes=config.import_max_bytes, limits=config.import_limits
                )
                now = datetime.now(config.timezone)  # the import day is a local day
                with database.session_scope() as session:
                    reports = [import_document(session, d, now=now, replace=args.replace) for d in documents]
            except RemovalsNeedConfirmation as exc:
                print(f"导入未执行：{path.name}：{exc}。确认删除请加 --replace 重新导入", file=sys.stderr)
                failures += 1
                continue
            except ImportInputError as exc:
                print(f"导入失败：{exc}", file=sys.stderr)
                failures += 1
                continue
            for report in reports:
                print(f"{path.name} → " + report.summary())
    finally:
        database.dispose()
    return 1 if failures else 0


def cmd_indicators(args: argparse.Namespace) -> int:
    """List stored indicators (one JSON object per line with --json)."""
    database = _database()
    try:
        with database.session_scope() as session:
            documents = load_documents(session, args.document)
            if args.summary:
                _print_summary(session, documents)
                return 0
    finally:
        database.dispose()
    if args.document and not documents:
        print(f"没有编号为 {args.document} 的文档", file=sys.stderr)
        return 1
    for document in documents:
        for item in document.indicators:
            if args.unassigned and not item.unassigned:
                continue
            if args.json:
                print(json.dumps(item.as_json(document.doc_id), ensure_ascii=False))
            else:
                owners = "、".join(o.unit for o in item.leads) or "（未分配）"
                label = f"{item.table}{item.number}" if item.table else item.number
                print(f"{document.doc_id}\t{label}\t{item.text[:40]}\t{owners}")
    return 0


def _print_summary(session: object, documents: list) -> None:  # type: ignore[type-arg]
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    print("| 文档 | 简称 | 指标 | 单位 | 责任人 | 未分配 |")
    print("|---|---|---|---|---|---|")
    for document in documents:

        def count(column: Any, doc_id: str = document.doc_id) -> int:
            query = (
                select(func.count(distinct(column)))
                .select_from(Assignment)
                .join(Indicator, Indicator.id == Assignment.indicator_id)
                .where(Indicator.document_id == doc_id)
            )
            return int(session.scalar(query) or 0)

        units, persons = count(Assignment.unit_id), count(Assignment.person_id)
        unassigned = sum(1 for i in document.indicators if i.unassigned)
        print(
            f"| {document.doc_id} | {document.short_name} | {len(document.indicators)} | {units} |"
            f" {persons} | {unassigned} |"
        )


def cmd_template(args: argparse.Namespace) -> int:
    """Write the stored tables as an editable xlsx."""
    database = _database()
    try:
        with database.session_scope() as session:
            documents = load_documents(session, args.document)
    finally:
        database.dispose()
    if not documents:
        print("数据库里还没有指标表，请先 taizhang import", file=sys.stderr)
        return 1
    rows = write_template(documents, Path(args.out))
    print(f"已写出 {len(documents)} 个文档、{rows} 项指标到 {args.out}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Search like the bot does; one JSON line per query with --json/--stdin (``answer``: the bot's reply)."""
    from handlers.cards import result_page
    from knowledge.search import SearchIndex
    from storage.profiles import all_profiles

    database = _database()
    try:
        with database.session_scope() as session:
            documents = load_documents(session)
            profiles = all_profiles(session)
    finally:
        database.dispose()
    index = SearchIndex(documents, profiles=profiles)
    names = {doc_id: doc.short_name or doc_id for doc_id, doc in index.documents.items()}
    scope = [args.document] if args.document else None
    queries = [line.rstrip("\n") for line in sys.stdin] if args.stdin else [" ".join(args.query)]
    if not args.stdin and not queries[0].strip():
        print("请给出要查询的内容，例如：taizhang search 执法文书格式谁负责", file=sys.stderr)
        return 2
    as_json = args.json or args.stdin
    for question in queries:
        result = index.search(question, limit=args.limit, documents=scope)
        if as_json:
            data = result.as_json()
            data["answer"] = result_page(result, 0, names)[0]
            print(json.dumps(data, ensure_ascii=False))
            continue
        print(f"【{question}】 {result.intent}" + (f"：{result.message}" if result.message else ""))
        for hit in result.hits:
            owners = "、".join(o.unit for o in hit.entry.indicator.leads) or "未分配"
            role = {"lead": "牵头 ", "coop": "配合 "}.get(hit.role, "")
            print(f"  {hit.score:.2f} {role}{hit.entry.label}  {hit.entry.indicator.text[:40]}  → {owners}")
        for suggestion in result.suggestions:
            print(f"  可以试试：{suggestion}")
    return 0


def _day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"{flag}：“{text}”不是有效日期（应为 YYYY-MM-DD，例如 2026-09-25）") from None


def cmd_reminders_plan(args: argparse.Namespace) -> int:
    """Print what the scheduler would send in a window (the same planning function)."""
    from bot.reminders import planned
    from storage.reminders import seed_rules

    config = load_config(require_token=False)
    start = datetime.combine(_day(args.start, "--from"), time.min, tzinfo=config.timezone)
    end = datetime.combine(_day(args.end, "--to"), time.max, tzinfo=config.timezone)
    if end < start:
        print("--to 不能早于 --from", file=sys.stderr)
        return 2
    database = _database()
    try:
        database.call(seed_rules, datetime.now(config.timezone))
        occurrences, calendar = planned(database, start, end)
    finally:
        database.dispose()
    for occurrence in occurrences:
        if args.json:
            print(json.dumps(occurrence.as_json(), ensure_ascii=False))
        else:
            who = {"unit": "单位群", "coordinator": "协调群", "overdue": "协调群（逾期通报）"}[occurrence.audience]
            print(
                f"{occurrence.when:%Y-%m-%d %H:%M} {who} {occurrence.chat_id} 规则{occurrence.rule_id}"
                f" {occurrence.title} 期间 {occurrence.period} 截止 {occurrence.deadline}"
            )
    if calendar.missing_years:
        years = "、".join(str(y) for y in sorted(calendar.missing_years))
        print(f"注意：节假日库没有 {years} 年的数据，按周末计算", file=sys.stderr)
    return 0


def cmd_calendar_add(args: argparse.Namespace) -> int:
    """Enter a holiday or make-up workday (takes precedence over the library)."""
    from storage.reminders import set_calendar_day

    day = _day(args.day, "日期")
    database = _database()
    try:
        database.call(set_calendar_day, day, args.kind == "workday", args.note or "")
    finally:
        database.dispose()
    print(f"已记录：{day} 为{'工作日（调休上班）' if args.kind == 'workday' else '休息日'}")
    return 0


def _month(text: str) -> str:
    import re as _re

    if not _re.fullmatch(r"\d{4}-\d{2}", text) or not 1 <= int(text[5:]) <= 12:
        raise SystemExit(f"--month：“{text}”不是月份（应为 YYYY-MM，例如 2026-10）")
    return text


def cmd_export(args: argparse.Namespace) -> int:
    """Write the ledger xlsx for a month in its document's template (or list the templates)."""
    from knowledge.errors import Refusal
    from knowledge.ledger_spec import templates
    from knowledge.ledger_xlsx import write_export
    from storage.ledger_data import ledger_data

    if args.templates:
        for spec in templates().values():
            documents = "、".join(spec.documents) or "（任意文档）"
            print(f"{spec.id}\t{spec.name}\t适用文档：{documents}\t列：{' · '.join(c.title for c in spec.columns)}")
        return 0
    if not args.month or not args.out:
        print("导出台账需要 --month YYYY-MM 和 --out 文件名（--templates 列出模板）", file=sys.stderr)
        return 2
    config = load_config(require_token=False)
    period = _month(args.month)
    now = datetime.now(config.timezone)
    if period > f"{now:%Y-%m}":
        print(f"{period} 还没有到，不能导出未来月份", file=sys.stderr)
        return 2
    database = _database()
    try:
        data = database.call(ledger_data, period, args.document, args.unit)
        result = write_export(data, Path(args.out), now, args.template)
    except Refusal as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        database.dispose()
    spec = templates()[result.template]
    if args.chart:
        from knowledge.chart import completion_chart
        from knowledge.ledger import recent_periods
        from storage.ledger import reporting_trend

        database = _database()
        try:
            trend = database.call(reporting_trend, recent_periods(period), args.unit)
        finally:
            database.dispose()
        completion_chart(result.units, period, Path(args.chart), trend)
    print(
        f"已按模板“{spec.name}”导出 {len(result.units)} 个单位、{result.owned} 项应报指标"
        f"（已报 {result.reported} 项）到 {args.out}"
    )
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    """Zip a month's evidence with its manifest."""
    from knowledge.ledger import write_bundle
    from knowledge.normalize import number_key
    from storage.ledger import evidence
    from storage.objects import materialize, open_store

    period = _month(args.month)
    config = load_config(require_token=False)
    database = _database()
    try:
        key = number_key(args.number) if args.number else None
        files = database.call(evidence, period, key, [args.document] if args.document else None)
    finally:
        database.dispose()
    config = load_config(require_token=False)
    with tempfile.TemporaryDirectory() as folder:  # evidence in object storage is fetched first
        local = materialize(open_store(config.files_url, config.files_dir), files, Path(folder))
        added, missing = write_bundle(local, Path(args.out), files_root=config.files_dir.resolve())
    print(f"已打包 {added} 个文件到 {args.out}" + (f"；{len(missing)} 个文件在磁盘上缺失（见清单）" if missing else ""))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the table subcommands to the ``taizhang`` parser."""
    imp = sub.add_parser("import", help="导入指标表（.txt/.docx/.xlsx）")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--document-id", help="文档编号（默认取文件名）")
    imp.add_argument("--replace", action="store_true", help="确认删除文件中已没有的指标（默认只列出、不删除）")
    imp.set_defaults(func=cmd_import)

    ind = sub.add_parser("indicators", help="列出已导入的指标")
    ind.add_argument("--document", help="只列这个文档")
    ind.add_argument("--json", action="store_true", help="每行一个 JSON 对象")
    ind.add_argument("--summary", action="store_true", help="每个文档的指标、单位、责任人数量（Markdown 表）")
    ind.add_argument("--unassigned", action="store_true", help="只列没有责任单位（未分配）的指标")
    ind.set_defaults(func=cmd_indicators)

    search = sub.add_parser("search", help="像机器人一样查询指标")
    search.add_argument("query", nargs="*", metavar="QUERY")
    search.add_argument("--json", action="store_true", help="输出 JSON")
    search.add_argument("--limit", type=int, default=10, help="最多返回几项（默认 10）")
    search.add_argument("--document", help="只查这个文档")
    search.add_argument("--stdin", action="store_true", help="从标准输入每行读一个问题，每行输出一个 JSON")
    search.set_defaults(func=cmd_search)

    reminders = sub.add_parser("reminders", help="截止日提醒")
    reminders_sub = reminders.add_subparsers(dest="reminders_command", required=True)
    plan_parser = reminders_sub.add_parser("plan", help="列出某段时间内将要发送的提醒")
    plan_parser.add_argument("--from", dest="start", required=True, help="开始日期 YYYY-MM-DD")
    plan_parser.add_argument("--to", dest="end", required=True, help="结束日期 YYYY-MM-DD")
    plan_parser.add_argument("--json", action="store_true", help="每行一个 JSON 对象")
    plan_parser.set_defaults(func=cmd_reminders_plan)

    calendar_parser = sub.add_parser("calendar", help="节假日与调休")
    calendar_sub = calendar_parser.add_subparsers(dest="calendar_command", required=True)
    add_day = calendar_sub.add_parser("add", help="录入一天：holiday（放假）或 workday（调休上班）")
    add_day.add_argument("day", help="日期 YYYY-MM-DD")
    add_day.add_argument("kind", choices=["holiday", "workday"])
    add_day.add_argument("note", nargs="?", default="", help="说明，如 春节")
    add_day.set_defaults(func=cmd_calendar_add)

    export = sub.add_parser("export", help="导出某月的工作台账 xlsx")
    export.add_argument("--month", help="月份 YYYY-MM")
    export.add_argument("--unit", help="只导出这个单位")
    export.add_argument("--document", help="只导出这个文档")
    export.add_argument("--out", help="输出文件，如 ledger.xlsx")
    export.add_argument("--template", help="台账模板（默认按文档选择；generic 为通用格式）")
    export.add_argument("--templates", action="store_true", help="列出所有台账模板")
    export.add_argument("--chart", help="同时画出各单位报送情况图（PNG），如 chart.png")
    export.set_defaults(func=cmd_export)

    bundle = sub.add_parser("bundle", help="打包某月的佐证材料（zip + 清单.xlsx）")
    bundle.add_argument("--month", required=True, help="月份 YYYY-MM")
    bundle.add_argument("--number", help="只打包这个指标编号")
    bundle.add_argument("--document", help="只打包这个文档（项目）的材料")
    bundle.add_argument("--out", required=True, help="输出文件，如 evidence.zip")
    bundle.set_defaults(func=cmd_bundle)

    tpl = sub.add_parser("template", help="把已导入的表写成可编辑、可重新导入的 xlsx")
    tpl.add_argument("--out", required=True, help="输出文件，如 tables.xlsx")
    tpl.add_argument("--document", help="只写这个文档")
    tpl.set_defaults(func=cmd_template)
