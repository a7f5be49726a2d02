"""KB's open library statistics (bibstat): fetching and reading its JSON-LD answers.

KB (Kungliga biblioteket) publishes Sweden's library statistics as open data (CC0) at
`{base}/data`: each answer is a JSON-LD `DataSet` whose `observations` are one library x
one variable x one year, e.g.

    {"@id": "…", "@type": "Observation",
     "library": {"@id": "<bibdb>/library/<sigel>", "name": "Nora bibliotek"},
     "sampleYear": 2023, "targetGroup": "Folkbibliotek", "Utlan399": 61234,
     "published": "2024-03-01T10:00:00Z", "modified": "2024-03-01T10:00:00Z"}

with `next` ("?limit=N&offset=K") while more pages exist. An observation does not say
which municipality its library belongs to, so pages are fetched per municipality
(`municipality_code=`) and stored under that code:

    reference/kb_bibstat/official/<municipality code>/<year>-<term>-<offset>.jsonld
    reference/kb_bibstat/example/<municipality code>/<name>.jsonld   (hand-made examples)

Rows read from `example/` say so (`is_example`); official pages for a municipality and year
replace the example rows of that municipality and year. Municipality figures are sums over
its libraries; per-inhabitant ratios are the reader's job (e.g. Utlan399 / Population01).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import polars as pl

from ingestion import files
from ingestion.contract import KB_LIBRARY_STATISTICS
from ingestion.errors import IngestionError, ReferenceFileError

FOLDER = "kb_bibstat"
EXAMPLE, OFFICIAL = "example", "official"
SUFFIXES = (".jsonld", ".json")
# Loans (total, books), stock, active borrowers, visits, inhabitants.
DEFAULT_TERMS = ("Utlan399", "Utlan301", "Bestand199", "Aktiv99", "Besok01", "Population01")
# Keys of an observation that are not its variable (libstat/models.py, OpenData.to_dict).
NOT_VARIABLES = frozenset(
    {
        "@id",
        "@type",
        "@context",
        "library",
        "sampleYear",
        "targetGroup",
        "published",
        "modified",
        "dataSet",
    }
)
PAGE_SIZE = 200
# A municipality in this county has a handful of public libraries; far more in one answer
# means the service ignored `municipality_code` and answered for the whole country.
MAX_LIBRARIES_PER_MUNICIPALITY = 60


def _timestamp(path: Path, where: str, raw: Any) -> datetime | None:
    if raw in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        raise ReferenceFileError(str(path), None, where, f"{raw!r} is not an ISO time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _value(path: Path, where: str, raw: Any) -> float | None:
    if raw is None:
        return None  # bibstat: a missing or invalid answer in old data
    if isinstance(raw, bool):
        raise ReferenceFileError(str(path), None, where, f"{raw!r} is not a number")
    if isinstance(raw, int | float):
        return float(raw)
    try:
        return float(str(raw).replace(",", "."))
    except ValueError:
        raise ReferenceFileError(str(path), None, where, f"{raw!r} is not a number") from None


def read_page(path: Path) -> dict:
    """One stored bibstat answer, checked to be a JSON-LD DataSet of observations."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ReferenceFileError(str(path), error.lineno, None, f"not JSON: {error.msg}") from None
    if not isinstance(document, dict) or document.get("@type") != "DataSet":
        raise ReferenceFileError(str(path), None, "@type", "not a bibstat DataSet")
    if not isinstance(document.get("observations"), list):
        raise ReferenceFileError(str(path), None, "observations", "missing or not a list")
    return document


def observation_rows(
    path: Path, document: dict, municipality_code: str, is_example: bool, relative: str
) -> list[dict]:
    """The rows of one DataSet page (one per observation)."""
    rows = []
    for index, observation in enumerate(document["observations"]):
        where = f"observations[{index}]"
        if not isinstance(observation, dict):
            raise ReferenceFileError(str(path), None, where, "not an object")
        if observation.get("@type", "Observation") != "Observation":
            raise ReferenceFileError(str(path), None, f"{where}.@type", "not an Observation")
        variables = [key for key in observation if key not in NOT_VARIABLES]
        if len(variables) != 1:
            raise ReferenceFileError(
                str(path), None, where, f"expected one variable key, found {variables or 'none'}"
            )
        library = observation.get("library")
        if not isinstance(library, dict):
            raise ReferenceFileError(str(path), None, f"{where}.library", "missing")
        library_id = library.get("@id") or library.get("name")
        if not library_id:
            raise ReferenceFileError(str(path), None, f"{where}.library", "has no @id or name")
        sample_year = observation.get("sampleYear")
        if not isinstance(sample_year, int) or isinstance(sample_year, bool):
            raise ReferenceFileError(
                str(path), None, f"{where}.sampleYear", f"{sample_year!r} is not a year"
            )
        variable = variables[0]
        rows.append(
            {
                "municipality_code": municipality_code,
                "sample_year": sample_year,
                "library_id": str(library_id),
                "library_name": library.get("name"),
                "target_group": observation.get("targetGroup"),
                "variable": variable,
                "value": _value(path, f"{where}.{variable}", observation[variable]),
                "observation_id": observation.get("@id"),
                "published": _timestamp(path, f"{where}.published", observation.get("published")),
                "modified": _timestamp(path, f"{where}.modified", observation.get("modified")),
                "is_example": is_example,
                "source_file": relative,
            }
        )
    return rows


def read_statistics(folder: Path, municipalities: dict[str, str]) -> tuple[pl.DataFrame, list[str]]:
    """Every stored page under `folder` as landing rows, and notes on what replaced what.

    Raises ReferenceFileError naming the file (and observation) on anything malformed:
    an unknown municipality folder, a page that is not a DataSet, a duplicate observation.
    """
    rows: list[dict] = []
    seen: dict[tuple, str] = {}
    for kind in (OFFICIAL, EXAMPLE):
        for path in sorted((folder / kind).rglob("*")) if (folder / kind).exists() else []:
            if not path.is_file() or path.suffix not in SUFFIXES or path.name.startswith("."):
                continue
            code = path.relative_to(folder / kind).parts[0]
            if code not in municipalities:
                raise ReferenceFileError(
                    str(path), None, "municipality folder", f"unknown municipality {code!r}"
                )
            relative = path.relative_to(folder.parent).as_posix()
            for row in observation_rows(path, read_page(path), code, kind == EXAMPLE, relative):
                key = (kind, code, row["sample_year"], row["library_id"], row["variable"])
                if key in seen:
                    raise ReferenceFileError(
                        str(path),
                        None,
                        row["variable"],
                        f"duplicate observation for {row['library_id']} {row['sample_year']} "
                        f"(also in {seen[key]})",
                    )
                seen[key] = relative
                rows.append(row)
    frame = (
        pl.DataFrame(rows, schema=KB_LIBRARY_STATISTICS.schema)
        if rows
        else (KB_LIBRARY_STATISTICS.empty())
    )
    official = (
        frame.filter(~pl.col("is_example")).select("municipality_code", "sample_year").unique()
    )
    superseded = frame.filter(pl.col("is_example")).join(
        official, on=["municipality_code", "sample_year"], how="semi"
    )
    notes = []
    if superseded.height:
        notes.append(
            f"kb_library_statistics: {superseded.height} example rows replaced by official figures"
        )
        frame = frame.join(
            superseded.select("municipality_code", "sample_year", "is_example").unique(),
            on=["municipality_code", "sample_year", "is_example"],
            how="anti",
        )
    return frame.sort("municipality_code", "sample_year", "library_id", "variable"), notes


def fetch_statistics(
    base_url: str,
    folder: Path,
    municipality_codes: Iterable[str],
    years: Iterable[int],
    terms: Iterable[str] = DEFAULT_TERMS,
    *,
    client: Any = None,
    page_size: int = PAGE_SIZE,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Download KB's figures for the municipalities' public libraries into
    `folder/official/<code>/`; returns the files written. Needs internet access."""
    import httpx

    say = progress or (lambda _message: None)
    own_client = client is None
    client = client or httpx.Client(timeout=60, follow_redirects=True)
    written: list[Path] = []
    try:
        for code in municipality_codes:
            for year in years:
                for term in terms:
                    pages = _fetch_term(client, base_url, code, year, term, page_size)
                    written += _store_pages(
                        folder / OFFICIAL / code, f"{year}-{term}-", pages, code
                    )
                    count = sum(len(document["observations"]) for _, document in pages)
                    say(f"  {code} {year} {term}: {count} observations")
    except httpx.HTTPError as error:
        raise IngestionError(f"cannot fetch KB's statistics from {base_url}: {error}") from error
    finally:
        if own_client:
            client.close()
    return written


def _store_pages(target: Path, stem: str, pages: list[tuple[int, dict]], code: str) -> list[Path]:
    """Save one query's pages (replacing an earlier fetch of the same query)."""
    libraries = {
        str((observation.get("library") or {}).get("@id") or "")
        for _, document in pages
        for observation in document["observations"]
    }
    if len(libraries) > MAX_LIBRARIES_PER_MUNICIPALITY:
        raise IngestionError(
            f"KB answered {len(libraries)} libraries for municipality {code}: the service "
            "seems to ignore the municipality_code filter, so the answer cannot be attributed "
            "to a municipality; nothing was saved for it."
        )
    written = []
    for offset, document in pages:
        path = target / f"{stem}{offset:06d}.jsonld"
        files.write_json(document, path)
        written.append(path)
    kept = {path.name for path in written}
    for stale in target.glob(f"{stem}*.jsonld") if target.exists() else []:
        if stale.name not in kept:
            stale.unlink()
    return written


def _fetch_term(client, base_url: str, code: str, year: int, term: str, page_size: int):
    """All pages of one query. `next` carries only limit and offset (libstat's data_api
    drops the other filters), so the filters are sent again with each page."""
    pages = []
    offset = 0
    while True:
        response = client.get(
            f"{base_url.rstrip('/')}/data",
            params={
                "term": term,
                "sample_year": year,
                "municipality_code": code,
                "library_type": "folkbib",
                "limit": page_size,
                "offset": offset,
            },
            headers={"Accept": "application/ld+json"},
        )
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("observations"), list):
            raise IngestionError(f"{response.url}: not a bibstat DataSet")
        pages.append((offset, document))
        following = document.get("next")
        if not following or not document["observations"]:
            return pages
        query = parse_qs(urlsplit(str(following)).query)
        following_offset = int(query.get("offset", [offset + page_size])[0])
        if following_offset <= offset:
            raise IngestionError(f"{response.url}: 'next' does not move forward ({following})")
        offset = following_offset
