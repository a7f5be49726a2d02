"""simulation run parameters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 04:58:27.431185
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import operational.adapters.tables

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "simulation_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("scale", sa.Float(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("last_finished_day", sa.Date(), nullable=True),
        sa.Column("scenario", sa.String(length=40), nullable=False),
        sa.Column(
            "parameters",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "created_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulation_run")),
    )


def downgrade() -> None:

    op.drop_table("simulation_run")
