"""Ingestion: extract the lending core's data, pseudonymise it and land it as Parquet.

The functions below are what the CLI (`bibbla ingest`) and the Dagster assets call; each
returns a RunReport (rows landed and quarantined per table) and raises an IngestionError,
having landed nothing new, when it cannot land safely. The landing layout is the contract
in `ingestion/LANDING.md` (and `ingestion/contract.py`).

This package reads the lending core's database directly (read-only) and never imports the
lending core itself (`operational`), nor anything of the orchestration.
"""

from ingestion.compaction import compact
from ingestion.errors import IngestionError, ReferenceFileError
from ingestion.events import extract_events
from ingestion.pipeline import IngestOutcome, ingest
from ingestion.reference import land_reference
from ingestion.report import RunReport, TableReport
from ingestion.snapshots import land_snapshots
from ingestion.verify import (
    FeedCheck,
    LandingFileProblem,
    check_feed_landing,
    check_histories,
    check_landing_files,
)

__all__ = [
    "FeedCheck",
    "IngestOutcome",
    "IngestionError",
    "LandingFileProblem",
    "ReferenceFileError",
    "RunReport",
    "TableReport",
    "check_feed_landing",
    "check_histories",
    "check_landing_files",
    "compact",
    "extract_events",
    "ingest",
    "land_reference",
    "land_snapshots",
]
