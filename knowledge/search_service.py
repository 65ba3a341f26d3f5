"""The live search index of a process: built from the database, swapped after an import."""

from __future__ import annotations

import threading

from knowledge.search import SearchIndex
from knowledge.store import load_documents
from storage.db import Database


class SearchService:
    """Holds the current :class:`SearchIndex`; ``refresh`` rebuilds it without a restart."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._index = SearchIndex([])

    @property
    def index(self) -> SearchIndex:
        return self._index

    def refresh(self) -> SearchIndex:
        """Rebuild from the stored documents (readers keep using the old index meanwhile)."""
        with self._lock:
            documents = self._db.call(load_documents)
            self._index = SearchIndex(documents)
            return self._index
