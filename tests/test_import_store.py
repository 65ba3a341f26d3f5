"""Import semantics: idempotent, updates in place keeping history, transactional, safe input."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document as DocxDocument
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.cli import main
from knowledge.bundled import sample_files, sample_path
from knowledge.files import ImportInputError, read_document_bytes
from knowledge.imports import RemovalsNeedConfirmation
from knowledge.template import write_template
from storage.catalog import import_document, load_documents
from storage.db import Database
from storage.models import Assignment, Indicator, Person, ProgressReport, ReportStatus, Unit, UnitAlias

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def import_bytes(db: Database, data: bytes, name: str, *, replace: bool = False, **kwargs: object) -> list:
    documents = read_document_bytes(data, name, **kwargs)  # type: ignore[arg-type]
    with db.session_scope() as session:
        return [import_document(session, d, now=NOW, replace=replace) for d in documents]


def import_seeds(db: Database) -> list:
    reports = []
    for name, data in sample_files():
        reports += import_bytes(db, data, name)
    return reports


def count(db: Database, model: type) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def snapshot(db: Database) -> list[dict]:
    with db.session_scope() as session:
        return [
            {k: v for k, v in item.as_json(doc.doc_id).items() if k != "lines"}
            for doc in load_documents(session)
            for item in doc.indicators
        ]


def test_importing_twice_changes_nothing(database: Database) -> None:
    first = import_seeds(database)
    assert sum(len(r.imported) for r in first) == 64 + 64 + 125 + 50 + 57
    before = (snapshot(database), count(database, Assignment), count(database, Unit), count(database, Person))
    second = import_seeds(database)
    assert all(not r.imported and not r.updated and not r.removed for r in second)
    after = (snapshot(database), count(database, Assignment), count(database, Unit), count(database, Person))
    assert before == after


def test_aliases_resolve_within_the_document(database: Database) -> None:
    import_seeds(database)
    with database.session_scope() as session:
        unit = session.scalar(select(Unit).where(Unit.name == "市生态环境综合行政执法支队"))
        assert unit is not None
        aliases = {(a.alias, a.document_id) for a in session.scalars(select(UnitAlias))}
        assert ("支队", "001_4c05958a6f6fc4a3") in aliases
        assert session.scalar(select(Unit).where(Unit.name == "支队")) is None
        phone = session.scalar(select(Person.phone).where(Person.name == "张秀雨"))
        assert phone == "13839290022"


def test_updated_file_updates_in_place_and_keeps_reports(database: Database) -> None:
    name, data = sample_files()[1]  # 001
    import_bytes(database, data, name)
    with database.session_scope() as session:
        seven = session.scalar(select(Indicator).where(Indicator.key == "7"))
        assert seven is not None
        seven_id = seven.id
        unit_id = seven.assignments[0].unit_id
        session.add(
            ProgressReport(
                short_id="R1", indicator_id=seven_id, unit_id=unit_id, period="2026-10",
                status=ReportStatus.DONE, text="已完成", created_at=NOW,
            )
        )  # fmt: skip
    text = data.decode("utf-8")
    changed = text.replace("支队(刘建设申军强）", "法规科（刘海利）", 1)  # the first is #7
    changed = changed.replace("\t60\n", "\t60\n", 1)
    # Drop indicator 60 entirely (no reports): it must be removed; #7 has a report: kept if dropped.
    start = changed.index("\t60\n")
    end = changed.index("\t十一、附加项")
    changed = changed[:start] + changed[end:]
    before = snapshot(database)
    with pytest.raises(RemovalsNeedConfirmation) as refused:  # removing needs an explicit confirmation
        import_bytes(database, changed.encode("gb18030"), name)
    assert refused.value.removed == ["60"]
    assert str(refused.value) == "文档 001_4c05958a6f6fc4a3 导入后将删除 1 项指标（文件中已没有）：60"
    assert snapshot(database) == before
    [report] = import_bytes(database, changed.encode("gb18030"), name, replace=True)  # and GBK-family encoding
    assert [key for key, _ in report.updated] == ["7"]
    assert report.removed == ["60"]
    with database.session_scope() as session:
        seven = session.get(Indicator, seven_id)
        assert seven is not None
        assert [a.unit.name for a in seven.assignments] == ["法规科"]
        assert session.scalar(select(ProgressReport.indicator_id)) == seven_id
    # A file without #7 keeps it because it has a report.
    start = changed.index("\t7\n")
    end = changed.index("\t8\n")
    [report] = import_bytes(database, (changed[:start] + changed[end:]).encode(), name)
    assert report.kept == ["7"]


def test_failed_import_changes_nothing(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    name, data = sample_files()[0]
    import_bytes(database, data, name)
    before = snapshot(database)
    import storage.catalog as store

    calls = {"n": 0}
    original = store._assign

    def failing(*args: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_assign", failing)
    other_name, other = sample_files()[1]
    with pytest.raises(RuntimeError):
        import_bytes(database, other, other_name)
    assert snapshot(database) == before


def test_template_round_trip_is_lossless(database: Database, tmp_path: Path) -> None:
    import_seeds(database)
    out = tmp_path / "tables.xlsx"
    with database.session_scope() as session:
        rows = write_template(load_documents(session), out)
    assert rows == 360
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    fresh.upgrade()
    try:
        reports = import_bytes(fresh, out.read_bytes(), out.name)
        assert [r.document_id for r in reports] == [
            "000_f49af99942824fbb", "001_4c05958a6f6fc4a3", "002_34aef47c508b53d7",
            "003_da5a883e4d46e08d", "004_e4d01baf3aacf88f",
        ]  # fmt: skip
        assert snapshot(fresh) == snapshot(database)
    finally:
        fresh.dispose()


def _docx_table_bytes() -> bytes:
    doc = DocxDocument()
    doc.add_paragraph("某某局 法治政府建设指标责任分工")
    table = doc.add_table(rows=4, cols=6)
    header = ["一级指标", "二级指标", "三级指标", "测评方法", "上报资料", "责任科室"]
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    rows = [
        [
            "一、政务公开",
            "1.公开清单",
            "1 实行政务公开清单管理",
            "网络检索",
            "公开清单截图",
            "办公室（徐鉴）",
        ],
        ["", "", "2 及时公开预决算", "材料查证", "预决算公开链接", ""],
        ["", "", "3 公开政策解读", "材料查证", "解读文件", "法规科"],
    ]
    for row, values in zip(table.rows[1:], rows, strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    # 一级指标 merged vertically over the three rows, 责任科室 of rows 1–2 merged.
    table.cell(1, 0).merge(table.cell(3, 0))
    table.cell(1, 5).merge(table.cell(2, 5))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def test_docx_with_merged_cells(database: Database) -> None:
    [report] = import_bytes(database, _docx_table_bytes(), "分工表.docx")
    assert report.document_id == "分工表"
    assert len(report.imported) == 3
    with database.session_scope() as session:
        [doc] = load_documents(session)
    two = doc.indicators[1]
    assert two.text == "及时公开预决算"
    assert two.level1 == "一、政务公开"
    assert [(o.unit, o.persons) for o in two.leads] == [("办公室", ["徐鉴"])]
    assert [o.unit for o in doc.indicators[2].leads] == ["法规科"]


def test_xlsx_header_found_by_names(database: Database) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["XX 局创建工作台账"])
    sheet.append([])
    sheet.append(["序号", "三级 指标", "上报材料", "牵头单位", "配合单位", "责任人"])
    sheet.append([1, "实行政务公开清单管理", "情况说明", "法规科", "办公室、人事科", "刘海利"])
    sheet.append(["（2）", "第二项", "", "", "", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    [report] = import_bytes(database, buffer.getvalue(), "台账.xlsx")
    assert len(report.imported) == 2
    assert report.unassigned == ["(2)"]
    with database.session_scope() as session:
        [doc] = load_documents(session)
    first = doc.indicators[0]
    assert [o.unit for o in first.coops] == ["办公室", "人事科"]
    assert first.leads[0].persons == ["刘海利"]


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        ("随便写的一段话，\n没有表格。".encode(), "说明.txt", "没有找到指标表"),
        (b"PK\x03\x04 broken", "坏.docx", "已损坏"),
        (_zip({"[Content_Types].xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'}),
         "实体.xlsx", "不安全的 XML"),
        (_zip({"xl/big.xml": b"<a>" + b" " * 30_000_000 + b"</a>"}), "炸弹.xlsx", "压缩炸弹"),
        (b"", "空.txt", "是空的"),
        (b"%PDF-1.4", "扫描件.pdf", "不支持的文件类型"),
        (b"x" * 2048, "大.txt", "太大"),
    ],
)  # fmt: skip
def test_bad_files_are_rejected_with_a_clear_message(database: Database, data: bytes, name: str, message: str) -> None:
    with pytest.raises(ImportInputError) as info:
        read_document_bytes(data, name, max_bytes=1024 if name == "大.txt" else 10 * 1024 * 1024)
    assert message in str(info.value)
    assert name in str(info.value) or "不支持" in str(info.value)


def test_cli_import_and_indicators_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TAIZHANG_DATABASE_URL", raising=False)
    assert main(["import", str(sample_path("001")), "--document-id", "焦作表"]) == 0
    assert "新增 64 项" in capsys.readouterr().out
    bad = tmp_path / "bad.txt"
    bad.write_text("没有表", encoding="utf-8")
    assert main(["import", str(bad)]) == 1
    assert "bad.txt" in capsys.readouterr().err
    assert main(["indicators", "--document", "焦作表", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 64
    seven = json.loads(lines[6])
    assert list(seven)[:14] == [
        "document", "table", "number", "key", "level1", "level2", "text", "methods",
        "materials", "criteria", "points", "lead_units", "coop_units", "persons",
    ]  # fmt: skip
    assert seven["document"] == "焦作表"
    # Aliases are scoped by document id prefix (001…); a renamed document keeps the raw name.
    assert seven["persons"] == [{"name": "刘建设", "unit": "支队"}, {"name": "申军强", "unit": "支队"}]
    assert main(["template", "--out", str(tmp_path / "t.xlsx")]) == 0
    assert (tmp_path / "t.xlsx").stat().st_size > 0


def test_unreadable_numbers_are_reported_with_sheet_row_and_column() -> None:
    """-3, 1e30 and 2.5 in the number column are not indicators: each skipped row is named, never dropped silently."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "表1"
    sheet.append(["序号", "三级指标", "分值", "牵头单位"])
    sheet.append([1, "第一项", 2, "法规科"])
    sheet.append([-3, "负数编号", 1, "法规科"])
    sheet.append([1e30, "极大编号", 1, "法规科"])
    sheet.append([2.5, "小数编号", 1, "法规科"])
    sheet.append([3, "分值异常", "1e30", "法规科"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    [document] = read_document_bytes(buffer.getvalue(), "数字.xlsx")
    assert [i.number for i in document.indicators] == ["1", "3"]
    assert document.indicators[1].points is None
    assert document.warnings == [
        "工作表“表1”第3行A列：编号“-3”不是有效的指标编号，此行未导入",
        "工作表“表1”第4行A列：编号“1e+30”不是有效的指标编号，此行未导入",
        "工作表“表1”第5行A列：编号“2.5”不是有效的指标编号，此行未导入",
        "工作表“表1”第6行C列：分值“1e30”不是 0–9999 的数字，已留空",
    ]
