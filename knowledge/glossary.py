"""The glossary (``knowledge/data/glossary.toml``): staff wording → the indicators' wording.

Colloquial words (``一把手`` → 主要负责人), slogans (``三项制度`` → the three systems it
names) and abbreviations, each entry with its source: the documents' own wording or the
field's public terminology.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class GlossaryEntry:
    """Words staff use, what the indicators call it, and where that equivalence comes from."""

    words: tuple[str, ...]
    means: tuple[str, ...]
    source: str


class Glossary:
    """All entries, with a word → entry lookup (longest words first)."""

    def __init__(self, entries: tuple[GlossaryEntry, ...] = ()) -> None:
        self.entries = entries
        self._by_word: dict[str, GlossaryEntry] = {}
        for entry in entries:
            for word in entry.words:
                self._by_word.setdefault(word, entry)
        self._words = sorted(self._by_word, key=len, reverse=True)

    def find(self, text: str) -> list[tuple[str, GlossaryEntry]]:
        """Glossary words in ``text``, longest first, none inside another one found."""
        found: list[tuple[str, GlossaryEntry]] = []
        taken: list[tuple[int, int]] = []
        for word in self._words:
            start = text.find(word)
            if start < 0:
                continue
            end = start + len(word)
            if any(a < end and start < b for a, b in taken):
                continue
            taken.append((start, end))
            found.append((word, self._by_word[word]))
        return found


def load_glossary(path: Path | None = None) -> Glossary:
    """Read the glossary file (the packaged one unless ``path`` is given)."""
    if path is None:
        raw = (resources.files("knowledge") / "data" / "glossary.toml").read_text(encoding="utf-8")
    else:
        raw = path.read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    return Glossary(
        tuple(
            GlossaryEntry(tuple(item["words"]), tuple(item["means"]), str(item["source"]))
            for item in data.get("entry", [])
        )
    )
