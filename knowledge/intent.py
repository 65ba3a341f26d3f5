"""Routing a question: an indicator number, a unit or person, or a topic.

Also reads which document a question names (``生态局台账第12条``, ``焦作那张表第20项``,
``司法局★3``, ``打分表党委那张第5项``) and whether it asks for the owner (``谁负责``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from knowledge.dictionary import DomainDictionary
from knowledge.model import ParsedDocument
from knowledge.normalize import half_width, to_simplified

MAX_QUERY_CHARS = 200

_MARKUP_RE = re.compile(r"<[^>]{0,200}>|[*_`#>\[\]]|@\w+|^/ask\S*")
_CONTENT_RE = re.compile(r"[\u3400-\u9fffA-Za-z0-9★]")

DocumentTest = Callable[[ParsedDocument], bool]
DOCUMENT_HINTS: tuple[tuple[str, DocumentTest], ...] = (
    (r"焦作", lambda d: "焦作" in d.issuer),
    (r"生态环境局|生态局|环保局|环境局", lambda d: "生态环境" in d.issuer),
    (r"司法局", lambda d: "司法局" in d.issuer),
    (r"县委|濮阳县|一体建设", lambda d: "县委" in d.issuer),
    (r"打分表|督察|依法治市办?", lambda d: d.kind == "scoring"),
    (r"工作台账|台账", lambda d: d.kind == "ledger"),
    (r"分工表", lambda d: d.kind == "duty_table"),
    (r"指标体系", lambda d: d.kind == "indicator_system"),
)
TABLE_WORDS_RE = re.compile(r"表|台账|文件|方案|那张|这张|体系")
TABLE_HINTS = (("党委", "党委"), ("政府", "政府"))

_NUMBER_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"(加分|减分)项?\s*第?\s*(\d{1,2})\s*[项条个]?"), lambda m: f"{m.group(1)}{int(m.group(2))}"),
    (re.compile(r"★\s*(\d{1,3})"), lambda m: f"★{int(m.group(1))}"),
    (re.compile(r"[(]\s*(\d{1,3})\s*[)]"), lambda m: f"({int(m.group(1))})"),
    (re.compile(r"第?\s*(\d{1,3})\s*(?:号|项|条|个)?"), lambda m: str(int(m.group(1)))),
)
_NUMBER_FILLER_RE = re.compile(
    r"指标|那张表|这张表|那张|这张|表里|表中|表|的|是什么|是啥|什么|内容|第|号|项|条|查询|查|一下|看看|看|请问|"
    r"里|中|呢|吗|是|[?？!！,，.。、:：\s]"
)
_OWNER_FILLER_RE = re.compile(
    r"负责哪些|负责什么|管哪些|管什么|有哪些|都有啥|有啥|牵头的|配合的|负责的|的指标|的工作|的任务|指标|工作|任务|"
    r"事项|负责|牵头|配合|哪些|都|的|是|请问|查|一下|[?？!！,，.。、:：\s]"
)
_TOPIC_FILLER_RE = re.compile(r"请问|一下|什么|怎么|如何|哪些|哪个|有没有|是不是|吗|呢|吧|啊|[?？!！]")


@dataclass
class Query:
    """A question after routing."""

    raw: str
    intent: str  # number | text | empty
    topic: str = ""
    expansions: list[str] = field(default_factory=list)
    owner_first: bool = False
    documents: list[str] = field(default_factory=list)
    table: str = ""
    number_key: str = ""
    owner_candidate: str = ""
    title_surname: str = ""
    message: str = ""


def clean_question(text: str) -> str:
    """Strip markup, mentions and the /ask command; half-width; bounded length."""
    text = half_width(text or "")
    text = _MARKUP_RE.sub(" ", text.strip())
    return re.sub(r"\s+", " ", text).strip()[:MAX_QUERY_CHARS]


def parse_query(question: str, dictionary: DomainDictionary, documents: Sequence[ParsedDocument]) -> Query:
    """Route ``question``; ``documents`` are the known documents (for hints)."""
    text = to_simplified(clean_question(question))
    query = Query(raw=text, intent="text")
    if not _CONTENT_RE.search(text):
        query.intent = "empty"
        query.message = "请输入要查询的内容，例如：执法文书格式谁负责、李建伟负责哪些、12号指标"
        return query
    for phrase in dictionary.owner_phrases:
        if phrase in text:
            query.owner_first = True
            text = text.replace(phrase, " ")
    # Which document the question names, if it names one.
    number = _find_number(text)
    if number is not None or TABLE_WORDS_RE.search(text):
        matched: set[str] | None = None
        for pattern, test in DOCUMENT_HINTS:
            if re.search(pattern, text):
                docs = {d.doc_id for d in documents if test(d)}
                matched = docs if matched is None else (matched & docs or matched | docs)
                text = re.sub(pattern, " ", text)
        if matched:
            query.documents = sorted(matched)
            for word, table in TABLE_HINTS:
                if word in text:
                    query.table = table
                    text = text.replace(word, " ")
    number = _find_number(text)
    if number is not None:
        key, span = number
        residual = _NUMBER_FILLER_RE.sub("", text[: span[0]] + text[span[1] :])
        if not residual:
            query.intent = "number"
            query.number_key = key
            return query
    query.owner_candidate = _OWNER_FILLER_RE.sub("", text)
    for title in dictionary.titles:
        if query.owner_candidate.endswith(title) and len(query.owner_candidate) == len(title) + 1:
            query.title_surname = query.owner_candidate[0]
            break
    query.topic = re.sub(r"\s+", "", _TOPIC_FILLER_RE.sub(" ", text))
    query.expansions = dictionary.expand(query.topic)
    if not query.topic:
        query.topic = query.owner_candidate
    return query


def _find_number(text: str) -> tuple[str, tuple[int, int]] | None:
    for pattern, key in _NUMBER_PATTERNS:
        match = pattern.search(text)
        if match:
            return key(match), match.span()
    return None
