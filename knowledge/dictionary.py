"""The domain dictionary (``knowledge/data/synonyms.toml``): abbreviations, owner phrases, titles."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class DomainDictionary:
    """Expansions of staff wording, phrases asking for the owner, and forms of address."""

    expansions: dict[str, tuple[str, ...]]
    owner_phrases: tuple[str, ...]
    titles: tuple[str, ...]

    def expand(self, text: str) -> list[str]:
        """Expansions of every dictionary word found in ``text`` (longest words first)."""
        found: list[str] = []
        for word in sorted(self.expansions, key=len, reverse=True):
            if word in text:
                found += [e for e in self.expansions[word] if e not in found]
        return found


def load_dictionary(path: Path | None = None) -> DomainDictionary:
    """Read the dictionary file (the packaged one unless ``path`` is given)."""
    if path is None:
        raw = (resources.files("knowledge") / "data" / "synonyms.toml").read_text(encoding="utf-8")
    else:
        raw = path.read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    return DomainDictionary(
        expansions={k: tuple(v) for k, v in data.get("expand", {}).items()},
        owner_phrases=tuple(sorted(data.get("owner_words", {}).get("phrases", []), key=len, reverse=True)),
        titles=tuple(sorted(data.get("titles", {}).get("words", []), key=len, reverse=True)),
    )
