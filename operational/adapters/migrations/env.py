"""Alembic environment: migrates the database of the connection it is given, or of the
configured BIBBLA_OPERATIONAL_DB when run from the alembic command line."""

from alembic import context

from operational.adapters.search_index import include_object
from operational.adapters.tables import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from bibbla.config import get_settings
        from operational.adapters.database import create_database_engine

        engine = create_database_engine(get_settings().operational_db_url)
        with engine.connect() as connection:
            _migrate(connection)
            connection.commit()
    else:
        _migrate(connection)


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,  # the full-text index is made by its own DDL
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
