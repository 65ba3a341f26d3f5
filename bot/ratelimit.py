"""Rate limiting (PTB's ``AIORateLimiter`` for 429) plus retries for transient failures.

``AIORateLimiter`` only retries ``RetryAfter``; a 5xx answer, a dropped connection or a
time-out surfaces as ``NetworkError``/``TimedOut``. Those are retried here with
exponential backoff via ``tenacity`` (a maintained retry library, rather than a hand loop).
``BadRequest`` is a ``NetworkError`` subclass in PTB but is the caller's fault: never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import AIORateLimiter
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from bot.metrics import Metrics, error_code

log = logging.getLogger(__name__)

# Long polling has its own retry loop in PTB's Updater.
_NOT_RETRIED = frozenset({"getUpdates", "getupdates"})


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: network trouble and 5xx, not bad requests."""
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


class RetryingRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` that also retries transient network errors and 5xx answers."""

    def __init__(
        self,
        *,
        network_retries: int = 3,
        backoff_seconds: float = 0.5,
        max_retries: int = 3,
        overall_max_rate: float = 30,
        group_max_rate: float = 20,
    ) -> None:
        super().__init__(max_retries=max_retries, overall_max_rate=overall_max_rate, group_max_rate=group_max_rate)
        self._network_retries = network_retries
        self._backoff = backoff_seconds
        self.metrics: Metrics | None = None  # set by bot.app: errors by method and code, queue depth

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        parent = super().process_request
        if endpoint in _NOT_RETRIED:
            return await parent(self._counted(callback, endpoint), args, kwargs, endpoint, data, rate_limit_args)
        if self.metrics is None:
            return await self._retrying(parent, callback, args, kwargs, endpoint, data, rate_limit_args)
        self.metrics.send_queue.inc()
        try:
            return await self._retrying(parent, self._counted(callback, endpoint), args, kwargs, endpoint, data,
                                        rate_limit_args)  # fmt: skip
        finally:
            self.metrics.send_queue.dec()

    def _counted(self, callback: Callable[..., Coroutine[Any, Any, Any]], endpoint: str) -> Callable[..., Any]:
        """``callback`` (one HTTP call) recording its failures in the metrics."""
        metrics = self.metrics
        if metrics is None:
            return callback

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await callback(*args, **kwargs)
            except TelegramError as exc:
                metrics.api_errors.labels(endpoint, error_code(exc)).inc()
                raise

        return call

    async def _retrying(
        self,
        parent: Callable[..., Coroutine[Any, Any, Any]],
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._network_retries + 1),
            wait=wait_exponential(multiplier=self._backoff, max=30),
            retry=retry_if_exception(is_transient),
            before_sleep=lambda state: log.warning(
                "Bot API %s failed (%s), retry %d",
                endpoint,
                type(state.outcome.exception()).__name__ if state.outcome else "?",
                state.attempt_number,
            ),
            reraise=True,
        )
        result: bool | dict[str, Any] | list[dict[str, Any]] = await retrying(
            parent, callback, args, kwargs, endpoint, data, rate_limit_args
        )
        return result
