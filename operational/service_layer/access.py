"""Use cases for API tokens: create (the secret is shown once), revoke, authenticate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from operational.clock import Clock
from operational.domain import errors
from operational.domain.access import (
    ApiToken,
    Permission,
    Role,
    hash_token,
    new_token_secret,
    role_allows,
)
from operational.service_layer.ports import TokenUnitOfWork as UnitOfWork


class Unauthenticated(errors.DomainError):
    """No token, or a token that is unknown, expired or revoked (HTTP 401)."""


class Forbidden(errors.DomainError):
    """A valid token whose role may not do this (HTTP 403)."""


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role


def create_token(
    uow: UnitOfWork, clock: Clock, name: str, role: Role, expires_in_days: int | None = None
) -> str:
    """Store a new token's hash and return its secret (the only time it is visible)."""
    if expires_in_days is not None and expires_in_days <= 0:
        raise errors.InvalidRequest("expires_in_days must be positive", field="expires_in_days")
    with uow:
        if uow.tokens.by_name(name) is not None:
            raise errors.AlreadyExists(f"a token named {name!r} exists; revoke it or pick a name")
        secret = new_token_secret()
        now = clock.now()
        expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
        uow.tokens.add(ApiToken(name, role, hash_token(secret), now, expires_at))
        uow.commit()
        return secret


def revoke_token(uow: UnitOfWork, clock: Clock, name: str) -> None:
    with uow:
        token = uow.tokens.by_name(name)
        if token is None:
            raise errors.NotFound(f"no token named {name!r}")
        if token.revoked_at is None:
            token.revoked_at = clock.now()
        uow.commit()


def authenticate(uow: UnitOfWork, clock: Clock, secret: str | None) -> Principal:
    if not secret:
        raise Unauthenticated("missing bearer token (Authorization: Bearer <token>)")
    with uow:
        token = uow.tokens.by_hash(hash_token(secret))
        if token is None:
            raise Unauthenticated("unknown token")
        refusal = token.refusal(clock.now())
        if refusal:
            raise Unauthenticated(refusal)
        return Principal(token.name, Role(token.role))


def authorise(principal: Principal, permission: Permission) -> None:
    if not role_allows(principal.role, permission):
        raise Forbidden(f"role '{principal.role}' may not {permission.value.replace('_', ' ')}")
