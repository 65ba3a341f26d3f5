"""The sandbox refuses what Telegram refuses (so the suite sees the bot's mistakes)."""

from __future__ import annotations

import json
import threading

import pytest
from telegram import Bot
from telegram.error import BadRequest, Conflict

from bot.sandbox import BotApiSandbox, parse_telegram_html

CHAT = 4242


def send(sandbox: BotApiSandbox, **params: object) -> tuple[int, dict[str, object]]:
    return sandbox.handle("sendMessage", {"chat_id": str(CHAT), **params})


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        ("a < b", 'Character "<" must be escaped at byte offset 2'),
        ("A&B‹科", 'Character "&" must be escaped at byte offset 1'),
        ("<b>粗体", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag "b", expected "</i>" at byte offset 7'),
        ("x</i>", 'Unexpected end tag "i" at byte offset 1'),
        ("<script>x</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
        ("&lt 1", 'Character "&" must be escaped at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a>x</a>", 'Tag "a" must have attribute "href" at byte offset 0'),
        ("<!-- x -->", "Unsupported comment at byte offset 0"),
        ("末尾 &l", 'Character "&" must be escaped at byte offset 7'),
    ],
)
def test_malformed_html_is_refused(sandbox: BotApiSandbox, markup: str, reason: str) -> None:
    status, body = send(sandbox, text=markup, parse_mode="HTML")
    assert (status, body["description"]) == (400, f"Bad Request: can't parse entities: {reason}")
    assert sandbox.messages == []
    status, _ = send(sandbox, text=markup)  # the same text without parse_mode is plain text
    assert status == 200


def test_supported_markup_and_entities_parse_to_their_text() -> None:
    markup = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>"
        '<span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler><a href="tg://user?id=1">a</a>'
        '<code>c</code><pre><code class="language-python">x</code></pre><blockquote expandable>z</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &lt;&gt;&amp;&quot;&#65;&#x42; > ‹科'
    )
    assert parse_telegram_html(markup) == 'bsieunskdpqacxz👍 <>&"AB > ‹科'


def test_text_limit_counts_after_entity_parsing(sandbox: BotApiSandbox) -> None:
    assert send(sandbox, text="&amp;" * 4096, parse_mode="HTML")[0] == 200  # 4096 visible characters
    status, body = send(sandbox, text="&amp;" * 4097, parse_mode="HTML")
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    assert send(sandbox, text="x" * 4097)[1]["description"] == "Bad Request: message is too long"
    assert send(sandbox, text="<b></b>", parse_mode="HTML")[1]["description"] == "Bad Request: message text is empty"


def test_caption_limit_and_caption_entities(sandbox: BotApiSandbox) -> None:
    upload = sandbox._store_file(b"%PDF-1.4", "a.pdf", "application/pdf")
    ok = {"chat_id": str(CHAT), "document": upload.file_id}
    assert sandbox.handle("sendDocument", {**ok, "caption": "é" * 1024})[0] == 200
    status, body = sandbox.handle("sendDocument", {**ok, "caption": "é" * 1025})
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")
    status, body = sandbox.handle("sendDocument", {**ok, "caption": "A&B", "parse_mode": "HTML"})
    assert status == 400 and str(body["description"]).startswith("Bad Request: can't parse entities")


def test_callback_data_over_64_bytes_is_refused(sandbox: BotApiSandbox) -> None:
    def markup(data: str) -> str:
        return json.dumps({"inline_keyboard": [[{"text": "按钮", "callback_data": data}]]})

    assert send(sandbox, text="x", reply_markup=markup("科" * 21))[0] == 200  # 63 bytes
    status, body = send(sandbox, text="x", reply_markup=markup("科" * 22))  # 66 bytes, 22 characters
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    sent = sandbox.messages[0]
    edit = {"chat_id": str(CHAT), "message_id": str(sent.message_id), "reply_markup": markup("x" * 65)}
    assert sandbox.handle("editMessageReplyMarkup", edit)[1]["description"] == "Bad Request: BUTTON_DATA_INVALID"
    assert sandbox.handle("editMessageText", {**edit, "text": "y"})[1]["description"] == (
        "Bad Request: BUTTON_DATA_INVALID"
    )


def test_a_second_get_updates_terminates_the_waiting_one(sandbox: BotApiSandbox) -> None:
    answers: list[tuple[int, dict[str, object]]] = []
    first = threading.Thread(target=lambda: answers.append(sandbox.handle("getUpdates", {"timeout": "5"})))
    first.start()
    sandbox.wait_for(lambda: sum(1 for method, _ in sandbox.calls if method == "getUpdates") == 1)
    sandbox.send_text(sandbox.private_chat(sandbox.user()), sandbox.user(), "你好")
    second = sandbox.handle("getUpdates", {"timeout": "0"})
    first.join(5)
    assert answers and answers[0][0] == 409
    assert answers[0][1]["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )
    assert second[0] == 200 and len(second[1]["result"]) == 1  # type: ignore[arg-type]


def test_get_updates_while_a_webhook_is_set_conflicts(sandbox: BotApiSandbox) -> None:
    sandbox.handle("setWebhook", {"url": "https://example.org/hook"})
    status, body = sandbox.handle("getUpdates", {})
    assert (status, body["description"]) == (
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    )
    sandbox.handle("deleteWebhook", {})
    assert sandbox.handle("getUpdates", {})[0] == 200


async def test_ptb_sees_the_refusals_as_telegram_errors(sandbox: BotApiSandbox) -> None:
    async with Bot(sandbox.token, base_url=sandbox.base_url) as bot:
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(CHAT, "A&B‹科", parse_mode="HTML")
        await bot.set_webhook("https://example.org/hook")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()


def test_files_carry_their_size(sandbox: BotApiSandbox) -> None:
    user = sandbox.user()
    sandbox.send_document(sandbox.private_chat(user), user, b"12345", "a.txt")
    sandbox.send_photo(sandbox.private_chat(user), user, b"\xff\xd8\xff" + b"0" * 7)
    _, body = sandbox.handle("getUpdates", {})
    document, photo = (u["message"] for u in body["result"])  # type: ignore[attr-defined]
    assert document["document"]["file_size"] == 5
    assert photo["photo"][0]["file_size"] == 10
    _, info = sandbox.handle("getFile", {"file_id": document["document"]["file_id"]})
    assert info["result"]["file_size"] == 5  # type: ignore[index]
