"""The five source documents shipped inside the package (``knowledge/samples/``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def sample_files() -> list[tuple[str, bytes]]:
    """(file name, bytes) of each bundled sample, in name order."""
    folder = resources.files("knowledge") / "samples"
    return sorted((entry.name, entry.read_bytes()) for entry in folder.iterdir() if entry.name.endswith(".txt"))


def sample_path(name_prefix: str) -> Path:
    """Filesystem path of a bundled sample whose name starts with ``name_prefix`` (tests, docs)."""
    folder = Path(str(resources.files("knowledge") / "samples"))
    return next(folder.glob(f"{name_prefix}*.txt"))
