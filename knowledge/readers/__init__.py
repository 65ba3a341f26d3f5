"""Readers: one per table layout; each turns text lines into ``ParsedIndicator`` records."""
