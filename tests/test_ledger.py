"""The ledger xlsx and the evidence bundle: sheets, headers, exact 完成进度 cells, manifest."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.sandbox import BotApiSandbox
from knowledge.access import Reporter
from knowledge.ledger import write_bundle, write_ledger
from knowledge.reports import store_report
from storage.blobs import BlobStore, add_attachment
from storage.db import Database
from storage.ledger import evidence, ledger
from storage.models import Indicator, Member, MemberRole, MemberStatus, ReportStatus, Unit
from storage.progress import SqlReports, indicator_ref
from tests.conftest import SHANGHAI

NOW = datetime(2026, 11, 4, 10, 0, tzinfo=SHANGHAI)
PDF = b"%PDF-1.4\n%%EOF\n"


def seed_reports(url: str, files_dir: Path) -> None:
    db = Database(url)
    with db.session_scope() as session:
        unit = session.scalar(select(Unit).where(Unit.name == "法规科"))
        assert unit is not None
        session.add(Member(telegram_user_id=3003, display_name="王五", unit_id=unit.id, role=MemberRole.MEMBER,
                           status=MemberStatus.ACTIVE, created_at=NOW))  # fmt: skip
        session.flush()
        reporter = Reporter(3003, "王五", None, unit.id, "法规科", False)
        by_key = {i.key: i for i in session.scalars(select(Indicator).where(Indicator.document_id.like("000%")))}
        repo = SqlReports(session)
        store_report(repo, reporter=reporter, indicator=indicator_ref(session, by_key["12"]), status=ReportStatus.DONE,
                     details="已将发文数量压缩至3件", now=datetime(2026, 11, 2, 9, tzinfo=SHANGHAI))  # fmt: skip
        store_report(repo, reporter=reporter, indicator=indicator_ref(session, by_key["13"]),
                     status=ReportStatus.IN_PROGRESS,
                     details="=HYPERLINK(\"http://x\")正在征求意见", now=NOW)  # fmt: skip
        store = BlobStore(files_dir)
        temp = store.temp_path("a")
        temp.write_bytes(PDF)
        blob = store.commit(temp, "说明.pdf")
        for name in ("说明.pdf", "说明.pdf"):
            add_attachment(session, indicator=by_key["12"], unit=unit, period="2026-10", blob=blob, original_name=name,
                           caption="", telegram_file_id="F", telegram_file_unique_id="U", uploader_id=3003,
                           uploader_name="王五", update_id=None, now=NOW)  # fmt: skip
            blob = type(blob)(blob.sha256[::-1], 5, "pdf", "application/pdf", str(files_dir / "gone.pdf"), False)
    db.dispose()


def test_ledger_sheets_headers_and_progress_cells(seeded_copy_url: str, tmp_path: Path) -> None:
    seed_reports(seeded_copy_url, tmp_path / "files")
    db = Database(seeded_copy_url)
    units = db.call(ledger, "2026-10", "法规科", "000_f49af99942824fbb")
    db.dispose()
    out = tmp_path / "ledger.xlsx"
    write_ledger(units, "2026-10", out, NOW, "濮阳市生态环境局")
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["汇总", "法规科"]
    sheet = workbook["法规科"]
    assert sheet["A1"].value == "濮阳市生态环境局工作台账（2026年10月）"
    assert sheet["A2"].value == "责任单位：法规科" and sheet["E2"].value == "填表时间：2026年11月04日"
    assert [c.value for c in sheet[3]] == ["序号", "文档", "三级指标", "上报材料", "完成进度", "牵头单位",
                                           "牵头单位责任人", "配合单位", "报送时间", "报送人", "附件数"]  # fmt: skip
    rows = {str(r[2].value).split(".")[0]: r for r in sheet.iter_rows(min_row=4)}
    assert rows["12"][4].value == "已完成：已将发文数量压缩至3件"
    assert rows["12"][9].value == "王五" and rows["12"][10].value == 2
    assert rows["13"][4].value == '未完成：=HYPERLINK("http://x")正在征求意见（逾期报送）'
    assert rows["16"][4].value == "未报送"
    assert sheet.freeze_panes == "A4" and sheet.print_title_rows == "$3:$3"
    assert sheet.page_setup.orientation == "landscape"
    summary = workbook["汇总"]
    assert [c.value for c in summary[4]][:5] == ["法规科", len(units[0].rows), 2, 1, len(units[0].rows) - 2]


def test_formula_like_text_is_stored_as_text(seeded_copy_url: str, tmp_path: Path) -> None:
    seed_reports(seeded_copy_url, tmp_path / "files")
    db = Database(seeded_copy_url)
    units = db.call(ledger, "2026-10", "法规科")
    db.dispose()
    out = tmp_path / "ledger.xlsx"
    write_ledger(units, "2026-10", out, NOW)
    with zipfile.ZipFile(out) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in xml  # no formula cell anywhere


def test_bundle_manifest_matches_stored_files(seeded_copy_url: str, tmp_path: Path) -> None:
    seed_reports(seeded_copy_url, tmp_path / "files")
    db = Database(seeded_copy_url)
    files = db.call(evidence, "2026-10")
    db.dispose()
    out = tmp_path / "evidence.zip"
    added, missing = write_bundle(files, out, files_root=tmp_path / "files")
    assert (added, missing) == (1, ["说明.pdf"])
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert "清单.xlsx" in names
        [pdf] = [n for n in names if n.endswith(".pdf")]
        assert pdf.startswith("濮阳生态环境局工作台账/第12项 ")
        assert archive.read(pdf) == PDF
        manifest = load_workbook(io.BytesIO(archive.read("清单.xlsx")))["清单"]
    rows = [[c.value for c in r] for r in manifest.iter_rows(min_row=2)]
    assert rows[0][7] == hashlib.sha256(PDF).hexdigest() and rows[0][10] == "已打包"
    assert rows[0][3] == "电子" and rows[0][4] == "濮阳生态环境局工作台账/第12项 严控规范性文件发文数量/说明.pdf"
    assert rows[1][4].endswith("说明 (2).pdf") and rows[1][10] == "文件缺失"


async def test_export_and_bundle_in_chat(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, tmp_path: Path
) -> None:
    seed_reports(seeded_copy_url, tmp_path / "files")
    staff = BotApiSandbox.user(3003, "王五")
    chat = sandbox.private_chat(staff)
    sandbox.send_text(chat, staff, "/export 2026-10")
    [sent, chart] = await asyncio.to_thread(sandbox.wait_for_messages, staff["id"], 2)
    assert sent.kind == "document" and sent.file_name == "工作台账_2026-10_法规科.xlsx"
    assert chart.kind == "photo" and sandbox.files[chart.file_id].content[:4] == b"\x89PNG"
    assert sent.text.startswith("2026-10 工作台账：1 个单位，已报 2/")
    workbook = load_workbook(io.BytesIO(sandbox.files[sent.file_id].content))
    assert workbook.sheetnames == ["汇总", "法规科"]
    sandbox.send_text(chat, staff, "/export 2026-10 办公室")
    sandbox.send_text(chat, staff, "/export 2030-01")
    sandbox.send_text(chat, staff, "/bundle 2026-10")
    replies = await asyncio.to_thread(sandbox.wait_for_messages, staff["id"], 5)
    assert [m.text for m in replies[2:]] == [
        "只能导出本单位的台账；导出其他单位请联系本项目协调人",
        "2030年1月还没有到，不能导出未来月份",
        "只有本项目的协调人或管理员可以打包佐证材料。",
    ]
    admin = BotApiSandbox.user(1001, "张三")
    sandbox.send_text(sandbox.private_chat(admin), admin, "/bundle 2026-10")
    [zipped] = await asyncio.to_thread(sandbox.wait_for_messages, admin["id"], 1)
    assert zipped.kind == "document" and zipped.text == "2026-10 佐证材料：1 个文件；1 个文件在服务器上缺失（见清单）"


async def test_bundle_over_the_upload_limit_is_split_by_level1(
    sandbox: BotApiSandbox, seeded_bot: object, seeded_copy_url: str, tmp_path: Path, monkeypatch: object
) -> None:
    import handlers.exports

    seed_reports(seeded_copy_url, tmp_path / "files")
    monkeypatch.setattr(handlers.exports, "UPLOAD_LIMIT", 300)  # type: ignore[attr-defined]
    admin = BotApiSandbox.user(1001, "张三")
    sandbox.send_text(sandbox.private_chat(admin), admin, "/bundle 2026-10")
    messages = await asyncio.to_thread(sandbox.wait_for_messages, admin["id"], 2)
    assert messages[0].text == "打包后超过 50 MB，按一级指标分成 1 个压缩包发送；1 个文件在服务器上缺失（见清单）。"
    assert messages[1].text == "“二、依法行政体系完善”的材料单独打包仍超过 50 MB，请由管理员用 taizhang bundle 导出。"


def test_folder_titles_are_cut_at_a_phrase_boundary() -> None:
    from knowledge.ledger import short_title

    assert (
        short_title("严控规范性文件发文数量，凡法律、法规、规章和上级文件已经作出明确规定的")
        == "严控规范性文件发文数量"
    )
    # One long clause: cut before a joining word, never inside a phrase.
    assert short_title("有效落实县（区）委法律顾问制度、公职律师制度") == "有效落实县（区）委法律顾问制度"
    assert (
        short_title("建立健全领导干部任前法律知识考试制度并与任用履职相挂钩") == "建立健全领导干部任前法律知识考试制度"
    )
    assert (
        short_title("把法治建设纳入本地经济社会发展总体规划和常委会年度工作要点")
        == "把法治建设纳入本地经济社会发展总体规划"
    )
    assert short_title("短标题") == "短标题"


def test_bundle_lists_captions_and_paper_entries(tmp_path: Path) -> None:
    from knowledge.records import EvidenceFile

    stored = tmp_path / "blob"
    stored.write_bytes(PDF)
    files = [
        EvidenceFile("司法局/第20项 经费保障", "一、", "行政财务装备科", "2026-10", "经费.pdf", len(PDF), "ab",
                     str(stored), "王五", NOW, "2026年经费到位情况（盖章版）"),
        EvidenceFile("司法局/第20项 经费保障", "一、", "行政财务装备科", "2026-10", "涉密台账", 0, "", "", "王五", NOW,
                     "涉密，实地核验时提供", "纸质"),
    ]  # fmt: skip
    out = tmp_path / "evidence.zip"
    assert write_bundle(files, out, files_root=tmp_path) == (1, [])
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["司法局/第20项 经费保障/经费.pdf", "清单.xlsx"]
        manifest = load_workbook(io.BytesIO(archive.read("清单.xlsx")))["清单"]
    rows = [[c.value for c in r] for r in manifest.iter_rows(min_row=1)]
    assert rows[0][3:6] == ["类型", "文件名", "说明"]
    assert rows[1][3:6] == ["电子", "司法局/第20项 经费保障/经费.pdf", "2026年经费到位情况（盖章版）"]
    assert rows[2][3:6] == ["纸质", "涉密台账", "涉密，实地核验时提供"] and rows[2][10] == "纸质材料，实地核验时提供"


def test_cli_bundle_from_another_working_directory(
    seeded_copy_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stored paths are relative to TAIZHANG_FILES_DIR, so any working directory finds the files."""
    from bot.cli import main

    seed_reports(seeded_copy_url, tmp_path / "files")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", seeded_copy_url)
    monkeypatch.setenv("TAIZHANG_FILES_DIR", str(tmp_path / "files"))
    assert main(["bundle", "--month", "2026-10", "--out", "out.zip"]) == 0
    assert capsys.readouterr().out == "已打包 1 个文件到 out.zip；1 个文件在磁盘上缺失（见清单）\n"
    with zipfile.ZipFile(elsewhere / "out.zip") as archive:
        assert [archive.read(n) for n in archive.namelist() if n.endswith(".pdf")] == [PDF]
