"""A second long-polling process is named plainly in the log (409 from getUpdates)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.app import build_application, running
from bot.config import Config
from bot.sandbox import BotApiSandbox
from tests.conftest import FakeClock


async def test_second_poller_is_reported_once(
    config: Config, sandbox: BotApiSandbox, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = build_application(config, clock=clock)
    second_config = Config(**{**config.__dict__, "database_url": f"sqlite:///{tmp_path / 'second.sqlite3'}"})
    second = build_application(second_config, clock=clock)
    with caplog.at_level(logging.ERROR, logger="bot.durable"):
        async with running(first), running(second):
            await asyncio.sleep(3)  # each poll of one terminates the other's
    said = [r.getMessage() for r in caplog.records if r.name == "bot.durable" and r.levelno == logging.ERROR]
    assert said, "no error about the second poller"
    assert said[0].startswith("getUpdates answered 409 (Conflict: terminated by other getUpdates request")
    assert "Long polling is single-instance" in said[0]
    assert len(said) <= 4  # once per episode, not once per retry
