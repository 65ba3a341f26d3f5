"""/metrics, /healthz and JSON logs on the real Application against the sandbox."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from bot.app import build_application, running
from bot.config import load_config
from bot.logging_setup import configure_logging
from bot.metrics import Metrics
from bot.sandbox import BotApiSandbox, Fault
from storage.db import Database
from storage.models import ReminderRule, RuleKind
from storage.reminders import claim, finish
from tests.conftest import SHANGHAI, FakeClock
from tests.test_e2e_report import GROUP, PDF, STAFF, Chat, setup_unit_group


@pytest.fixture
def chat(sandbox: BotApiSandbox) -> Chat:
    return Chat(sandbox)


@pytest.fixture
def log_stream(sandbox: BotApiSandbox) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(secrets=[sandbox.token], json_format=True, stream=stream)
    logging.getLogger("httpx").setLevel(logging.INFO)  # its request lines carry the token in the URL
    yield stream
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "taizhang", False)]:
        root.removeHandler(handler)
    logging.getLogger("httpx").setLevel(logging.WARNING)


@pytest.fixture
async def observed_bot(
    sandbox: BotApiSandbox, seeded_copy_url: str, tmp_path: Path, clock: FakeClock, log_stream: io.StringIO
) -> AsyncIterator[tuple[Metrics, int]]:
    config = load_config(
        {
            "TAIZHANG_BOT_TOKEN": sandbox.token,
            "TAIZHANG_API_BASE_URL": sandbox.base_url,
            "TAIZHANG_DATABASE_URL": seeded_copy_url,
            "TAIZHANG_FILES_DIR": str(tmp_path / "files"),
            "TAIZHANG_ADMINS": "1001",
            "TAIZHANG_REMINDERS": "off",
            "TAIZHANG_METRICS_PORT": "0",
            "TAIZHANG_LOG_FORMAT": "json",
        }
    )
    metrics = Metrics()
    app = build_application(config, clock=clock, metrics=metrics)
    async with running(app):
        assert metrics.bound_port is not None
        yield metrics, metrics.bound_port


def _samples(exposition: str) -> dict[str, float]:
    return {
        line.rpartition(" ")[0]: float(line.rpartition(" ")[2])
        for line in exposition.splitlines()
        if line and not line.startswith("#")
    }


async def test_metrics_health_and_json_logs(
    observed_bot: tuple[Metrics, int],
    chat: Chat,
    sandbox: BotApiSandbox,
    tmp_path: Path,
    log_stream: io.StringIO,
) -> None:
    metrics, port = observed_bot
    await setup_unit_group(chat)
    [receipt] = await chat.say(STAFF, "/report 12 已完成 已将规范性文件发文数量压缩至3件")
    assert receipt.text.startswith("✅ 已登记")
    [saved] = await chat.send_file(STAFF, PDF, "情况说明.pdf", "#12 10月情况说明")
    assert saved.text.startswith("📎 已保存材料")
    sandbox.inject_fault("sendMessage", Fault.error(403, "Forbidden: bot was kicked from the group chat"))
    sandbox.send_text(GROUP, STAFF, "/status")
    await asyncio.to_thread(sandbox.wait_for, lambda: metrics.api_errors.labels("sendMessage", "403")._value.get() == 1)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        page = await client.get("/metrics")
        healthy = await client.get("/healthz")
        (tmp_path / "files" / "tmp").rename(tmp_path / "files" / "tmp-moved")
        (tmp_path / "files" / "tmp").write_text("a file where the temp folder should be")
        broken_storage = await client.get("/healthz")
        (tmp_path / "files" / "tmp").unlink()
        metrics._contact -= 1000  # nothing fetched for 1000 s
        stale = await client.get("/healthz")

    samples = _samples(page.text)
    assert page.headers["content-type"].startswith("text/plain; version=")
    assert samples["taizhang_reports_stored_total"] == 1.0
    assert samples["taizhang_files_stored_total"] == 1.0
    assert samples['taizhang_bot_api_errors_total{code="403",method="sendMessage"}'] == 1.0
    assert samples["taizhang_updates_handled_total"] == 6.0  # bind, join, button, report, file, status
    assert samples["taizhang_update_lag_seconds_count"] == 6.0
    assert samples["taizhang_send_queue_depth"] == 0.0
    assert samples['taizhang_reminders_total{outcome="sent"}'] == 0.0
    assert (healthy.status_code, healthy.text) == (200, "ok\n")
    assert broken_storage.status_code == 503 and broken_storage.text.startswith("storage: ")
    assert stale.status_code == 503 and stale.text.startswith("updates: none fetched or received for 10")

    output = log_stream.getvalue()
    assert sandbox.token not in output
    assert "<token>" in output  # httpx's request lines were logged, redacted
    entries = [json.loads(line) for line in output.splitlines()]
    handled = [e for e in entries if e["message"].startswith("update handled")]
    report_entry = next(e for e in handled if e.get("handler") == "handlers.report.report")
    assert report_entry["chat_id"] == GROUP["id"] and report_entry["user_id"] == STAFF["id"]
    assert isinstance(report_entry["update_id"], int) and report_entry["level"] == "INFO"
    assert len({e["update_id"] for e in handled}) == 6


def test_reminder_outcomes_are_counted_when_committed(database: Database) -> None:
    metrics = Metrics()
    metrics.watch(database)
    now = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)

    def add_rule(session: Session) -> int:
        rule = ReminderRule(kind=RuleKind.MONTHLY_UNIT, title="月报", day_of_month=3, created_at=now)
        session.add(rule)
        session.flush()
        return rule.id

    rule_id = database.call(add_rule)
    assert database.call(claim, rule_id, "a", -1, now)
    database.call(finish, rule_id, "a", -1, "sent", "", now)
    assert database.call(claim, rule_id, "b", -1, now, "skipped")
    assert database.call(claim, rule_id, "c", -2, now)
    database.call(finish, rule_id, "c", -2, "forbidden", "kicked", now)
    assert not database.call(claim, rule_id, "a", -1, now)  # already claimed: nothing counted
    samples = _samples(metrics.exposition().decode())
    assert samples['taizhang_reminders_total{outcome="sent"}'] == 1.0
    assert samples['taizhang_reminders_total{outcome="skipped"}'] == 1.0
    assert samples['taizhang_reminders_total{outcome="failed"}'] == 1.0
