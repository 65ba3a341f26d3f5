"""The one documented order in which handler modules register, and their commands.

All handlers share group 0, where PTB runs the first handler that matches; so the
order below is the priority order, and ``handlers.fallback`` (unknown commands,
unhandled private text) must stay last.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Order matters: earlier modules win. Listed by name so help texts can import the registry.
MODULE_NAMES: tuple[str, ...] = (
    "handlers.errors",
    "handlers.common",
    "handlers.tables",
    "handlers.members",
    "handlers.report",
    "handlers.ledger_import",
    "handlers.evidence",
    "handlers.deadlines",
    "handlers.rules",
    "handlers.exports",
    "handlers.scores",
    "handlers.ask",
    "handlers.fallback",
)


def modules() -> list[ModuleType]:
    """The handler modules in registration order."""
    return [importlib.import_module(name) for name in MODULE_NAMES]


def all_commands() -> list[tuple[str, str]]:
    """(command, Chinese description) of every module, in order, for /help and setMyCommands."""
    commands: list[tuple[str, str]] = []
    for module in modules():
        commands.extend(getattr(module, "COMMANDS", []))
    return commands
