"""The catalogue's full-text index, in each database's own engine, kept current by triggers.

- SQLite: an FTS5 table `title_search` (rowid = title id) with the columns title, author,
  subject (the title's collection name, e.g. "Skönlitteratur för vuxna") and isbn. Its
  tokenizer is `unicode61 remove_diacritics 0`: case is folded, but å, ä and ö stay letters
  of their own, as Swedish readers expect ("oberg" does not find "Öberg"). SQLite has no
  Swedish stemmer; the search matches each word as a prefix instead ("hus" finds "huset").
- PostgreSQL: a table `title_search` (title_id, document tsvector) with a GIN index; the
  document is `to_tsvector('swedish', …)` of the same four fields, weighted title A,
  author B, subject C (the ISBN with the `simple` configuration, weight A), so Swedish
  stemming applies and å, ä, ö stay letters.

Triggers on `title` (insert, update, delete) and on a collection's rename write the index
in the same transaction as the catalogue change, whoever writes the title: the API's use
cases, the simulator's bulk writer, or SQL typed by hand. An ISBN is indexed as written and
without hyphens, so "9789100123456" finds "978-91-00123-45-6".

Migration 0004 installs the same statements (a copy, as migrations are frozen); tables.py
attaches these to `title` so `metadata.create_all` and `drop_all` create and drop them too.
The objects are not SQLAlchemy tables: `SEARCH_INDEX_TABLES` lists them so that
autogenerate comparisons leave them alone (`include_object`).
"""

from __future__ import annotations

# FTS5 makes shadow tables named after its table.
SEARCH_INDEX_TABLES = frozenset(
    {
        "title_search",
        "title_search_data",
        "title_search_idx",
        "title_search_content",
        "title_search_docsize",
        "title_search_config",
    }
)


def include_object(_object, name, type_, _reflected, _compare_to) -> bool:
    """Alembic's filter: the search index is made by DDL of its own, not by the metadata."""
    return not (type_ == "table" and name in SEARCH_INDEX_TABLES)


_SQLITE_ROW = """coalesce({t}.title, ''),
        coalesce({t}.author, ''),
        coalesce((SELECT name FROM collection WHERE code = {t}.collection_code), ''),
        coalesce({t}.isbn || ' ' || replace({t}.isbn, '-', ''), '')"""

SQLITE_CREATE = [
    # Prefix indexes of 2 and 3 characters make the prefix queries the search runs cheap.
    """
    CREATE VIRTUAL TABLE title_search USING fts5(
        title, author, subject, isbn,
        tokenize = 'unicode61 remove_diacritics 0',
        prefix = '2 3'
    )
    """,
    # Ranking: a word in the title counts most, then the author, the subject, the ISBN.
    "INSERT INTO title_search(title_search, rank) VALUES ('rank', 'bm25(10.0, 5.0, 2.0, 1.0)')",
    f"""
    CREATE TRIGGER title_search_insert AFTER INSERT ON title
    BEGIN
        INSERT INTO title_search(rowid, title, author, subject, isbn)
        VALUES (new.id, {_SQLITE_ROW.format(t="new")});
    END
    """,
    f"""
    CREATE TRIGGER title_search_update AFTER UPDATE OF title, author, isbn, collection_code
    ON title
    BEGIN
        DELETE FROM title_search WHERE rowid = old.id;
        INSERT INTO title_search(rowid, title, author, subject, isbn)
        VALUES (new.id, {_SQLITE_ROW.format(t="new")});
    END
    """,
    """
    CREATE TRIGGER title_search_delete AFTER DELETE ON title
    BEGIN
        DELETE FROM title_search WHERE rowid = old.id;
    END
    """,
    # Loading the reference data again rewrites every collection's name; only a real
    # rename re-indexes its titles.
    f"""
    CREATE TRIGGER title_search_collection_renamed AFTER UPDATE OF name ON collection
    WHEN old.name IS NOT new.name
    BEGIN
        DELETE FROM title_search
        WHERE rowid IN (SELECT id FROM title WHERE collection_code = new.code);
        INSERT INTO title_search(rowid, title, author, subject, isbn)
        SELECT t.id, {_SQLITE_ROW.format(t="t")} FROM title AS t
        WHERE t.collection_code = new.code;
    END
    """,
]
SQLITE_BACKFILL = [
    f"""
    INSERT INTO title_search(rowid, title, author, subject, isbn)
    SELECT t.id, {_SQLITE_ROW.format(t="t")} FROM title AS t
    """
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS title_search_collection_renamed",
    "DROP TRIGGER IF EXISTS title_search_delete",
    "DROP TRIGGER IF EXISTS title_search_update",
    "DROP TRIGGER IF EXISTS title_search_insert",
    "DROP TABLE IF EXISTS title_search",
]

POSTGRESQL_CREATE = [
    """
    CREATE TABLE title_search (
        title_id integer PRIMARY KEY REFERENCES title (id) ON DELETE CASCADE,
        document tsvector NOT NULL
    )
    """,
    "CREATE INDEX ix_title_search_document ON title_search USING gin (document)",
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
]
POSTGRESQL_BACKFILL = [
    """
    INSERT INTO title_search (title_id, document)
    SELECT t.id, title_search_document(t.title, t.author, c.name, t.isbn)
    FROM title AS t JOIN collection AS c ON c.code = t.collection_code
    """
]
# Deleting a title deletes its row by the foreign key's ON DELETE CASCADE.
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS title_search_collection_renamed ON collection",
    "DROP FUNCTION IF EXISTS title_search_collection_renamed()",
    "DROP TRIGGER IF EXISTS title_search_refresh ON title",
    "DROP FUNCTION IF EXISTS title_search_refresh()",
    "DROP TABLE IF EXISTS title_search",
    "DROP FUNCTION IF EXISTS title_search_document(text, text, text, text)",
]

SEARCH_INDEX_DDL = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
    "postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP),
}
