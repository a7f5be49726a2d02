"""the visitors' web: PINs, visitor sessions and the catalogue's full-text index

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00.000000

- `patron_pin`: a patron's PIN as an Argon2id hash only (set by staff with `bibbla patron
  set-pin` or POST /api/v1/patrons/pin).
- `visitor_session`: signed-in visitors; the browser holds the secret, this table its hash.
- `title_search`: the catalogue's full-text index in the database's own engine (FTS5 on
  SQLite, a tsvector with the `swedish` configuration and a GIN index on PostgreSQL), kept
  current by triggers on `title` and on a collection's rename, in the same transaction as
  the change, whoever writes the title; filled here from the titles already there. See
  operational/adapters/search_index.py, whose statements these are (a frozen copy).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import operational.adapters.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_CREATE = [
    """
    CREATE VIRTUAL TABLE title_search USING fts5(
        title, author, subject, isbn,
        tokenize = 'unicode61 remove_diacritics 0',
        prefix = '2 3'
    )
    """,
    """INSERT INTO title_search(title_search, rank) VALUES ('rank', 'bm25(10.0, 5.0, 2.0, 1.0)')""",
    """
    CREATE TRIGGER title_search_insert AFTER INSERT ON title
    BEGIN
        INSERT INTO title_search(rowid, title, author, subject, isbn)
        VALUES (new.id, coalesce(new.title, ''),
        coalesce(new.author, ''),
        coalesce((SELECT name FROM collection WHERE code = new.collection_code), ''),
        coalesce(new.isbn || ' ' || replace(new.isbn, '-', ''), ''));
    END
    """,
    """
    CREATE TRIGGER title_search_update AFTER UPDATE OF title, author, isbn, collection_code
    ON title
    BEGIN
        DELETE FROM title_search WHERE rowid = old.id;
        INSERT INTO title_search(rowid, title, author, subject, isbn)
        VALUES (new.id, coalesce(new.title, ''),
        coalesce(new.author, ''),
        coalesce((SELECT name FROM collection WHERE code = new.collection_code), ''),
        coalesce(new.isbn || ' ' || replace(new.isbn, '-', ''), ''));
    END
    """,
    """
    CREATE TRIGGER title_search_delete AFTER DELETE ON title
    BEGIN
        DELETE FROM title_search WHERE rowid = old.id;
    END
    """,
    """
    CREATE TRIGGER title_search_collection_renamed AFTER UPDATE OF name ON collection
    WHEN old.name IS NOT new.name
    BEGIN
        DELETE FROM title_search
        WHERE rowid IN (SELECT id FROM title WHERE collection_code = new.code);
        INSERT INTO title_search(rowid, title, author, subject, isbn)
        SELECT t.id, coalesce(t.title, ''),
        coalesce(t.author, ''),
        coalesce((SELECT name FROM collection WHERE code = t.collection_code), ''),
        coalesce(t.isbn || ' ' || replace(t.isbn, '-', ''), '') FROM title AS t
        WHERE t.collection_code = new.code;
    END
    """,
    """
    INSERT INTO title_search(rowid, title, author, subject, isbn)
    SELECT t.id, coalesce(t.title, ''),
        coalesce(t.author, ''),
        coalesce((SELECT name FROM collection WHERE code = t.collection_code), ''),
        coalesce(t.isbn || ' ' || replace(t.isbn, '-', ''), '') FROM title AS t
    """,
]

SQLITE_DROP = [
    """DROP TRIGGER IF EXISTS title_search_collection_renamed""",
    """DROP TRIGGER IF EXISTS title_search_delete""",
    """DROP TRIGGER IF EXISTS title_search_update""",
    """DROP TRIGGER IF EXISTS title_search_insert""",
    """DROP TABLE IF EXISTS title_search""",
]

POSTGRESQL_CREATE = [
    """
    CREATE TABLE title_search (
        title_id integer PRIMARY KEY REFERENCES title (id) ON DELETE CASCADE,
        document tsvector NOT NULL
    )
    """,
    """CREATE INDEX ix_title_search_document ON title_search USING gin (document)""",
    """
    CREATE FUNCTION title_search_document(title text, author text, subject text, isbn text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT setweight(to_tsvector('swedish'::regconfig, coalesce(title, '')), 'A')
            || setweight(to_tsvector('swedish'::regconfig, coalesce(author, '')), 'B')
            || setweight(to_tsvector('swedish'::regconfig, coalesce(subject, '')), 'C')
            || setweight(to_tsvector('simple'::regconfig,
                   coalesce(isbn || ' ' || replace(isbn, '-', ''), '')), 'A')
    $$
    """,
    """
    CREATE FUNCTION title_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO title_search (title_id, document)
        VALUES (NEW.id, title_search_document(
            NEW.title, NEW.author,
            (SELECT name FROM collection WHERE code = NEW.collection_code), NEW.isbn))
        ON CONFLICT (title_id) DO UPDATE SET document = EXCLUDED.document;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER title_search_refresh
    AFTER INSERT OR UPDATE OF title, author, isbn, collection_code ON title
    FOR EACH ROW EXECUTE FUNCTION title_search_refresh()
    """,
    """
    CREATE FUNCTION title_search_collection_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE title_search AS s
        SET document = title_search_document(t.title, t.author, NEW.name, t.isbn)
        FROM title AS t
        WHERE t.id = s.title_id AND t.collection_code = NEW.code;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER title_search_collection_renamed
    AFTER UPDATE OF name ON collection
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION title_search_collection_renamed()
    """,
    """
    INSERT INTO title_search (title_id, document)
    SELECT t.id, title_search_document(t.title, t.author, c.name, t.isbn)
    FROM title AS t JOIN collection AS c ON c.code = t.collection_code
    """,
]

POSTGRESQL_DROP = [
    """DROP TRIGGER IF EXISTS title_search_collection_renamed ON collection""",
    """DROP FUNCTION IF EXISTS title_search_collection_renamed()""",
    """DROP TRIGGER IF EXISTS title_search_refresh ON title""",
    """DROP FUNCTION IF EXISTS title_search_refresh()""",
    """DROP TABLE IF EXISTS title_search""",
    """DROP FUNCTION IF EXISTS title_search_document(text, text, text, text)""",
]


def _search_index(create: bool) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    if dialect == "postgresql":
        return POSTGRESQL_CREATE if create else POSTGRESQL_DROP
    raise NotImplementedError(f"no full-text index for {dialect}: SQLite or PostgreSQL only")


def upgrade() -> None:
    op.create_table(
        "patron_pin",
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("set_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patron.id"], name=op.f("fk_patron_pin_patron_id_patron")
        ),
        sa.PrimaryKeyConstraint("patron_id", name=op.f("pk_patron_pin")),
    )
    op.create_table(
        "visitor_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_seen_at",
            operational.adapters.tables.UtcDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "expires_at", operational.adapters.tables.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patron.id"], name=op.f("fk_visitor_session_patron_id_patron")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visitor_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_visitor_session_token_hash")),
    )
    op.create_index(
        op.f("ix_visitor_session_patron_id"), "visitor_session", ["patron_id"], unique=False
    )
    for statement in _search_index(create=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _search_index(create=False):
        op.execute(statement)
    op.drop_index(op.f("ix_visitor_session_patron_id"), table_name="visitor_session")
    op.drop_table("visitor_session")
    op.drop_table("patron_pin")
