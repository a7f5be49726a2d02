"""The lending core's HTTP API (FastAPI) under /api/v1. Handlers only parse input, check the
caller's role and call a use case; domain errors become 4xx answers with the reason."""

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from operational.adapters import feed
from operational.adapters.pin_hashing import Argon2PinHasher
from operational.clock import Clock, SystemClock
from operational.domain import errors
from operational.domain.access import Permission
from operational.domain.model import Audience, MediaType, PatronCategory
from operational.entrypoints.throttle import FailedAuthThrottle, TooManyFailedAttempts
from operational.entrypoints.web import STATIC_DIR, WebSettings, create_web_router
from operational.service_layer import access, services, visitors
from operational.service_layer.unit_of_work import SqlAlchemyUnitOfWork

log = logging.getLogger(__name__)

MAX_ID = 2**31 - 1
# Paths that answer in JSON; every other path is the visitors' web.
_NOT_WEB = ("/api/", "/docs", "/redoc", "/openapi.json")


# Strict where lax parsing would accept the wrong JSON type: a number is not a date, a
# string is not an id.
def _date_text(value):
    if not isinstance(value, str | date):
        raise ValueError("a date is written as text, YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_date_text)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Code = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")]
Card = Annotated[str, Field(min_length=4, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]
Barcode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorOut(BaseModel):
    """Why a request was refused."""

    detail: str
    error: str


_ERRORS = {
    status: {"model": ErrorOut, "description": description}
    for status, description in [
        (401, "no token, or an unknown, expired or revoked one"),
        (403, "the role may not do this, or the municipality may not use that branch"),
        (404, "the patron, item, title, loan, hold or transport does not exist"),
        (409, "the request clashes with the current state"),
        (429, "too many failed authentication attempts from this client"),
        (503, "the lending database is unavailable"),
    ]
}


class BranchOut(BaseModel):
    code: str
    name: str
    municipality_code: str
    kind: str


class PatronIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"card_number": "CARD-9", "home_municipality_code": "1884", "category": "adult"}
            ]
        },
    )

    card_number: Card
    home_municipality_code: Annotated[str, Field(pattern=r"^\d{4}$")]
    category: PatronCategory
    home_branch_code: Code | None = None
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    birth_date: Day | None = None


class PinIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"card_number": "CARD-1", "pin": "4821"}]},
    )

    card_number: Card
    pin: Annotated[str, Field(min_length=4, max_length=8, pattern=r"^[0-9]+$")]


class PatronOut(BaseModel):
    card_number: str
    home_municipality_code: str
    home_branch_code: str
    category: str


class TitleIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "title": "Kallocain",
                    "author": "Karin Boye",
                    "media_type": "book",
                    "audience": "adult",
                }
            ]
        },
    )

    title: Annotated[str, Field(min_length=1, max_length=500)]
    author: Annotated[str, Field(max_length=300)] | None = None
    media_type: MediaType
    audience: Audience
    isbn: Annotated[str, Field(pattern=r"^[0-9Xx-]{10,17}$")] | None = None
    year: Annotated[int, Field(ge=1400, le=2100, strict=True)] | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")] = "sv"
    collection_code: Annotated[str, Field(max_length=40)] | None = None


class TitleOut(BaseModel):
    id: int
    title: str
    media_type: str
    audience: str
    collection_code: str


class ItemIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"barcode": "B-9", "title_id": 1, "home_branch_code": "NORA"}]
        },
    )

    barcode: Barcode
    title_id: BodyId
    home_branch_code: Code


class ItemOut(BaseModel):
    id: int
    barcode: str
    title_id: int
    home_branch_code: str
    current_branch_code: str
    status: str


class LoanIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"card_number": "CARD-1", "item_barcode": "B-1", "branch_code": "NORA"}]
        },
    )

    card_number: Card
    item_barcode: Barcode
    branch_code: Code


class LoanOut(BaseModel):
    loan_id: int
    due_at: datetime


class ReturnIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"item_barcode": "B-3", "branch_code": "NORA"}]},
    )

    item_barcode: Barcode
    branch_code: Code


class ReturnOut(BaseModel):
    action: Literal["shelved", "transport", "hold_trapped"]
    transport_id: int | None = None
    hold_id: int | None = None


class HoldIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"card_number": "CARD-1", "title_id": 2, "pickup_branch_code": "NORA"}]
        },
    )

    card_number: Card
    title_id: BodyId
    pickup_branch_code: Code


class HoldOut(BaseModel):
    hold_id: int
    status: str
    title_id: int
    pickup_branch_code: str
    placed_at: datetime
    item_barcode: str | None = None
    ready_at: datetime | None = None
    expires_at: datetime | None = None


class TransportOut(BaseModel):
    transport_id: int
    item_barcode: str
    from_branch_code: str
    to_branch_code: str
    reason: str
    route: str
    hold_id: int | None
    requested_at: datetime
    dispatched_at: datetime | None
    received_at: datetime | None


class ReceiveOut(TransportOut):
    action: Literal["shelved", "transport", "hold_trapped"]
    next_transport_id: int | None = None


class PatronLoanOut(BaseModel):
    loan_id: int
    item_barcode: str
    title: str
    branch_code: str
    checked_out_at: datetime
    due_at: datetime
    renewals: int
    returned_at: datetime | None
    return_branch_code: str | None


class MembershipIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"municipality_code": "1880", "joined_on": "2027-01-01"}]},
    )

    municipality_code: Annotated[str, Field(pattern=r"^\d{4}$")]
    joined_on: Day
    left_on: Day | None = None


class EventOut(BaseModel):
    id: int
    occurred_at: datetime
    type: str
    branch_code: str | None
    item_id: int | None
    title_id: int | None
    patron_id: int | None
    loan_id: int | None
    hold_id: int | None
    transport_id: int | None
    from_branch_code: str | None
    to_branch_code: str | None
    due_at: datetime | None
    reason: str | None
    details: dict


class SimulationOut(BaseModel):
    """Present when the data was made by the simulator: per-capita figures use
    scale × population, and reports must say the data is simulated."""

    seed: int
    scale: float
    start_date: date
    end_date: date
    last_finished_day: date | None
    scenario: str


class FeedOut(BaseModel):
    database_id: str | None
    simulation: SimulationOut | None
    events: list[EventOut]
    next_after: int


def _hold_out(hold) -> HoldOut:
    return HoldOut(
        hold_id=hold.id,
        status=str(hold.status),
        title_id=hold.title.id,
        pickup_branch_code=hold.pickup_branch_code,
        placed_at=hold.placed_at,
        item_barcode=hold.item.barcode if hold.item is not None else None,
        ready_at=hold.ready_at,
        expires_at=hold.expires_at,
    )


def _transport_out(transport, cls=TransportOut, **extra) -> TransportOut:
    return cls(
        transport_id=transport.id,
        item_barcode=transport.item.barcode,
        from_branch_code=transport.from_branch_code,
        to_branch_code=transport.to_branch_code,
        reason=str(transport.reason),
        route=str(transport.route),
        hold_id=transport.hold.id if transport.hold is not None else None,
        requested_at=transport.requested_at,
        dispatched_at=transport.dispatched_at,
        received_at=transport.received_at,
        **extra,
    )


def _outcome(outcome: services.ArrivalOutcome) -> dict:
    return {
        "action": str(outcome.action),
        "transport_id": outcome.transport.id if outcome.transport else None,
        "hold_id": outcome.hold.id if outcome.hold else None,
    }


_STATUS = [
    (TooManyFailedAttempts, 429),
    (access.Unauthenticated, 401),
    (access.Forbidden, 403),
    (errors.NotPermitted, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
]


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
    bearer = HTTPBearer(auto_error=False, description="a token from `bibbla token create`")

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    def reading_uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, read_only=True)

    throttle = FailedAuthThrottle(failed_auth_limit)

    def require(permission: Permission) -> Callable:
        def check(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> access.Principal:
            client = request.client.host if request.client else "unknown"
            throttle.check(client)
            secret = credentials.credentials if credentials else None
            try:
                principal = access.authenticate(reading_uow(), clock, secret)
            except access.Unauthenticated:
                throttle.failed(client)
                raise
            access.authorise(principal, permission)
            return principal

        return Depends(check)

    app = FastAPI(
        title="bibbla lending core",
        version="1",
        description="Shared catalogue, one card, loans, holds and transports for the "
        "Bergslagsbibblan consortium. Every call needs a bearer token.",
    )

    @app.exception_handler(errors.InvalidRequest)
    async def _invalid(_request: Request, error: errors.InvalidRequest) -> JSONResponse:
        # The same shape as FastAPI's own 422s, so a client handles both one way.
        location = ["body", error.field] if error.field else ["body"]
        problem = {"type": "invalid_value", "loc": location, "msg": str(error)}
        return JSONResponse({"detail": [problem], "error": "InvalidRequest"}, 422)

    web = create_web_router(engine, clock, web_settings, pin_hasher)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException):
        if error.status_code == 404 and not request.url.path.startswith(_NOT_WEB):
            return web.not_found_page(request)  # a page for people, not JSON
        if error.status_code == 400:
            # A body that is not even JSON text is malformed input like any other: 422.
            problem = {"type": "json_invalid", "loc": ["body"], "msg": str(error.detail)}
            return JSONResponse({"detail": [problem]}, 422)
        return await http_exception_handler(request, error)

    @app.exception_handler(errors.DomainError)
    async def _domain_error(_request: Request, error: errors.DomainError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(error, kind)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(error, TooManyFailedAttempts):
            headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse(
            {"detail": str(error), "error": type(error).__name__}, status, headers=headers
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, error: IntegrityError) -> JSONResponse:
        # A concurrent request won a race on a uniqueness rule the database also enforces.
        log.info("integrity conflict: %s", error.orig)
        return JSONResponse(
            {
                "detail": "the request conflicts with a concurrent change; try again",
                "error": "Conflict",
            },
            409,
        )

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, error: DataError) -> JSONResponse:
        return JSONResponse({"detail": f"invalid value: {error.orig}", "error": "DataError"}, 422)

    @app.exception_handler(OperationalError)
    async def _unavailable(_request: Request, error: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", error.orig)
        return JSONResponse(
            {
                "detail": "the lending database is unavailable; try again shortly",
                "error": "DatabaseUnavailable",
            },
            503,
            headers={"Retry-After": "5"},
        )

    api = APIRouter(prefix="/api/v1", responses=_ERRORS)

    @api.get("/branches", response_model=list[BranchOut])
    def list_branches(_=require(Permission.READ_BRANCHES)):
        with reading_uow() as work:
            return [
                BranchOut(
                    code=b.code,
                    name=b.name,
                    municipality_code=b.municipality_code,
                    kind=str(b.kind),
                )
                for b in work.reference.branches()
            ]

    @api.post("/patrons", status_code=201, response_model=PatronOut)
    def register_patron(body: PatronIn, _=require(Permission.REGISTER_PATRONS)):
        patron = services.register_patron(uow(), clock, **body.model_dump())
        return PatronOut(
            card_number=patron.card_number,
            home_municipality_code=patron.home_municipality_code,
            home_branch_code=patron.home_branch_code,
            category=str(patron.category),
        )

    @api.post("/titles", status_code=201, response_model=TitleOut)
    def add_title(body: TitleIn, _=require(Permission.MANAGE_CATALOGUE)):
        title = services.add_title(uow(), clock, **body.model_dump())
        return TitleOut(
            id=title.id,
            title=title.title,
            media_type=str(title.media_type),
            audience=str(title.audience),
            collection_code=title.collection_code,
        )

    @api.post("/items", status_code=201, response_model=ItemOut)
    def add_item(body: ItemIn, _=require(Permission.ADD_ITEMS)):
        item = services.add_item(uow(), clock, **body.model_dump())
        return ItemOut(
            id=item.id,
            barcode=item.barcode,
            title_id=item.title.id,
            home_branch_code=item.home_branch_code,
            current_branch_code=item.current_branch_code,
            status=str(item.status),
        )

    @api.post("/loans", status_code=201, response_model=LoanOut)
    def checkout(body: LoanIn, _=require(Permission.CIRCULATION)):
        loan = services.checkout(
            uow(), clock, body.card_number, body.item_barcode, body.branch_code
        )
        return LoanOut(loan_id=loan.id, due_at=loan.due_at)

    @api.post("/loans/{loan_id}/renew", response_model=LoanOut)
    def renew(loan_id: Annotated[Id, Path(examples=[1])], _=require(Permission.CIRCULATION)):
        loan = services.renew(uow(), clock, loan_id)
        return LoanOut(loan_id=loan.id, due_at=loan.due_at)

    @api.post("/returns", response_model=ReturnOut)
    def checkin(body: ReturnIn, _=require(Permission.CIRCULATION)):
        return ReturnOut(
            **_outcome(services.checkin(uow(), clock, body.item_barcode, body.branch_code))
        )

    @api.post("/holds", status_code=201, response_model=HoldOut)
    def place_hold(body: HoldIn, _=require(Permission.CIRCULATION)):
        hold = services.place_hold(
            uow(), clock, body.card_number, body.title_id, body.pickup_branch_code
        )
        return _hold_out(hold)

    @api.get("/holds/{hold_id}", response_model=HoldOut)
    def get_hold(hold_id: Annotated[Id, Path(examples=[1])], _=require(Permission.CIRCULATION)):
        with reading_uow() as work:
            return _hold_out(work.holds.get(hold_id))

    @api.post("/holds/{hold_id}/cancel", response_model=HoldOut)
    def cancel_hold(
        hold_id: Annotated[Id, Path(examples=[2])],
        reason: Annotated[Literal["patron", "staff"], Query()] = "patron",
        _=require(Permission.CIRCULATION),
    ):
        return _hold_out(services.cancel_hold(uow(), clock, hold_id, reason))

    @api.get("/transports", response_model=list[TransportOut])
    def open_transports(
        from_branch_code: Annotated[str | None, Query(max_length=20)] = None,
        _=require(Permission.CIRCULATION),
    ):
        with reading_uow() as work:
            return [
                _transport_out(t)
                for t in work.transports.open()
                if from_branch_code is None or t.from_branch_code == from_branch_code
            ]

    @api.post("/transports/{transport_id}/dispatch", response_model=TransportOut)
    def dispatch(
        transport_id: Annotated[Id, Path(examples=[1])], _=require(Permission.CIRCULATION)
    ):
        return _transport_out(services.dispatch_transport(uow(), clock, transport_id))

    @api.post("/transports/{transport_id}/receive", response_model=ReceiveOut)
    def receive(transport_id: Annotated[Id, Path(examples=[2])], _=require(Permission.CIRCULATION)):
        work = uow()
        outcome = services.receive_transport(work, clock, transport_id)
        with reading_uow() as reading:
            transport = reading.transports.get(transport_id)
            return _transport_out(
                transport,
                ReceiveOut,
                action=str(outcome.action),
                next_transport_id=outcome.transport.id if outcome.transport else None,
            )

    @api.get("/patrons/{card_number}/loans", response_model=list[PatronLoanOut])
    def patron_loans(
        card_number: Annotated[str, Path(max_length=40, examples=["CARD-2"])],
        _=require(Permission.READ_PATRON_LOANS),
    ):
        with reading_uow() as work:
            patron = work.patrons.by_card(card_number)
            return [
                PatronLoanOut(
                    loan_id=loan.id,
                    item_barcode=loan.item.barcode,
                    title=loan.item.title.title,
                    branch_code=loan.branch_code,
                    checked_out_at=loan.checked_out_at,
                    due_at=loan.due_at,
                    renewals=loan.renewals,
                    returned_at=loan.returned_at,
                    return_branch_code=loan.return_branch_code,
                )
                for loan in work.loans.of_patron(patron.id)
            ]

    @api.post("/memberships", status_code=201)
    def change_membership(body: MembershipIn, _=require(Permission.MANAGE_MEMBERSHIP)):
        membership = services.change_membership(uow(), clock, **body.model_dump())
        return {
            "municipality_code": membership.municipality_code,
            "joined_on": membership.joined_on,
            "left_on": membership.left_on,
        }

    @api.get("/events", response_model=FeedOut)
    def events(
        after: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        _=require(Permission.READ_FEED),
    ):
        with reading_uow() as work:
            rows = feed.read_events(work.session, after, limit)
            run = feed.simulation_run(work.session)
            return FeedOut(
                database_id=feed.database_id(work.session),
                simulation=SimulationOut(**run) if run else None,
                events=[EventOut(**row) for row in rows],
                next_after=rows[-1]["id"] if rows else after,
            )

    @api.post("/patrons/pin", status_code=204)
    def set_pin(body: PinIn, _=require(Permission.REGISTER_PATRONS)):
        """Set a patron's PIN for the visitors' web (only its Argon2id hash is stored; the
        patron's open web sessions end). The card number goes in the body, not the URL."""
        visitors.set_pin(uow(), clock, pin_hasher, body.card_number, body.pin)

    app.include_router(api)
    app.include_router(web)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
