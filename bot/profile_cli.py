"""``taizhang profile show|set`` and ``taizhang deadlines``: the programme profiles for admins' scripts."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta

from bot.config import load_config
from knowledge.dates import parse_date
from knowledge.errors import Refusal
from knowledge.profile_edit import describe
from storage.db import Database
from storage.profiles import find_document_id, load_profile, programme_deadlines
from storage.reminders import edit_profile

DEFAULT_WINDOW_DAYS = 365


def _database() -> Database:
    database = Database(load_config(require_token=False).database_url)
    database.upgrade()
    return database


def _now() -> datetime:
    return datetime.now(load_config(require_token=False).timezone)


def _document(database: Database, text: str) -> str:
    document_id = database.call(find_document_id, text)
    if document_id is None:
        raise SystemExit(f"没有编号为 {text} 的文档（taizhang indicators --summary 查看）")
    return document_id


def cmd_profile_show(args: argparse.Namespace) -> int:
    """Print a document's profile (plain Chinese, or the stored JSON)."""
    database = _database()
    try:
        document_id = _document(database, args.document)
        profile = database.call(load_profile, document_id)
    finally:
        database.dispose()
    assert profile is not None
    if args.json:
        print(json.dumps(profile.as_json(), ensure_ascii=False, indent=2))
    else:
        print(f"文档 {document_id} 的报送规则：")
        for line in describe(profile, _now().date()):
            print(f"  {line}")
    return 0


def cmd_profile_set(args: argparse.Namespace) -> int:
    """Change one value of a document's profile."""
    database = _database()
    try:
        document_id = _document(database, args.document)
        try:
            done = database.call(edit_profile, document_id, args.key, " ".join(args.value), _now())
        except Refusal as exc:
            print(str(exc), file=sys.stderr)
            return 2
    finally:
        database.dispose()
    print(f"文档 {document_id}：{done}")
    return 0


def _day(text: str, flag: str, today: date) -> date:
    try:
        return parse_date(text, today)
    except Refusal as exc:
        raise SystemExit(f"{flag}：{exc}") from None


def cmd_deadlines(args: argparse.Namespace) -> int:
    """Every deadline the profiles produce in a window, whether or not a group is bound."""
    today = _now().date()
    start = _day(args.start, "--from", today) if args.start else today
    end = _day(args.end, "--to", today) if args.end else start + timedelta(days=DEFAULT_WINDOW_DAYS)
    if end < start:
        print("--to 不能早于 --from", file=sys.stderr)
        return 2
    database = _database()
    try:
        document_id = _document(database, args.document) if args.document else None
        found, _ = database.call(programme_deadlines, start, end, document_id)
    finally:
        database.dispose()
    for deadline in found:
        if args.json:
            print(json.dumps(deadline.as_json(), ensure_ascii=False))
        else:
            units = "、".join(deadline.units[:6]) + (
                f" 等{len(deadline.units)}个单位" if len(deadline.units) > 6 else ""
            )
            past = "（已过）" if deadline.date < today else ""
            print(f"{deadline.date}{past}\t{deadline.document}\t{deadline.kind}\t{deadline.title}\t{units}")
    if not found and not args.json:
        print(f"{start} 至 {end} 没有截止日期")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``profile`` and ``deadlines`` to the ``taizhang`` parser."""
    profile = sub.add_parser("profile", help="文档的报送规则（周期、阶段、节点、谁报送、状态、材料要求、联系人）")
    profile_sub = profile.add_subparsers(dest="profile_command", required=True)
    show = profile_sub.add_parser("show", help="显示一个文档的报送规则")
    show.add_argument("document", metavar="DOC", help="文档编号（可只写开头，如 001）")
    show.add_argument("--json", action="store_true", help="输出保存的 JSON")
    show.set_defaults(func=cmd_profile_show)
    set_parser = profile_sub.add_parser("set", help="修改一项报送规则，如 monthly.report_day 3")
    set_parser.add_argument("document", metavar="DOC", help="文档编号（可只写开头，如 001）")
    set_parser.add_argument("key", metavar="KEY")
    set_parser.add_argument("value", metavar="VALUE", nargs="+")
    set_parser.set_defaults(func=cmd_profile_set)

    deadlines = sub.add_parser("deadlines", help="列出各文档规定的截止日期（不论是否已绑定群）")
    deadlines.add_argument("--document", metavar="ID", help="只列这个文档")
    deadlines.add_argument(
        "--from", dest="start", metavar="DATE", help="开始日期（默认今天；可写 10月28日、2026-10-28）"
    )
    deadlines.add_argument("--to", dest="end", metavar="DATE", help="结束日期（默认一年后）")
    deadlines.add_argument("--json", action="store_true", help="每行一个 JSON 对象")
    deadlines.set_defaults(func=cmd_deadlines)
