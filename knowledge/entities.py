"""Entity-first reading of a question: every unit, person, title and document it mentions.

Names come from the indicators' owner fields (units and persons), the alias file and the
documents' own aliases, plus short forms staff use for long unit names (``法制仲裁科`` →
``仲裁科``, ``县(区)司法局`` → ``县司法局``; a short form is kept only when it names exactly
one unit). Document mentions (``焦作``, ``司法局那张表``, ``打分表``) come from the hint
table. A question is scanned once, left to right, taking the longest known name at each
position; a longer name beats the shorter names inside it (``县司法局`` is a unit, not the
document hint ``司法局``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from knowledge.aliases import AliasTable
from knowledge.model import ParsedDocument
from knowledge.normalize import half_width, to_simplified

Slot = tuple[str, str]  # ("unit" | "person", canonical name)

DocumentTest = Callable[[ParsedDocument], bool]
# Ways staff name a document (its issuer, kind or the words of its title).
DOCUMENT_NAMES: tuple[tuple[tuple[str, ...], DocumentTest], ...] = (
    (("焦作",), lambda d: "焦作" in d.issuer),
    (("生态环境局", "生态局", "环保局", "环境局", "生态环境"), lambda d: "生态环境" in d.issuer),
    (("司法局",), lambda d: "司法局" in d.issuer),
    (("县委", "濮阳县", "一体建设"), lambda d: "县委" in d.issuer),
    (("打分表", "督察", "依法治市办", "依法治市", "评分表"), lambda d: d.kind == "scoring"),
    (("工作台账", "台账"), lambda d: d.kind == "ledger"),
    (("分工表", "责任分工表"), lambda d: d.kind == "duty_table"),
    (("指标体系",), lambda d: d.kind == "indicator_system"),
)
# Words every programme uses for its own tables: they pick a document for a number, not for
# a question about the programme (``台账交给谁`` asks every programme).
KIND_WORDS = frozenset({"工作台账", "台账", "分工表", "责任分工表", "指标体系"})
# The same table as (regular expression, test) pairs, for readers of free text (knowledge.report_line).
DOCUMENT_HINTS: tuple[tuple[str, DocumentTest], ...] = tuple(
    ("|".join(sorted(words, key=len, reverse=True)), test) for words, test in DOCUMENT_NAMES
)
# A unit name is only looked for if it reads like one (the 004 table has cells like “执法”).
_UNIT_END_RE = re.compile(r"(科|室|部|队|办|局|委|院|会|组|中心|单位|所|站|处|庭|党委|法工委|分局)$")
_SCAN_DROP_RE = re.compile(r"[^\w()★]+|_", re.UNICODE)
_SHORT_CORE_RE = re.compile(r"(管理科|工作科|科)$")
_REGION_PREFIXES = ("县(区)", "县区")


def scan_form(text: str) -> str:
    """The form names and questions are compared in: simplified, half-width, lower case,
    no spaces or punctuation except ``()`` and ``★``."""
    return _SCAN_DROP_RE.sub("", to_simplified(half_width(text)).lower())


@dataclass(frozen=True)
class Mention:
    """One name found in a question: where, what it was, what it names."""

    start: int
    end: int
    surface: str
    kind: str  # unit | person | title | document
    slots: tuple[Slot, ...] = ()
    documents: tuple[str, ...] = ()


class EntityMatcher:
    """Longest-match lookup of known names in a question."""

    def __init__(
        self,
        documents: Sequence[ParsedDocument],
        aliases: AliasTable,
        titles: Iterable[str],
    ) -> None:
        self._names: dict[str, tuple[str, set[Slot], set[str], bool]] = {}  # kind, slots, documents, derived
        owned: dict[str, dict[str, set[str]]] = {}  # unit → document → persons
        for document in documents:
            for item in document.indicators:
                for owner in item.leads + item.coops:
                    owned.setdefault(owner.unit, {}).setdefault(document.doc_id, set()).update(owner.persons)
        for words, test in DOCUMENT_NAMES:
            docs = {d.doc_id for d in documents if test(d)}
            for word in words:
                if docs:
                    self._add(word, "document", set(), docs)
        persons: dict[str, set[str]] = {}
        for unit, by_document in owned.items():
            docs = set(by_document)
            if _UNIT_END_RE.search(unit):
                self._add(unit, "unit", {("unit", unit)}, docs)
                if unit.startswith(_REGION_PREFIXES):
                    bare = unit.split(")", 1)[-1] if "(" in unit else unit[2:]
                    for prefix in ("县", "区", "县区"):
                        self._add(prefix + bare, "unit", {("unit", unit)}, docs, weak=True)
                    if len(bare) >= 4:  # 人大常委会人选工委; not 司法局, 法院 (too generic alone)
                        self._add(bare, "unit", {("unit", unit)}, docs, weak=True)
            for doc_id, names in by_document.items():
                for name in names:
                    persons.setdefault(name, set()).add(doc_id)
        for name, docs in persons.items():
            self._add(name, "person", {("person", name)}, docs)
        for document in documents:
            known = {u for u, by_doc in owned.items() if document.doc_id in by_doc}
            table = aliases.for_document(document.doc_id) | dict(document.unit_aliases)
            for alias, canonical in table.items():
                if canonical in known:
                    self._add(alias, "unit", {("unit", canonical)}, {document.doc_id})
        self._add_short_forms(owned)
        self._surnames: dict[str, set[Slot]] = {}
        for name in persons:
            self._surnames.setdefault(scan_form(name)[:1], set()).add(("person", name))
        ordered = sorted({scan_form(t) for t in titles if t}, key=len, reverse=True)
        self._title_re = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._lengths = sorted({len(k) for k in self._names}, reverse=True)
        self._first = {k[0] for k in self._names}

    def _add(self, name: str, kind: str, slots: set[Slot], docs: set[str], *, weak: bool = False) -> None:
        """Register a name; an exact owner name beats a derived short form and a document hint."""
        key = scan_form(name)
        if len(key) < 2:
            return
        current = self._names.get(key)
        if current is not None and (weak or (current[0] == kind and not current[3])):
            if not weak and current[0] == kind:
                current[1].update(slots)
                current[2].update(docs)
            return
        if current is None or current[3] or (current[0] == "document" and kind != "document"):
            self._names[key] = (kind, set(slots), set(docs), weak)

    def _add_short_forms(self, owned: dict[str, dict[str, set[str]]]) -> None:
        """``法律援助工作科`` → ``援助科``, ``法制仲裁科`` → ``法制科``/``仲裁科`` when unambiguous."""
        forms: dict[str, set[str]] = {}
        for unit in owned:
            core = _SHORT_CORE_RE.sub("", unit)
            if unit.endswith("科") and len(core) >= 4:
                for short in {core[:2] + "科", core[-2:] + "科"}:
                    forms.setdefault(short, set()).add(unit)
        for short, units in forms.items():
            if len(units) == 1 and scan_form(short) not in self._names:
                unit = next(iter(units))
                self._add(short, "unit", {("unit", unit)}, set(owned[unit]), weak=True)

    def find(self, question: str) -> list[Mention]:
        """Every mention in ``question`` (already in :func:`scan_form`), left to right."""
        found: list[Mention] = []
        position, size = 0, len(question)
        while position < size:
            if question[position] in self._first:
                for length in self._lengths:
                    if position + length > size:
                        continue
                    surface = question[position : position + length]
                    named = self._names.get(surface)
                    if named is not None:
                        kind, slots, docs, _ = named
                        found.append(
                            Mention(
                                position, position + length, surface, kind, tuple(sorted(slots)), tuple(sorted(docs))
                            )
                        )
                        position += length
                        break
                else:
                    position += 1
                    continue
                continue
            position += 1
        return self._with_titles(question, found)

    def _with_titles(self, question: str, found: list[Mention]) -> list[Mention]:
        """``王科长``: a surname followed by a title names the persons with that surname."""
        if self._title_re is None:
            return found
        taken = [(m.start, m.end) for m in found]
        for match in self._title_re.finditer(question):
            start = match.start() - 1
            if start < 0 or any(a <= start < b or a < match.end() <= b for a, b in taken):
                continue
            slots = self._surnames.get(question[start])
            if slots:
                found.append(Mention(start, match.end(), question[start : match.end()], "title", tuple(sorted(slots))))
                taken.append((start, match.end()))
        return sorted(found, key=lambda m: m.start)
