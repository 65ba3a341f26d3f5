"""A second long-polling process is named plainly in the log (409 from getUpdates), once."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.app import build_application, running
from bot.config import Config
from bot.durable import CONFLICT_LINE
from bot.sandbox import TERMINATED_BY_OTHER, BotApiSandbox
from tests.conftest import FakeClock


async def test_second_poller_is_reported_once(
    config: Config, sandbox: BotApiSandbox, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = build_application(config, clock=clock)
    second_config = Config(**{**config.__dict__, "database_url": f"sqlite:///{tmp_path / 'second.sqlite3'}"})
    second = build_application(second_config, clock=clock)
    with caplog.at_level(logging.ERROR, logger="bot.durable"):
        async with running(first), running(second):
            await asyncio.sleep(3)  # the second one's poll terminates the first one's, which then stops
    said = [r.getMessage() for r in caplog.records if r.name == "bot.durable" and r.levelno == logging.ERROR]
    assert said == [f"{CONFLICT_LINE} ({TERMINATED_BY_OTHER})"]  # one line, then no ping-pong
    assert "Long polling is single-instance" in said[0]
