"""The lending core's HTTP API (FastAPI) under /api/v1, and the visitors' web beside it.
Handlers only parse input, check the caller's role and call a use case; domain errors
become 4xx answers with the reason (errors.py)."""

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from operational.adapters.pin_hashing import Argon2PinHasher
from operational.clock import Clock, SystemClock
from operational.entrypoints.api.branches import branches_router
from operational.entrypoints.api.catalogue import catalogue_router
from operational.entrypoints.api.dependencies import ApiContext
from operational.entrypoints.api.errors import ERROR_RESPONSES, install_error_handlers
from operational.entrypoints.api.events import events_router
from operational.entrypoints.api.holds import holds_router
from operational.entrypoints.api.loans import loans_router
from operational.entrypoints.api.memberships import memberships_router
from operational.entrypoints.api.patrons import patrons_router
from operational.entrypoints.api.transports import transports_router
from operational.entrypoints.web import STATIC_DIR, WebSettings, create_web_router

# One router per resource, in the order the documentation lists them.
ROUTERS = (
    branches_router,
    patrons_router,
    catalogue_router,
    loans_router,
    holds_router,
    transports_router,
    memberships_router,
    events_router,
)


def create_app(
    engine: Engine | None = None,
    clock: Clock | None = None,
    failed_auth_limit: str | None = None,
    web_settings: WebSettings | None = None,
    pin_hasher: Argon2PinHasher | None = None,
) -> FastAPI:
    """The API on engine (default: the configured lending-core database), and the
    visitors' web beside it (entrypoints/web)."""
    if engine is None or failed_auth_limit is None or web_settings is None:
        from bibbla.config import get_settings

        settings = get_settings()
        failed_auth_limit = failed_auth_limit or settings.api_failed_auth_limit
        web_settings = web_settings or WebSettings(
            failed_logins_per_card=settings.web_failed_logins_per_card,
            failed_logins_per_client=settings.web_failed_logins_per_client,
        )
        if engine is None:
            from operational.bootstrap import engine_for

            engine = engine_for(settings.operational_db_url)
    clock = clock or SystemClock()
    pin_hasher = pin_hasher or Argon2PinHasher()
    context = ApiContext(engine, clock, pin_hasher, failed_auth_limit)

    app = FastAPI(
        title="bibbla lending core",
        version="1",
        description="Shared catalogue, one card, loans, holds and transports for the "
        "Bergslagsbibblan consortium. Every call needs a bearer token.",
    )
    web = create_web_router(engine, clock, web_settings, pin_hasher)
    install_error_handlers(app, web.not_found_page)

    api = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
    for router in ROUTERS:
        api.include_router(router(context))
    app.include_router(api)
    app.include_router(web)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
