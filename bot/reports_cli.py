"""``taizhang reports [--month YYYY-MM] [--document ID] [--unit U] --json``: every current report."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.config import load_config
from knowledge.statuses import STATUS_LABELS
from storage.db import Database
from storage.report_export import CurrentReport, current_reports


def as_json(report: CurrentReport) -> dict[str, Any]:
    """The public JSON shape (keys as the issue states them)."""
    return {
        "document": report.document,
        "table": report.table,
        "number": report.number,
        "unit": report.unit,
        "period": report.period,
        "status": STATUS_LABELS[report.status],
        "text": report.text,
        "version": report.version,
        "late": report.late,
        "user": report.user,
        "at": report.at.isoformat(),
        "evidence": [
            {"kind": e.kind, "name": e.name, "size": e.size, "caption": e.caption, "user": e.user}
            for e in report.evidence
        ],
    }


def cmd_reports(args: argparse.Namespace) -> int:
    """Print the current reports (one JSON object per line with --json, else a plain table)."""
    if args.month and not (len(args.month) == 7 and args.month[4] == "-" and args.month.replace("-", "").isdigit()):
        raise SystemExit(f"--month 应写成 YYYY-MM，例如 2026-10（收到：{args.month}）")
    config = load_config(require_token=False)
    database = Database(config.database_url)
    try:
        reports = database.call(current_reports, month=args.month, document=args.document, unit=args.unit)
    finally:
        database.dispose()
    for report in reports:
        if args.json:
            print(json.dumps(as_json(report), ensure_ascii=False))
        else:
            late = " 逾期" if report.late else ""
            print(
                f"{report.period} {report.document[:3]} {report.table}{report.number} {report.unit} "
                f"{STATUS_LABELS[report.status]}{late} 第{report.version}版：{report.text}"
            )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``taizhang reports``."""
    reports = sub.add_parser("reports", help="列出当前的全部报送（每项指标、单位、月份的最新一版）")
    reports.add_argument("--month", help="只列这个月份 YYYY-MM")
    reports.add_argument("--document", help="只列这个文档")
    reports.add_argument("--unit", help="只列这个单位")
    reports.add_argument("--json", action="store_true", help="每行一个 JSON 对象")
    reports.set_defaults(func=cmd_reports)
