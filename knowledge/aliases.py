"""Unit aliases from the editable data file ``knowledge/data/unit_aliases.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class AliasTable:
    """Alias → canonical unit name, globally and per document id prefix."""

    global_aliases: dict[str, str] = field(default_factory=dict)
    document_aliases: dict[str, dict[str, str]] = field(default_factory=dict)

    def for_document(self, document_id: str) -> dict[str, str]:
        """Aliases in force for ``document_id`` (document-specific ones win)."""
        merged = {k: v for k, v in self.global_aliases.items() if k != v}
        for prefix, aliases in self.document_aliases.items():
            if document_id.startswith(prefix):
                merged.update({k: v for k, v in aliases.items() if k != v})
        return merged

    def canonical(self, document_id: str, unit: str) -> str:
        """The canonical name of ``unit`` within ``document_id``."""
        return self.for_document(document_id).get(unit, unit)


def load_aliases(path: Path | None = None) -> AliasTable:
    """Read the alias file (the packaged one unless ``path`` is given)."""
    if path is None:
        raw = (resources.files("knowledge") / "data" / "unit_aliases.toml").read_text(encoding="utf-8")
    else:
        raw = path.read_text(encoding="utf-8")
    data = tomllib.loads(raw)
    documents = data.get("documents", {})
    return AliasTable(
        global_aliases=dict(data.get("global", {})),
        document_aliases={str(k): dict(v) for k, v in documents.items()},
    )
