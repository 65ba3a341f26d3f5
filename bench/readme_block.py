"""Replace a ``<!-- name:start --> … <!-- name:end -->`` block of the README with new text."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def write_block(name: str, table: str) -> None:
    """Write ``table`` between the markers ``name:start`` and ``name:end``."""
    text = README.read_text(encoding="utf-8")
    block = f"<!-- {name}:start -->\n{table}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*<!-- {re.escape(name)}:end -->", re.S)
    README.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")
