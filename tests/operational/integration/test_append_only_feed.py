"""The circulation event feed is append-only, enforced by the database on SQLite and
PostgreSQL: UPDATE and DELETE (and TRUNCATE on PostgreSQL) are refused with a clear
message and change nothing, while the use cases still append events."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from operational.adapters import schema, tables
from operational.adapters.database import create_database_engine
from operational.adapters.feed import FEED
from tests.conftest import REFERENCE_DIR, create_postgres_database
from tests.operational.desk import NORA, Desk

events = tables.circulation_event


def refused(operation: str) -> str:
    return f"circulation_event is append-only: {operation} refused"


@pytest.fixture
def desk(engine, clock) -> Desk:
    """A database with a little circulation: a registration, a title, a copy, a loan."""
    desk = Desk(engine, clock)
    card = desk.patron(NORA)
    desk.checkout(card, desk.item(desk.title(), "NORA"), "NORA")
    assert len(desk.events()) >= 3
    return desk


def feed(engine: Engine) -> tuple[list, int]:
    """Every event row, and the feed counter, read on a fresh connection."""
    with engine.connect() as c:
        rows = c.execute(select(events).order_by(events.c.id)).all()
        counter = c.execute(
            select(tables.feed_counter.c.last_id).where(tables.feed_counter.c.name == FEED)
        ).scalar_one()
    return [tuple(row) for row in rows], counter


def triggers(c: Connection) -> dict[str, str]:
    """The triggers on circulation_event (and PostgreSQL's trigger function) by name, each
    definition with its whitespace normalised."""
    if c.dialect.name == "sqlite":
        found = c.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'circulation_event'"
            )
        ).all()
    else:
        found = c.execute(
            text(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = to_regclass('circulation_event') AND NOT tgisinternal "
                "UNION ALL "
                "SELECT proname, prosrc FROM pg_proc "
                "WHERE proname = 'circulation_event_refuse_change'"
            )
        ).all()
    return {name: " ".join(definition.split()) for name, definition in found}


UPDATES = {
    "core, one row": lambda first: update(events).where(events.c.id == first).values(type="x"),
    "core, every row": lambda _first: update(events).values(branch_code="KUM"),
    "text": lambda first: text(f"UPDATE circulation_event SET details = '{{}}' WHERE id = {first}"),
}
DELETES = {
    "core, one row": lambda first: delete(events).where(events.c.id == first),
    "core, every row": lambda _first: delete(events),
    "text": lambda first: text(f"DELETE FROM circulation_event WHERE id >= {first}"),
}


@pytest.mark.parametrize("statement", UPDATES.values(), ids=UPDATES.keys())
def test_an_update_is_refused_and_changes_nothing(desk, engine, statement):
    before = feed(engine)
    with pytest.raises(IntegrityError, match=refused("UPDATE")), engine.begin() as c:
        c.execute(statement(before[0][0][0]))
    assert feed(engine) == before


@pytest.mark.parametrize("statement", DELETES.values(), ids=DELETES.keys())
def test_a_delete_is_refused_and_changes_nothing(desk, engine, statement):
    before = feed(engine)
    with pytest.raises(IntegrityError, match=refused("DELETE")), engine.begin() as c:
        c.execute(statement(before[0][0][0]))
    assert feed(engine) == before


def test_on_sqlite_the_refused_statement_alone_is_undone(sqlite_engine, clock):
    """SQLite's RAISE(ABORT) undoes the statement, not its transaction: what the
    transaction wrote before it stays (PostgreSQL aborts the whole transaction)."""
    desk = Desk(sqlite_engine, clock)
    desk.checkout(desk.patron(NORA), desk.item(desk.title(), "NORA"), "NORA")
    before = feed(sqlite_engine)
    with sqlite_engine.begin() as c:
        c.execute(update(tables.patron).values(phone="070-000 00 00"))
        with pytest.raises(IntegrityError, match=refused("DELETE")):
            c.execute(delete(events))
        assert c.execute(select(func.count()).select_from(events)).scalar_one() == len(before[0])
    assert feed(sqlite_engine) == before
    with sqlite_engine.connect() as c:
        assert set(c.execute(select(tables.patron.c.phone)).scalars()) == {"070-000 00 00"}


@pytest.fixture
def postgres_engine(postgres_admin_url):
    url, drop = create_postgres_database(postgres_admin_url)
    engine = create_database_engine(url)
    try:
        schema.init(engine, REFERENCE_DIR)
        yield engine
    finally:
        engine.dispose()
        drop()


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql(postgres_engine, clock):
    """TRUNCATE skips row triggers; the statement trigger refuses it too. (SQLite has no
    TRUNCATE: its DELETE without WHERE fires the delete trigger, tested above.)"""
    desk = Desk(postgres_engine, clock)
    desk.checkout(desk.patron(NORA), desk.item(desk.title(), "NORA"), "NORA")
    before = feed(postgres_engine)
    with pytest.raises(IntegrityError, match=refused("TRUNCATE")), postgres_engine.begin() as c:
        c.execute(text("TRUNCATE circulation_event"))
    assert feed(postgres_engine) == before


def test_the_use_cases_still_append_events_after_a_refusal(desk, engine):
    before, counter = feed(engine)
    with pytest.raises(IntegrityError, match=refused("UPDATE")), engine.begin() as c:
        c.execute(update(events).values(reason="edited"))
    card = desk.patron(NORA)
    desk.checkout(card, desk.item(desk.title(), "NORA"), "NORA")
    after, new_counter = feed(engine)
    assert after[: len(before)] == before  # the old events, untouched
    appended = after[len(before) :]
    assert [row[0] for row in appended] == list(range(counter + 1, new_counter + 1))
    assert [row[2] for row in appended][-1] == "checkout"


def test_a_reset_drops_the_feed_and_the_new_database_refuses_changes_too(desk, engine):
    """`bibbla db init --reset` (schema.drop_all, then schema.init) drops the tables rather
    than deleting events; the new database has the triggers again."""
    with engine.connect() as c:
        migrated = triggers(c)
    schema.drop_all(engine)
    with engine.connect() as c:
        assert triggers(c) == {}  # no trigger function left behind on PostgreSQL either
    schema.init(engine, REFERENCE_DIR)
    assert feed(engine) == ([], 0)
    fresh = Desk(engine, desk.clock)
    fresh.patron(NORA)
    with pytest.raises(IntegrityError, match=refused("DELETE")), engine.begin() as c:
        c.execute(delete(events))
    with engine.connect() as c:
        assert triggers(c) == migrated


def test_create_all_installs_the_same_triggers_as_the_migrations(engine):
    with engine.connect() as c:
        migrated = triggers(c)
    expected = (
        {"circulation_event_refuse_update", "circulation_event_refuse_delete"}
        if engine.dialect.name == "sqlite"
        else {"circulation_event_refuse_change"}  # the trigger and its function
    )
    assert set(migrated) == expected
    schema.drop_all(engine)
    tables.metadata.create_all(engine)
    with engine.connect() as c:
        assert triggers(c) == migrated


def test_the_migration_downgrades_and_upgrades_again(desk, engine):
    config = schema.alembic_config()
    with engine.begin() as c:
        config.attributes["connection"] = c
        command.downgrade(config, "0002")
    with engine.connect() as c:
        assert triggers(c) == {}
    count = len(desk.events())
    with engine.connect() as c:  # without the triggers the table is an ordinary table
        assert c.execute(update(events).values(reason="edited")).rowcount == count
        c.rollback()
    schema.upgrade(engine)
    before = feed(engine)
    with pytest.raises(IntegrityError, match=refused("UPDATE")), engine.begin() as c:
        c.execute(update(events).values(reason="edited"))
    assert feed(engine) == before
