"""The visitors' web's cookies, CSRF checks, log-in throttling and response headers.

- The session cookie holds a random secret (the database keeps its hash): HttpOnly,
  SameSite=Lax, and Secure whenever the request came over TLS (directly, or through a
  proxy that says so and that uvicorn trusts: `--forwarded-allow-ips`).
- Every form that changes state carries a CSRF token. Signed in, it is derived from the
  session's secret (domain/visitors.csrf_token_for); before signing in (the log-in form)
  it is a random value also set in a cookie of its own, and the two must match.
- Failed log-ins are throttled per card and per client with the API's throttle
  (entrypoints/throttle.py). The card is keyed by a hash, so no card number is kept in
  memory as a key or appears in a message.
"""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Request, Response

from operational.entrypoints.throttle import FailedAuthThrottle

SESSION_COOKIE = "bibbla_session"
CSRF_COOKIE = "bibbla_csrf"
FLASH_COOKIE = "bibbla_flash"

# No script runs on these pages; styles and forms only from here; never in a frame.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def is_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_tls(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_tls(request))


def anonymous_csrf(request: Request) -> tuple[str, bool]:
    """The pre-log-in CSRF value of this browser, and whether it is new (to be set)."""
    current = request.cookies.get(CSRF_COOKIE)
    if current and 20 <= len(current) <= 100:
        return current, False
    return secrets.token_urlsafe(32), True


def protect(response: Response, private: bool) -> Response:
    """Headers every page gets; a page with personal data is never stored by a cache."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response


class LoginThrottle:
    """Failed log-ins, counted per card and per client (the API's FailedAuthThrottle)."""

    def __init__(self, per_card: str, per_client: str):
        self.cards = FailedAuthThrottle(per_card)
        self.clients = FailedAuthThrottle(per_client)

    @staticmethod
    def card_key(card_number: str) -> str:
        return "card:" + hashlib.sha256(card_number.strip().encode("utf-8")).hexdigest()[:24]

    def check(self, card_number: str, client: str) -> None:
        """Raises TooManyFailedAttempts when either has used up its allowance."""
        self.clients.check(client)
        self.cards.check(self.card_key(card_number))

    def failed(self, card_number: str, client: str) -> None:
        self.clients.failed(client)
        self.cards.failed(self.card_key(card_number))
