"""The domain dictionary: owner phrases and titles (``knowledge/data/synonyms.toml``) and the glossary."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from knowledge.glossary import Glossary, load_glossary


@dataclass(frozen=True)
class DomainDictionary:
    """Expansions of staff wording, phrases asking for the owner, and forms of address."""

    owner_phrases: tuple[str, ...]
    titles: tuple[str, ...]
    glossary: Glossary = field(default_factory=Glossary)

    def expand(self, text: str) -> list[str]:
        """Formal wording of every glossary word found in ``text`` (longest words first)."""
        found: list[str] = []
        for _, entry in self.glossary.find(text):
            found += [e for e in entry.means if e not in found]
        return found


def load_dictionary(path: Path | None = None) -> DomainDictionary:
    """Read the dictionary file (the packaged one unless ``path`` is given)."""
    if path is None:
        raw = (resources.files("knowledge") / "data" / "synonyms.toml").read_text(encoding="utf-8")
    else:
        raw = path.read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    return DomainDictionary(
        owner_phrases=tuple(sorted(data.get("owner_words", {}).get("phrases", []), key=len, reverse=True)),
        titles=tuple(sorted(data.get("titles", {}).get("words", []), key=len, reverse=True)),
        glossary=load_glossary(),
    )
