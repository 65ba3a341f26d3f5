"""taizhang backup / restore: every report and every file comes back, byte for byte."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from bot.cli import main
from bot.sandbox import BotApiSandbox
from storage.db import Database
from storage.models import Attachment, ProgressReport
from tests.conftest import POSTGRES_URL, _postgres_database_url
from tests.test_e2e_report import PDF, STAFF, Chat, setup_unit_group


def tiny_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    return buffer.getvalue()


PNG = tiny_png()  # a structurally valid image: evidence is checked by content


@pytest.fixture
def chat(sandbox: BotApiSandbox) -> Chat:
    return Chat(sandbox)


def _use(monkeypatch: pytest.MonkeyPatch, database_url: str, files_dir: Path) -> None:
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", database_url)
    monkeypatch.setenv("TAIZHANG_FILES_DIR", str(files_dir))


def _reports(url: str) -> list[tuple[Any, ...]]:
    database = Database(url)
    columns = [c.key for c in ProgressReport.__table__.columns]
    try:
        with database.session_scope() as session:
            return [
                tuple(getattr(r, c) for c in columns)
                for r in session.scalars(select(ProgressReport).order_by(ProgressReport.id))
            ]
    finally:
        database.dispose()


def _attachments(url: str, files_dir: Path) -> list[tuple[dict[str, Any], bytes]]:
    database = Database(url)
    try:
        with database.session_scope() as session:
            rows = session.scalars(select(Attachment).order_by(Attachment.id)).all()
            return [
                (
                    {c.key: getattr(r, c.key) for c in Attachment.__table__.columns if c.key != "stored_path"},
                    (files_dir / r.stored_path).read_bytes(),  # relative to TAIZHANG_FILES_DIR
                )
                for r in rows
            ]
    finally:
        database.dispose()


async def test_backup_while_running_then_restore_into_a_fresh_place(
    chat: Chat,
    seeded_bot: object,
    seeded_copy_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await setup_unit_group(chat)
    await chat.say(STAFF, "/report 12 已完成 已将规范性文件发文数量压缩至3件")
    await chat.say(STAFF, "/report 13 推进中 正在起草")
    await chat.send_file(STAFF, PDF, "情况说明.pdf", "#12 10月情况说明")
    await chat.send_file(STAFF, PNG, "现场照片.png", "#13")
    original_reports, original_files = _reports(seeded_copy_url), _attachments(seeded_copy_url, tmp_path / "files")
    assert len(original_reports) == 2 and len(original_files) == 2

    folder = tmp_path / "backup"
    _use(monkeypatch, seeded_copy_url, tmp_path / "files")
    assert await asyncio.to_thread(main, ["backup", "--out", str(folder)]) == 0  # the bot keeps running
    assert capsys.readouterr().out == f"已备份到 {folder}：2 条报送记录，2 个材料文件，清单 manifest.json\n"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["database"]["engine"] == "sqlite" and manifest["counts"] == {
        "progress_reports": 2,
        "attachments": 2,
    }
    assert sorted(e["path"] for e in manifest["files"])[0] == "database.sqlite3"

    fresh_url = f"sqlite:///{tmp_path / 'restored' / 'taizhang.sqlite3'}"
    _use(monkeypatch, fresh_url, tmp_path / "restored" / "files")
    assert main(["restore", str(folder)]) == 0
    assert capsys.readouterr().out == f"已从 {folder} 恢复：2 条报送记录，2 个材料文件\n"
    assert _reports(fresh_url) == original_reports
    assert _attachments(fresh_url, tmp_path / "restored" / "files") == original_files
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        restored_paths = [Path(p) for (p,) in conn.execute(text("SELECT stored_path FROM attachments"))]
    engine.dispose()
    assert all(p.is_relative_to(tmp_path / "restored" / "files") or not p.is_absolute() for p in restored_paths)

    assert main(["restore", str(folder)]) == 1  # never over existing data
    assert capsys.readouterr().err == "恢复失败：目标数据库不是空的：恢复只能进入新建的空数据库\n"


def test_a_damaged_backup_is_refused(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "backup"
    _use(monkeypatch, database.url, tmp_path / "files")
    assert main(["backup", "--out", str(folder)]) == 0
    with (folder / "database.sqlite3").open("ab") as handle:
        handle.write(b"tampered")
    _use(monkeypatch, f"sqlite:///{tmp_path / 'new.sqlite3'}", tmp_path / "new-files")
    capsys.readouterr()
    assert main(["restore", str(folder)]) == 1
    assert capsys.readouterr().err == "恢复失败：备份已损坏，1 个文件与清单的 sha256 不符：database.sqlite3\n"
    assert not (tmp_path / "new.sqlite3").exists()
    assert main(["backup", "--out", str(folder)]) == 1  # never into a folder that holds something
    assert capsys.readouterr().err.startswith(f"备份失败：{folder} 不是空目录")


@pytest.fixture
def postgres_pair() -> Iterator[tuple[str, str]]:
    if not POSTGRES_URL:
        pytest.skip("TAIZHANG_TEST_POSTGRES_URL not set")
    yield _postgres_database_url(), _postgres_database_url()


def test_postgresql_backup_and_restore_with_pg_dump(
    postgres_pair: tuple[str, str], seeded_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from storage.catalog import import_samples_if_empty

    source, target = postgres_pair
    database = Database(source)
    database.upgrade()
    database.call(import_samples_if_empty, datetime(2026, 11, 1, tzinfo=UTC))
    database.dispose()
    folder = tmp_path / "backup"
    _use(monkeypatch, source, tmp_path / "files")
    if shutil.which("pg_dump") is None and not list(Path("/usr/lib/postgresql").glob("*/bin/pg_dump")):
        assert main(["backup", "--out", str(folder)]) == 1
        return
    assert main(["backup", "--out", str(folder)]) == 0
    assert json.loads((folder / "manifest.json").read_text())["database"]["engine"] == "postgresql"
    _use(monkeypatch, target, tmp_path / "restored")
    assert main(["restore", str(folder)]) == 0
    count = "SELECT count(*) FROM indicators"
    engines = [create_engine(url.replace("postgresql://", "postgresql+psycopg://")) for url in (source, target)]
    try:
        with engines[0].connect() as a, engines[1].connect() as b:
            assert a.execute(text(count)).scalar() == b.execute(text(count)).scalar() == 360
    finally:
        for engine in engines:  # an undisposed pool leaks its connection into a later test's warnings
            engine.dispose()
