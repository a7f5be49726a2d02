"""Slowing down token guessing: a client that keeps presenting unknown, expired or revoked
tokens is refused (HTTP 429) for a while, before its token is even looked at.

Counts are kept in memory per server process (the `limits` library's moving window); with
several workers a client gets at most `workers ×` the allowance, which still makes
guessing a 43-character random token hopeless.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse, storage, strategies

from operational.domain import errors

FAILED_AUTH_LIMIT = "10/minute"


class TooManyFailedAttempts(errors.DomainError):
    """The client has failed authentication too often recently (HTTP 429)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class FailedAuthThrottle:
    def __init__(self, limit: str = FAILED_AUTH_LIMIT):
        self.limit: RateLimitItem = parse(limit)
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def check(self, client: str) -> None:
        """Refuse a client that has used up its failed attempts."""
        if not self._limiter.test(self.limit, "failed-auth", client):
            reset = self._limiter.get_window_stats(self.limit, "failed-auth", client).reset_time
            wait = max(1, int(reset - time.time()) + 1)
            raise TooManyFailedAttempts(
                f"too many failed authentication attempts from {client}; retry in {wait} s",
                retry_after=wait,
            )

    def failed(self, client: str) -> None:
        self._limiter.hit(self.limit, "failed-auth", client)
