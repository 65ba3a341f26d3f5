"""The one refusal type: a request the bot declines, with the reason users read.

Rules in ``knowledge`` raise :class:`Refusal`; handlers map it to a reply in one place.
"""

from __future__ import annotations


class Refusal(ValueError):
    """A request that cannot be carried out; ``str(exc)`` is the Chinese reason for the user."""

    @property
    def reason(self) -> str:
        """The user-facing sentence."""
        return str(self)
