"""Telegram handlers: thin adapters from updates to ``knowledge``/``storage`` calls."""

from __future__ import annotations

from telegram.ext import Application

from handlers import registry


def register_all(app: Application) -> None:  # type: ignore[type-arg]
    """Register every handler module in the documented order."""
    for module in registry.modules():
        module.register(app)
