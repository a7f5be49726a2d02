"""Pseudonyms and age bands: the definitions others must be able to reproduce."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import polars as pl
import pytest

from ingestion.pseudonyms import Pseudonymiser, age_band, key_fingerprint


def test_a_pseudonym_is_the_hmac_sha256_of_the_patron_id():
    key = b"a-key-of-sixteen-characters"
    expected = hmac.new(key, b"patron:42", hashlib.sha256).hexdigest()

    pseudonyms = Pseudonymiser(key).patron_keys(pl.Series([42, None, 42], dtype=pl.Int64))

    assert pseudonyms.to_list() == [expected, None, expected]
    assert Pseudonymiser(b"another-key-of-sixteen").pseudonym(42) != expected
    assert key_fingerprint(key) != key_fingerprint(b"another-key-of-sixteen")
    assert key.decode() not in key_fingerprint(key)


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (date(2010, 6, 5), "0-15"),  # 15 today
        (date(2009, 6, 5), "16-24"),  # 16 today
        (date(2009, 6, 6), "0-15"),  # 16 tomorrow
        (date(2000, 6, 6), "16-24"),
        (date(1981, 6, 5), "25-44"),  # 44 today
        (date(1980, 6, 5), "45-64"),
        (date(1960, 6, 5), "65+"),  # 65 today
        (date(1925, 1, 1), "65+"),
        (date(2026, 1, 1), None),  # not born yet
        (None, None),
    ],
)
def test_age_bands_follow_scb_bands_on_the_as_of_date(born, band):
    frame = pl.DataFrame({"birth_date": [born]}, schema={"birth_date": pl.Date})

    result = frame.select(age_band(pl.col("birth_date"), date(2025, 6, 5)))

    assert result.to_series().to_list() == [band]
