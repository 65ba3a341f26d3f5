"""Programme profiles (issue 12): what each seed document states, nothing invented; one schedule for all."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from knowledge import schedule
from knowledge.dates import parse_date
from knowledge.documents import read_text_document
from knowledge.errors import Refusal
from knowledge.profile import Monthly, Profile
from knowledge.profile_reader import read_profile
from knowledge.reminders import ChatSpec, RuleSpec, plan
from knowledge.units import is_collective
from knowledge.workdays import WorkCalendar
from storage.db import Database
from storage.models import Assignment, Indicator, Unit

SEEDS = Path(__file__).resolve().parents[1] / "knowledge" / "samples"
TZ = ZoneInfo("Asia/Shanghai")
IMPORT_DAY = date(2026, 11, 1)  # the seeded database's import day (tests/conftest.py)
COLLECTIVE = ["各有关单位", "局属各单位", "机关各科室", "各执法单位", "各承办单位", "县直有关单位", "各乡（镇、办）"]


def _profile(prefix: str, today: date = IMPORT_DAY) -> Profile:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    text = path.read_text(encoding="utf-8")
    document = read_text_document(text, path.stem)
    return read_profile(path.stem, text, document.indicators, today)


# ---------------------------------------------------------------- each document, as read from its text


def test_000_monthly_3rd_to_法规科_then_5th_and_only_leads_report() -> None:
    profile = _profile("000")
    assert profile.monthly == Monthly(
        report_day=3,
        coordinator_day=5,
        reported_month="previous",
        report_to="法规科",
        summary_to="市法治政府建设领导小组办公室",
        source=profile.monthly.source if profile.monthly else "",
    )
    assert profile.reporters == "lead"
    assert "由牵头单位汇总报送" in profile.reporters_source
    assert profile.reports_for(True) and not profile.reports_for(False)
    assert (profile.one_offs, profile.phases, profile.milestones) == ([], [], [])


def test_001_one_submission_by_10月28日_and_无材料() -> None:
    profile = _profile("001")
    assert profile.monthly is None  # no monthly deadline is invented
    [deadline] = profile.one_offs
    assert (deadline.due, deadline.written, deadline.title) == (date(2027, 10, 28), "10月28日", "报送填报材料")
    assert deadline.to == "市局法规科（邮箱 jzhbjfzk@163.com）"
    assert profile.resolved_dates == ["10月28日 → 2027-10-28"]
    assert profile.statuses == ["已完成", "未完成", "无材料", "不涉及"]
    assert profile.evidence.note_chars == 500 and profile.evidence.classified_on_paper


def test_a_yearless_date_resolves_to_its_next_occurrence_on_or_after_the_import_day() -> None:
    assert _profile("001", date(2026, 10, 28)).one_offs[0].due == date(2026, 10, 28)
    assert _profile("001", date(2026, 10, 29)).one_offs[0].due == date(2027, 10, 28)
    # 004's phases resolve as one calendar: imported on 5 August, 组织筹备 (7月31日) is already past.
    phases = _profile("004", date(2026, 8, 5)).phases
    assert [p.end for p in phases[:4]] == [date(2026, 7, 31), date(2026, 8, 10), date(2026, 8, 20), date(2026, 9, 5)]


def test_002_before_the_1st_with_its_evidence_rules_and_contacts() -> None:
    profile = _profile("002")
    assert profile.monthly is not None
    assert (profile.monthly.report_day, profile.monthly.coordinator_day) == (1, None)  # no invented 5日 rule
    evidence = profile.evidence
    assert (evidence.note_chars, evidence.note_chars_max, evidence.formats) == (500, 1000, ["PDF"])
    assert evidence.note_title_pattern == "《濮阳市司法局关于......的情况说明》"
    assert evidence.classified_on_paper and evidence.paper_copies
    leaders = [(c.group, c.name, c.phones) for c in profile.contacts if c.role == "组长" and c.group != "领导小组"]
    assert leaders == [
        ("综合协调组", "张秀雨", ["6980399", "13839290022"]),
        ("督导检查组", "刘国", ["8166989", "13781385255"]),
        ("宣传报道组", "鲁学武", ["6681109", "17698299869"]),
        ("后勤保障组", "杨英丽", ["6665012", "18503938630"]),
    ]
    group = [c.name for c in profile.contacts if c.group == "领导小组"]
    assert group[:2] == ["娄建广", "张世山"] and "王军" in group and "靳爱红" in group  # 王  军 is one name
    assert [(c.name, c.phones) for c in profile.contacts if c.role == "联系人"] == [
        ("刘晓芳", ["0393-6980399", "17603896001"])
    ]


def test_003_yearly_phases_and_the_milestones_inside_its_tasks() -> None:
    profile = _profile("003")
    assert profile.monthly is None
    assert [(y.year, y.title) for y in profile.yearly_phases] == [
        (2022, "贯彻落实年"),
        (2023, "集中攻坚年"),
        (2024, "巩固提升年"),
    ]
    assert "考核组报送本年度" in profile.yearly_reporting
    assert profile.reporters == "each_listed"
    milestones = {(m.indicator, m.due, m.text[:9]) for m in profile.milestones}
    assert ("8", date(2022, 6, 30), "外聘法律顾问选聘单") in milestones  # 2022年6月30日前: kept as written
    assert ("8", date(2022, 12, 31), "建立覆盖全县各级党") in milestones
    assert any(m.due == date(2024, 12, 31) and m.text.startswith("基本建成") for m in profile.milestones)
    assert any(m.due == date(2023, 12, 31) for m in profile.milestones)  # 2023年年底前
    eight = next(m for m in profile.milestones if m.due == date(2022, 6, 30))
    assert eight.units == ["县委办公室", "县政府办公室", "县司法局"]


def test_004_dated_phases_with_their_reports() -> None:
    profile = _profile("004")
    assert profile.monthly is None
    assert [(p.title, p.start, p.end) for p in profile.phases] == [
        ("组织筹备阶段", None, date(2027, 7, 31)),
        ("自查阶段", date(2027, 8, 1), date(2027, 8, 10)),
        ("实地督察阶段", date(2027, 8, 11), date(2027, 8, 20)),
        ("反馈整改阶段", date(2027, 8, 25), date(2027, 9, 5)),
        ("迎接督察阶段", None, None),
    ]
    reports = [(d.title, d.due, d.to) for p in profile.phases for d in p.deliverables]
    assert reports == [
        ("自查报告", date(2027, 8, 10), "市委依法治市办"),
        ("整改报告", date(2027, 9, 5), "市委依法治市办"),
    ]


# ---------------------------------------------------------------- one schedule: lateness and reminders agree


@pytest.mark.parametrize("day", range(1, 32))
def test_lateness_and_reminders_agree_for_every_deadline_day_of_every_month(day: int) -> None:
    profile = Profile("doc", monthly=Monthly(report_day=day))
    rules = [RuleSpec(1, "monthly_unit", "doc", title="月度进展报送", working_days_before=(0,))]
    chats = [ChatSpec(7, "unit", "doc", 3), ChatSpec(8, "coordinator", "doc", None)]
    start, end = datetime(2027, 1, 1, tzinfo=TZ), datetime(2028, 2, 29, 23, 59, tzinfo=TZ)
    deadlines = schedule.deadlines(profile, date(2026, 12, 1), date(2028, 3, 31))
    occurrences = plan(rules, chats, WorkCalendar(), start, end, TZ, deadlines)
    for month in range(1, 13):
        period = f"2027-{month:02d}"
        due = schedule.deadline_of(period, day)
        on_time = schedule.report_period(profile, datetime.combine(due, datetime.min.time(), TZ), period)
        day_after = datetime.combine(due + timedelta(days=1), datetime.min.time(), TZ)
        late = schedule.report_period(profile, day_after, period)
        assert on_time.deadline == due and not on_time.late, (day, period)
        assert late.deadline == due and late.late, (day, period)
        if day_after.month == due.month:  # the default period the day after is still the one just due
            assert schedule.report_period(profile, day_after).period == period, (day, period)
        mine = [o for o in occurrences if o.period == period]
        assert {o.deadline for o in mine} == {due}, (day, period)
        reminder = next(o for o in mine if o.audience == "unit")
        overdue = next(o for o in mine if o.audience == "overdue")
        assert reminder.when.date() <= due < overdue.when.date(), (day, period)


def test_without_a_monthly_cadence_the_next_dated_deadline_decides() -> None:
    profile = _profile("001")
    before = schedule.report_period(profile, datetime(2027, 10, 28, 18, tzinfo=TZ))
    after = schedule.report_period(profile, datetime(2027, 10, 29, 9, tzinfo=TZ))
    assert (before.period, before.deadline, before.late) == ("2027-10", date(2027, 10, 28), False)
    assert (after.deadline, after.late) == (date(2027, 10, 28), True)
    assert schedule.report_period(_profile("003"), datetime(2026, 12, 3, tzinfo=TZ)).deadline is None


# ---------------------------------------------------------------- dates as typed


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("10月28日", date(2026, 10, 28)),
        ("10月28号", date(2026, 10, 28)),
        ("2026年10月28日", date(2026, 10, 28)),
        ("10.28", date(2026, 10, 28)),
        ("2026-10-28", date(2026, 10, 28)),
        ("2026/10/28", date(2026, 10, 28)),
        ("３月１日", date(2027, 3, 1)),
        ("下周五", date(2026, 10, 9)),
        ("周五", date(2026, 10, 2)),
        ("明天", date(2026, 9, 29)),
    ],
)
def test_chinese_dates(typed: str, expected: date) -> None:
    assert parse_date(typed, date(2026, 9, 28)) == expected  # a Monday


def test_a_wrong_date_is_refused_with_the_accepted_forms() -> None:
    with pytest.raises(Refusal, match="不存在"):
        parse_date("2026年2月30日", date(2026, 1, 1))
    with pytest.raises(Refusal) as refused:
        parse_date("自查报告", date(2026, 1, 1))
    assert str(refused.value) == "“自查报告”不是日期，请写成 10月28日、2026年10月28日、10.28、2026-10-28 或 下周五"


# ---------------------------------------------------------------- units as the documents mean them


def _stored_units(url: str) -> dict[str, set[str]]:
    db = Database(url)
    with db.session_scope() as session:
        rows = session.execute(
            select(Indicator.document_id, Unit.name)
            .join(Assignment, Assignment.indicator_id == Indicator.id)
            .join(Unit, Unit.id == Assignment.unit_id)
        ).all()
    db.dispose()
    found: dict[str, set[str]] = {}
    for document_id, name in rows:
        found.setdefault(document_id[:3], set()).add(name)
    return found


def test_collective_words_never_become_units_in_any_document(seeded_db_url: str) -> None:
    units = _stored_units(seeded_db_url)
    assert sorted(units) == ["000", "001", "002", "003", "004"]
    for prefix, names in units.items():
        assert not [n for n in names if is_collective(n)], prefix
        assert not set(COLLECTIVE) & names, prefix
    assert all(is_collective(word) for word in COLLECTIVE)
    assert not any(is_collective(name) for name in ("法规科", "县司法局", "市生态环境综合行政执法支队", "办公室"))


def test_split_and_glued_names_are_repaired(seeded_db_url: str) -> None:
    units = _stored_units(seeded_db_url)
    assert {"执法", "司法", "县(区)委立法"} & units["004"] == set()
    assert {"县(区)委执法协调小组", "县(区)委司法协调小组", "县(区)委守法普法协调小组"} <= units["004"]
    assert not [n for n in units["003"] if "按职责" in n or "等" in n]
    assert "法院" not in units["003"] and "县法院" in units["003"]


def test_县司法局_owns_003_tasks_16_and_22_and_000_40_57_inherit_their_merged_owners(seeded_db_url: str) -> None:
    db = Database(seeded_db_url)
    owners: dict[tuple[str, str], set[str]] = {}
    with db.session_scope() as session:
        for document_id, number, name in session.execute(
            select(Indicator.document_id, Indicator.number, Unit.name)
            .join(Assignment, Assignment.indicator_id == Indicator.id)
            .join(Unit, Unit.id == Assignment.unit_id)
        ).all():
            owners.setdefault((document_id[:3], number), set()).add(name)
        unassigned = set(
            session.scalars(
                select(Indicator.number).where(Indicator.document_id.startswith("000"), Indicator.unassigned)
            )
        )
    db.dispose()
    assert "县司法局" in owners[("003", "16")] and "县司法局" in owners[("003", "22")]
    assert owners[("000", "40")] == owners[("000", "39")] and owners[("000", "57")] == owners[("000", "56")]
    assert {"40", "57"}.isdisjoint(unassigned) and {"15", "41"} <= unassigned


def test_cli_profile_deadlines_and_unassigned(
    seeded_copy_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    monkeypatch.setenv("TAIZHANG_DATABASE_URL", seeded_copy_url)
    assert main(["profile", "show", "001", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["one_offs"][0]["due"] == "2027-10-28" and shown["monthly"] is None

    def deadlines(document: str) -> list[dict[str, object]]:
        assert main(["deadlines", "--document", document, "--from", "2026-11-01", "--to", "2027-12-31", "--json"]) == 0
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    [one] = deadlines("001")
    assert sorted(one) == ["date", "document", "kind", "period", "title", "units"]
    assert (one["date"], one["kind"], one["title"]) == ("2027-10-28", "one-off", "报送填报材料")
    assert [(d["date"], d["kind"]) for d in deadlines("004")] == [
        ("2027-07-31", "phase"),
        ("2027-08-10", "phase"),
        ("2027-08-20", "phase"),
        ("2027-09-05", "phase"),
    ]
    two = deadlines("002")
    assert {d["kind"] for d in two} == {"report"} and {str(d["date"])[8:] for d in two} == {"01"}
    assert main(["profile", "set", "002", "monthly.coordinator_day", "5"]) == 0
    assert "每月汇总上报日：每月5日前" in capsys.readouterr().out
    assert {d["kind"] for d in deadlines("002")} == {"report", "summary"}
    assert main(["indicators", "--unassigned", "--document", "000_f49af99942824fbb"]) == 0
    listed = [line.split("\t")[1] for line in capsys.readouterr().out.splitlines()]
    assert listed == ["15", "41", "43", "44", "45", "46", "47"]


def test_deadline_day_changes_lateness_and_reminders_together(seeded_copy_url: str) -> None:
    from storage.profiles import load_profile
    from storage.progress import document_period
    from storage.reminders import set_monthly_day

    db = Database(seeded_copy_url)
    now = datetime(2026, 12, 8, 10, tzinfo=TZ)
    document = "000_f49af99942824fbb"
    with db.session_scope() as session:
        assert document_period(session, document, now).late is True  # due 3 December
        rule = set_monthly_day(session, document, False, 10, now)
        assert rule.day_of_month == 10
    with db.session_scope() as session:
        period = document_period(session, document, now)
        profile = load_profile(session, document)
    db.dispose()
    assert (period.period, period.deadline, period.late) == ("2026-11", date(2026, 12, 10), False)
    assert profile is not None and profile.edits == {"monthly.report_day": "10"}
    [report] = [d for d in schedule.deadlines(profile, date(2026, 12, 1), date(2026, 12, 31)) if d.kind == "report"]
    assert report.date == date(2026, 12, 10)


def test_reminders_plan_shows_only_what_each_document_says(
    seeded_copy_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main
    from storage.models import ChatBinding, ChatKind, Role

    db = Database(seeded_copy_url)
    chats: dict[int, str] = {}
    with db.session_scope() as session:
        for number, document_id in enumerate(sorted(session.scalars(select(Indicator.document_id).distinct()))):
            lead = session.scalars(
                select(Assignment.unit_id)
                .join(Indicator, Indicator.id == Assignment.indicator_id)
                .where(Indicator.document_id == document_id, Assignment.role == Role.LEAD)
            ).first()
            unit_chat, coordinator_chat = -200_000 - number, -300_000 - number
            chats[unit_chat] = chats[coordinator_chat] = document_id[:3]
            session.add_all(
                [
                    ChatBinding(chat_id=unit_chat, kind=ChatKind.UNIT, unit_id=lead, document_id=document_id,
                                created_at=datetime(2026, 11, 1, tzinfo=TZ)),
                    ChatBinding(chat_id=coordinator_chat, kind=ChatKind.COORDINATOR, document_id=document_id,
                                created_at=datetime(2026, 11, 1, tzinfo=TZ)),
                ]
            )  # fmt: skip
    db.dispose()
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", seeded_copy_url)
    assert main(["reminders", "plan", "--from", "2026-12-01", "--to", "2027-12-31", "--json"]) == 0
    planned: dict[str, set[tuple[str, str]]] = {}
    for line in capsys.readouterr().out.splitlines():
        item = json.loads(line)
        planned.setdefault(chats[item["chat_id"]], set()).add((item["deadline"], item["audience"]))
    assert {d for d, _ in planned["001"]} == {"2027-10-28"}  # its one submission, nothing monthly
    assert {a for _, a in planned["001"]} == {"unit"}
    assert {d for d, _ in planned["004"]} == {"2027-07-31", "2027-08-10", "2027-08-20", "2027-09-05"}
    assert {d[8:] for d, _ in planned["002"]} == {"01"}  # before the 1st; no 5日 summary rule
    assert {a for _, a in planned["002"]} == {"unit", "overdue"}
    assert {d[8:] for d, a in planned["000"] if a == "coordinator"} == {"05"}
    assert {d[8:] for d, a in planned["000"] if a == "unit"} == {"03"}
    assert "003" not in planned  # its phases and milestones (2022–2024) are past: never reminded


async def test_rules_in_chat_and_a_chinese_deadline(sandbox: object, seeded_bot: object, seeded_copy_url: str) -> None:
    import asyncio

    from bot.sandbox import BotApiSandbox
    from storage.models import ChatBinding, ChatKind

    assert isinstance(sandbox, BotApiSandbox)
    group = -100_900
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        session.add(ChatBinding(chat_id=group, kind=ChatKind.COORDINATOR, document_id="001_4c05958a6f6fc4a3",
                                created_at=datetime(2026, 11, 1, tzinfo=TZ)))  # fmt: skip
    db.dispose()
    chat = BotApiSandbox.group_chat(group, "协调群")

    async def say(user: dict[str, object], text: str) -> str:
        before = len(sandbox.messages_to(group))
        sandbox.send_text(chat, user, text)
        [reply] = await asyncio.to_thread(sandbox.wait_for_messages, group, 1, after=before)
        return str(reply.text)

    admin, stranger = BotApiSandbox.user(1001, "张三"), BotApiSandbox.user(4004, "赵六")
    rules = await say(stranger, "/rules")
    assert rules.startswith("<b>焦作生态环境局指标体系</b> 的报送规则：\n• 没有每月报送要求\n")
    assert "• 截止：2027年10月28日前报送填报材料，报至市局法规科（邮箱 jzhbjfzk@163.com）（文件写“10月28日”）" in rules
    assert "• 可选状态：已完成、未完成、无材料、不涉及" in rules
    other = await say(stranger, "/rules 002")
    assert "• 每月1日前报送上月完成情况" in other and "综合协调组组长 张秀雨（6980399、13839290022）" in other
    assert await say(stranger, "/rules set monthly.report_day 3") == "只有本项目的协调人或管理员可以修改报送规则。"
    added = await say(admin, "/deadline add 10月20日 自查材料")
    assert added.startswith("已添加截止日期（编号 ") and added.endswith(
        "：2027-10-20（星期三）自查材料，对象：全部单位群"
    )
    assert "截止：2027年10月20日前自查材料（协调人添加）" in await say(stranger, "/rules")
    changed = await say(admin, "/rules set evidence.note_chars 800")
    assert (
        changed
        == "已修改 001_4c05958a6f6fc4a3 的报送规则：情况说明字数：情况说明一般不超过800字；涉密材料不上传，提供纸质材料"
    )


async def test_coordinators_see_unassigned_indicators_in_status(
    sandbox: object, seeded_bot: object, seeded_copy_url: str
) -> None:
    import asyncio

    from bot.sandbox import BotApiSandbox
    from storage.models import ChatBinding, ChatKind

    assert isinstance(sandbox, BotApiSandbox)
    group = -100_901
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        session.add(ChatBinding(chat_id=group, kind=ChatKind.COORDINATOR, document_id="000_f49af99942824fbb",
                                created_at=datetime(2026, 11, 1, tzinfo=TZ)))  # fmt: skip
    db.dispose()
    sandbox.send_text(BotApiSandbox.group_chat(group, "协调群"), BotApiSandbox.user(1001, "张三"), "/status")
    [reply] = await asyncio.to_thread(sandbox.wait_for_messages, group, 1)
    assert reply.text == "<b>未分配</b>（7 项，没有责任单位，请协调人指定）：15、41、43、44、45、46、47"


def test_who_reports_follows_the_profile(seeded_copy_url: str) -> None:
    """000: only lead units report (cooperating units hand material to the lead); 003: every listed unit."""
    from knowledge.access import Action, Actor, may
    from knowledge.reports import IndicatorRecord
    from storage.progress import find_indicators, indicator_ref

    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        [one] = find_indicators(session, "1", "000_f49af99942824fbb")
        [sixteen] = find_indicators(session, "16", "003_da5a883e4d46e08d")
        [twenty_two] = find_indicators(session, "22", "003_da5a883e4d46e08d")
        first, task16, task22 = (indicator_ref(session, i) for i in (one, sixteen, twenty_two))
    db.dispose()

    def allowed(record: IndicatorRecord, unit_name: str) -> bool:
        [owner] = [o for o in record.owners if o.unit_name == unit_name]
        return may(Actor(1, units=frozenset({owner.unit_id})), Action.REPORT, record.target()).allowed

    assert [(o.role.value, o.unit_name) for o in first.owners][:2] == [("lead", "环评科"), ("coop", "生态科")]
    assert allowed(first, "环评科") and not allowed(first, "生态科")
    assert allowed(task16, "县司法局")  # 参加 in 003: it reports on its own task
    assert allowed(task22, "县司法局")  # the export wrote “县司法局按职责分工”


def test_an_indicator_card_shows_its_milestones() -> None:
    from handlers.cards import full_card
    from knowledge.search import Entry

    path = next(SEEDS.glob("003_*.txt"))
    document = read_text_document(path.read_text(encoding="utf-8"), path.stem)
    [eight] = [i for i in document.indicators if i.key == "8"]
    card = full_card(Entry(path.stem, "濮阳县法治政府建设任务", "task_list", "中共濮阳县委", eight))
    assert (
        "<b>时间节点</b>：2022年6月30日前外聘法律顾问选聘单位力争达到80%；"
        "2022年12月31日前建立覆盖全县各级党政机关的法律顾问工作体系" in card
    )


def test_a_reimport_keeps_the_import_day_and_the_coordinators_edits(seeded_copy_url: str) -> None:
    from knowledge.files import read_document_bytes
    from storage.catalog import import_document
    from storage.profiles import load_profile
    from storage.reminders import edit_profile

    path = next(SEEDS.glob("002_*.txt"))
    db = Database(seeded_copy_url)
    later = datetime(2027, 3, 5, tzinfo=TZ)
    with db.session_scope() as session:
        edit_profile(session, path.stem, "monthly.coordinator_day", "5", later)
    with db.session_scope() as session:
        [parsed] = read_document_bytes(path.read_bytes(), path.name)
        report = import_document(session, parsed, now=later)
        profile = load_profile(session, path.stem)
    db.dispose()
    assert profile is not None and profile.monthly is not None
    assert (profile.monthly.report_day, profile.monthly.coordinator_day) == (1, 5)
    assert profile.imported_on == IMPORT_DAY
    assert "    每月1日前报送上月完成情况" in report.summary().splitlines()
