"""Measuring search quality on a labelled query set (used by the quality test and the benchmark).

Gold answers are written as ``t:短语`` (every indicator whose text contains the phrase),
``k:文档前缀:表:编号``, ``n:编号[@文档前缀[:表]]`` (a number question) or ``o:单位/人员``
(an owner question: every answer must be owned by one of the names).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge.search import Entry, SearchIndex, normalise


@dataclass(frozen=True)
class LabelledQuery:
    """One line of the query set."""

    kind: str
    query: str
    gold: tuple[str, ...]


def load_queries(path: Path) -> list[LabelledQuery]:
    """Read the tab-separated query set (``#`` lines are comments)."""
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, query, gold = line.split("\t")
        queries.append(LabelledQuery(kind, query, tuple(g.strip() for g in gold.split(";") if g.strip())))
    return queries


def _owned_by(entry: Entry, names: set[str]) -> bool:
    owners = entry.indicator.leads + entry.indicator.coops
    return any(o.unit in names or names & set(o.persons) for o in owners)


def gold_matcher(index: SearchIndex, labelled: LabelledQuery) -> Callable[[Entry], bool]:
    """A predicate telling whether a result entry is an acceptable answer."""
    owners = {g[2:] for g in labelled.gold if g.startswith("o:")}
    phrases = [normalise(g[2:]) for g in labelled.gold if g.startswith("t:")]
    keys: list[tuple[str, str, str | None]] = []
    for gold in labelled.gold:
        if gold.startswith("k:"):
            doc, table, key = gold[2:].split(":")
            keys.append((doc, key, table))
        elif gold.startswith("n:"):
            key, _, where = gold[2:].partition("@")
            doc, _, table = where.partition(":")
            keys.append((doc, key, table or None))

    def matches(entry: Entry) -> bool:
        if owners:
            return _owned_by(entry, owners)
        text = normalise(entry.indicator.text)
        if any(p in text for p in phrases):
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
    matches = gold_matcher(index, labelled)
    return sum(1 for e in index.entries if matches(e))


@dataclass
class Scores:
    """Top-1, top-3 and MRR@5 over some queries."""

    count: int = 0
    top1: float = 0.0
    top3: float = 0.0
    mrr5: float = 0.0

    def add(self, rank: int | None) -> None:
        self.count += 1
        if rank is not None:
            self.top1 += rank == 1
            self.top3 += rank <= 3
            self.mrr5 += 1.0 / rank if rank <= 5 else 0.0

    def summary(self) -> dict[str, float]:
        n = max(self.count, 1)
        return {"n": self.count, "top1": self.top1 / n, "top3": self.top3 / n, "mrr5": self.mrr5 / n}


Ranker = Callable[[str], Sequence[Entry]]


def first_hit_rank(results: Sequence[Entry], matches: Callable[[Entry], bool]) -> int | None:
    """1-based rank of the first acceptable answer, if any."""
    for rank, entry in enumerate(results[:5], 1):
        if matches(entry):
            return rank
    return None


def evaluate(index: SearchIndex, queries: Sequence[LabelledQuery], ranker: Ranker) -> dict[str, Scores]:
    """Scores per kind and overall (key ``all``)."""
    scores: dict[str, Scores] = defaultdict(Scores)
    for labelled in queries:
        rank = first_hit_rank(ranker(labelled.query), gold_matcher(index, labelled))
        scores[labelled.kind].add(rank)
        scores["all"].add(rank)
    return dict(scores)


def engine_ranker(index: SearchIndex) -> Ranker:
    """Our search engine."""
    return lambda query: [hit.entry for hit in index.search(query, limit=5).hits]


def baseline_ranker(index: SearchIndex) -> Ranker:
    """A plain ``rapidfuzz.process.extract`` over the indicator texts (default WRatio scorer)."""
    texts = [e.indicator.text for e in index.entries]

    def rank(query: str) -> list[Entry]:
        found = process.extract(query, texts, scorer=fuzz.WRatio, limit=5)
        return [index.entries[position] for _, _, position in found]

    return rank
