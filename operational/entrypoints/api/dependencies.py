"""What every handler needs: a unit of work on the lending database, the clock, and the
caller checked (bearer token, role, failed-attempt throttle)."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from operational.adapters.pin_hashing import Argon2PinHasher
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import Clock
from operational.domain.access import Permission
from operational.entrypoints.throttle import FailedAuthThrottle
from operational.service_layer import access


class ApiContext:
    """The database, clock and PIN hasher the routers share, and the caller checks."""

    def __init__(
        self, engine: Engine, clock: Clock, pin_hasher: Argon2PinHasher, failed_auth_limit: str
    ):
        self.engine = engine
        self.clock = clock
        self.pin_hasher = pin_hasher
        self.throttle = FailedAuthThrottle(failed_auth_limit)
        self.bearer = HTTPBearer(auto_error=False, description="a token from `bibbla token create`")

    def uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.engine)

    def reading_uow(self) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(self.engine, read_only=True)

    def require(self, permission: Permission) -> Callable:
        """A dependency that answers 401/403/429 unless the caller's token has permission."""
        bearer, throttle, clock = self.bearer, self.throttle, self.clock

        def check(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> access.Principal:
            client = request.client.host if request.client else "unknown"
            throttle.check(client)
            secret = credentials.credentials if credentials else None
            try:
                principal = access.authenticate(self.reading_uow(), clock, secret)
            except access.Unauthenticated:
                throttle.failed(client)
                raise
            access.authorise(principal, permission)
            return principal

        return Depends(check)
