"""Signed button data: a button only works in the chat it was sent to, for whom it was meant.

Telegram lets any client send any ``callback_data`` (64 bytes at most), so ids in buttons
are guessable (``fs|17``). Every button the bot sends carries ``payload~tag`` where ``tag``
is an HMAC-SHA256 (standard library ``hmac``) over chat id, user scope and payload, keyed by
a key derived from the bot token. A pressed button is verified against the chat it was
pressed in and the presser; the handler then re-checks ``knowledge.access.may`` for the
presser at that moment (rights may have changed since the button was sent).

User scope ``0`` means "anyone in this chat" (a search answer in a group); a user id means
"only this user" (a preview's 确认登记).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, MaybeInaccessibleMessage, Update
from telegram.ext import ContextTypes

from handlers.deps import get_services

SEPARATOR = "~"
TAG_BYTES = 9  # 72 bits, 12 base64 characters: forging one takes ~2⁷¹ tries
MAX_CALLBACK_BYTES = 64
ANYONE = 0
INVALID_BUTTON = "这个按钮无效或已过期，请重新发送命令。"

SignedHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, str], Coroutine[Any, Any, None]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def callback_key(bot_token: str) -> bytes:
    """The signing key, derived from the bot token (every instance of the bot agrees on it)."""
    return hmac.new(bot_token.encode(), b"taizhang callback data v1", hashlib.sha256).digest()


def _tag(key: bytes, chat_id: int, scope: int, payload: str) -> str:
    mac = hmac.new(key, f"{chat_id}|{scope}|{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:TAG_BYTES]).decode()


def sign(key: bytes, chat_id: int, payload: str, user_id: int = ANYONE) -> str:
    """``payload~tag`` for a button in ``chat_id`` (only ``user_id`` may press it unless ``ANYONE``)."""
    if SEPARATOR in payload:
        raise ValueError(f"callback payload must not contain {SEPARATOR!r}: {payload!r}")
    data = f"{payload}{SEPARATOR}{_tag(key, chat_id, user_id, payload)}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {payload!r}")
    return data


def verify(key: bytes, chat_id: int, user_id: int, data: str) -> str | None:
    """The payload of ``data`` pressed by ``user_id`` in ``chat_id``, or None if forged or misplaced."""
    payload, separator, tag = data.rpartition(SEPARATOR)
    if not separator:
        return None
    for scope in (user_id, ANYONE):
        if hmac.compare_digest(tag, _tag(key, chat_id, scope, payload)):
            return payload
    return None


def button(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str, payload: str, user_id: int = ANYONE
) -> InlineKeyboardButton:
    """An inline button whose data is signed for ``chat_id`` (and ``user_id``)."""
    key = get_services(context).callback_key
    return InlineKeyboardButton(text, callback_data=sign(key, chat_id, payload, user_id))


def _chat_of(message: MaybeInaccessibleMessage | None) -> int | None:
    return message.chat.id if message is not None else None


def signed(handler: SignedHandler) -> Handler:
    """Wrap a button handler: verify the data for this chat and presser, hand over the payload."""

    async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or update.effective_user is None:
            return
        chat_id = _chat_of(query.message)
        key = get_services(context).callback_key
        payload = verify(key, chat_id, update.effective_user.id, query.data or "") if chat_id is not None else None
        if payload is None:
            await query.answer(INVALID_BUTTON, show_alert=True)
            return
        await handler(update, context, payload)

    checked.__doc__ = handler.__doc__
    checked.__name__ = handler.__name__
    return checked
