"""The services a handler may use, built once by ``bot.app`` and handed over in ``bot_data``.

Everything is typed: settings through :class:`HandlerSettings` (so handlers need not import
``bot``), per-process chat state in :class:`ChatState` (no string keys in ``bot_data``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from telegram import User
from telegram.ext import ContextTypes

from knowledge.files import ImportLimits
from knowledge.robots import RobotPolicy
from knowledge.search_service import SearchService
from storage.blobs import BlobStore
from storage.db import Database
from storage.progress import Reporter, reporter_for

Clock = Callable[[], datetime]
SERVICES_KEY = "services"  # the one bot_data key: the Services object itself
MAX_REMEMBERED = 5000


class HandlerSettings(Protocol):
    """The settings handlers read (``bot.config.Config`` satisfies it)."""

    @property
    def admins(self) -> frozenset[int]: ...

    @property
    def import_max_bytes(self) -> int: ...

    @property
    def import_limits(self) -> ImportLimits: ...

    @property
    def robot_policy(self) -> RobotPolicy: ...


class BoundedDict(OrderedDict[Any, Any]):
    """A dict that forgets its oldest entries beyond ``MAX_REMEMBERED`` (button tokens, drafts)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self) > MAX_REMEMBERED:
            self.popitem(last=False)


@dataclass
class ChatState:
    """In-memory state shared by handlers (lost on restart; the database holds what matters).

    ``ask_sessions``: questions behind 更多结果 buttons by token (anchors and drafts waiting for
    确认 live in the database, ``storage.anchors``).
    """

    ask_sessions: BoundedDict = field(default_factory=BoundedDict)
    pending_imports: BoundedDict = field(default_factory=BoundedDict)  # imports awaiting 确认删除, by token


@dataclass
class Services:
    """Process-wide services: settings, database, clock, search index, file store."""

    config: HandlerSettings
    db: Database
    clock: Clock
    search: SearchService
    blobs: BlobStore
    callback_key: bytes = b""
    result_actions: list[tuple[str, str]] = field(default_factory=list)  # (button text, callback kind)
    on_tables_changed: list[Callable[[], object]] = field(default_factory=list)
    state: ChatState = field(default_factory=ChatState)

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
