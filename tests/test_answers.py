"""Issue 15: entity-first questions, complete owner lists, numbers in free word order,
programme answers with their source, the glossary's sources, and the CLI's ``answer``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.cards import result_page
from knowledge.entities import scan_form
from knowledge.evaluation import plain
from knowledge.glossary import load_glossary
from knowledge.intent import HELP_TEXT, parse_query
from knowledge.search import Entry, SearchIndex, SearchResult, normalise

ROOT = Path(__file__).resolve().parent.parent


def reply(index: SearchIndex, question: str) -> tuple[SearchResult, str]:
    names = {doc_id: doc.short_name or doc_id for doc_id, doc in index.documents.items()}
    result = index.search(question, limit=200)
    return result, result_page(result, 0, names)[0]


def owned(index: SearchIndex, name: str, document: str = "") -> list[Entry]:
    """Every entry a unit or person owns (lead or cooperating), from the table itself."""
    return [
        e
        for e in index.entries
        if e.document.startswith(document)
        and any(o.unit == name or name in o.persons for o in e.indicator.leads + e.indicator.coops)
    ]


@pytest.mark.parametrize(
    ("question", "owner", "document"),
    [
        ("刘建设手里有几项", "刘建设", "001"),
        ("办公室都管哪些事", "办公室", ""),
        ("固体科要干啥", "固体科", "000"),
        ("焦作那边支队负责的", "市生态环境综合行政执法支队", "001"),
        ("司法局政治部的活", "政治部", "002"),
        ("援助科负责啥", "法律援助工作科", "002"),
    ],
)
def test_owner_named_inside_a_sentence_gets_the_complete_list(
    seeded_index: SearchIndex, question: str, owner: str, document: str
) -> None:
    result, text = reply(seeded_index, question)
    assert result.intent == "owner" and result.owners == [owner]
    expected = owned(seeded_index, owner, document)
    assert expected and sorted(id(h.entry) for h in result.hits) == sorted(id(e) for e in expected)
    leads = sum(1 for h in result.hits if h.role == "lead")
    assert text.startswith(
        f"👤 <b>{owner}</b> 负责的指标共 {len(expected)} 项：牵头 {leads} 项，配合 {len(expected) - leads} 项"
    )
    for name in {h.entry.document_name for h in result.hits}:
        assert f"\n<b>{name}</b>\n" in text  # grouped by document


def test_two_owners_and_report_words_still_ask_for_lists(seeded_index: SearchIndex) -> None:
    result = seeded_index.search("法规科和综合科分别负责什么")
    assert result.intent == "owner" and result.owners == ["法规科", "综合科"]
    expected = {id(e) for name in ("法规科", "综合科") for e in owned(seeded_index, name)}
    assert {id(h.entry) for h in result.hits} == expected
    result = seeded_index.search("人事科要报哪些材料")
    assert result.intent == "owner" and len(result.hits) == len(owned(seeded_index, "人事科"))


def test_surname_with_title_lists_every_matching_person(seeded_index: SearchIndex) -> None:
    result, text = reply(seeded_index, "王科长负责的")
    assert result.intent == "owner"
    assert sorted(result.owners) == ["王壮凯", "王奇锦", "王海峰"]
    for person in result.owners:
        assert f"👤 <b>{person}</b>（{len(owned(seeded_index, person))} 项）" in text


def test_a_unit_name_inside_a_topic_stays_a_topic(seeded_index: SearchIndex) -> None:
    result = seeded_index.search("支持法院受理行政案件")
    assert result.intent == "topic"
    assert "受理" in result.hits[0].entry.indicator.text


@pytest.mark.parametrize(
    ("question", "document", "table", "key"),
    [
        ("打分表里政府那张的第5项", "004", "政府", "5"),
        ("党委那张打分表第十二项", "004", "党委", "12"),
        ("司法局那张表带星的第2条", "002", "", "★2"),
        ("司法局那张表括号20", "002", "", "(20)"),
        ("焦作那张表第四十三项", "001", "", "43"),
        ("第60项生态局台账的", "000", "", "60"),
        ("司法局加分项第2条", "002", "附加项", "加分2"),
    ],
)
def test_numbers_with_document_hints_in_any_order(
    seeded_index: SearchIndex, question: str, document: str, table: str, key: str
) -> None:
    result = seeded_index.search(question)
    assert result.intent == "number"
    [hit] = result.hits
    assert hit.entry.document.startswith(document) and hit.entry.indicator.key == key
    assert not table or hit.entry.indicator.table == table


def test_programme_deadline_answer_quotes_each_document(seeded_index: SearchIndex) -> None:
    result, text = reply(seeded_index, "每月几号前交")
    assert result.intent == "programme"
    assert text.startswith("📌 <b>报送时间和报送对象</b>\n\n<b>濮阳生态环境局工作台账</b>：每月3日前报送上月完成情况")
    assert "交法规科；法规科每月5日前汇总上报市法治政府建设领导小组办公室。" in text
    assert "<b>濮阳司法局责任分工表</b>：每月1日前报送上月完成情况" in text
    assert "<i>来源：说明:1.工作台账随同上报材料每月1日前一并提交</i>" in text


def test_programme_contacts_with_phones(seeded_index: SearchIndex) -> None:
    _, text = reply(seeded_index, "督导检查组组长电话多少")
    assert "督导检查组组长：刘国，电话 8166989、13781385255。" in text
    assert "来源：组织领导：领导小组及工作专班名单" in text


def test_programme_classified_material_and_note_length(seeded_index: SearchIndex) -> None:
    _, text = reply(seeded_index, "涉密材料要不要上传")
    assert "<b>焦作生态环境局指标体系</b>：涉密材料不上传，在实地核验时提供。" in text
    assert "<i>来源：涉密的材料不上传,在实地核验时提供</i>" in text
    assert "涉密材料不在系统上提供，确需提供的可以提供纸质材料。" in text
    _, text = reply(seeded_index, "司法局情况说明最多写多少字")
    assert "<b>濮阳司法局责任分工表</b>：情况说明一般不超过500字，最多不超过1000字" in text
    assert "焦作" not in text  # the question named the document


def test_programme_question_the_documents_do_not_answer(seeded_index: SearchIndex) -> None:
    result, text = reply(seeded_index, "县委那边情况说明多少字")
    assert result.programme is not None and result.programme.lines == []
    assert text == "📌 <b>情况说明字数</b>\n文件里没有写明这一点。可以点下方按钮把问题转给协调人。"


def test_pending_needs_the_asker(seeded_index: SearchIndex) -> None:
    result, text = reply(seeded_index, "我们科还有哪些没报")
    assert result.intent == "pending"
    assert text.startswith("要查看本单位本期还有哪些没报，请先用 /join 登记所属单位")


@pytest.mark.parametrize(
    "greeting", ["你好", "在吗", "你能干什么", "谢谢！", "怎么用", "有人吗", "你好，请问这个机器人能查什么"]
)
def test_greetings_get_the_short_help(seeded_index: SearchIndex, greeting: str) -> None:
    result, text = reply(seeded_index, greeting)
    assert result.intent == "help" and text == HELP_TEXT


def test_colloquial_words_are_read_in_the_documents_wording(seeded_index: SearchIndex) -> None:
    query = parse_query("一把手出庭应诉", seeded_index.dictionary, seeded_index.entities)
    topic, expansions = seeded_index._rewrite(query.topic)
    assert topic == "主要负责人出庭应诉"  # no indicator says 一把手
    assert "党政主要负责人" in expansions
    topic, _ = seeded_index._rewrite("行政复议")  # a word the indicators use stays
    assert topic == "行政复议"
    assert seeded_index._rewrite("培训要够四十个学时")[0] == "培训要够40个学时"


_CITATION_RE = re.compile(r"文件用语：(\d{3}) (第\S+?项|加分项\d|减分项\d)“([^”]+)”")


def test_every_glossary_entry_names_its_source_and_quotes_resolve(seeded_index: SearchIndex) -> None:
    glossary = load_glossary()
    assert len(glossary.entries) >= 80
    for entry in glossary.entries:
        assert entry.words and entry.means, entry
        assert entry.source.startswith(("文件用语：", "公共术语：")), entry
        for document, label, phrase in _CITATION_RE.findall(entry.source):
            found = [
                e
                for e in seeded_index.entries
                if e.document.startswith(document)
                and e.label.endswith(" " + label)
                and normalise(phrase) in normalise(e.indicator.text + e.indicator.level2 + e.indicator.materials)
            ]
            assert found, (entry.words, document, label, phrase)


def test_scan_form_keeps_brackets_and_stars() -> None:
    assert scan_form("县（区）司法局 ★3，") == "县(区)司法局★3"


def test_cli_search_json_has_the_exact_answer(seeded_db_url: str, seeded_index: SearchIndex, tmp_path: Path) -> None:
    questions = "督导检查组组长电话多少\n法规科管哪些\n"
    completed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "search", "--stdin"],
        cwd=tmp_path,
        env={**os.environ, "TAIZHANG_DATABASE_URL": seeded_db_url, "PYTHONPATH": str(ROOT)},
        input=questions,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    first, second = (json.loads(line) for line in completed.stdout.splitlines())
    assert first["intent"] == "programme" and first["answer"] == reply(seeded_index, "督导检查组组长电话多少")[1]
    assert "13781385255" in plain(first["answer"])
    assert second["intent"] == "owner" and second["answer"] == reply(seeded_index, "法规科管哪些")[1]
    assert len(second["results"]) == len(owned(seeded_index, "法规科"))
