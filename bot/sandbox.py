"""A local Bot API sandbox: a small HTTP server speaking the Bot API subset we use.

The real PTB ``Application`` talks to it through ``base_url``; tests and the offline
demo inject user messages with the Python API and read what the bot sent.
Requests arrive as form fields (numbers as strings, objects as JSON) or multipart.

    sandbox = BotApiSandbox()
    sandbox.start()
    sandbox.send_text(chat=sandbox.private_chat(), user=sandbox.user(), text="/start")
    reply = sandbox.wait_for_messages(chat_id, count=1)[0]

Fault injection per method: ``sandbox.inject_fault("sendMessage", Fault.retry_after(1))``.
Unknown methods answer HTTP 400 and are recorded in ``sandbox.unsupported_calls``.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import html.parser
import itertools
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]

BOT_USER_ID = 900_000_001
BOT_USERNAME = "taizhang_sandbox_bot"
TERMINATED_BY_OTHER = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)


@dataclass
class Fault:
    """A failure to answer a method with, ``times`` times in a row."""

    kind: str  # "retry_after" | "server_error" | "slow" | "drop" | "error"
    times: int = 1
    retry_after: int = 1
    delay: float = 0.0
    status: int = 500
    description: str = ""
    parameters: JSONDict = field(default_factory=dict)

    @classmethod
    def retry_after_seconds(cls, seconds: int = 1, times: int = 1) -> Fault:
        """HTTP 429 with ``parameters.retry_after``."""
        return cls("retry_after", times=times, retry_after=seconds)

    @classmethod
    def server_error(cls, status: int = 500, times: int = 1) -> Fault:
        """HTTP 5xx."""
        return cls("server_error", times=times, status=status)

    @classmethod
    def slow(cls, delay: float, times: int = 1) -> Fault:
        """Answer normally after ``delay`` seconds."""
        return cls("slow", times=times, delay=delay)

    @classmethod
    def error(cls, status: int, description: str, times: int = 1, **parameters: Any) -> Fault:
        """Any Bot API error, e.g. 403 “bot was kicked” or 400 with ``migrate_to_chat_id``."""
        return cls("error", times=times, status=status, description=description, parameters=parameters)

    @classmethod
    def drop(cls, times: int = 1) -> Fault:
        """Close the connection without an answer."""
        return cls("drop", times=times)


@dataclass
class SentMessage:
    """A message the bot sent (or its latest edited state)."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: JSONDict | None
    reply_to_message_id: int | None
    kind: str = "text"  # text | document | photo
    file_id: str | None = None
    file_name: str | None = None
    edits: int = 0
    raw: JSONDict = field(default_factory=dict)
    sent_at: float = field(default_factory=time.monotonic)

    @property
    def buttons(self) -> list[JSONDict]:
        """Inline keyboard buttons, row by row flattened."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class StoredFile:
    """A file known to the sandbox (uploaded by a user or by the bot)."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_name: str
    mime_type: str

    @property
    def file_path(self) -> str:
        return f"files/{self.file_unique_id}"


class BotApiSandbox:
    """In-process fake of the Telegram Bot API on 127.0.0.1."""

    def __init__(self, token: str | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token or f"{BOT_USER_ID}:{secrets.token_urlsafe(24)}"
        prefix = self.token.partition(":")[0]
        self.bot_id = int(prefix) if prefix.isdigit() else BOT_USER_ID  # as Telegram: the token's digits
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._updates: list[JSONDict] = []
        self._confirmed_offset = 0
        self._poll_generation = 0  # a newer getUpdates terminates the one waiting (as Telegram does)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._faults: dict[str, list[Fault]] = {}
        self.messages: list[SentMessage] = []
        self.calls: list[tuple[str, JSONDict]] = []
        self.faults_served: list[tuple[str, str]] = []
        self.unsupported_calls: list[str] = []
        self.callback_answers: list[JSONDict] = []
        self.commands: list[JSONDict] = []
        self.chat_actions: list[JSONDict] = []
        self.deleted: list[tuple[int, int]] = []  # (chat id, message id) removed with deleteMessage
        self.webhook_url = ""
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._chat_messages: dict[tuple[int, int], JSONDict] = {}
        self._history: list[JSONDict] = []
        self._redeliveries: list[JSONDict] = []
        self._closed = False

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start serving on a background thread."""
        handler = _make_handler(self)
        self._server = _QuietServer((self._host, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and wake any long poll."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> BotApiSandbox:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "sandbox not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Bot API root to give PTB (``…/bot``; the token is appended by PTB)."""
        return f"http://{self._host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self._host}:{self.port}/file/bot"

    # ----------------------------------------------------------------- faults
    def inject_fault(self, method: str, fault: Fault) -> None:
        """Make the next ``fault.times`` calls of ``method`` fail that way."""
        with self._cond:
            self._faults.setdefault(method, []).append(fault)

    def _take_fault(self, method: str) -> Fault | None:
        with self._cond:
            queue = self._faults.get(method)
            if not queue:
                return None
            fault = queue[0]
            self.faults_served.append((method, fault.kind))
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            return fault

    # ----------------------------------------------------------------- actors
    @staticmethod
    def user(user_id: int = 1001, first_name: str = "张三", username: str | None = None) -> JSONDict:
        """A Telegram user object."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        return user

    @staticmethod
    def private_chat(user: JSONDict) -> JSONDict:
        """The private chat with ``user``."""
        return {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}

    @staticmethod
    def group_chat(chat_id: int = -100_200_300, title: str = "法规科工作群") -> JSONDict:
        """A (super)group chat object."""
        return {"id": chat_id, "type": "supergroup", "title": title}

    def bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "台账助手",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # ----------------------------------------------------------------- injection
    def _push_update(self, payload: JSONDict, update_id: int | None = None) -> int:
        with self._cond:
            uid = update_id if update_id is not None else next(self._update_ids)
            update = {"update_id": uid, **payload}
            self._updates.append(update)
            self._cond.notify_all()
            return uid

    def redeliver(self, update_id: int) -> None:
        """Queue an already delivered update again (as Telegram does after a crash)."""
        with self._cond:
            for update in self._history:
                if update["update_id"] == update_id:
                    self._redeliveries.append(json.loads(json.dumps(update)))
                    self._cond.notify_all()
                    return
        raise KeyError(update_id)

    def _new_message(self, chat: JSONDict, user: JSONDict, **fields: Any) -> JSONDict:
        message: JSONDict = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            **fields,
        }
        with self._cond:
            self._chat_messages[(chat["id"], message["message_id"])] = message
        return message

    def send_text(
        self,
        chat: JSONDict,
        user: JSONDict,
        text: str,
        *,
        reply_to: int | None = None,
        update_id: int | None = None,
    ) -> int:
        """A user writes ``text``; commands and @mentions get their entities. Returns update id."""
        entities: list[JSONDict] = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command)})
        mention = f"@{BOT_USERNAME}"
        if mention in text and not text.startswith("/"):
            offset = _utf16_len(text[: text.index(mention)])
            entities.append({"type": "mention", "offset": offset, "length": _utf16_len(mention)})
        fields: JSONDict = {"text": text}
        if entities:
            fields["entities"] = entities
        if reply_to is not None:
            fields["reply_to_message"] = self._message_dict(chat["id"], reply_to)
        message = self._new_message(chat, user, **fields)
        return self._push_update({"message": message}, update_id)

    def edit_text(self, chat: JSONDict, user: JSONDict, message_id: int, text: str) -> int:
        """A user edits their message ``message_id`` to ``text`` (an ``edited_message`` update)."""
        with self._cond:
            original = self._chat_messages[(chat["id"], message_id)]
        entities: list[JSONDict] = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command)})
        edited = {**original, "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        if entities:
            edited["entities"] = entities
        with self._cond:
            self._chat_messages[(chat["id"], message_id)] = edited
        return self._push_update({"edited_message": edited}, None)

    def user_messages(self, chat_id: int) -> list[int]:
        """Ids of the messages users sent to a chat, oldest first."""
        with self._cond:
            return sorted(
                m
                for (c, m), msg in self._chat_messages.items()
                if c == chat_id and not msg.get("from", {}).get("is_bot", False)
            )

    def send_document(
        self,
        chat: JSONDict,
        user: JSONDict,
        content: bytes,
        file_name: str,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        reply_to: int | None = None,
        declared_size: int | None = None,
    ) -> int:
        """A user sends a file; ``declared_size`` lets tests claim a size over the limit."""
        stored = self._store_file(content, file_name, mime_type)
        document: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": declared_size if declared_size is not None else len(content),
        }
        fields: JSONDict = {"document": document}
        if caption:
            fields["caption"] = caption
            fields.update(self._caption_entities(caption))
        if reply_to is not None:
            fields["reply_to_message"] = self._message_dict(chat["id"], reply_to)
        return self._push_update({"message": self._new_message(chat, user, **fields)})

    def send_photo(
        self,
        chat: JSONDict,
        user: JSONDict,
        content: bytes,
        *,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> int:
        """A user sends a photo (one size)."""
        stored = self._store_file(content, "photo.jpg", "image/jpeg")
        photo = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": 800,
                "height": 600,
                "file_size": len(content),
            }
        ]
        fields: JSONDict = {"photo": photo}
        if caption:
            fields["caption"] = caption
            fields.update(self._caption_entities(caption))
        if reply_to is not None:
            fields["reply_to_message"] = self._message_dict(chat["id"], reply_to)
        return self._push_update({"message": self._new_message(chat, user, **fields)})

    @staticmethod
    def _caption_entities(caption: str) -> JSONDict:
        if caption.startswith("/"):
            command = caption.split(maxsplit=1)[0]
            return {"caption_entities": [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]}
        return {}

    def press_button(self, chat: JSONDict, user: JSONDict, message_id: int, callback_data: str) -> int:
        """A user presses an inline button of the bot's message ``message_id``."""
        message = self._message_dict(chat["id"], message_id)
        query = {
            "id": str(next(self._callback_ids)),
            "from": user,
            "message": message,
            "chat_instance": str(chat["id"]),
            "data": callback_data,
        }
        return self._push_update({"callback_query": query})

    def push_raw_update(self, payload: JSONDict) -> int:
        """Queue an arbitrary (possibly malformed) update body."""
        return self._push_update(payload)

    def _message_dict(self, chat_id: int, message_id: int) -> JSONDict:
        with self._cond:
            message = self._chat_messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        copy: JSONDict = json.loads(json.dumps(message))
        return copy

    def _store_file(self, content: bytes, file_name: str, mime_type: str) -> StoredFile:
        unique = hashlib.sha256(content).hexdigest()[:16]
        file_id = f"F{unique}{secrets.token_hex(4)}"
        stored = StoredFile(file_id, unique, content, file_name, mime_type)
        with self._cond:
            self.files[file_id] = stored
            self._files_by_path[stored.file_path] = stored
        return stored

    # ----------------------------------------------------------------- reading
    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Everything the bot sent to ``chat_id``, in order (edits update in place)."""
        with self._cond:
            return [m for m in self.messages if m.chat_id == chat_id]

    def wait_for_messages(
        self, chat_id: int, count: int = 1, *, after: int = 0, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Block until the bot has sent ``count`` messages to ``chat_id`` beyond ``after``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in self.messages if m.chat_id == chat_id][after:]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"bot sent {len(found)} of {count} messages to {chat_id}: {[m.text for m in found]}"
                    )
                self._cond.wait(remaining)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until ``predicate()`` holds (checked on every API call)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("condition not reached")
                self._cond.wait(remaining)

    def pending_updates(self) -> int:
        """Updates queued but not yet confirmed by the bot's offset."""
        with self._cond:
            return sum(1 for u in self._updates if u["update_id"] >= self._confirmed_offset)

    # ----------------------------------------------------------------- API
    def handle(self, method: str, params: JSONDict) -> tuple[int, JSONDict]:
        """Answer one Bot API call; returns (HTTP status, JSON body)."""
        with self._cond:
            self.calls.append((method, params))
            self._cond.notify_all()
        handler = self._methods().get(method.lower())
        if handler is None:
            with self._cond:
                self.unsupported_calls.append(method)
            log.warning("sandbox: unsupported Bot API method %s", method)
            return 400, _error(400, f"Bad Request: sandbox does not support method {method}")
        try:
            result = handler(params)
        except _ApiError as exc:
            return exc.status, _error(exc.status, exc.description)
        with self._cond:
            self._cond.notify_all()
        return 200, {"ok": True, "result": result}

    def _methods(self) -> dict[str, Callable[[JSONDict], Any]]:
        return {
            "getme": lambda _p: self.bot_user(),
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": lambda _p: {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": self.pending_updates(),
            },
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_reply_markup,
            "answercallbackquery": self._answer_callback,
            "senddocument": lambda p: self._send_file(p, "document"),
            "sendphoto": lambda p: self._send_file(p, "photo"),
            "getfile": self._get_file,
            "setmycommands": self._set_my_commands,
            "sendchataction": self._send_chat_action,
            "deletemessage": self._delete_message,
        }

    def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = _int(params.get("offset"), 0)
        timeout = min(_float(params.get("timeout"), 0.0), 30.0)
        limit = _int(params.get("limit"), 100)
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook_url:
                raise _ApiError(409, WEBHOOK_ACTIVE)
            self._poll_generation += 1
            mine = self._poll_generation
            self._cond.notify_all()  # wakes the poll this one terminates
            if offset:
                self._confirmed_offset = max(self._confirmed_offset, offset)
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while True:
                if self._poll_generation != mine:
                    raise _ApiError(409, TERMINATED_BY_OTHER)
                ready = self._redeliveries + [u for u in self._updates if u["update_id"] >= self._confirmed_offset]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._closed:
                    batch = ready[:limit]
                    self._redeliveries = [u for u in self._redeliveries if u not in batch]
                    self._history.extend(json.loads(json.dumps(u)) for u in batch)
                    return batch
                self._cond.wait(remaining)

    def _delete_webhook(self, params: JSONDict) -> bool:
        if _bool(params.get("drop_pending_updates")):
            with self._cond:
                self._updates.clear()
        self.webhook_url = ""
        return True

    def _set_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = str(params.get("url", ""))
        return True

    def _chat(self, chat_id: Any) -> JSONDict:
        cid = _int(chat_id, 0)
        if cid == 0:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if cid > 0:
            return {"id": cid, "type": "private", "first_name": "用户"}
        return {"id": cid, "type": "supergroup", "title": "群"}

    def _record(self, chat_id: int, message: JSONDict, sent: SentMessage) -> None:
        with self._cond:
            self._chat_messages[(chat_id, sent.message_id)] = message
            self.messages.append(sent)
            self._cond.notify_all()

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params.get("chat_id"))
        text = str(params.get("text", ""))
        _check_text(params)
        markup = _json(params.get("reply_markup"))
        _check_markup(markup)
        reply_to = _reply_to(params)
        message: JSONDict = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user(),
            "text": text,
        }
        if markup and "inline_keyboard" in markup:  # Message.reply_markup is inline-only in the API
            message["reply_markup"] = markup
        sent = SentMessage(
            chat_id=chat["id"],
            message_id=message["message_id"],
            text=text,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            raw=params,
        )
        self._record(chat["id"], message, sent)
        return message

    def _find_sent(self, params: JSONDict) -> SentMessage:
        chat_id = _int(params.get("chat_id"), 0)
        message_id = _int(params.get("message_id"), 0)
        with self._cond:
            for sent in self.messages:
                if sent.chat_id == chat_id and sent.message_id == message_id:
                    return sent
        raise _ApiError(400, "Bad Request: message to edit not found")

    def _edit_message_text(self, params: JSONDict) -> JSONDict:
        sent = self._find_sent(params)
        text = str(params.get("text", ""))
        _check_text(params)
        markup = _json(params.get("reply_markup"))
        _check_markup(markup)
        if text == sent.text and markup == sent.reply_markup:
            raise _ApiError(400, "Bad Request: message is not modified")
        with self._cond:
            sent.text = text
            sent.reply_markup = markup
            sent.parse_mode = params.get("parse_mode")
            sent.edits += 1
            message = self._chat_messages[(sent.chat_id, sent.message_id)]
            message["text"] = text
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup
            self._cond.notify_all()
        return message

    def _edit_reply_markup(self, params: JSONDict) -> JSONDict:
        sent = self._find_sent(params)
        markup = _json(params.get("reply_markup"))
        _check_markup(markup)
        with self._cond:
            sent.reply_markup = markup
            sent.edits += 1
            message = self._chat_messages[(sent.chat_id, sent.message_id)]
            message.pop("reply_markup", None)
            if markup:
                message["reply_markup"] = markup
            self._cond.notify_all()
        return message

    def _answer_callback(self, params: JSONDict) -> bool:
        with self._cond:
            self.callback_answers.append(params)
        return True

    def _send_file(self, params: JSONDict, kind: str) -> JSONDict:
        chat = self._chat(params.get("chat_id"))
        _check_caption(params)
        _check_markup(_json(params.get("reply_markup")))
        value = params.get(kind)
        if isinstance(value, _Upload):
            stored = self._store_file(value.content, value.file_name, value.mime_type)
        elif isinstance(value, str) and value in self.files:
            stored = self.files[value]
        else:
            raise _ApiError(400, f"Bad Request: wrong file identifier/HTTP URL specified ({kind})")
        message: JSONDict = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user(),
        }
        file_obj = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if kind == "photo":
            message["photo"] = [{**file_obj, "width": 800, "height": 600}]
        else:
            message["document"] = {
                **file_obj,
                "file_name": stored.file_name,
                "mime_type": stored.mime_type,
            }
        caption = str(params.get("caption", "") or "")
        if caption:
            message["caption"] = caption
        sent = SentMessage(
            chat_id=chat["id"],
            message_id=message["message_id"],
            text=caption,
            parse_mode=params.get("parse_mode"),
            reply_markup=_json(params.get("reply_markup")),
            reply_to_message_id=_reply_to(params),
            kind=kind,
            file_id=stored.file_id,
            file_name=stored.file_name,
            raw={k: v for k, v in params.items() if not isinstance(v, _Upload)},
        )
        self._record(chat["id"], message, sent)
        return message

    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > 20 * 1024 * 1024:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = _json(params.get("commands")) or []
        with self._cond:
            self.commands = list(commands)
        return True

    def _send_chat_action(self, params: JSONDict) -> bool:
        with self._cond:
            self.chat_actions.append(params)
        return True

    def _delete_message(self, params: JSONDict) -> bool:
        key = (_int(params.get("chat_id"), 0), _int(params.get("message_id"), 0))
        with self._cond:
            if key not in self._chat_messages:
                raise _ApiError(400, "Bad Request: message to delete not found")
            self._chat_messages.pop(key)
            self.deleted.append(key)
        return True

    def file_bytes(self, file_path: str) -> bytes | None:
        """Content served at ``/file/bot<token>/<file_path>``."""
        stored = self._files_by_path.get(file_path)
        return stored.content if stored else None


# ----------------------------------------------------------------- Telegram's HTML rules
# The stdlib ``html.parser`` tokenises tags, attributes (any quoting) and character references
# exactly like a browser, and with ``convert_charrefs=False`` it hands us every ``&…;`` and
# every stray ``<``/``&`` as raw data, so the Telegram-specific rules below stay a few lines
# instead of a hand-written tokenizer. Telegram is stricter than browsers: unknown tags,
# unclosed or misnested tags and a ``<`` or ``&`` that is not markup are refused.
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_AMPERSAND = re.compile(r"&(?P<ref>(?P<name>[a-zA-Z][a-zA-Z0-9]*);|#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};)?")


class EntityParseError(ValueError):
    """Text that Telegram answers with ``can't parse entities``."""


class _TelegramHtml(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.text: list[str] = []
        self.open: list[str] = []

    def _fail(self, reason: str) -> None:
        raise EntityParseError(f"{reason} at byte offset {len(self.rawdata[: self._index()].encode())}")

    def _index(self) -> int:
        """Index in ``rawdata`` of the construct being handled (we feed everything at once)."""
        line, column = self.getpos()
        return sum(len(part) + 1 for part in self.rawdata.split("\n")[: line - 1]) + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self._fail(f'Unsupported start tag "{tag}"')
        values = dict(attrs)
        if tag == "span" and values.get("class") != "tg-spoiler":
            self._fail('Tag "span" must have class "tg-spoiler"')
        if tag == "a" and not values.get("href"):
            self._fail('Tag "a" must have attribute "href"')
        if tag == "tg-emoji" and not values.get("emoji-id"):
            self._fail('Tag "tg-emoji" must have attribute "emoji-id"')
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}/"')

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            self._fail(f'Unexpected end tag "{tag}"')
        if self.open[-1] != tag:
            self._fail(f'Unmatched end tag "{tag}", expected "</{self.open[-1]}>"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        for char in "<&":
            if char in data:
                where = self._index() + data.index(char)
                raise EntityParseError(
                    f'Character "{char}" must be escaped at byte offset {len(self.rawdata[:where].encode())}'
                )
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES or not self.rawdata.startswith(";", self._index() + 1 + len(name)):
            self._fail(f'Unsupported HTML entity "&{name}"')
        self.text.append(NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            self.text.append(chr(code))
        except (ValueError, OverflowError):
            self._fail(f'Invalid character reference "&#{name}"')

    def handle_comment(self, data: str) -> None:
        self._fail("Unsupported comment")

    def handle_decl(self, decl: str) -> None:
        self._fail("Unsupported declaration")

    def handle_pi(self, data: str) -> None:
        self._fail("Unsupported processing instruction")

    def unknown_decl(self, data: str) -> None:
        self._fail("Unsupported declaration")


TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64


def parse_telegram_html(markup: str) -> str:
    """The plain text Telegram shows for ``markup`` (parse_mode=HTML), or EntityParseError."""
    for match in _AMPERSAND.finditer(markup):  # html.parser silently drops a dangling "&" at the end
        offset = len(markup[: match.start()].encode())
        if match.group("name") is not None and match.group("name") not in NAMED_ENTITIES:
            raise EntityParseError(f'Unsupported HTML entity "&{match.group("name")};" at byte offset {offset}')
        if match.group("ref") is None:
            raise EntityParseError(f'Character "&" must be escaped at byte offset {offset}')
    parser = _TelegramHtml()
    parser.feed(markup)
    parser.close()
    if parser.open:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"')
    return "".join(parser.text)


# --------------------------------------------------------------------- HTTP layer
class _QuietServer(ThreadingHTTPServer):
    """Clients hanging up mid-answer (long polls at shutdown, dropped faults) are normal."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox: client %s went away", client_address, exc_info=True)


@dataclass
class _Upload:
    content: bytes
    file_name: str
    mime_type: str


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(code: int, description: str, **parameters: Any) -> JSONDict:
    body: JSONDict = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _bool(value: Any) -> bool:
    return str(value).lower() in {"true", "1"}


def _json(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return None


def _reply_to(params: JSONDict) -> int | None:
    if "reply_to_message_id" in params:
        return _int(params["reply_to_message_id"], 0) or None
    reply = _json(params.get("reply_parameters"))
    if isinstance(reply, dict):
        return _int(reply.get("message_id"), 0) or None
    return None


def _parse_body(content_type: str, body: bytes) -> JSONDict:
    if content_type.startswith("application/json"):
        data = json.loads(body or b"{}")
        return data if isinstance(data, dict) else {}
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        params: JSONDict = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str):
                continue
            raw_payload = part.get_payload(decode=True)
            payload = raw_payload if isinstance(raw_payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                params[name] = _Upload(payload, filename, part.get_content_type())
            else:
                params[name] = payload.decode("utf-8")
        # PTB refers to uploads as attach://name in the method's own field.
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.get(value[len("attach://") :], value)
        return params
    parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()}


def _make_handler(sandbox: BotApiSandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stalls

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("sandbox http: " + format, *args)

        def _send_json(self, status: int, body: JSONDict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            file_prefix = f"/file/bot{sandbox.token}/"
            if path.startswith(file_prefix):
                content = sandbox.file_bytes(path[len(file_prefix) :])
                if content is None:
                    self._send_json(404, _error(404, "Not Found"))
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                return
            self._dispatch(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._dispatch(self.rfile.read(length))

        def _dispatch(self, body: bytes) -> None:
            path = unquote(urlsplit(self.path).path)
            prefix = "/bot"
            if not path.startswith(prefix) or "/" not in path[len(prefix) :]:
                self._send_json(404, _error(404, "Not Found"))
                return
            token, method = path[len(prefix) :].split("/", 1)
            if token != sandbox.token:
                self._send_json(401, _error(401, "Unauthorized"))
                return
            fault = sandbox._take_fault(method)
            if fault is not None:
                if fault.kind == "retry_after":
                    self._send_json(
                        429,
                        _error(
                            429,
                            f"Too Many Requests: retry after {fault.retry_after}",
                            retry_after=fault.retry_after,
                        ),
                    )
                    return
                if fault.kind == "server_error":
                    self._send_json(fault.status, _error(fault.status, "Internal Server Error"))
                    return
                if fault.kind == "error":
                    self._send_json(fault.status, _error(fault.status, fault.description, **fault.parameters))
                    return
                if fault.kind == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault.kind == "slow":
                    time.sleep(fault.delay)
            content_type = self.headers.get("Content-Type", "application/x-www-form-urlencoded")
            try:
                params = _parse_body(content_type, body)
            except (ValueError, UnicodeDecodeError) as exc:
                self._send_json(400, _error(400, f"Bad Request: cannot parse body: {exc}"))
                return
            status, answer = sandbox.handle(method, params)
            self._send_json(status, answer)

    return Handler


def _visible_text(params: JSONDict, field_name: str) -> str:
    """The text as shown after entity parsing; 400 ``can't parse entities`` if malformed."""
    raw = str(params.get(field_name, "") or "")
    if str(params.get("parse_mode") or "").upper() != "HTML":
        return raw
    try:
        return parse_telegram_html(raw)
    except EntityParseError as exc:
        raise _ApiError(400, f"Bad Request: can't parse entities: {exc}") from None


def _check_text(params: JSONDict) -> str:
    """A message text: not empty, at most 4096 characters after entity parsing."""
    visible = _visible_text(params, "text")
    if not visible.strip():
        raise _ApiError(400, "Bad Request: message text is empty")
    if _utf16_len(visible) > TEXT_LIMIT:
        raise _ApiError(400, "Bad Request: message is too long")
    return visible


def _check_caption(params: JSONDict) -> None:
    """A media caption: at most 1024 characters after entity parsing."""
    if _utf16_len(_visible_text(params, "caption")) > CAPTION_LIMIT:
        raise _ApiError(400, "Bad Request: message caption is too long")


def _check_markup(markup: Any) -> None:
    """Inline buttons: callback data of 1-64 bytes."""
    if not isinstance(markup, dict):
        return
    for row in markup.get("inline_keyboard", []) or []:
        for button in row:
            data = button.get("callback_data") if isinstance(button, dict) else None
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= CALLBACK_DATA_LIMIT:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
