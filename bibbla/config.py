"""The project's one configuration object, read from `BIBBLA_*` environment variables.

Every step (lending core, ingestion, orchestration, the CLI) takes its paths and URLs from
here, so none is hard-coded twice. `.env.example` documents each variable.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of every bibbla step. Relative paths are relative to the project root."""

    model_config = SettingsConfigDict(
        env_prefix="BIBBLA_",
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Literal["dev", "demo", "test", "production"] = Field(
        default="dev", description="Where this runs; `demo` allows a generated pseudonym key."
    )
    data_dir: Path = Field(default=Path("data"), description="Root of all generated data.")
    operational_db: str = Field(
        default="",
        description="SQLAlchemy URL of the lending core; default a SQLite file in data_dir.",
    )
    warehouse: Path = Field(default=Path(""), description="DuckDB warehouse file.")
    reference_dir: Path = Field(
        default=Path("reference"), description="Reference files edited by people."
    )
    test_postgres_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        description="Server the PostgreSQL tests use; they create and drop their own databases.",
    )
    require_postgres: bool = Field(
        default=False,
        description="Fail (instead of skip) the PostgreSQL tests when the server is unreachable.",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None, description="HMAC key that turns patron ids into pseudonyms."
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_failed_auth_limit: str = Field(
        default="10/minute",
        description="Failed authentications a client may make before it is refused (429).",
    )
    api_connections_per_worker: int = Field(
        default=8,
        gt=0,
        description="Database connections each `bibbla serve` worker process keeps (PostgreSQL): "
        "a request holds one from the token check to its answer; more requests at once wait "
        "for one, up to 10 s, then get 503.",
    )
    api_sqlite_busy_timeout_ms: int = Field(
        default=1000,
        ge=0,
        description="How long an API request waits for SQLite's write lock before it is "
        "answered 503 with Retry-After.",
    )
    web_failed_logins_per_card: str = Field(
        default="5/15 minutes",
        description="Failed web log-ins with one card number before it is refused (429).",
    )
    web_failed_logins_per_client: str = Field(
        default="30/10 minutes",
        description="Failed web log-ins from one client address before it is refused (429).",
    )
    timezone: str = Field(
        default="Europe/Stockholm", description="Local time of the libraries (dates, van days)."
    )
    landing: Path = Field(
        default=Path(""),
        description="Root of ingestion's Parquet files; default data_dir/landing.",
    )
    ingest_batch_rows: int = Field(
        default=100_000,
        gt=0,
        description="Circulation events read, pseudonymised and landed per batch (bounds memory).",
    )
    retention_months: int = Field(
        default=36,
        ge=1,
        description="Months of circulation history that keep their patron keys; older "
        "events lose them (ingestion/retention.py), while the aggregates stay.",
    )
    dbt_unit_tests: bool | None = Field(
        default=None,
        description="Whether a full dbt build runs the project's unit tests (the models' SQL "
        "on hand-made fixtures: the same answer whatever the landing holds). Default: on in "
        "`dev` and `test`, off in `demo` and `production`, as dbt's documentation advises "
        "(static inputs need no production compute; `make test` and CI run them). The "
        "nightly build leaves them out by itself; the test suite turns them off for every "
        "build but the shared world's first, so each runs once per test run.",
    )
    duckdb_memory_limit: str = Field(
        default="",
        description="DuckDB's memory_limit for every dbt build (e.g. '4GB'); beyond it DuckDB "
        "spills to duckdb_temp_directory instead of failing. Default: "
        "duckdb_memory_share of the machine's memory.",
    )
    duckdb_memory_share: float = Field(
        default=0.5,
        gt=0,
        le=0.9,
        description="Share of the machine's memory a dbt build may use when "
        "duckdb_memory_limit is not set (the rest is for dbt, Dagster and the system).",
    )
    duckdb_temp_directory: Path = Field(
        default=Path(""),
        description="Where DuckDB spills during dbt builds; default a `duckdb_spill` folder "
        "beside the warehouse.",
    )
    kb_bibstat_url: str = Field(
        default="https://bibstat.kb.se",
        description="KB's open library statistics (bibstat), for `bibbla ingest kb-fetch`.",
    )

    @field_validator("dbt_unit_tests", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `BIBBLA_DBT_UNIT_TESTS=` (as in .env.example) means the environment's default
        return None if value == "" else value

    @field_validator("data_dir", "reference_dir", mode="after")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def runs_dbt_unit_tests(self) -> bool:
        """dbt_unit_tests if set, else whether this is a development or test environment."""
        if self.dbt_unit_tests is not None:
            return self.dbt_unit_tests
        return self.env in ("dev", "test")

    @property
    def operational_db_url(self) -> str:
        if self.operational_db:
            return self.operational_db
        return f"sqlite:///{self.data_dir / 'operational.sqlite'}"

    @property
    def landing_path(self) -> Path:
        if str(self.landing) in ("", "."):
            return self.data_dir / "landing"
        return self.landing if self.landing.is_absolute() else PROJECT_ROOT / self.landing

    @property
    def duckdb_memory(self) -> str:
        """DuckDB's memory_limit for dbt builds: the setting, or the share of the machine's
        physical memory in whole MB."""
        if self.duckdb_memory_limit:
            return self.duckdb_memory_limit
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return f"{int(physical * self.duckdb_memory_share) // 2**20}MB"

    @property
    def duckdb_spill_directory(self) -> Path:
        if str(self.duckdb_temp_directory) in ("", "."):
            return self.warehouse_path.parent / "duckdb_spill"
        path = self.duckdb_temp_directory
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def warehouse_path(self) -> Path:
        if str(self.warehouse) in ("", "."):
            return self.data_dir / "warehouse.duckdb"
        return self.warehouse if self.warehouse.is_absolute() else PROJECT_ROOT / self.warehouse


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once; tests clear the cache to change them)."""
    return Settings()
