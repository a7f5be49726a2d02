"""The API's request and answer bodies, and the value types their fields are checked with."""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from operational.domain.model import Audience, MediaType, PatronCategory

MAX_ID = 2**31 - 1


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
    """A request body: unknown fields are refused and text is stripped. Subclasses add only
    their example (`example(...)`); pydantic merges it with this configuration."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def example(**fields) -> ConfigDict:
    """A request body's example for the OpenAPI documentation."""
    return ConfigDict(json_schema_extra={"examples": [fields]})


class ErrorOut(BaseModel):
    """Why a request was refused."""

    detail: str
    error: str


class BranchOut(BaseModel):
    code: str
    name: str
    municipality_code: str
    kind: str


class PatronIn(Body):
    model_config = example(card_number="CARD-9", home_municipality_code="1884", category="adult")

    card_number: Card
    home_municipality_code: Annotated[str, Field(pattern=r"^\d{4}$")]
    category: PatronCategory
    home_branch_code: Code | None = None
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=320)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    birth_date: Day | None = None


class PinIn(Body):
    model_config = example(card_number="CARD-1", pin="4821")

    card_number: Card
    pin: Annotated[str, Field(min_length=4, max_length=8, pattern=r"^[0-9]+$")]


class PatronOut(BaseModel):
    card_number: str
    home_municipality_code: str
    home_branch_code: str
    category: str


class TitleIn(Body):
    model_config = example(
        title="Kallocain", author="Karin Boye", media_type="book", audience="adult"
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
    model_config = example(barcode="B-9", title_id=1, home_branch_code="NORA")

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
    model_config = example(card_number="CARD-1", item_barcode="B-1", branch_code="NORA")

    card_number: Card
    item_barcode: Barcode
    branch_code: Code


class LoanOut(BaseModel):
    loan_id: int
    due_at: datetime


class ReturnIn(Body):
    model_config = example(item_barcode="B-3", branch_code="NORA")

    item_barcode: Barcode
    branch_code: Code


Action = Literal["shelved", "transport", "hold_trapped"]


class ReturnOut(BaseModel):
    action: Action
    transport_id: int | None = None
    hold_id: int | None = None


class HoldIn(Body):
    model_config = example(card_number="CARD-1", title_id=2, pickup_branch_code="NORA")

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
    action: Action
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
    model_config = example(municipality_code="1880", joined_on="2027-01-01")

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


def hold_out(hold) -> HoldOut:
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


def transport_out(transport, cls=TransportOut, **extra) -> TransportOut:
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
