"""reference_version: the edition of the reference data, for the API workers' caches

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 13:45:00.000000

One row (id 1). Every change to membership, branches, van routes, collections or
circulation rules moves `version` in the same transaction (a unit of work that changes
them, and the reference-data load); an API worker keeps those tables in memory and reads
only this row per request, reloading when it has moved (operational/adapters/
reference_cache.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "reference_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_version")),
    )
    op.bulk_insert(table, [{"id": 1, "version": 1}])


def downgrade() -> None:
    op.drop_table("reference_version")
