"""Search: quality on the labelled query set, routing, owners, scope, and hostile input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from handlers.cards import result_page
from knowledge.evaluation import (
    baseline_ranker,
    engine_ranker,
    evaluate,
    gold_count,
    load_queries,
)
from knowledge.search import SearchIndex, SearchResult

QUERIES = load_queries(Path(__file__).parent / "data" / "queries.tsv")


def test_query_set_is_big_and_every_label_resolves(seeded_index: SearchIndex) -> None:
    assert len(QUERIES) >= 150
    kinds = {q.kind for q in QUERIES}
    assert {
        "topic",
        "typo",
        "abbrev",
        "colloquial",
        "owner",
        "number",
        "person",
        "unit",
        "traditional",
    } <= kinds
    unresolved = [q.query for q in QUERIES if gold_count(seeded_index, q) == 0]
    assert unresolved == []


def reply_of(index: SearchIndex) -> Callable[[SearchResult], str]:
    """The text the bot sends for a result (handlers.cards)."""
    names = {doc_id: doc.short_name or doc_id for doc_id, doc in index.documents.items()}
    return lambda result: result_page(result, 0, names)[0]


def test_top3_hit_rate_is_at_least_090(seeded_index: SearchIndex) -> None:
    scores = evaluate(seeded_index, QUERIES, engine_ranker(seeded_index, reply_of(seeded_index)))
    overall = scores["all"].summary()
    assert overall["top3"] >= 0.90, {k: v.summary() for k, v in scores.items()}
    for kind in ("number", "person", "unit"):
        assert scores[kind].summary()["top1"] == 1.0, kind


def test_engine_beats_plain_rapidfuzz(seeded_index: SearchIndex) -> None:
    ours = evaluate(seeded_index, QUERIES, engine_ranker(seeded_index, reply_of(seeded_index)))["all"].summary()
    baseline = evaluate(seeded_index, QUERIES, baseline_ranker(seeded_index))["all"].summary()
    assert ours["mrr5"] > baseline["mrr5"] + 0.1


def labels(index: SearchIndex, question: str, **kwargs: object) -> list[str]:
    return [h.entry.label for h in index.search(question, **kwargs).hits]  # type: ignore[arg-type]


def test_owner_question_leads_with_owner(seeded_index: SearchIndex) -> None:
    result = seeded_index.search("执法文书格式谁负责")
    assert result.intent == "topic" and result.owner_first
    assert {h.entry.label for h in result.hits[:2]} == {
        "濮阳生态环境局工作台账 第30项",
        "濮阳司法局责任分工表 第59项",
    }


def test_person_gets_everything_grouped_by_role(seeded_index: SearchIndex) -> None:
    result = seeded_index.search("李建伟负责哪些")
    assert result.intent == "owner" and result.owners == ["李建伟"]
    expected = [
        e for e in seeded_index.entries if any("李建伟" in o.persons for o in e.indicator.leads + e.indicator.coops)
    ]
    assert len(result.hits) == len(expected) > 10
    assert {h.role for h in result.hits} == {"lead"}


def test_unit_alias_and_title(seeded_index: SearchIndex) -> None:
    alias = seeded_index.search("支队")
    assert alias.intent == "owner" and alias.owners == ["市生态环境综合行政执法支队"]
    assert {h.entry.document[:3] for h in alias.hits} == {"000", "001"}
    office = seeded_index.search("办公室")
    assert {"lead", "coop"} <= {h.role for h in office.hits}  # 002 #36: 办公室配合
    title = seeded_index.search("杨科长")
    assert sorted(title.owners) == ["杨海娜", "杨英丽"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("生态局台账第12条", ["濮阳生态环境局工作台账 第12项"]),
        ("焦作那张表第20项", ["焦作生态环境局指标体系 第20项"]),
        ("司法局★3", ["濮阳司法局责任分工表 第★3项"]),
        ("打分表党委那张第5项", ["濮阳督察打分表·党委 第5项"]),
        ("（1）", ["濮阳司法局责任分工表 第（1）项"]),
        ("加分项1", ["焦作生态环境局指标体系 加分项1", "濮阳司法局责任分工表 加分项1"]),
    ],
)
def test_number_routing(seeded_index: SearchIndex, question: str, expected: list[str]) -> None:
    result = seeded_index.search(question)
    assert result.intent == "number"
    assert [h.entry.label for h in result.hits] == expected


def test_chat_document_is_searched_first(seeded_index: SearchIndex) -> None:
    doc = "002_34aef47c508b53d7"
    result = seeded_index.search("12", preferred_document="000_f49af99942824fbb")
    assert [h.entry.label for h in result.hits] == ["濮阳生态环境局工作台账 第12项"]
    assert result.scope_note == "本群绑定的文档"
    topic = seeded_index.search("执法文书格式", preferred_document=doc)
    assert {h.entry.document for h in topic.hits} == {doc}
    unbound = seeded_index.search("12")
    assert len({h.entry.document for h in unbound.hits}) > 1


@pytest.mark.parametrize(
    "question",
    ["", "   ", "？？？！！！", "😀😀😀", "<b></b>", "*__*"],
)
def test_empty_input_gets_a_hint(seeded_index: SearchIndex, question: str) -> None:
    result = seeded_index.search(question)
    assert result.intent == "empty"
    assert result.message.startswith("请输入要查询的内容")


def test_long_latin_html_and_traditional_input(seeded_index: SearchIndex) -> None:
    long = seeded_index.search("政务公开清单" * 900)  # a 5 400-character paste
    assert long.hits and "政务公开清单" in long.hits[0].entry.indicator.text
    latin = seeded_index.search("hello world")
    assert latin.intent == "topic" and latin.hits == [] and latin.suggestions
    html = seeded_index.search("<script>alert(1)</script>执法记录仪")
    assert html.hits and "执法记录仪" in html.hits[0].entry.indicator.text
    traditional = seeded_index.search("執法記錄儀誰負責")
    assert traditional.owner_first and "执法记录仪" in traditional.hits[0].entry.indicator.text


def test_no_result_suggests_headings(seeded_index: SearchIndex) -> None:
    result = seeded_index.search("hello world")
    assert result.hits == [] and len(result.suggestions) == 3


def test_honest_miss_offers_the_three_closest(seeded_index: SearchIndex) -> None:
    result = seeded_index.search("航天发射场建设")
    assert result.intent == "topic" and result.uncertain and 1 <= len(result.hits) <= 3
    text = reply_of(seeded_index)(result)
    assert text.startswith("没有找到与“航天发射场建设”明确对应的指标。下面是最接近的")


def test_json_shape(seeded_index: SearchIndex) -> None:
    data = seeded_index.search("李建伟").as_json()
    assert list(data) == ["query", "intent", "results"]
    first = data["results"][0]  # type: ignore[index]
    assert list(first) == [
        "document",
        "number",
        "key",
        "score",
        "text",
        "lead_units",
        "coop_units",
        "persons",
    ]
    assert {"name": "李建伟", "unit": "政治部"} in first["persons"]


def test_empty_index_answers_nothing() -> None:
    assert SearchIndex([]).search("执法").hits == []
