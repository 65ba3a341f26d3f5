"""The reply helper: escaping, safe splitting, and every message valid for the strict sandbox."""

from __future__ import annotations

import pytest

from bot.sandbox import parse_telegram_html
from handlers.replies import (
    Markup,
    bold,
    captioned,
    code,
    html,
    join_lines,
    mention,
    plain_text,
    split_html,
)

HOSTILE = "<b>A&B‹科</b> &amp; 😀 >"


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_plain_pieces_are_escaped_and_markup_is_kept() -> None:
    assert html("单位：", HOSTILE) == "单位：&lt;b&gt;A&amp;B‹科&lt;/b&gt; &amp;amp; 😀 &gt;"
    assert bold(HOSTILE) == "<b>&lt;b&gt;A&amp;B‹科&lt;/b&gt; &amp;amp; 😀 &gt;</b>"
    assert code("<x>") == "<code>&lt;x&gt;</code>"
    assert mention(7, "A&B") == '<a href="tg://user?id=7">A&amp;B</a>'
    assert join_lines([bold("标题"), "a<b"]) == "<b>标题</b>\na&lt;b"
    assert parse_telegram_html(html(bold(HOSTILE), "\n", HOSTILE)) == f"{HOSTILE}\n{HOSTILE}"


def test_a_short_reply_is_one_message_unchanged() -> None:
    markup = html(bold("第31项"), " 已报：", HOSTILE)
    assert split_html(markup) == [markup]


def test_long_replies_split_on_lines_first() -> None:
    line = "&" * 1000  # 5000 characters once escaped
    parts = split_html(join_lines([line, line, line]))
    assert parts == ["&amp;" * 819, "&amp;" * 181, "&amp;" * 819, "&amp;" * 181, "&amp;" * 819, "&amp;" * 181]
    rows = split_html(join_lines(["第一行 <x>", "第二行 &"] * 400))
    assert all(utf16(p) <= 4096 for p in rows)
    assert {line for p in rows for line in p.split("\n")} == {"第一行 &lt;x&gt;", "第二行 &amp;"}  # whole lines only
    assert sum(p.count("\n") + 1 for p in rows) == 800


def test_a_long_line_splits_at_sentences_then_characters() -> None:
    sentence = "这是一句说明&lt;。"  # plain text: escaped to 17 characters
    parts = split_html(html(sentence * 300))
    assert all(p.endswith("。") for p in parts)
    assert "".join(plain_text(p) for p in parts) == sentence * 300
    no_boundary = "科" * 5000
    assert [len(p) for p in split_html(html(no_boundary))] == [4096, 904]


def test_bold_runs_cut_in_two_are_closed_and_reopened() -> None:
    parts = split_html(bold("长" * 5000))
    assert parts == ["<b>" + "长" * 4089 + "</b>", "<b>" + "长" * 911 + "</b>"]


@pytest.mark.parametrize("limit", [40, 200, 4096])
def test_every_chunk_is_valid_telegram_html_within_the_limit(limit: int) -> None:
    value = (HOSTILE + "。\n") * 300 + "😀" * 2000 + "&" * 5000
    markup = html(bold("标题 ", value), "\n", mention(1, value[:50]), value, code(value[:300]))
    parts = split_html(markup, limit)
    for part in parts:
        assert utf16(part) <= limit
        parse_telegram_html(part)  # raises on a cut entity or tag
    assert "".join(parse_telegram_html(p) for p in parts).replace("\n", "") == plain_text(markup).replace("\n", "")


def test_captions_are_cut_safely_to_1024() -> None:
    kwargs = captioned("&" * 2000)
    assert kwargs["parse_mode"] == "HTML"
    assert kwargs["caption"] == "&amp;" * 204 + "…"
    assert utf16(parse_telegram_html(kwargs["caption"])) <= 1024
    assert captioned(Markup("<b>x</b>"))["caption"] == "<b>x</b>"
