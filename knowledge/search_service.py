"""The live search index of a process: built from the stored documents, swapped after an import."""

from __future__ import annotations

import threading
from collections.abc import Callable

from knowledge.model import ParsedDocument
from knowledge.search import SearchIndex

DocumentLoader = Callable[[], list[ParsedDocument]]


class SearchService:
    """Holds the current :class:`SearchIndex`; ``refresh`` rebuilds it without a restart.

    ``load`` reads the stored documents (``bot.app`` hands in a function over the database),
    so this module needs no storage.
    """

    def __init__(self, load: DocumentLoader) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._index = SearchIndex([])

    @property
    def index(self) -> SearchIndex:
        return self._index

    def refresh(self) -> SearchIndex:
        """Rebuild from the stored documents (readers keep using the old index meanwhile)."""
        with self._lock:
            self._index = SearchIndex(self._load())
            return self._index
