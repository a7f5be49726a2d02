"""What every handler needs: a unit of work on the lending database, the clock, and the
caller checked (bearer token, role, failed-attempt throttle)."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from operational.adapters.pin_hashing import Argon2PinHasher
from operational.adapters.reference_cache import ReferenceCache
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import Clock
from operational.domain.access import Permission
from operational.entrypoints.throttle import FailedAuthThrottle
from operational.service_layer import access


class Caller:
    """The checked caller of one request, and the database connection the request runs
    on: the token was looked up on it, and the use case's unit of work runs on it too, so
    a request takes one connection from the pool, not one for the check and another for
    the work."""

    def __init__(
        self, principal: access.Principal, connection: Connection, reference: ReferenceCache
    ):
        self.principal = principal
        self.connection = connection
        self.reference = reference

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self._in_transactions(), reference_cache=self.reference)

    def reading_uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(
            self._in_transactions(), read_only=True, reference_cache=self.reference
        )

    def _in_transactions(self) -> Connection:
        if self.connection.get_execution_options().get("isolation_level") == AUTOCOMMIT:
            self.connection.execution_options(isolation_level=_default_level(self.connection))
        return self.connection


AUTOCOMMIT = "AUTOCOMMIT"


def _default_level(connection: Connection) -> str:
    return connection.dialect.default_isolation_level or "READ COMMITTED"


class ApiContext:
    """The database, clock and PIN hasher the routers share, and the caller checks."""

    def __init__(
        self, engine: Engine, clock: Clock, pin_hasher: Argon2PinHasher, failed_auth_limit: str
    ):
        self.engine = engine
        self.clock = clock
        self.pin_hasher = pin_hasher
        self.throttle = FailedAuthThrottle(failed_auth_limit)
        # This worker's reference data in memory, checked against the database's version
        # row by every unit of work that reads it (adapters/reference_cache.py).
        self.reference = ReferenceCache()
        self.bearer = HTTPBearer(auto_error=False, description="a token from `bibbla token create`")

    def require(self, permission: Permission) -> Callable:
        """A dependency that answers 401/403/429 unless the caller's token has permission,
        and otherwise gives the handler the Caller: the request's connection, taken from
        the pool here and given back when the request is done."""
        bearer, throttle, clock, engine = self.bearer, self.throttle, self.clock, self.engine
        reference = self.reference

        def check(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> Iterator[Caller]:
            client = request.client.host if request.client else "unknown"
            throttle.check(client)
            secret = credentials.credentials if credentials else None
            with engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    # The lookup is one statement: on its own it needs no BEGIN and
                    # ROLLBACK round trips. (SQLite's are in-process and cost nothing.)
                    connection.execution_options(isolation_level=AUTOCOMMIT)
                try:
                    principal = access.authenticate(
                        SqlAlchemyUnitOfWork(connection, read_only=True), clock, secret
                    )
                except access.Unauthenticated:
                    throttle.failed(client)
                    raise
                access.authorise(principal, permission)
                yield Caller(principal, connection, reference)

        return Depends(check)
