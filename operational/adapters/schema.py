"""Creating, upgrading and identifying a lending-core database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, select

from operational.adapters import tables
from operational.adapters.feed import FEED
from operational.adapters.reference_data import load_reference_data

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("database_identity")


def init(
    engine: Engine, reference_dir: Path, municipalities_file: Path | None = None
) -> tuple[str, dict[str, int]]:
    """Migrate, give the database its identity (once) and load the reference data.

    Returns the database id and the reference rows loaded. Safe to run again: the identity
    is kept and the reference data refreshed.
    """
    upgrade(engine)
    with engine.begin() as connection:
        database_id = connection.execute(
            select(tables.database_identity.c.database_id)
        ).scalar_one_or_none()
        if database_id is None:
            database_id = str(uuid.uuid4())
            connection.execute(
                tables.database_identity.insert(),
                {"id": 1, "database_id": database_id, "created_at": datetime.now(UTC)},
            )
        if connection.execute(select(tables.feed_counter.c.name)).first() is None:
            connection.execute(tables.feed_counter.insert(), {"name": FEED, "last_id": 0})
        if connection.execute(select(tables.reference_version.c.id)).first() is None:
            connection.execute(tables.reference_version.insert(), {"id": 1, "version": 1})
        counts = load_reference_data(connection, reference_dir, municipalities_file)
    return database_id, counts


def drop_all(engine: Engine) -> None:
    """Remove every table of the lending core (and Alembic's version table).

    This is how `bibbla db init --reset` starts over: the append-only feed is dropped with
    its triggers (and PostgreSQL's trigger function, by the drop hook in tables.py), never
    emptied with DELETE, which its triggers refuse."""
    tables.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
