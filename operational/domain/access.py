"""Who may do what through the API: roles, their permissions, and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    STAFF = "staff"
    ADMIN = "admin"
    READER = "reader"


class Permission(StrEnum):
    READ_BRANCHES = "read_branches"
    CIRCULATION = "circulation"  # loans, renewals, returns, holds, transports
    REGISTER_PATRONS = "register_patrons"
    ADD_ITEMS = "add_items"
    READ_PATRON_LOANS = "read_patron_loans"  # reading history: confidential
    MANAGE_CATALOGUE = "manage_catalogue"  # titles
    MANAGE_MEMBERSHIP = "manage_membership"
    MANAGE_TOKENS = "manage_tokens"
    READ_FEED = "read_feed"


# docs/domain.md: staff do circulation and registration; readers see the feed and the branch
# list, nothing personal; admins may do everything.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset(
        {
            Permission.READ_BRANCHES,
            Permission.CIRCULATION,
            Permission.REGISTER_PATRONS,
            Permission.ADD_ITEMS,
            Permission.READ_PATRON_LOANS,
        }
    ),
    Role.READER: frozenset({Permission.READ_BRANCHES, Permission.READ_FEED}),
    Role.ADMIN: frozenset(Permission),
}


def role_allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[Role(role)]


def hash_token(token: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token_secret() -> str:
    return "bibbla_" + secrets.token_urlsafe(32)


class ApiToken:
    """A named bearer token; only the hash of its secret is kept."""

    def __init__(
        self,
        name: str,
        role: Role,
        token_hash: str,
        created_at: datetime,
        expires_at: datetime | None,
    ):
        self.id: int | None = None
        self.name = name
        self.role = role
        self.token_hash = token_hash
        self.created_at = created_at
        self.expires_at = expires_at
        self.revoked_at: datetime | None = None

    def refusal(self, now: datetime) -> str | None:
        """Why this token may not be used now, or None when it may."""
        if self.revoked_at is not None:
            return f"token '{self.name}' was revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return f"token '{self.name}' expired at {self.expires_at.isoformat()}"
        return None
