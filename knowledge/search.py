"""Chinese-aware search over indicators: "which indicator covers X, and who owns it".

Chinese has no spaces, so rapidfuzz's token scorers see one token. Instead every field
is cut into character unigrams and bigrams kept in an inverted index (numpy arrays in
CSR layout); a query's grams (plus the domain dictionary's expansions) score candidates
with field weights and IDF, and only the best candidates are re-ranked with rapidfuzz's
``partial_ratio`` for typo tolerance. Questions are routed first (see ``knowledge.intent``):
an indicator number goes straight to that indicator, a unit or person to everything they
own (from the owner fields, not from ranking), anything else is a topic.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from knowledge.aliases import AliasTable, load_aliases
from knowledge.dictionary import DomainDictionary, load_dictionary
from knowledge.entities import EntityMatcher, Slot
from knowledge.intent import Query, parse_query
from knowledge.model import ParsedDocument, ParsedIndicator
from knowledge.ngram_index import NgramPostings
from knowledge.normalize import half_width, to_simplified
from knowledge.profile import Profile
from knowledge.programme import PENDING, ProgrammeAnswer
from knowledge.programme import answer as programme_answer

FIELD_WEIGHTS = {
    "text": 3.0,
    "level2": 1.6,
    "level1": 0.6,
    "materials": 1.0,
    "criteria": 0.8,
    "methods": 0.3,
    "units": 2.0,
    "persons": 2.0,
}
UNIGRAM_FACTOR = 0.25
EXPANSION_FACTOR = 0.7
FUZZY_TEXT_CHARS = 160
CANDIDATES = 24  # best lexical candidates re-ranked with rapidfuzz
MIN_COVERAGE = 0.15  # share of the query's weighted grams an answer must contain
MIN_SCORE = 0.2
CONFIDENT_SCORE = 0.45  # below this the best hit is offered as "closest", not as the answer
UNSEEN_FACTOR = 0.5  # how much a gram no indicator has counts against coverage
FUZZY_SHARE = 0.5  # weight of rapidfuzz partial_ratio against the gram score
_DROP_RE = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Simplified Chinese, half-width, lower case, no spaces or punctuation."""
    text = to_simplified(half_width(text))
    return _DROP_RE.sub("", text.lower())


_FULL_TO_HALF = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalise_indexed(text: str) -> str:
    """Like :func:`normalise` for stored text: already simplified; full-width → half-width by table."""
    return _DROP_RE.sub("", text.translate(_FULL_TO_HALF).lower())


_CN_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_PERCENT_RE = re.compile(r"百分之([一二两三四五六七八九十百]+)")
_COUNTED_RE = re.compile(
    r"(?<![一二两三四五六七八九十])([二两三四五六七八九十][十]?[一二三四五六七八九]?)(?=[次个名人期年天日月份学])"
)


def _cn_int(text: str) -> int:
    """Small Chinese numerals: ``五`` 5, ``十五`` 15, ``四十`` 40, ``百`` 100."""
    if text == "百":
        return 100
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGIT.get(tens, 1) * 10 + _CN_DIGIT.get(ones, 0)
    return _CN_DIGIT.get(text, 0)


def plain_numbers(text: str) -> str:
    """Numbers as the tables write them: ``百分之五`` → ``5%``, ``两次`` → ``2次`` (``一`` stays:
    it is part of words like 一次办, 一公开)."""
    text = _PERCENT_RE.sub(lambda m: f"{_cn_int(m.group(1))}%", text)
    return _COUNTED_RE.sub(lambda m: str(_cn_int(m.group(1))), text)


def grams(text: str) -> set[str]:
    """Character unigrams and bigrams of normalised text."""
    return set(text) | {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True)
class Entry:
    """One searchable indicator with the labels of its document."""

    document: str
    document_name: str
    document_kind: str
    issuer: str
    indicator: ParsedIndicator

    @property
    def label(self) -> str:
        """``濮阳司法局责任分工表 第36项`` style label."""
        item = self.indicator
        table = f"{item.table}" if item.table and item.table != "附加项" else ""
        if item.key.startswith(("加分", "减分")):
            number = f"{item.key[:2]}项{item.number}"
        else:
            number = f"第{item.number}项"
        return f"{self.document_name}{('·' + table) if table else ''} {number}"


@dataclass
class Hit:
    """One result: the entry, its score (0–1) and, for owner answers, the role there."""

    entry: Entry
    score: float
    role: str = ""  # "lead" / "coop" for owner answers
    owner: str = ""


@dataclass
class SearchResult:
    """What a question resolved to."""

    query: str
    intent: str  # number | owner | programme | pending | topic | help | empty
    hits: list[Hit] = field(default_factory=list)
    owner_first: bool = False
    scope_documents: list[str] = field(default_factory=list)
    scope_note: str = ""
    owners: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    message: str = ""
    programme: ProgrammeAnswer | None = None
    uncertain: bool = False  # nothing scored well: the hits are only the closest ones

    def as_json(self) -> dict[str, object]:
        """The public shape of ``taizhang search --json``."""
        return {
            "query": self.query,
            "intent": self.intent,
            "results": [
                {
                    "document": hit.entry.document,
                    "number": hit.entry.indicator.number,
                    "key": hit.entry.indicator.key,
                    "score": round(hit.score, 4),
                    "text": hit.entry.indicator.text,
                    "lead_units": [o.unit for o in hit.entry.indicator.leads],
                    "coop_units": [o.unit for o in hit.entry.indicator.coops],
                    "persons": [
                        {"name": p, "unit": o.unit}
                        for o in hit.entry.indicator.leads + hit.entry.indicator.coops
                        for p in o.persons
                    ],
                }
                for hit in self.hits
            ],
        }


class SearchIndex:
    """An immutable index over entries; rebuild (cheaply) after an import."""

    def __init__(
        self,
        documents: Sequence[ParsedDocument],
        *,
        dictionary: DomainDictionary | None = None,
        aliases: AliasTable | None = None,
        profiles: Sequence[Profile] = (),
    ) -> None:
        started = time.perf_counter()
        self.dictionary = dictionary or load_dictionary()
        self.aliases = aliases or load_aliases()
        self.documents = {d.doc_id: d for d in documents}
        self.profiles = list(profiles)
        self.entries: list[Entry] = [
            Entry(d.doc_id, d.short_name or d.doc_id, d.kind, d.issuer, item)
            for d in documents
            for item in d.indicators
        ]
        rows: list[list[str]] = []
        self._texts: list[str] = []
        for entry in self.entries:
            fields = self._fields(entry.indicator)
            rows.append([fields[name] for name in FIELD_WEIGHTS])
            # What rapidfuzz compares against: the text's start and the heading (bounded: partial_ratio is O(n·m)).
            self._texts.append(fields["text"][:FUZZY_TEXT_CHARS] + (fields["level2"] or fields["level1"]))
        self._grams = NgramPostings(rows, list(FIELD_WEIGHTS.values()), UNIGRAM_FACTOR)
        self._known_words: dict[str, bool] = {}
        self.entities = EntityMatcher(documents, self.aliases, self.dictionary.titles)
        self._owned: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self._by_key: dict[str, list[int]] = {}
        codes = {doc_id: code for code, doc_id in enumerate(self.documents)}
        self._document_codes = np.fromiter(
            (codes[e.document] for e in self.entries), dtype=np.int32, count=len(self.entries)
        )
        for index, entry in enumerate(self.entries):
            self._by_key.setdefault(entry.indicator.key, []).append(index)
            for role, group in (("lead", entry.indicator.leads), ("coop", entry.indicator.coops)):
                seen: set[tuple[str, str]] = set()
                for owner in group:
                    for slot in [("unit", owner.unit)] + [("person", p) for p in owner.persons]:
                        if slot not in seen:
                            seen.add(slot)
                            self._owned.setdefault(slot, []).append((index, role))
        headings = sorted({h for h in (e.indicator.level2 or e.indicator.level1 for e in self.entries) if h})
        self._suggestible = (headings, [normalise(h) for h in headings])
        self.build_seconds = time.perf_counter() - started

    # ------------------------------------------------------------------ building
    @staticmethod
    def _fields(item: ParsedIndicator) -> dict[str, str]:
        owners = item.leads + item.coops
        return {
            "text": normalise_indexed(item.text),
            "level2": normalise_indexed(item.level2),
            "level1": normalise_indexed(item.level1),
            "materials": normalise_indexed(item.materials[:300]),
            "criteria": normalise_indexed(item.criteria[:300]),
            "methods": normalise_indexed("".join(item.methods)),
            "units": normalise_indexed("".join(o.unit for o in owners)),
            "persons": normalise_indexed("".join(p for o in owners for p in o.persons)),
        }

    @property
    def size(self) -> int:
        return len(self.entries)

    # ------------------------------------------------------------------ querying
    def search(
        self,
        question: str,
        *,
        limit: int = 10,
        documents: Iterable[str] | None = None,
        preferred_document: str | None = None,
    ) -> SearchResult:
        """Answer one question; ``documents`` restricts the scope, ``preferred_document`` tries first."""
        query = parse_query(question, self.dictionary, self.entities)
        result = SearchResult(query=query.raw, intent=query.intent, owner_first=query.owner_first)
        if query.intent in ("empty", "help"):
            result.message = query.message
            return result
        scope = set(documents) if documents else None
        if query.documents:
            scope = set(query.documents) & scope if scope else set(query.documents)
        if query.intent == "number":
            return self._by_number(query, result, scope, preferred_document, limit)
        if query.intent == "programme":
            return self._programme(query, result, scope, preferred_document)
        if query.intent == "owner":
            owner_scope = set(query.owner_documents) & scope if scope else set(query.owner_documents)
            result.owners = [name for _, name in query.owners]
            result.hits = self._owned_by(query.owners, owner_scope or scope)
            result.scope_documents = sorted({h.entry.document for h in result.hits})
            return result
        result.intent = "topic"
        query.topic, query.expansions = self._rewrite(query.topic)
        if preferred_document and not query.documents and (scope is None or preferred_document in scope):
            local = self._rank(query, {preferred_document}, limit)
            if local and local[0].score >= 0.35:
                result.hits = local
                result.scope_documents = [preferred_document]
                result.scope_note = "本群绑定的文档"
                return result
        result.hits = self._rank(query, scope, limit)
        result.scope_documents = sorted(scope) if scope else sorted(self.documents)
        if not result.hits:
            result.suggestions = self.suggest(query.topic)
        elif result.hits[0].score < CONFIDENT_SCORE:
            result.uncertain = True
            result.hits = result.hits[:3]
        return result

    def _programme(
        self, query: Query, result: SearchResult, scope: set[str] | None, preferred: str | None
    ) -> SearchResult:
        """A question about the programme: the profiles' answer (or ``pending`` for the handler)."""
        if query.programme_topic == PENDING:
            result.intent = PENDING
            return result
        wanted = sorted(scope) if scope else query.named_documents
        answer = programme_answer(query.programme_topic, query.scanned, self.profiles, self.documents, wanted)
        if preferred and not wanted:
            name = self.documents[preferred].short_name if preferred in self.documents else ""
            answer.lines.sort(key=lambda line: line.document != name)
        result.programme = answer
        result.scope_documents = wanted
        return result

    def _rewrite(self, topic: str) -> tuple[str, list[str]]:
        """The topic in the indicators' wording, and further formal terms to look for.

        A glossary word no indicator uses (``一把手``) is replaced by its first formal term;
        one the indicators also use (``复议``) stays and its terms are added.
        """
        expansions: list[str] = []
        for word, entry in self.dictionary.glossary.find(topic):
            if not self._known(word):
                topic = topic.replace(word, entry.means[0])
                extra = entry.means[1:]
            else:
                extra = entry.means
            expansions += [term for term in extra if term not in expansions]
        return plain_numbers(topic), expansions

    def _known(self, word: str) -> bool:
        """Whether some indicator contains every bigram of ``word`` (cached per word)."""
        cached = self._known_words.get(word)
        if cached is None:
            text = normalise(word)
            common: NDArray[np.int32] | None = None
            for gram in {text[i : i + 2] for i in range(len(text) - 1)}:
                found = self._grams.lookup(gram)
                if found is None:
                    common = np.zeros(0, dtype=np.int32)
                    break
                common = found[0] if common is None else np.intersect1d(common, found[0], assume_unique=True)
            cached = common is not None and common.size > 0
            self._known_words[word] = cached
        return cached

    def _allowed(self, scope: set[str] | None) -> NDArray[np.bool_] | None:
        if scope is None:
            return None
        codes = [code for code, doc_id in enumerate(self.documents) if doc_id in scope]
        return np.isin(self._document_codes, np.asarray(codes, dtype=np.int32))

    def _rank(self, query: Query, scope: set[str] | None, limit: int) -> list[Hit]:
        if not self.entries or not query.topic:
            return []
        scores = np.zeros(len(self.entries), dtype=np.float32)
        best_possible = 0.0
        weighted_grams: dict[str, float] = {}
        for term, factor in [(query.topic, 1.0)] + [(t, EXPANSION_FACTOR) for t in query.expansions]:
            for gram in grams(normalise_indexed(term)):  # already simplified by parse_query / the glossary
                factor_here = factor if len(gram) == 2 else factor * UNIGRAM_FACTOR
                weighted_grams[gram] = max(weighted_grams.get(gram, 0.0), factor_here)
        unseen_idf = float(np.log1p(len(self.entries)))
        for gram, factor in weighted_grams.items():
            found = self._grams.lookup(gram)
            idf = found[2] if found else unseen_idf
            best_possible += factor * idf * FIELD_WEIGHTS["text"] * (1.0 if found else UNSEEN_FACTOR)
            if found is not None:
                scores[found[0]] += found[1] * (idf * factor)
        allowed = self._allowed(scope)
        if allowed is not None:
            scores[~allowed] = 0.0
        if best_possible <= 0:
            return []
        # Only answers containing enough of the question's weighted grams (not just “建设”, “工作”).
        eligible = int(np.count_nonzero(scores >= MIN_COVERAGE * best_possible))
        if not eligible:
            return []
        count = min(CANDIDATES, eligible)
        candidates = np.argpartition(-scores, count - 1)[:count]
        lexical = np.minimum(scores[candidates] / best_possible, 1.0)
        needle = normalise_indexed(query.topic)
        ranked: list[tuple[float, int]] = []
        for index, share in zip(candidates.tolist(), lexical.tolist(), strict=True):
            fuzzy = fuzz.partial_ratio(needle, self._texts[index]) / 100.0
            ranked.append(((1 - FUZZY_SHARE) * share + FUZZY_SHARE * fuzzy, index))
        ranked.sort(key=lambda pair: (-pair[0], pair[1]))
        floor = max(MIN_SCORE, ranked[0][0] * 0.5)
        return [Hit(self.entries[index], score) for score, index in ranked[:limit] if score >= floor]

    def _by_number(
        self,
        query: Query,
        result: SearchResult,
        scope: set[str] | None,
        preferred: str | None,
        limit: int,
    ) -> SearchResult:
        matches = [
            e
            for e in (self.entries[i] for i in self._by_key.get(query.number_key, []))
            if (scope is None or e.document in scope) and (not query.table or e.indicator.table == query.table)
        ]
        if preferred and not query.documents:
            local = [e for e in matches if e.document == preferred]
            if local:
                matches, result.scope_note = local, "本群绑定的文档"
        result.hits = [Hit(e, 1.0) for e in matches[:limit]]
        result.scope_documents = sorted({e.document for e in matches})
        if not matches:
            result.message = f"没有找到编号为 {query.number_key} 的指标"
        return result

    def _owned_by(self, owners: list[Slot], scope: set[str] | None) -> list[Hit]:
        hits: list[Hit] = []
        for kind, name in owners:
            claimed: set[int] = set()
            for index, role in self._owned.get((kind, name), []):
                entry = self.entries[index]
                if index in claimed or (scope is not None and entry.document not in scope):
                    continue
                claimed.add(index)  # lead wins over coop for the same indicator
                hits.append(Hit(entry, 1.0, role=role, owner=name))
        return hits

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """Closest headings for a question with no result."""
        headings, normalised = self._suggestible
        if not headings or not text:
            return headings[:limit]
        matches = process.extract(normalise(text), normalised, scorer=fuzz.partial_ratio, limit=limit)
        return [headings[index] for _, _, index in matches]

    def find(self, indicator_id: int) -> Entry | None:
        """The entry of a stored indicator id (for 详情 buttons)."""
        return next((e for e in self.entries if e.indicator.db_id == indicator_id), None)
