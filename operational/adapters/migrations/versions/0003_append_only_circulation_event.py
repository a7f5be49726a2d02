"""circulation_event is append-only: triggers refuse UPDATE and DELETE

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00.000000

The feed's readers (the watermark reader of GET /events, the ingestion landing) assume that
an event, once committed, never changes or disappears. These triggers make the database
refuse it: on SQLite a BEFORE UPDATE and a BEFORE DELETE trigger that RAISE(ABORT, ...);
on PostgreSQL one statement-level trigger on UPDATE, DELETE and TRUNCATE (TRUNCATE skips
row triggers) whose function raises. Both fail with SQLSTATE class 23 / SQLITE_CONSTRAINT,
so SQLAlchemy raises IntegrityError on either engine, with the message
"circulation_event is append-only: <operation> refused".

Starting over is `bibbla db init --reset`, which drops the tables (dropping a table drops
its triggers); it never deletes events.

The same definitions are attached to `tables.circulation_event` for databases made with
`metadata.create_all` (tests/operational/integration/test_append_only_feed.py checks they
agree). A later migration that rebuilds circulation_event with SQLite batch mode (copy and
move) loses the triggers and must create them again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = [
    """
    CREATE TRIGGER circulation_event_refuse_update
    BEFORE UPDATE ON circulation_event
    BEGIN
        SELECT RAISE(ABORT, 'circulation_event is append-only: UPDATE refused');
    END
    """,
    """
    CREATE TRIGGER circulation_event_refuse_delete
    BEFORE DELETE ON circulation_event
    BEGIN
        SELECT RAISE(ABORT, 'circulation_event is append-only: DELETE refused');
    END
    """,
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS circulation_event_refuse_delete",
    "DROP TRIGGER IF EXISTS circulation_event_refuse_update",
]

POSTGRESQL_UPGRADE = [
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
]
POSTGRESQL_DOWNGRADE = [
    "DROP TRIGGER IF EXISTS circulation_event_refuse_change ON circulation_event",
    "DROP FUNCTION IF EXISTS circulation_event_refuse_change()",
]


def _statements(upgrade: bool) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return SQLITE_UPGRADE if upgrade else SQLITE_DOWNGRADE
    if dialect == "postgresql":
        return POSTGRESQL_UPGRADE if upgrade else POSTGRESQL_DOWNGRADE
    raise NotImplementedError(f"no append-only triggers for {dialect}: SQLite or PostgreSQL only")


def upgrade() -> None:
    for statement in _statements(upgrade=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(upgrade=False):
        op.execute(statement)
