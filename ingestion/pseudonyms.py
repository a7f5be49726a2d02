"""Pseudonymisation: patron ids become keyed hashes, birth dates become age bands.

A patron id is replaced by the hex HMAC-SHA256 of `patron:<id>` under
BIBBLA_PSEUDONYM_KEY. With the key, anyone could recompute the pseudonym of every id, so
the key is a secret of the lending core's operators and never lands. Without a key the run
refuses, except in demo mode, where a random key is generated once into the data folder
(outside the landing) and reused, so that repeated demo runs keep joining.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import date
from pathlib import Path

import polars as pl

from bibbla.config import Settings
from ingestion.errors import PseudonymKeyMissing

DEMO_KEY_FILE = "pseudonym.key"
MINIMUM_KEY_LENGTH = 16
# The age bands SCB's population table uses (reference/population_by_age.csv).
AGE_BANDS = ((0, 15, "0-15"), (16, 24, "16-24"), (25, 44, "25-44"), (45, 64, "45-64"))
OLDEST_BAND = (65, "65+")


def load_key(settings: Settings) -> bytes:
    """The pseudonym key: BIBBLA_PSEUDONYM_KEY, or in demo mode a generated one."""
    configured = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    if configured:
        if len(configured) < MINIMUM_KEY_LENGTH:
            raise PseudonymKeyMissing(
                f"BIBBLA_PSEUDONYM_KEY is shorter than {MINIMUM_KEY_LENGTH} characters; "
                "patron ids are small numbers, so a short key would let anyone reverse the "
                "pseudonyms. Use e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
        return configured.encode("utf-8")
    if settings.env == "demo":
        return _demo_key(settings.data_dir / DEMO_KEY_FILE)
    raise PseudonymKeyMissing(
        "BIBBLA_PSEUDONYM_KEY is not set: ingestion will not land patron data without a key "
        "to pseudonymise it. Set BIBBLA_PSEUDONYM_KEY (see .env.example), or set "
        "BIBBLA_ENV=demo to let a random key be generated into the data folder."
    )


def _demo_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: if two first runs race, one creates the key and the other reads it.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MINIMUM_KEY_LENGTH:
        raise PseudonymKeyMissing(f"{path}: the demo pseudonym key is empty or truncated")
    return key.encode("utf-8")


def key_fingerprint(key: bytes) -> str:
    """A short, non-reversible mark of the key, kept with the landing to detect a change."""
    return hmac.new(key, b"bibbla:pseudonym-key-fingerprint", hashlib.sha256).hexdigest()[:16]


class Pseudonymiser:
    """Turns patron ids into pseudonyms; hashes each distinct id once per run."""

    def __init__(self, key: bytes):
        self._key = key
        self._known: dict[int, str] = {}

    def pseudonym(self, patron_id: int) -> str:
        known = self._known.get(patron_id)
        if known is None:
            message = f"patron:{patron_id}".encode()
            known = hmac.new(self._key, message, hashlib.sha256).hexdigest()
            self._known[patron_id] = known
        return known

    def patron_keys(self, patron_ids: pl.Series) -> pl.Series:
        """Pseudonyms for a column of patron ids (null stays null)."""
        distinct = patron_ids.drop_nulls().unique()
        mapping = {patron_id: self.pseudonym(patron_id) for patron_id in distinct.to_list()}
        return patron_ids.replace_strict(mapping, default=None, return_dtype=pl.String)


def age_band(birth_date: pl.Expr, on: date) -> pl.Expr:
    """The age band on a given date of a birth date column (null for unknown or future)."""
    had_birthday = (birth_date.dt.month() < on.month) | (
        (birth_date.dt.month() == on.month) & (birth_date.dt.day() <= on.day)
    )
    age = pl.lit(on.year) - birth_date.dt.year() - pl.when(had_birthday).then(0).otherwise(1)
    band = pl.when(age < 0).then(pl.lit(None, pl.String))
    for low, high, label in AGE_BANDS:
        band = band.when(age.is_between(low, high)).then(pl.lit(label))
    return band.when(age >= OLDEST_BAND[0]).then(pl.lit(OLDEST_BAND[1])).otherwise(None)
