"""lending core schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 04:49:34.603387
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import operational.adapters.tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "role",
            sa.Enum("staff", "admin", "reader", name="role", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "revoked_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("name", name=op.f("uq_api_token_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "circulation_event",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "occurred_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("branch_code", sa.String(length=20), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("title_id", sa.Integer(), nullable=True),
        sa.Column("patron_id", sa.Integer(), nullable=True),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("transport_id", sa.Integer(), nullable=True),
        sa.Column("from_branch_code", sa.String(length=20), nullable=True),
        sa.Column("to_branch_code", sa.String(length=20), nullable=True),
        sa.Column("due_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circulation_event")),
    )
    op.create_table(
        "circulation_rule",
        sa.Column(
            "media_type",
            sa.Enum(
                "book",
                "audiobook",
                "quick_loan",
                "film",
                "magazine",
                name="mediatype",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "patron_category",
            sa.Enum("adult", "child", name="patroncategory", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("loan_days", sa.Integer(), nullable=False),
        sa.Column("loan_days_when_queued", sa.Integer(), nullable=False),
        sa.Column("max_renewals", sa.Integer(), nullable=False),
        sa.Column("max_loans", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("media_type", "patron_category", name=op.f("pk_circulation_rule")),
    )
    op.create_table(
        "collection",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("floats", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_collection")),
    )
    op.create_table(
        "database_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("database_id", sa.String(length=36), nullable=False),
        sa.Column(
            "created_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_identity")),
        sa.UniqueConstraint("database_id", name=op.f("uq_database_identity_database_id")),
    )
    op.create_table(
        "feed_counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_feed_counter")),
    )
    op.create_table(
        "municipality",
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("county_code", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_municipality")),
    )
    op.create_table(
        "branch",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "main",
                "branch",
                "bookbus",
                "staffless",
                "hub",
                name="branchkind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("staffed_hours_per_week", sa.Float(), server_default="0", nullable=False),
        sa.Column("staffless_hours_per_week", sa.Float(), server_default="0", nullable=False),
        sa.Column("open_days", sa.String(length=7), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipality.code"],
            name=op.f("fk_branch_municipality_code_municipality"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_branch")),
    )
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["municipality_code"],
            ["municipality.code"],
            name=op.f("fk_membership_municipality_code_municipality"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
    )
    op.create_table(
        "title",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("isbn", sa.String(length=17), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column(
            "media_type",
            sa.Enum(
                "book",
                "audiobook",
                "quick_loan",
                "film",
                "magazine",
                name="mediatype",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("language", sa.String(length=3), nullable=False),
        sa.Column(
            "audience",
            sa.Enum("adult", "child", name="audience", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("collection_code", sa.String(length=40), nullable=False),
        sa.Column(
            "added_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["collection_code"],
            ["collection.code"],
            name=op.f("fk_title_collection_code_collection"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_title")),
    )
    op.create_table(
        "van_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("local", "direct", "hub", name="transportroute", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("municipality_a", sa.String(length=4), nullable=True),
        sa.Column("municipality_b", sa.String(length=4), nullable=True),
        sa.Column("weekdays", sa.String(length=7), nullable=False),
        sa.ForeignKeyConstraint(
            ["municipality_a"],
            ["municipality.code"],
            name=op.f("fk_van_route_municipality_a_municipality"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality_b"],
            ["municipality.code"],
            name=op.f("fk_van_route_municipality_b_municipality"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_van_route")),
    )
    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("barcode", sa.String(length=40), nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        sa.Column("home_branch_code", sa.String(length=20), nullable=False),
        sa.Column("current_branch_code", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "available",
                "on_loan",
                "in_transit",
                "on_hold_shelf",
                "lost",
                "withdrawn",
                name="itemstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "added_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "withdrawn_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["current_branch_code"],
            ["branch.code"],
            name=op.f("fk_item_current_branch_code_branch"),
        ),
        sa.ForeignKeyConstraint(
            ["home_branch_code"], ["branch.code"], name=op.f("fk_item_home_branch_code_branch")
        ),
        sa.ForeignKeyConstraint(["title_id"], ["title.id"], name=op.f("fk_item_title_id_title")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item")),
        sa.UniqueConstraint("barcode", name=op.f("uq_item_barcode")),
    )
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_title_id"), ["title_id"], unique=False)

    op.create_table(
        "patron",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_number", sa.String(length=40), nullable=False),
        sa.Column("home_municipality_code", sa.String(length=4), nullable=False),
        sa.Column("home_branch_code", sa.String(length=20), nullable=False),
        sa.Column(
            "category",
            sa.Enum("adult", "child", name="patroncategory", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "registered_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["home_branch_code"], ["branch.code"], name=op.f("fk_patron_home_branch_code_branch")
        ),
        sa.ForeignKeyConstraint(
            ["home_municipality_code"],
            ["municipality.code"],
            name=op.f("fk_patron_home_municipality_code_municipality"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patron")),
        sa.UniqueConstraint("card_number", name=op.f("uq_patron_card_number")),
    )
    op.create_table(
        "hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title_id", sa.Integer(), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("pickup_branch_code", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "in_transit",
                "ready",
                "fulfilled",
                "cancelled",
                "expired",
                name="holdstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "placed_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column(
            "trapped_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "ready_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "expires_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "closed_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("cancel_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_hold_item_id_item")),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patron.id"], name=op.f("fk_hold_patron_id_patron")
        ),
        sa.ForeignKeyConstraint(
            ["pickup_branch_code"], ["branch.code"], name=op.f("fk_hold_pickup_branch_code_branch")
        ),
        sa.ForeignKeyConstraint(["title_id"], ["title.id"], name=op.f("fk_hold_title_id_title")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold")),
    )
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.create_index("ix_hold_status_expires", ["status", "expires_at"], unique=False)
        batch_op.create_index("ix_hold_title_status", ["title_id", "status"], unique=False)
        batch_op.create_index(
            "uq_hold_active_patron_title",
            ["patron_id", "title_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('waiting', 'in_transit', 'ready')"),
            postgresql_where=sa.text("status IN ('waiting', 'in_transit', 'ready')"),
        )
        batch_op.create_index(
            "uq_hold_live_item",
            ["item_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('in_transit', 'ready')"),
            postgresql_where=sa.text("status IN ('in_transit', 'ready')"),
        )

    op.create_table(
        "loan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("branch_code", sa.String(length=20), nullable=False),
        sa.Column(
            "checked_out_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("due_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False),
        sa.Column("renewals", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "returned_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("return_branch_code", sa.String(length=20), nullable=True),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_code"], ["branch.code"], name=op.f("fk_loan_branch_code_branch")
        ),
        sa.ForeignKeyConstraint(["hold_id"], ["hold.id"], name=op.f("fk_loan_hold_id_hold")),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_loan_item_id_item")),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patron.id"], name=op.f("fk_loan_patron_id_patron")
        ),
        sa.ForeignKeyConstraint(
            ["return_branch_code"], ["branch.code"], name=op.f("fk_loan_return_branch_code_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan")),
    )
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loan_open_patron",
            ["patron_id"],
            unique=False,
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )
        batch_op.create_index(
            "uq_loan_open_item",
            ["item_id"],
            unique=True,
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )

    op.create_table(
        "transport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("from_branch_code", sa.String(length=20), nullable=False),
        sa.Column("to_branch_code", sa.String(length=20), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "hold",
                "return_home",
                "rebalance",
                name="transportreason",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "route",
            sa.Enum("local", "direct", "hub", name="transportroute", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column(
            "requested_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "dispatched_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "received_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("lost_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_branch_code"], ["branch.code"], name=op.f("fk_transport_from_branch_code_branch")
        ),
        sa.ForeignKeyConstraint(["hold_id"], ["hold.id"], name=op.f("fk_transport_hold_id_hold")),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_transport_item_id_item")),
        sa.ForeignKeyConstraint(
            ["to_branch_code"], ["branch.code"], name=op.f("fk_transport_to_branch_code_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport")),
    )
    with op.batch_alter_table("transport", schema=None) as batch_op:
        batch_op.create_index(
            "uq_transport_open_item",
            ["item_id"],
            unique=True,
            sqlite_where=sa.text("received_at IS NULL AND lost_at IS NULL"),
            postgresql_where=sa.text("received_at IS NULL AND lost_at IS NULL"),
        )


def downgrade() -> None:

    with op.batch_alter_table("transport", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_transport_open_item",
            sqlite_where=sa.text("received_at IS NULL AND lost_at IS NULL"),
            postgresql_where=sa.text("received_at IS NULL AND lost_at IS NULL"),
        )

    op.drop_table("transport")
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_loan_open_item",
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )
        batch_op.drop_index(
            "ix_loan_open_patron",
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )

    op.drop_table("loan")
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_hold_live_item",
            sqlite_where=sa.text("status IN ('in_transit', 'ready')"),
            postgresql_where=sa.text("status IN ('in_transit', 'ready')"),
        )
        batch_op.drop_index(
            "uq_hold_active_patron_title",
            sqlite_where=sa.text("status IN ('waiting', 'in_transit', 'ready')"),
            postgresql_where=sa.text("status IN ('waiting', 'in_transit', 'ready')"),
        )
        batch_op.drop_index("ix_hold_title_status")
        batch_op.drop_index("ix_hold_status_expires")

    op.drop_table("hold")
    op.drop_table("patron")
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_title_id"))

    op.drop_table("item")
    op.drop_table("van_route")
    op.drop_table("title")
    op.drop_table("membership")
    op.drop_table("branch")
    op.drop_table("municipality")
    op.drop_table("feed_counter")
    op.drop_table("database_identity")
    op.drop_table("collection")
    op.drop_table("circulation_rule")
    op.drop_table("circulation_event")
    op.drop_table("api_token")
