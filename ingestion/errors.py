"""Why an ingestion run refuses to land anything. Each message says what to do next."""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


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


class PersonalColumnRead(IngestionError):
    """Ingestion read a column of the lending core that it must never read (privacy/rules.py):
    a mistake in its own column selection, caught before anything was written."""


class LandingUnwritable(IngestionError):
    """The landing folder cannot take the data: a full disk, a read-only file system, no
    permission. Nothing new was landed and the watermark is where it was."""


_UNWRITABLE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT}
# polars and pyarrow report the operating system's error inside their own exceptions
_UNWRITABLE_TEXTS = (
    "No space left on device",
    "Read-only file system",
    "Permission denied",
    "Disk quota exceeded",
)


def landing_writes(step: Callable[..., T]) -> Callable[..., T]:
    """Turn the operating system's refusal to write the landing into LandingUnwritable,
    naming the folder and the reason, for a step called as step(settings, ...)."""

    @functools.wraps(step)
    def guarded(settings, *args, **kwargs):
        landing = settings.landing_path
        try:
            return step(settings, *args, **kwargs)
        except IngestionError:
            raise
        except OSError as error:
            if error.errno not in _UNWRITABLE_ERRNOS:
                raise
            reason, where = error.strerror, error.filename
        except Exception as error:
            text = str(error)
            reason = next((known for known in _UNWRITABLE_TEXTS if known in text), None)
            if reason is None:
                raise
            where = None
        place = f" ({where})" if where else ""
        raise LandingUnwritable(
            f"cannot write to the landing {landing}: {reason}{place}; nothing new was landed "
            "and the watermark is unchanged — free space or fix the folder, then run again"
        )

    return guarded
