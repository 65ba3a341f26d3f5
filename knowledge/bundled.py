"""The five source documents shipped inside the package (``knowledge/samples/``)."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.files import read_document_bytes
from knowledge.store import ImportReport, import_document
from storage.models import Document


def sample_files() -> list[tuple[str, bytes]]:
    """(file name, bytes) of each bundled sample, in name order."""
    folder = resources.files("knowledge") / "samples"
    return sorted((entry.name, entry.read_bytes()) for entry in folder.iterdir() if entry.name.endswith(".txt"))


def import_samples_if_empty(session: Session, now: datetime) -> list[ImportReport]:
    """Import the samples into an empty database (the demo's first run); else do nothing."""
    if session.scalar(select(func.count()).select_from(Document)):
        return []
    reports = []
    for name, data in sample_files():
        for parsed in read_document_bytes(data, name):
            reports.append(import_document(session, parsed, now=now))
    return reports


def sample_path(name_prefix: str) -> Path:
    """Filesystem path of a bundled sample whose name starts with ``name_prefix`` (tests, docs)."""
    folder = Path(str(resources.files("knowledge") / "samples"))
    return next(folder.glob(f"{name_prefix}*.txt"))
