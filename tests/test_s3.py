"""Evidence in S3-compatible object storage (moto's S3 server on loopback stands in for MinIO/OSS/COS)."""

from __future__ import annotations

import hashlib
import socket
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bot.app import build_application, running
from bot.checks import check_object_store
from bot.cli import main
from bot.config import load_config
from bot.sandbox import BotApiSandbox
from storage.models import Attachment
from storage.objects import S3Objects
from tests.conftest import FakeClock
from tests.test_e2e_report import PDF, STAFF, Chat, rows, setup_unit_group

BUCKET = "evidence"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


@pytest.fixture
def chat(sandbox: BotApiSandbox) -> Chat:
    return Chat(sandbox)


@pytest.fixture
async def s3_bot(
    s3: Any, sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[object]:
    config = load_config(
        {
            "TAIZHANG_BOT_TOKEN": sandbox.token,
            "TAIZHANG_API_BASE_URL": sandbox.base_url,
            "TAIZHANG_DATABASE_URL": seeded_copy_url,
            "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
            "TAIZHANG_FILES_URL": f"s3://{BUCKET}/taizhang",
            "TAIZHANG_ADMINS": "1001",
            "TAIZHANG_REMINDERS": "off",
        }
    )
    app = build_application(config, clock=clock)
    async with running(app):
        yield app


async def test_uploads_go_to_the_bucket_and_come_back_in_bundles_and_backups(
    s3: Any, s3_bot: object, chat: Chat, seeded_copy_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await setup_unit_group(chat)
    [saved] = await chat.send_file(STAFF, PDF, "情况说明.pdf", "#12 10月情况说明")
    assert saved.text.startswith("📎 已保存材料：情况说明.pdf")
    [again] = await chat.send_file(STAFF, PDF, "again.pdf", "#13")
    assert again.text.startswith("📎")
    sha = hashlib.sha256(PDF).hexdigest()
    key = f"taizhang/{sha[:2]}/{sha[2:4]}/{sha}"
    assert [r.stored_path for r in rows(seeded_copy_url, Attachment)] == [f"s3://{BUCKET}/{key}"] * 2
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PDF
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert listed == [key]  # content-addressed: one object for both attachments, no probe left
    assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []  # nothing on local disk

    monkeypatch.setenv("TAIZHANG_DATABASE_URL", seeded_copy_url)
    monkeypatch.setenv("TAIZHANG_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("TAIZHANG_FILES_URL", f"s3://{BUCKET}/taizhang")
    assert main(["bundle", "--month", "2026-10", "--out", str(tmp_path / "b.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "b.zip") as archive:
        pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
        assert len(pdfs) == 2 and all(archive.read(n) == PDF for n in pdfs)

    assert main(["backup", "--out", str(tmp_path / "backup")]) == 0
    assert (tmp_path / "backup" / "files" / sha[:2] / sha[2:4] / sha).read_bytes() == PDF
    s3.create_bucket(Bucket="restored")
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", f"sqlite:///{tmp_path / 'restored.sqlite3'}")
    monkeypatch.setenv("TAIZHANG_FILES_URL", "s3://restored/x")
    assert main(["restore", str(tmp_path / "backup")]) == 0
    assert s3.get_object(Bucket="restored", Key=f"x/{sha[:2]}/{sha[2:4]}/{sha}")["Body"].read() == PDF
    restored = rows(f"sqlite:///{tmp_path / 'restored.sqlite3'}", Attachment)
    assert [r.stored_path for r in restored] == [f"s3://restored/x/{sha[:2]}/{sha[2:4]}/{sha}"] * 2


def test_object_store_check(s3: Any) -> None:
    assert check_object_store(S3Objects(f"s3://{BUCKET}/p")).line() == f"[通过] 材料存储：s3://{BUCKET}/p 可写"
    failed = check_object_store(S3Objects("s3://no-such-bucket/p"))
    assert failed.status == "fail" and "NoSuchBucket" in failed.detail
    assert failed.fix.startswith("本地目录：检查权限与 TAIZHANG_FILES_DIR；S3：检查 TAIZHANG_FILES_URL")
