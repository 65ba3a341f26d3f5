"""The one way handlers format and send replies (Telegram HTML).

A reply is built from plain pieces: a ``str`` is user or document text and is always escaped;
``Markup`` is HTML this module produced (``bold``, ``code``, ``html``…). Long replies are split
into messages of at most 4096 characters on safe boundaries (line, then sentence, then
character) *before* escaping, so no message is cut inside a tag or an ``&lt;``; every message
is valid Telegram HTML on its own (a bold run cut in two is closed and reopened).

    await reply(message, html("已登记：", bold(unit), "\\n", details))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from typing import Any

from telegram import Bot, CallbackQuery, ForceReply, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode

TEXT_LIMIT = 4096  # Telegram's limit for a message, counted in UTF-16 code units here (stricter)
CAPTION_LIMIT = 1024
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;.…])")


class Markup(str):
    """Trusted Telegram HTML (produced here, never from user input)."""


Piece = str | Markup


def html(*pieces: Piece) -> Markup:
    """Concatenate pieces: plain ``str`` escaped, ``Markup`` kept."""
    return Markup("".join(p if isinstance(p, Markup) else escape(p, quote=False) for p in pieces))


def join_lines(items: Iterable[Piece]) -> Markup:
    """Pieces one per line (plain ``str`` escaped)."""
    return Markup("\n".join(html(item) for item in items))


def _wrap(tag: str, pieces: Sequence[Piece]) -> Markup:
    return Markup(f"<{tag}>{html(*pieces)}</{tag.split()[0]}>")


def bold(*pieces: Piece) -> Markup:
    """``<b>…</b>``."""
    return _wrap("b", pieces)


def italic(*pieces: Piece) -> Markup:
    """``<i>…</i>``."""
    return _wrap("i", pieces)


def code(*pieces: Piece) -> Markup:
    """``<code>…</code>``."""
    return _wrap("code", pieces)


def mention(user_id: int, name: str) -> Markup:
    """A link that mentions a user."""
    return Markup(f'<a href="tg://user?id={int(user_id)}">{escape(name, quote=False)}</a>')


def plain_text(markup: str) -> str:
    """What the user sees of ``markup`` (tags removed, entities decoded)."""
    return "".join(run.text for run in _runs(markup))


# ---------------------------------------------------------------- splitting
@dataclass(frozen=True)
class _Run:
    """Text under a stack of open tags (each kept with its attributes, e.g. ``a href="…"``)."""

    text: str
    tags: tuple[str, ...]


class _RunParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[_Run] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = "".join(f' {name}="{escape(value)}"' if value is not None else f" {name}" for name, value in attrs)
        self.open.append(tag + attributes)

    def handle_endtag(self, tag: str) -> None:
        if self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        self.runs.append(_Run(data, tuple(self.open)))


def _runs(markup: str) -> list[_Run]:
    parser = _RunParser()
    parser.feed(markup)
    parser.close()
    return parser.runs


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _open(tags: tuple[str, ...]) -> str:
    return "".join(f"<{t}>" for t in tags)


def _close(tags: tuple[str, ...]) -> str:
    return "".join(f"</{t.split()[0]}>" for t in reversed(tags))


def _render(runs: list[_Run]) -> str:
    out: list[str] = []
    index = 0
    while index < len(runs):
        tags = runs[index].tags
        text = []
        while index < len(runs) and runs[index].tags == tags:
            text.append(runs[index].text)
            index += 1
        out.append(_open(tags) + escape("".join(text), quote=False) + _close(tags))
    return "".join(out)


def _pieces(run: _Run, level: int) -> list[_Run]:
    """``run`` cut at the boundaries of ``level``: 0 lines, 1 sentences, 2 characters."""
    if level == 0:
        parts = run.text.splitlines(keepends=True)
    elif level == 1:
        parts = [p for p in _SENTENCE_END.split(run.text) if p]
    else:
        parts = list(run.text)
    return [_Run(part, run.tags) for part in parts]


def _cost(run: _Run) -> int:
    return _units(escape(run.text, quote=False)) + _units(_open(run.tags) + _close(run.tags))


def _pack(runs: list[_Run], limit: int, level: int = 0) -> list[list[_Run]]:
    """Greedy packing of ``runs`` into chunks whose rendering fits ``limit``."""
    atoms = [piece for run in runs for piece in _pieces(run, level)]
    chunks: list[list[_Run]] = []
    current: list[_Run] = []
    size = 0
    for atom in atoms:
        cost = _cost(atom)
        if current and current[-1].tags == atom.tags:
            cost -= _units(_open(atom.tags) + _close(atom.tags))  # joins the previous run's tags
        if size + cost <= limit:
            current.append(atom)
            size += cost
            continue
        if current:
            chunks.append(current)
        current, size = [], 0
        if _cost(atom) <= limit:
            current, size = [atom], _cost(atom)
        elif level < 2:
            *full, last = _pack([atom], limit, level + 1)
            chunks.extend(full)
            current, size = last, _units(_render(last))
        else:
            raise ValueError("a single character with its tags exceeds the limit")
    if current:
        chunks.append(current)
    return chunks


def split_html(markup: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``markup`` as messages of at most ``limit`` characters each, each valid on its own."""
    chunks = [_render(_strip(chunk)) for chunk in _pack(_runs(markup), limit)]
    return [chunk for chunk in chunks if plain_text(chunk).strip()] or [escape("（空）")]


def _strip(chunk: list[_Run]) -> list[_Run]:
    """Drop the line break a chunk ends with (it separated it from the next one)."""
    if chunk and chunk[-1].text.endswith("\n"):
        last = chunk[-1]
        return [*chunk[:-1], _Run(last.text[:-1], last.tags)]
    return chunk


def captioned(*pieces: Piece) -> dict[str, Any]:
    """Keyword arguments for a media caption of at most 1024 characters (cut safely, marked …)."""
    parts = split_html(html(*pieces), CAPTION_LIMIT - 1)
    return {"caption": parts[0] + ("…" if len(parts) > 1 else ""), "parse_mode": ParseMode.HTML}


# ---------------------------------------------------------------- sending
def _as_markup(content: Piece) -> Markup:
    return content if isinstance(content, Markup) else html(content)


async def reply(
    message: Message,
    content: Piece,
    *,
    reply_markup: InlineKeyboardMarkup | ForceReply | None = None,
    **kwargs: Any,
) -> Message:
    """Reply with ``content`` in as many messages as needed; buttons go on the last one."""
    parts = split_html(_as_markup(content))
    sent = message
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        sent = await message.reply_text(
            part, parse_mode=ParseMode.HTML, reply_markup=reply_markup if last else None, **kwargs
        )
    return sent


async def send(
    bot: Bot, chat_id: int, content: Piece, *, reply_markup: InlineKeyboardMarkup | None = None, **kwargs: Any
) -> Message:
    """Send ``content`` to a chat (split like ``reply``)."""
    parts = split_html(_as_markup(content))
    sent: Message | None = None
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        sent = await bot.send_message(
            chat_id, part, parse_mode=ParseMode.HTML, reply_markup=reply_markup if last else None, **kwargs
        )
    assert sent is not None
    return sent


async def edit(query: CallbackQuery, content: Piece, *, reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the text of the query's message; overflow goes to new messages after it."""
    first, *rest = split_html(_as_markup(content))
    await query.edit_message_text(first, parse_mode=ParseMode.HTML, reply_markup=None if rest else reply_markup)
    message = query.message
    if rest and isinstance(message, Message):
        for index, part in enumerate(rest):
            last = index == len(rest) - 1
            await message.reply_text(part, parse_mode=ParseMode.HTML, reply_markup=reply_markup if last else None)
