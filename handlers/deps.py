"""The services a handler may use, created by ``bot.app`` and kept in ``bot_data``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import User
from telegram.ext import ContextTypes

from bot.config import Config
from knowledge.search_service import SearchService
from storage.blobs import BlobStore
from storage.db import Database
from storage.progress import Reporter, reporter_for

Clock = Callable[[], datetime]
SERVICES_KEY = "services"


@dataclass
class Services:
    """Process-wide services: configuration, database, clock, search index."""

    config: Config
    db: Database
    clock: Clock
    search: SearchService
    blobs: BlobStore
    extras: dict[str, Any] = field(default_factory=dict)

    def is_admin(self, user_id: int | None) -> bool:
        """Whether ``user_id`` is listed in ``TAIZHANG_ADMINS``."""
        return user_id is not None and user_id in self.config.admins


async def reporter_of(services: Services, user: User) -> Reporter:
    """The reporting identity of a Telegram user (unit, role; admins count as coordinators)."""
    return await services.db.run(reporter_for, user.id, user.full_name, services.is_admin(user.id))


def get_services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The services stored by ``post_init``."""
    services = context.bot_data.get(SERVICES_KEY)
    if not isinstance(services, Services):
        raise RuntimeError("services not initialised (post_init did not run)")
    return services
