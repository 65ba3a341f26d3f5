"""The live search index of a process: built from the stored documents, swapped after an import."""

from __future__ import annotations

import threading
from collections.abc import Callable

from knowledge.model import ParsedDocument
from knowledge.profile import Profile
from knowledge.search import SearchIndex

DocumentLoader = Callable[[], list[ParsedDocument]]
ProfileLoader = Callable[[], list[Profile]]


class SearchService:
    """Holds the current :class:`SearchIndex`; ``refresh`` rebuilds it without a restart.

    ``load`` reads the stored documents and ``load_profiles`` their programme profiles
    (``bot.app`` hands in functions over the database), so this module needs no storage.
    """

    def __init__(self, load: DocumentLoader, load_profiles: ProfileLoader | None = None) -> None:
        self._load = load
        self._load_profiles = load_profiles
        self._lock = threading.Lock()
        self._index = SearchIndex([])

    @property
    def index(self) -> SearchIndex:
        return self._index

    def refresh(self) -> SearchIndex:
        """Rebuild from the stored documents (readers keep using the old index meanwhile)."""
        with self._lock:
            profiles = self._load_profiles() if self._load_profiles else []
            self._index = SearchIndex(self._load(), profiles=profiles)
            return self._index
