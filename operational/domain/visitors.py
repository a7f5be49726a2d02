"""The visitors' own rules: what a PIN may be, how long a signed-in visit lasts, how a form
proves it came from our own page (CSRF), and how long a new hold is likely to wait.

No I/O here: PIN hashing (Argon2id) is an adapter's, storing sessions a repository's.
Which branches and copies a visitor may reserve is not decided here but by the
consortium's sharing rule (rules.Consortium), exactly as for a hold placed by staff.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from operational.domain import errors

PIN_LENGTHS = range(4, 9)  # 4 to 8 digits, as on a card terminal
# A signed-in visit ends after this long without a request, and after LIFETIME at the most.
SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=8)
# The last request's time is written at most this often (each write takes SQLite's lock).
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
# Days between one borrower's due date and the next borrower's pick-up: return, van, shelf.
HANDOVER_DAYS = 3


class WeakPin(errors.InvalidRequest):
    """A PIN that the policy refuses; `reason` says which rule (for a translated message)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message, field="pin")
        self.reason = reason


def check_new_pin(pin: str) -> None:
    """Refuse a PIN that is not 4-8 digits or that anyone would guess first (one digit
    repeated, or a straight run such as 1234 or 9876)."""
    if not pin.isascii() or not pin.isdigit() or len(pin) not in PIN_LENGTHS:
        raise WeakPin("a PIN is 4 to 8 digits", reason="format")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if steps == {0}:
        raise WeakPin("a PIN may not be one digit repeated", reason="repeated")
    if steps in ({1}, {-1}):
        raise WeakPin("a PIN may not be a straight run of digits", reason="sequence")


def new_pin(length: int = 4) -> str:
    """A random PIN that the policy accepts (for a new card, or the demo card)."""
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(length))
        try:
            check_new_pin(pin)
        except WeakPin:
            continue
        return pin


# ------------------------------------------------------------------------------ sessions


def new_session_secret() -> str:
    """The secret a visitor's browser holds in its session cookie (only a hash is stored)."""
    return secrets.token_urlsafe(32)


def hash_session_secret(secret: str) -> str:
    """Session secrets are 256 random bits, so a plain SHA-256 stores them safely."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def csrf_token_for(secret: str) -> str:
    """The token every state-changing form of a session carries: derived from the session's
    secret, so a page of another site (which cannot read our cookie) cannot know it, and
    nothing more has to be stored."""
    return hmac.new(secret.encode("utf-8"), b"bibbla-csrf", hashlib.sha256).hexdigest()


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of a form's token with the expected one."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


class VisitorSession:
    """A visitor signed in with card and PIN; the browser holds the secret, we its hash."""

    def __init__(self, patron_id: int, token_hash: str, created_at: datetime):
        self.id: int | None = None
        self.patron_id = patron_id
        self.token_hash = token_hash
        self.created_at = created_at
        self.last_seen_at = created_at
        self.expires_at = created_at + SESSION_LIFETIME

    def refusal(self, now: datetime) -> str | None:
        """Why this session may not be used now, or None when it may."""
        if now >= self.expires_at:
            return "the session has reached its maximum lifetime"
        if now - self.last_seen_at >= SESSION_IDLE_TIMEOUT:
            return "the session has been idle too long"
        return None

    def needs_touch(self, now: datetime) -> bool:
        return now - self.last_seen_at >= SESSION_TOUCH_INTERVAL


# --------------------------------------------------------------------------- waiting time


def estimated_ready_date(
    position: int, copies_free_on: Iterable[date], loan_days_when_queued: int
) -> date | None:
    """When the hold at `position` in the queue (1 = next) is likely to be ready.

    Each copy that can fill the queue becomes free on its date (today when on the shelf,
    the due date when lent); the queue is served in order by whichever copy is free first,
    each borrower keeping it for the queued loan period, with a few days in between for
    the return and the van. None when no copy can fill the queue.
    """
    free = list(copies_free_on)
    if not free or position < 1:
        return None
    heapq.heapify(free)
    handover = timedelta(days=HANDOVER_DAYS)
    ready = free[0]
    for _ in range(position):
        ready = heapq.heappop(free) + handover
        heapq.heappush(free, ready + timedelta(days=loan_days_when_queued))
    return ready
