"""Each document's own ledger template: title, header lines, columns, exact report text, who is missing, 004 totals."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from bot.sandbox import BotApiSandbox
from knowledge.access import Reporter
from knowledge.ledger_spec import templates
from knowledge.ledger_xlsx import write_export
from knowledge.reports import store_report
from storage.db import Database
from storage.ledger_data import ledger_data
from storage.models import Indicator, Member, MemberRole, MemberStatus, ReportStatus, SelfScore, Unit
from storage.progress import SqlReports, indicator_ref
from tests.conftest import SHANGHAI

NOW = datetime(2026, 11, 4, 10, 0, tzinfo=SHANGHAI)
ON_TIME = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
DOC_000 = "000_f49af99942824fbb"
DOC_001 = "001_4c05958a6f6fc4a3"
DOC_002 = "002_34aef47c508b53d7"
DOC_003 = "003_da5a883e4d46e08d"
DOC_004 = "004_e4d01baf3aacf88f"
TEXT_12 = "已将发文数量压缩至3件，（含联合发文1件）；详见《情况说明》"
TEXT_13 = "正在征求意见，预计12月底完成"


def _report(session: object, unit_name: str, document: str, key: str, status: ReportStatus, text: str,
            when: datetime) -> None:  # fmt: skip
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    unit = session.scalar(select(Unit).where(Unit.name == unit_name))
    assert unit is not None
    indicator = session.scalar(select(Indicator).where(Indicator.document_id == document, Indicator.key == key))
    assert indicator is not None
    reporter = Reporter(3003, "王五", None, unit.id, unit.name, False)
    store_report(SqlReports(session), reporter=reporter, indicator=indicator_ref(session, indicator), status=status,
                 details=text, now=when, explicit_period="2026-10")  # fmt: skip


def seed(url: str) -> None:
    db = Database(url)
    with db.session_scope() as session:
        unit = session.scalar(select(Unit).where(Unit.name == "法规科"))
        assert unit is not None
        session.add(Member(telegram_user_id=3003, display_name="王五", unit_id=unit.id, role=MemberRole.MEMBER,
                           status=MemberStatus.ACTIVE, created_at=NOW))  # fmt: skip
        _report(session, "法规科", DOC_000, "12", ReportStatus.DONE, TEXT_12, ON_TIME)
        _report(session, "法规科", DOC_000, "13", ReportStatus.IN_PROGRESS, TEXT_13, NOW)  # after the 3rd: late
        _report(session, "行政财务装备科", DOC_002, "20", ReportStatus.DONE, "已完成：经费全部到位。", ON_TIME)
        _report(session, "服务科", DOC_001, "1", ReportStatus.DONE, "本部门无此类事项（不涉及）", ON_TIME)
    db.dispose()


def export(url: str, tmp_path: Path, document: str | None, unit: str | None = None,
           template: str | None = None) -> tuple[Path, list[str]]:  # fmt: skip
    db = Database(url)
    data = db.call(ledger_data, "2026-10", document, unit)
    db.dispose()
    out = tmp_path / f"{document}-{template}.xlsx"
    result = write_export(data, out, NOW, template)
    return out, [u.unit for u in result.units]


def cells(sheet: Worksheet, row: int) -> list[object]:
    return [c.value for c in sheet[row]]


def data_rows(sheet: Worksheet, header_row: int) -> list[list[object]]:
    return [[c.value for c in r] for r in sheet.iter_rows(min_row=header_row + 1)]


def test_000_annex2_lead_units_only_and_lateness_in_its_own_column(seeded_copy_url: str, tmp_path: Path) -> None:
    seed(seeded_copy_url)
    out, units = export(seeded_copy_url, tmp_path, DOC_000)
    book = load_workbook(out)
    assert book.sheetnames[0] == "汇总"
    sheet = book["法规科"]
    assert sheet["A1"].value == "濮阳市生态环境局法治建设示范创建工作台账"
    assert sheet["A2"].value == "责任单位：法规科"
    assert sheet["A3"].value == "填表时间：2026年11月4日"
    assert cells(sheet, 4) == ["三级指标", "上报材料", "完成进度", "牵头单位", "牵头单位责任人", "备注"]
    rows = {str(r[0]).split(" ")[0]: r for r in data_rows(sheet, 4)[:-3]}
    assert rows["12"][2] == "已完成：" + TEXT_12  # the unit's words, full-width punctuation kept
    assert rows["12"][5] is None
    assert rows["13"][2] == "未完成：" + TEXT_13  # lateness never inside 完成进度
    assert rows["13"][5] == "逾期报送"
    assert rows["16"][2] == "未报送" and rows["16"][5] == "未报送"
    assert "24" not in rows  # 法规科 only cooperates on 24 (lead: 支队): not its line under 说明1
    footer = [r[0] for r in data_rows(sheet, 4)][-3:]
    assert footer == [
        "说明：1. 工作台账完成情况均由牵头单位汇总报送。",
        "2. 工作台账随同报送材料每月 3 日前一并提交。",
        "3. 完成进度填写“已完成 + 具体完成情况”或者“未完成 + 正在推进情况”。",
    ]
    # Cooperating-only units (生态科 …) are never missing: no sheet, no line in 汇总.
    assert "生态科" not in units and "生态科" not in book.sheetnames
    summary = book["汇总"]
    assert cells(summary, 3) == ["单位", "应报指标", "已报送", "已完成", "未报送", "逾期", "退回", "未报送项"]
    by_unit = {r[0]: r for r in data_rows(summary, 3)}
    owned = len([r for r in rows.values()])
    assert by_unit["法规科"][1:7] == [owned, 2, 1, owned - 2, 1, 0]
    assert "24" in str(by_unit["市生态环境综合行政执法支队"][7]).split("、")
    assert sheet.print_title_rows == "$4:$4" and sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.fitToWidth in (None, 1)
    assert sheet.page_setup.fitToHeight == 0 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet["C5"].font.name == "仿宋_GB2312" and sheet["A1"].font.name == "宋体"


def test_002_annex3_grouped_by_year_with_contacts_and_phones(seeded_copy_url: str, tmp_path: Path) -> None:
    seed(seeded_copy_url)
    out, _ = export(seeded_copy_url, tmp_path, DOC_002)
    sheet = load_workbook(out)["行政财务装备科"]
    assert sheet["A1"].value == "濮阳市司法局法治政府建设示范市创建工作台账"
    assert sheet["A2"].value == "责任科室：行政财务装备科　　（公章）　　填表时间：2026年11月4日"
    assert cells(sheet, 3) == ["年  度", "三级指标", "测评方法", "上报材料", "完成进度", "责任人及联系方式", "备注"]
    rows = data_rows(sheet, 3)
    assert rows[0][0] == "2026" and all(r[0] in (None, "") for r in rows[1:-3])  # grouped: the year once
    line = next(r for r in rows if str(r[1]).startswith("20 "))
    assert line[4] == "已完成：经费全部到位。"  # the text already starts with its status: kept as written
    assert line[5] == "杨英丽（行政财务装备科） 6665012，18503938630"  # phones as the 工作专班 lists them
    assert [r[0] for r in rows[-3:]] == [
        "说明：1.工作台账随同上报材料每月1日前一并提交。",
        "2.完成进度填写“已完成＋上月具体完成情况”或者“未完成＋正在推进情况”。",
        "3.上报内容表格容纳不下，请自行增加表格行",
    ]


def test_001_and_003_columns(seeded_copy_url: str, tmp_path: Path) -> None:
    seed(seeded_copy_url)
    out, _ = export(seeded_copy_url, tmp_path, DOC_001)
    sheet = load_workbook(out)["服务科"]
    assert sheet["A1"].value == "依法行政示范单位创建指标体系及责任分工"
    assert cells(sheet, 4) == ["序号", "三级指标", "测评方法", "填报材料", "责任单位及责任人", "完成情况", "备注"]
    first = data_rows(sheet, 4)[0]
    assert first[0] == "1" and first[2] == "材料查证\n随机访谈\n问卷调查" and first[4] == "服务科（史凤云）"
    assert first[5] == "已完成：本部门无此类事项（不涉及）"
    out, _ = export(seeded_copy_url, tmp_path, DOC_003)
    book = load_workbook(out)
    sheet = book["县委政法委"]
    assert cells(sheet, 4) == ["序号", "工作任务", "牵头单位", "参加单位", "本单位", "时间节点", "年度阶段", "完成进度",
                               "备注"]  # fmt: skip
    task16 = next(r for r in data_rows(sheet, 4) if r[0] == "16")
    assert task16[4] == "牵头" and task16[5] == "2022年年底顺利通过国家验收"
    assert task16[6] == "2026年（方案未列阶段）：未报送"
    court = next(r for r in data_rows(book["县法院"], 4) if r[0] == "16")
    assert court[4] == "参加"  # 003: every listed unit reports (牵头 and 参加)


def test_004_score_sheets_total_per_duty_and_overall(seeded_copy_url: str, tmp_path: Path) -> None:
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        tasks = {
            (i.table_name, i.key): i for i in session.scalars(select(Indicator).where(Indicator.document_id == DOC_004))
        }
        for key, score in (("1", 5.5), ("2", 6.0), ("11", 2.0)):
            session.add(SelfScore(indicator_id=tasks[("党委", key)].id, score=score - 1, reason="初评", created_at=NOW))
            session.add(
                SelfScore(indicator_id=tasks[("党委", key)].id, score=score, reason=f"理由{key}", created_at=NOW)
            )
        党委_max = sum(i.points or 0 for (t, _), i in tasks.items() if t == "党委")
    db.dispose()
    out, _ = export(seeded_copy_url, tmp_path, DOC_004)
    book = load_workbook(out)
    assert book.sheetnames == ["汇总", "县（区）党委主要负责人", "县（区）政府主要负责人"]
    sheet = book["县（区）党委主要负责人"]
    assert sheet["A1"].value == "濮阳市党政主要负责人履行推进法治建设第一责任人职责规定任务分解及督察情况打分表"
    assert sheet["A2"].value == "责任人：县（区）党委主要负责人"
    assert cells(sheet, 3) == ["主要职责", "工作任务", "落实单位", "检查标准", "得分", "备注"]
    rows = data_rows(sheet, 3)
    assert str(rows[0][0]).startswith("1. 充分发挥党委") and rows[1][0] in (None, "")
    assert rows[0][4] == 5.5 and rows[0][5] == "理由1" and rows[1][4] == 6
    subtotal = rows[10]
    assert subtotal[1] == "小计（满分 43 分）" and subtotal[4] == 11.5
    total = rows[-1]
    assert total[1] == f"合计（满分 {党委_max:g} 分）" and total[4] == 13.5


def test_generic_template_and_template_list(seeded_copy_url: str, tmp_path: Path) -> None:
    seed(seeded_copy_url)
    out, _ = export(seeded_copy_url, tmp_path, DOC_000, "法规科", "generic")
    sheet = load_workbook(out)["法规科"]
    assert sheet["A1"].value == "濮阳生态环境局工作台账工作台账（2026年10月）"
    assert cells(sheet, 4)[:5] == ["序号", "文档", "三级指标", "上报材料", "完成进度"]
    assert set(templates()) == {"generic", "000", "001", "002", "003", "004"}


async def test_score_command_bounds_permission_history(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        office = session.scalar(select(Unit).where(Unit.name == "县(区)委办公室"))
        other = session.scalar(select(Unit).where(Unit.name == "法规科"))
        assert office is not None and other is not None
        session.add(Member(telegram_user_id=4004, display_name="赵六", unit_id=office.id, role=MemberRole.MEMBER,
                           status=MemberStatus.ACTIVE, created_at=NOW))  # fmt: skip
        session.add(Member(telegram_user_id=3003, display_name="王五", unit_id=other.id, role=MemberRole.MEMBER,
                           status=MemberStatus.ACTIVE, created_at=NOW))  # fmt: skip
    db.dispose()
    owner = BotApiSandbox.user(4004, "赵六")
    chat = sandbox.private_chat(owner)
    for text in ("/score 党委1 7 太多", "/score 2 1", "/score 党委1 5.5 每半年听取汇报，记录完整", "/score 党委1"):
        sandbox.send_text(chat, owner, text)
    replies = await asyncio.to_thread(sandbox.wait_for_messages, owner["id"], 4)
    assert [m.text for m in replies[:3]] == [
        "党委1 满分 6 分，得分应在 0 到 6 之间",
        "有多项任务编号为 2（党委2、政府2），请写明是哪一张表，例如 /score 党委2 1.5",
        "已记录 <b>党委1</b> 自评得分 5.5 / 6 分（第 1 版）。\n理由：每半年听取汇报，记录完整\n党委表自评合计 5.5 / 100 分",
    ]
    assert replies[3].text.startswith(
        "<b>党委1</b> 自评记录（满分 6 分，共 1 版，新的在前）：\n• 5.5 分 — 赵六（县(区)委办公室）"
    )
    stranger = BotApiSandbox.user(3003, "王五")
    sandbox.send_text(sandbox.private_chat(stranger), stranger, "/score 党委1 1")
    [refused] = await asyncio.to_thread(sandbox.wait_for_messages, stranger["id"], 1)
    assert refused.text == "本单位不是这项指标的责任单位，不能报送；请联系牵头单位或协调人。"
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        stored = session.scalars(select(SelfScore)).all()
        assert [(s.score, s.reason, s.scorer_name) for s in stored] == [(5.5, "每半年听取汇报，记录完整", "赵六")]
    db.dispose()


async def test_export_in_a_group_bound_to_000_uses_annex2(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str
) -> None:
    seed(seeded_copy_url)
    admin = BotApiSandbox.user(1001, "张三")
    group = sandbox.group_chat(-5001, "法规科群")
    sandbox.send_text(group, admin, "/bind 法规科 000")
    await asyncio.to_thread(sandbox.wait_for_messages, group["id"], 1)
    sandbox.send_text(group, admin, "/export 2026-10")
    [sent, _chart] = await asyncio.to_thread(sandbox.wait_for_messages, group["id"], 2, after=1)
    book = load_workbook(io.BytesIO(sandbox.files[sent.file_id].content))
    assert book["法规科"]["A1"].value == "濮阳市生态环境局法治建设示范创建工作台账"


def test_returned_template_is_read_back_exactly(seeded_copy_url: str, tmp_path: Path) -> None:
    from knowledge.ledger_import import read_filled_ledger

    seed(seeded_copy_url)
    out, _ = export(seeded_copy_url, tmp_path, DOC_000, "法规科")
    filled = read_filled_ledger(out.read_bytes())
    assert (filled.template, filled.period, filled.problems) == ("000", "2026-10", [])
    assert [(r.sheet, r.unit, r.number, r.progress) for r in filled.rows] == [
        ("法规科", "法规科", "12", "已完成：" + TEXT_12),
        ("法规科", "法规科", "13", "未完成：" + TEXT_13),
    ]


async def test_returned_ledger_round_trip_through_the_bot(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, tmp_path: Path
) -> None:
    from openpyxl import load_workbook as open_book

    seed(seeded_copy_url)
    out, _ = export(seeded_copy_url, tmp_path, DOC_000, "法规科")
    # The unit fills two more rows (one it can't be matched, one without a status) and sends it back.
    book = open_book(out)
    sheet = book["法规科"]
    rows = {str(r[0].value).split(" ")[0]: r for r in sheet.iter_rows(min_row=5) if r[0].value}
    rows["16"][2].value = "未完成：起草《规范性文件管理办法》（征求意见稿），12月上旬印发"
    rows["19"][2].value = "已完成：编号填错的一行"
    rows["19"][0].value = "999 不存在的指标"
    rows["20"][2].value = "请领导审阅"
    edited = tmp_path / "returned.xlsx"
    book.save(edited)
    staff = BotApiSandbox.user(3003, "王五")
    chat = sandbox.private_chat(staff)
    sandbox.send_document(chat, staff, edited.read_bytes(), "工作台账_2026-10_法规科.xlsx", caption="/report")
    [preview] = await asyncio.to_thread(sandbox.wait_for_messages, staff["id"], 1)
    assert preview.text.startswith(
        "从台账（2026年10月）读到 3 项，确认后登记为本单位报送：\n• 第12项（法规科） 已完成："
    )
    assert preview.text.endswith(
        "以下 2 行无法对应，不会登记：\n"
        "• 法规科 第15行（999）：没有编号为 999 的指标，请核对编号（可发送 /ask 999 查询）\n"
        "• 法规科 第16行（20）：看不出是“已完成”还是“未完成”，请在完成进度开头写明"
    )
    sandbox.press_button(chat, staff, preview.message_id, preview.buttons[0]["callback_data"])  # type: ignore[attr-defined]
    await asyncio.to_thread(sandbox.wait_for_messages, staff["id"], 2, after=1)
    db = Database(seeded_copy_url)
    with db.session_scope() as session:
        from storage.models import ProgressReport

        latest = {
            (r.indicator.key, r.version): r.text
            for r in session.scalars(select(ProgressReport).where(ProgressReport.period == "2026-10"))
            if r.indicator.document_id == DOC_000
        }
    db.dispose()
    assert latest[("12", 2)] == TEXT_12 and latest[("13", 2)] == TEXT_13  # re-imported without loss
    assert latest[("16", 1)] == "起草《规范性文件管理办法》（征求意见稿），12月上旬印发"
    again, _ = export(seeded_copy_url, tmp_path / "again", DOC_000, "法规科")
    cells_before = {
        str(r[0].value).split(" ")[0]: r[2].value for r in load_workbook(out)["法规科"].iter_rows(min_row=5)
    }
    cells_after = {
        str(r[0].value).split(" ")[0]: r[2].value for r in load_workbook(again)["法规科"].iter_rows(min_row=5)
    }
    assert cells_after == {**cells_before, "16": "未完成：起草《规范性文件管理办法》（征求意见稿），12月上旬印发"}
