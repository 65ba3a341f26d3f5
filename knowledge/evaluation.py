"""Measuring search quality on a labelled query set (used by the quality test and the benchmark).

Two gold dialects are read:

* the project's tuning set (``tests/data/queries.tsv``): ``t:短语`` (every indicator whose
  text contains the phrase), ``k:文档前缀:表:编号``, ``n:编号[@文档前缀[:表]]`` and
  ``o:单位/人员`` (every answer must be owned by one of the names);
* the frozen held-out set (``tests/data/heldout_queries.tsv``): ``t:短语@文档[/表]``,
  ``o:单位@文档`` (the answer must be that owner's complete list in the document),
  ``a:关键词`` (programme questions: every keyword must appear in the answer text) and
  ``-`` (a greeting: a usage reply counts).

Both are scored from an :class:`Answer`: the ranked indicators plus the text the bot sends.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge.normalize import half_width
from knowledge.search import Entry, SearchIndex, normalise

HELP_INTENTS = frozenset({"help", "empty"})
_TAG_RE = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class LabelledQuery:
    """One line of a query set (a fourth ``source`` column is ignored)."""

    kind: str
    query: str
    gold: tuple[str, ...]


@dataclass
class Answer:
    """What a ranker returned for a question: ranked entries, the reply text, the intent."""

    entries: list[Entry]
    text: str = ""
    intent: str = ""


def load_queries(path: Path) -> list[LabelledQuery]:
    """Read a tab-separated query set (``#`` lines are comments)."""
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, query, gold = line.split("\t")[:3]
        queries.append(LabelledQuery(kind, query, tuple(g.strip() for g in gold.split(";") if g.strip())))
    return queries


def plain(text: str) -> str:
    """Reply text for keyword checks: no tags or whitespace, half-width, lower case."""
    return re.sub(r"\s+", "", half_width(html.unescape(_TAG_RE.sub("", text)))).lower()


def _owner_names(index: SearchIndex, names: set[str], document: str) -> set[str]:
    """The names plus their canonical forms within ``document``."""
    return names | {index.aliases.canonical(document, n) for n in names}


def _owned_by(index: SearchIndex, entry: Entry, names: set[str]) -> bool:
    wanted = _owner_names(index, names, entry.document)
    owners = entry.indicator.leads + entry.indicator.coops
    return any(o.unit in wanted or wanted & set(o.persons) for o in owners)


def _split_where(gold: str) -> tuple[str, str, str | None]:
    """``短语@002/党委`` → (短语, 002, 党委)."""
    value, _, where = gold.partition("@")
    document, _, table = where.partition("/")
    return value, document, table or None


def gold_matcher(index: SearchIndex, labelled: LabelledQuery) -> Callable[[Entry], bool]:
    """A predicate telling whether a result entry is an acceptable answer."""
    owners: list[tuple[str, str]] = []
    phrases: list[tuple[str, str, str | None]] = []
    keys: list[tuple[str, str, str | None]] = []
    for gold in labelled.gold:
        if gold.startswith("o:"):
            name, document, _ = _split_where(gold[2:])
            owners.append((name, document))
        elif gold.startswith("t:"):
            phrase, document, table = _split_where(gold[2:])
            phrases.append((normalise(phrase), document, table))
        elif gold.startswith("k:"):
            doc, table, key = gold[2:].split(":")
            keys.append((doc, key, table))
        elif gold.startswith("n:"):
            key, _, where = gold[2:].partition("@")
            doc, _, table = where.partition(":")
            keys.append((doc, key, table or None))

    def matches(entry: Entry) -> bool:
        if owners:
            return any(entry.document.startswith(d) and _owned_by(index, entry, {n}) for n, d in owners)
        text = normalise(entry.indicator.text)
        if any(
            p in text and entry.document.startswith(d) and (t is None or entry.indicator.table == t)
            for p, d, t in phrases
        ):
            return True
        return any(
            entry.indicator.key == key
            and entry.document.startswith(doc)
            and (table is None or entry.indicator.table == table)
            for doc, key, table in keys
        )

    return matches


def gold_count(index: SearchIndex, labelled: LabelledQuery) -> int:
    """How many indicators are acceptable answers (0 means the label is wrong)."""
    if is_programme(labelled) or is_greeting(labelled):
        return 1
    matches = gold_matcher(index, labelled)
    return sum(1 for e in index.entries if matches(e))


def is_programme(labelled: LabelledQuery) -> bool:
    return any(g.startswith("a:") for g in labelled.gold)


def is_greeting(labelled: LabelledQuery) -> bool:
    return labelled.gold == ("-",)


def is_owner_list(labelled: LabelledQuery) -> bool:
    """An owner question of the held-out dialect (``o:名称@文档``): recall is measured."""
    return any(g.startswith("o:") and "@" in g for g in labelled.gold)


@dataclass
class Scores:
    """Top-1, top-3, MRR@5 and (for owner lists) recall over some queries."""

    count: int = 0
    top1: float = 0.0
    top3: float = 0.0
    mrr5: float = 0.0
    recall_sum: float = 0.0
    recall_count: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, rank: int | None, query: str = "") -> None:
        self.count += 1
        if rank is not None:
            self.top1 += rank == 1
            self.top3 += rank <= 3
            self.mrr5 += 1.0 / rank if rank <= 5 else 0.0
        if rank != 1 and query:
            self.misses.append(query)

    def add_recall(self, recall: float) -> None:
        self.recall_sum += recall
        self.recall_count += 1

    def summary(self) -> dict[str, float]:
        n = max(self.count, 1)
        result = {"n": self.count, "top1": self.top1 / n, "top3": self.top3 / n, "mrr5": self.mrr5 / n}
        if self.recall_count:
            result["recall"] = self.recall_sum / self.recall_count
        return result


Ranker = Callable[[str], Answer]


def first_hit_rank(results: Sequence[Entry], matches: Callable[[Entry], bool]) -> int | None:
    """1-based rank of the first acceptable answer, if any."""
    for rank, entry in enumerate(results[:5], 1):
        if matches(entry):
            return rank
    return None


def _owner_recall(index: SearchIndex, labelled: LabelledQuery, answer: Answer) -> float:
    matches = gold_matcher(index, labelled)
    wanted = {id(e) for e in index.entries if matches(e)}
    if not wanted:
        return 0.0
    got = {id(e) for e in answer.entries} & wanted
    return len(got) / len(wanted)


def _names_owner(entry: Entry, text: str) -> bool:
    """Whether a reply names the entry's owner (its lead units, else any owner)."""
    owners = entry.indicator.leads or entry.indicator.coops
    return not owners or any(plain(o.unit) in text for o in owners)


def score_one(index: SearchIndex, labelled: LabelledQuery, answer: Answer) -> tuple[int | None, float | None]:
    """(rank of the first acceptable answer or None, owner-list recall where measured)."""
    if is_greeting(labelled):
        return (1 if answer.intent in HELP_INTENTS else None), None
    if is_programme(labelled):
        text = plain(answer.text)
        keywords = [plain(g[2:]) for g in labelled.gold if g.startswith("a:")]
        return (1 if text and all(k in text for k in keywords) else None), None
    matches = gold_matcher(index, labelled)
    if is_owner_list(labelled):
        recall = _owner_recall(index, labelled, answer)
        return (1 if recall == 1.0 else first_hit_rank(answer.entries, matches) and 2), recall
    rank = first_hit_rank(answer.entries, matches)
    if rank is not None and labelled.kind == "who" and not _names_owner(answer.entries[rank - 1], plain(answer.text)):
        rank = None
    return rank, None


def evaluate(index: SearchIndex, queries: Sequence[LabelledQuery], ranker: Ranker) -> dict[str, Scores]:
    """Scores per kind and overall (key ``all``)."""
    scores: dict[str, Scores] = defaultdict(Scores)
    for labelled in queries:
        rank, recall = score_one(index, labelled, ranker(labelled.query))
        for key in (labelled.kind, "all"):
            scores[key].add(rank, labelled.query)
            if recall is not None:
                scores[key].add_recall(recall)
    return dict(scores)


def engine_ranker(index: SearchIndex, reply: Callable[..., str] | None = None) -> Ranker:
    """Our search engine; ``reply`` renders a result as the bot's reply text (handlers.cards)."""

    def rank(query: str) -> Answer:
        result = index.search(query, limit=200)
        text = reply(result) if reply else ""
        return Answer([hit.entry for hit in result.hits], text, result.intent)

    return rank


def baseline_ranker(index: SearchIndex) -> Ranker:
    """A plain ``rapidfuzz.process.extract`` over the indicator texts (default WRatio scorer)."""
    texts = [e.indicator.text for e in index.entries]

    def rank(query: str) -> Answer:
        found = process.extract(query, texts, scorer=fuzz.WRatio, limit=5)
        return Answer([index.entries[position] for _, _, position in found])

    return rank
