"""Why an ingestion run refuses to land anything. Each message says what to do next."""

from __future__ import annotations


class IngestionError(Exception):
    """A run that cannot land data safely; nothing was landed by the failing step."""


class PseudonymKeyMissing(IngestionError):
    """No BIBBLA_PSEUDONYM_KEY outside demo mode."""


class PseudonymKeyChanged(IngestionError):
    """The key differs from the one the landed pseudonyms were made with."""


class OperationalDatabaseUnavailable(IngestionError):
    """The lending core's database cannot be opened or has no identity (not initialised)."""


class DatabaseRebuilt(IngestionError):
    """The lending core is a different database from the one landed so far."""

    def __init__(self, message: str, landed_database_id: str, current_database_id: str):
        super().__init__(message)
        self.landed_database_id = landed_database_id
        self.current_database_id = current_database_id


class WatermarkAhead(IngestionError):
    """The landing holds events the database no longer has (restored from a backup?)."""


class LandingBusy(IngestionError):
    """Another ingestion run holds the landing's lock."""


class LandingInconsistent(IngestionError):
    """Landed files contradict the committed watermark in a way recovery cannot decide."""


class ReferenceFileError(IngestionError):
    """A reference file is malformed; the message names the file, line and field."""

    def __init__(self, path: str, line: int | None, field: str | None, problem: str):
        where = f"{path}:{line}" if line is not None else path
        what = f"field '{field}': {problem}" if field else problem
        super().__init__(f"{where}: {what}")
        self.path, self.line, self.field, self.problem = path, line, field, problem
