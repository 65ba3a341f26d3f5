"""Reminders: the October 2026 holiday, exact sends through the sandbox, restart, downtime, two instances."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import build_application, running
from bot.config import load_config
from bot.reminders import tick
from bot.sandbox import BotApiSandbox
from handlers.deps import SERVICES_KEY, Services
from knowledge import schedule
from knowledge.profile import Monthly, Profile
from knowledge.reminders import ChatSpec, RuleSpec, plan
from knowledge.workdays import WorkCalendar
from storage.db import Database
from storage.models import ChatBinding, ChatKind, Member, MemberRole, MemberStatus, ReminderLog, ReminderRule, Unit
from tests.conftest import SHANGHAI, FakeClock

TZ = ZoneInfo("Asia/Shanghai")
UNIT_GROUP = -100_700
COORD_GROUP = -100_701


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def test_october_holiday_moves_reminders_to_september() -> None:
    rules = [
        RuleSpec(1, "monthly_unit", "doc", day_of_month=3, title="月度进展报送"),
        RuleSpec(2, "monthly_coordinator", "doc", day_of_month=5, title="汇总上报", overdue_notice=False),
    ]
    chats = [ChatSpec(UNIT_GROUP, "unit", "doc", 7), ChatSpec(COORD_GROUP, "coordinator", "doc", None)]
    profile = Profile("doc", monthly=Monthly(report_day=3, coordinator_day=5))
    deadlines = schedule.deadlines(profile, date(2026, 9, 1), date(2026, 11, 30))
    found = plan(rules, chats, WorkCalendar(), at(9, 25, 0), at(10, 10, 23), TZ, deadlines)
    assert [(o.when, o.chat_id, o.audience, o.deadline, o.period) for o in found] == [
        (at(9, 29), UNIT_GROUP, "unit", date(2026, 10, 3), "2026-09"),
        (at(9, 29), COORD_GROUP, "coordinator", date(2026, 10, 5), "2026-09"),
        (at(9, 30), UNIT_GROUP, "unit", date(2026, 10, 3), "2026-09"),
        (at(9, 30), COORD_GROUP, "coordinator", date(2026, 10, 5), "2026-09"),
        (at(10, 8), COORD_GROUP, "overdue", date(2026, 10, 3), "2026-09"),
    ]


def test_missing_year_falls_back_to_weekends_and_overrides_win() -> None:
    calendar = WorkCalendar()
    assert calendar.is_workday(date(2027, 1, 1)) is True  # a Friday; 2027 is not in the library yet
    assert calendar.missing_years == {2027}
    entered = WorkCalendar({date(2027, 1, 1): False, date(2026, 10, 10): False})
    assert entered.is_workday(date(2027, 1, 1)) is False
    assert entered.is_workday(date(2026, 10, 10)) is False  # the admin's entry beats the library's 调休
    assert WorkCalendar().is_workday(date(2026, 10, 10)) is True  # 国庆调休上班 (Saturday)


def test_day_31_in_short_months() -> None:
    rules = [RuleSpec(1, "monthly_unit", None, day_of_month=31, working_days_before=(0,), overdue_notice=False)]
    found = plan(rules, [ChatSpec(1, "unit", None, 1)], WorkCalendar(), at(2, 1, 0), at(3, 1, 0), TZ)
    assert [o.deadline for o in found] == [date(2026, 2, 28)]
    assert [o.when.date() for o in found] == [WorkCalendar().on_or_before(date(2026, 2, 28))]


def bind(url: str) -> None:
    db = Database(url)
    now = datetime.now(UTC)
    with db.session_scope() as session:
        unit = session.scalar(select(Unit).where(Unit.name == "法规科"))
        assert unit is not None
        session.add_all(
            [
                ChatBinding(chat_id=UNIT_GROUP, kind=ChatKind.UNIT, unit_id=unit.id,
                            document_id="000_f49af99942824fbb", created_at=now),
                ChatBinding(chat_id=COORD_GROUP, kind=ChatKind.COORDINATOR,
                            document_id="000_f49af99942824fbb", created_at=now),
                Member(telegram_user_id=3003, display_name="王五", unit_id=unit.id, role=MemberRole.MEMBER,
                       status=MemberStatus.ACTIVE, created_at=now),
            ]
        )  # fmt: skip
    db.dispose()


async def run_at(app: object, clock: FakeClock, when: datetime) -> int:
    clock.now = when
    services = app.bot_data[SERVICES_KEY]  # type: ignore[attr-defined]
    assert isinstance(services, Services)
    return len(await tick(app.bot, services, when))  # type: ignore[attr-defined]


def texts(sandbox: BotApiSandbox, chat_id: int) -> list[str]:
    return [m.text.split("\n")[0] for m in sandbox.messages_to(chat_id)]


async def test_a_month_across_the_holiday(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, clock: FakeClock
) -> None:
    bind(seeded_copy_url)
    assert await run_at(seeded_bot, clock, at(9, 28)) == 0
    assert await run_at(seeded_bot, clock, at(9, 29, 8, 59)) == 0
    assert await run_at(seeded_bot, clock, at(9, 29)) == 2
    assert await run_at(seeded_bot, clock, at(9, 29, 9, 1)) == 0  # already sent: never twice
    assert await run_at(seeded_bot, clock, at(9, 30)) == 2
    for day in range(1, 8):
        assert await run_at(seeded_bot, clock, at(10, day, 9, 30)) == 0  # the holiday is quiet
    assert await run_at(seeded_bot, clock, at(10, 8)) == 1
    coordinator = sandbox.messages_to(COORD_GROUP)
    ledgers = [m for m in coordinator if m.kind == "document"]
    assert [m.file_name for m in ledgers] == ["工作台账_2026-09.xlsx"]  # the morning of the 5th (moved to 30 Sept)
    assert coordinator.index(ledgers[0]) == 2
    for document in ledgers:
        sandbox.messages.remove(document)
    unit = sandbox.messages_to(UNIT_GROUP)
    assert len(unit) == 2
    assert unit[0].text.startswith(
        "⏰ <b>提醒</b>：请于 10月3日（星期六）前报送 <b>2026年9月</b> 的工作进展。\n法规科尚未报送 "
    )
    assert '<a href="tg://user?id=3003">王五</a>' in unit[0].text
    assert texts(sandbox, COORD_GROUP) == [
        "📋 <b>2026年9月 报送情况</b>（汇总上报截止 10月5日（星期一））",
        "📋 <b>2026年9月 报送情况</b>（汇总上报截止 10月5日（星期一））",
        "⚠️ <b>逾期未报</b>（2026年9月，截止 10月3日（星期六））："
        + sandbox.messages_to(COORD_GROUP)[2].text.split("：", 1)[1],
    ]
    assert "法规科" in sandbox.messages_to(COORD_GROUP)[2].text


async def test_restart_and_second_instance_send_nothing_twice(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, clock: FakeClock, tmp_path: object
) -> None:
    bind(seeded_copy_url)
    assert await run_at(seeded_bot, clock, at(9, 29)) == 2
    config = load_config({"TAIZHANG_BOT_TOKEN": sandbox.token, "TAIZHANG_API_BASE_URL": sandbox.base_url,
                          "TAIZHANG_DATABASE_URL": seeded_copy_url, "TAIZHANG_REMINDERS": "off",
                          "TAIZHANG_FILES_DIR": str(tmp_path)})  # fmt: skip
    other_clock = FakeClock(at(9, 29, 9, 0))
    second = build_application(config, clock=other_clock)
    async with running(second):  # a restarted process, or a second one on the same database
        assert await run_at(second, other_clock, at(9, 29, 9, 5)) == 0
        sent = await asyncio.gather(run_at(seeded_bot, clock, at(9, 30)), run_at(second, other_clock, at(9, 30)))
        assert sum(sent) == 2  # each occurrence claimed by exactly one of them
    coordinator = [m for m in sandbox.messages_to(COORD_GROUP) if m.kind == "text"]
    assert len(sandbox.messages_to(UNIT_GROUP)) == 2 and len(coordinator) == 2


async def test_downtime_catches_up_before_the_deadline_and_skips_after(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, clock: FakeClock
) -> None:
    bind(seeded_copy_url)
    assert await run_at(seeded_bot, clock, at(9, 30, 10)) == 2  # down since the 28th: the latest of each, once
    assert len(sandbox.messages_to(UNIT_GROUP)) == 1
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        statuses = sorted(session.scalars(select(ReminderLog.status)))
    assert statuses == ["sent", "sent", "superseded", "superseded"]
    with db.session_scope() as session:
        session.query(ReminderLog).delete()
    db.dispose()
    assert (
        await run_at(seeded_bot, clock, at(10, 4, 10)) == 1
    )  # unit deadline (3rd) passed: skipped; coordinator's (5th) not
    assert len(sandbox.messages_to(UNIT_GROUP)) == 1


async def test_deadline_commands(sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str) -> None:
    admin = BotApiSandbox.user(1001, "张三")
    chat = BotApiSandbox.group_chat(COORD_GROUP, "协调群")

    async def say(text: str) -> str:
        before = len(sandbox.messages_to(COORD_GROUP))
        sandbox.send_text(chat, admin, text)
        [reply] = await asyncio.to_thread(sandbox.wait_for_messages, COORD_GROUP, 1, after=before)
        return reply.text

    assert (await say("/deadline add 2026-12-10 自查报告 法规科")).startswith(
        "已添加截止日期（编号 7）：2026-12-10（星期四）自查报告，对象：法规科"
    )
    assert "不存在" in await say("/deadline add 2026-02-30 无效")
    assert "已经过去" in await say("/deadline add 2025-01-01 过期")
    assert "找不到单位“不存在科”" in await say("/deadline add 2026-12-11 x 不存在科")
    listing = await say("/deadline list")
    assert "7. 2026-12-10（星期四） 自查报告 → 单位群" in listing
    assert "每月3日 月度进展报送" in listing
    assert (await say("/deadline remove 7")).startswith("已删除提醒规则 7")
    assert (await say("/deadline day 2")).startswith("已设置各单位每月报送日：每月2日（规则 ")
    assert "不是有效的日期" in await say("/deadline coordday 32")
    other = BotApiSandbox.user(4004, "赵六")
    before = len(sandbox.messages_to(COORD_GROUP))
    sandbox.send_text(chat, other, "/deadline add 2026-12-10 x")
    [refused] = await asyncio.to_thread(sandbox.wait_for_messages, COORD_GROUP, 1, after=before)
    assert refused.text == "只有本项目的协调人或管理员可以修改截止日期。"


@pytest.mark.parametrize("day", ["2026-02-30", "2026/13/01"])
def test_cli_plan_rejects_invalid_dates(day: str, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["reminders", "plan", "--from", day, "--to", "2026-10-10"]) == 2
    assert "不是有效日期" in capsys.readouterr().err


async def test_coordinator_hears_all_reported(sandbox: BotApiSandbox, db_url: str, tmp_path: object) -> None:
    from knowledge.access import Reporter
    from knowledge.files import read_document_bytes
    from knowledge.profile import Monthly, Profile
    from knowledge.reports import store_report
    from storage.catalog import import_document
    from storage.models import Indicator, ReminderRule, ReportStatus, RuleKind
    from storage.profiles import save_profile
    from storage.progress import SqlReports, indicator_ref
    from tests.test_import_store import _docx_table_bytes

    db = Database(db_url)
    db.upgrade()
    now = datetime(2026, 9, 20, tzinfo=SHANGHAI)
    with db.session_scope() as session:
        [parsed] = read_document_bytes(_docx_table_bytes(), "分工表.docx")
        import_document(session, parsed, now=now)
        # The docx table states no cadence; the coordinator sets one in the profile (/deadline day 3, coordday 5).
        save_profile(session, Profile("分工表", monthly=Monthly(report_day=3, coordinator_day=5)))
        session.add_all([
            ReminderRule(document_id="分工表", kind=RuleKind.MONTHLY_UNIT, day_of_month=3, title="月度进展报送",
                         remind_working_days_before=[2, 0], created_at=now),
            ReminderRule(document_id="分工表", kind=RuleKind.MONTHLY_COORDINATOR, day_of_month=5, title="汇总上报",
                         remind_working_days_before=[2, 0], overdue_notice=False, created_at=now),
            ChatBinding(chat_id=COORD_GROUP, kind=ChatKind.COORDINATOR, document_id="分工表", created_at=now),
        ])  # fmt: skip
        coordinator = Reporter(1001, "张三", None, None, "", True)
        for indicator in session.scalars(select(Indicator)):
            store_report(SqlReports(session), reporter=coordinator, indicator=indicator_ref(session, indicator),
                         status=ReportStatus.DONE,
                         details="完成", now=datetime(2026, 10, 1, tzinfo=SHANGHAI))  # fmt: skip
    db.dispose()
    clock = FakeClock(at(9, 29))
    config = load_config({"TAIZHANG_BOT_TOKEN": sandbox.token, "TAIZHANG_API_BASE_URL": sandbox.base_url,
                          "TAIZHANG_DATABASE_URL": db_url, "TAIZHANG_REMINDERS": "off",
                          "TAIZHANG_FILES_DIR": str(tmp_path)})  # fmt: skip
    app = build_application(config, clock=clock)
    async with running(app):
        assert await run_at(app, clock, at(9, 29)) == 1
    [message] = sandbox.messages_to(COORD_GROUP)
    assert message.text == "✅ <b>2026年9月 全部报齐</b>：2 个单位均已报送，可以汇总上报。"


async def test_deadline_for_a_unit_named_with_markup_is_confirmed_once(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    """The unit ``A&B‹科`` is saved, confirmed in valid HTML, and a retry creates nothing new."""
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        session.add(Unit(name="A&B‹科"))
    admin = BotApiSandbox.user(1001, "张三")
    chat = BotApiSandbox.group_chat(COORD_GROUP, "协调群")
    for attempt in range(2):
        sandbox.send_text(chat, admin, "/deadline add 2026-12-10 <自查>&报告 A&B‹科")
        [answer] = await asyncio.to_thread(sandbox.wait_for_messages, COORD_GROUP, 1, after=attempt)
        assert answer.parse_mode == "HTML"
        assert answer.text == ("已添加截止日期（编号 7）：2026-12-10（星期四）&lt;自查&gt;&amp;报告，对象：A&amp;B‹科")
    with db.session_scope() as session:
        titles = list(session.scalars(select(ReminderRule.title).where(ReminderRule.id >= 7)))
    assert titles == ["<自查>&报告"]
    db.dispose()
