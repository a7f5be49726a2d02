"""The lending core's composition root: one engine per database URL, and units of work on it."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine

from operational.adapters.database import create_database_engine
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return create_database_engine(url)


def unit_of_work(engine: Engine, *, read_only: bool = False) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(engine, read_only=read_only)
