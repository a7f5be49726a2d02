"""The lending core's schema (SQLAlchemy Core). Alembic migrations are written from it.

Rules that must hold even under concurrent writers are also constraints here: an item is on
at most one open loan, in at most one open transport, and serves at most one live hold.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from operational.adapters.search_index import SEARCH_INDEX_DDL
from operational.domain.access import Role
from operational.domain.model import (
    Audience,
    BranchKind,
    HoldStatus,
    ItemStatus,
    MediaType,
    PatronCategory,
    TransportReason,
    TransportRoute,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the lending core stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(enum_class: type[StrEnum]) -> Enum:
    # Stored as plain text (no native enum type) so that adding a value needs no migration.
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


Json = JSON().with_variant(JSONB(), "postgresql")

municipality = Table(
    "municipality",
    metadata,
    Column("code", String(4), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("county_code", String(2), nullable=False),
)

membership = Table(
    "membership",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("municipality_code", ForeignKey("municipality.code"), nullable=False),
    Column("joined_on", Date, nullable=False),
    Column("left_on", Date),
    Column("note", Text),
)

branch = Table(
    "branch",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("municipality_code", ForeignKey("municipality.code"), nullable=False),
    Column("kind", _enum(BranchKind), nullable=False),
    Column("staffed_hours_per_week", Float, nullable=False, server_default="0"),
    Column("staffless_hours_per_week", Float, nullable=False, server_default="0"),
    Column("open_days", String(7), nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
)

van_route = Table(
    "van_route",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", _enum(TransportRoute), nullable=False),
    # Both null on the hub route, which serves every pair without a direct route.
    Column("municipality_a", ForeignKey("municipality.code")),
    Column("municipality_b", ForeignKey("municipality.code")),
    Column("weekdays", String(7), nullable=False),
)

collection = Table(
    "collection",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("floats", Boolean, nullable=False),
)

circulation_rule = Table(
    "circulation_rule",
    metadata,
    Column("media_type", _enum(MediaType), primary_key=True),
    Column("patron_category", _enum(PatronCategory), primary_key=True),
    Column("loan_days", Integer, nullable=False),
    Column("loan_days_when_queued", Integer, nullable=False),
    Column("max_renewals", Integer, nullable=False),
    Column("max_loans", Integer, nullable=False),
)

title = Table(
    "title",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("isbn", String(17)),
    Column("title", String(500), nullable=False),
    Column("author", String(300)),
    Column("year", Integer),
    Column("media_type", _enum(MediaType), nullable=False),
    Column("language", String(3), nullable=False),
    Column("audience", _enum(Audience), nullable=False),
    Column("collection_code", ForeignKey("collection.code"), nullable=False),
    Column("added_at", UtcDateTime),
)

item = Table(
    "item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("barcode", String(40), nullable=False, unique=True),
    Column("title_id", ForeignKey("title.id"), nullable=False, index=True),
    Column("home_branch_code", ForeignKey("branch.code"), nullable=False),
    Column("current_branch_code", ForeignKey("branch.code"), nullable=False),
    Column("status", _enum(ItemStatus), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("withdrawn_at", UtcDateTime),
)

patron = Table(
    "patron",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("card_number", String(40), nullable=False, unique=True),
    Column("home_municipality_code", ForeignKey("municipality.code"), nullable=False),
    Column("home_branch_code", ForeignKey("branch.code"), nullable=False),
    Column("category", _enum(PatronCategory), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    # Personal data: never leaves the lending core.
    Column("name", String(200)),
    Column("email", String(320)),
    Column("phone", String(40)),
    Column("birth_date", Date),
)

loan = Table(
    "loan",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("item.id"), nullable=False),
    Column("patron_id", ForeignKey("patron.id"), nullable=False),
    Column("branch_code", ForeignKey("branch.code"), nullable=False),
    Column("checked_out_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("renewals", Integer, nullable=False, server_default="0"),
    Column("returned_at", UtcDateTime),
    Column("return_branch_code", ForeignKey("branch.code")),
    Column("hold_id", ForeignKey("hold.id")),
    # One open loan per item, enforced by the database as well as by the rules.
    Index(
        "uq_loan_open_item",
        "item_id",
        unique=True,
        sqlite_where=text("returned_at IS NULL"),
        postgresql_where=text("returned_at IS NULL"),
    ),
    Index(
        "ix_loan_open_patron",
        "patron_id",
        sqlite_where=text("returned_at IS NULL"),
        postgresql_where=text("returned_at IS NULL"),
    ),
)

_live_hold = "status IN ('in_transit', 'ready')"
_active_hold = "status IN ('waiting', 'in_transit', 'ready')"

hold = Table(
    "hold",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title_id", ForeignKey("title.id"), nullable=False),
    Column("patron_id", ForeignKey("patron.id"), nullable=False),
    Column("pickup_branch_code", ForeignKey("branch.code"), nullable=False),
    Column("status", _enum(HoldStatus), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("item_id", ForeignKey("item.id")),
    Column("trapped_at", UtcDateTime),
    Column("ready_at", UtcDateTime),
    Column("expires_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("cancel_reason", String(20)),
    Index("ix_hold_title_status", "title_id", "status"),
    Index("ix_hold_status_expires", "status", "expires_at"),
    # An item serves at most one hold on its way to or on the hold shelf.
    Index(
        "uq_hold_live_item",
        "item_id",
        unique=True,
        sqlite_where=text(_live_hold),
        postgresql_where=text(_live_hold),
    ),
    # A patron has at most one active hold per title.
    Index(
        "uq_hold_active_patron_title",
        "patron_id",
        "title_id",
        unique=True,
        sqlite_where=text(_active_hold),
        postgresql_where=text(_active_hold),
    ),
)

transport = Table(
    "transport",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("item.id"), nullable=False),
    Column("from_branch_code", ForeignKey("branch.code"), nullable=False),
    Column("to_branch_code", ForeignKey("branch.code"), nullable=False),
    Column("reason", _enum(TransportReason), nullable=False),
    Column("route", _enum(TransportRoute), nullable=False),
    Column("hold_id", ForeignKey("hold.id")),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("dispatched_at", UtcDateTime),
    Column("received_at", UtcDateTime),
    Column("lost_at", UtcDateTime),
    # One open transport per item.
    Index(
        "uq_transport_open_item",
        "item_id",
        unique=True,
        sqlite_where=text("received_at IS NULL AND lost_at IS NULL"),
        postgresql_where=text("received_at IS NULL AND lost_at IS NULL"),
    ),
)

# The change feed. Ids are handed out by feed_counter inside the writing transaction (see
# adapters/feed.py), so no id ever becomes visible after a higher one.
circulation_event = Table(
    "circulation_event",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("type", String(40), nullable=False),
    Column("branch_code", String(20)),
    Column("item_id", Integer),
    Column("title_id", Integer),
    Column("patron_id", Integer),
    Column("loan_id", Integer),
    Column("hold_id", Integer),
    Column("transport_id", Integer),
    Column("from_branch_code", String(20)),
    Column("to_branch_code", String(20)),
    Column("due_at", UtcDateTime),
    Column("reason", String(40)),
    Column("details", Json, nullable=False),
)

# The feed is append-only: triggers refuse UPDATE and DELETE of an event (and TRUNCATE on
# PostgreSQL), raising "circulation_event is append-only: <operation> refused". Migration
# 0003 installs them on every database `schema.init` makes; the same definitions are
# attached here so that `metadata.create_all` (or `circulation_event.create`) installs them
# too, and dropping the table drops PostgreSQL's trigger function with it. A test checks
# that both ways give the same triggers.
APPEND_ONLY_DDL = {
    "sqlite": (
        [
            f"""
    CREATE TRIGGER circulation_event_refuse_{operation.lower()}
    BEFORE {operation} ON circulation_event
    BEGIN
        SELECT RAISE(ABORT, 'circulation_event is append-only: {operation} refused');
    END
    """
            for operation in ("UPDATE", "DELETE")
        ],
        [],  # dropping the table drops its triggers
    ),
    "postgresql": (
        [
            """
    CREATE OR REPLACE FUNCTION circulation_event_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'circulation_event is append-only: % refused', TG_OP
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'events are only ever appended; bibbla db init --reset starts '
                         'a new database';
    END
    $$
    """,
            """
    CREATE TRIGGER circulation_event_refuse_change
    BEFORE UPDATE OR DELETE OR TRUNCATE ON circulation_event
    FOR EACH STATEMENT EXECUTE FUNCTION circulation_event_refuse_change()
    """,
        ],
        ["DROP FUNCTION IF EXISTS circulation_event_refuse_change()"],
    ),
}


def _install_ddl(table: Table, definitions: dict, drop_when: str = "after_drop") -> None:
    for dialect, (create, drop) in definitions.items():
        # DDL() %-formats its statement: a literal % is written %%.
        for when, statements in (("after_create", create), (drop_when, drop)):
            for statement in statements:
                ddl = DDL(statement.replace("%", "%%")).execute_if(dialect=dialect)
                event.listen(table, when, ddl)


_install_ddl(circulation_event, APPEND_ONLY_DDL)
# The catalogue's full-text index (adapters/search_index.py), made with the title table and
# dropped before it (on PostgreSQL it refers to title).
_install_ddl(title, SEARCH_INDEX_DDL, drop_when="before_drop")

feed_counter = Table(
    "feed_counter",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("last_id", BigInteger, nullable=False),
)

# Which edition of the reference data (membership, branches, van routes, collections,
# circulation rules) the database holds: one row, whose version every change of those
# tables moves in the same transaction (unit_of_work.py, reference_data.py). An API worker
# keeps the reference data in memory and reads this row instead (reference_cache.py).
reference_version = Table(
    "reference_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

database_identity = Table(
    "database_identity",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("database_id", String(36), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# Parameters of the simulator run that filled this database, if any: the warehouse uses
# the scale for per-capita denominators and the reports say that the data is simulated.
simulation_run = Table(
    "simulation_run",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seed", Integer, nullable=False),
    Column("scale", Float, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("last_finished_day", Date),
    Column("scenario", String(40), nullable=False),
    Column("parameters", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

api_token = Table(
    "api_token",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", _enum(Role), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    UniqueConstraint("token_hash"),
)

# The visitors' web (operational/entrypoints/web). A patron's PIN, as an Argon2id hash only:
# a credential, kept in a table of its own that ingestion never reads (nor any snapshot).
patron_pin = Table(
    "patron_pin",
    metadata,
    Column("patron_id", ForeignKey("patron.id"), primary_key=True),
    Column("pin_hash", String(200), nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
)

# A visitor signed in with card and PIN: the browser's cookie holds the secret, this table
# its SHA-256. Logging out deletes the row.
visitor_session = Table(
    "visitor_session",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("patron_id", ForeignKey("patron.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
