"""The importer of KB's open library statistics (bibstat JSON-LD) on a hand-made fixture,
and the fetcher against a fake KB that serves the fixture's pages."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import httpx
import polars as pl
import pytest

from ingestion import kb_bibstat
from ingestion.errors import IngestionError, ReferenceFileError
from ingestion.reference_files import known_municipalities
from tests.conftest import REFERENCE_DIR

FIXTURE = Path(__file__).parent / "fixtures" / kb_bibstat.FOLDER
KNOWN = known_municipalities(REFERENCE_DIR)


def test_the_importer_reads_observations_and_marks_example_rows():
    rows, notes = kb_bibstat.read_statistics(FIXTURE, KNOWN)

    official = rows.filter(~pl.col("is_example"))
    assert official.height == 4
    loans = official.filter(pl.col("variable") == "Utlan399").sort("library_id")
    assert loans["library_id"].to_list() == [
        f"https://bibdb.libris.kb.se/library/Test{n}" for n in (1, 2, 3)
    ]
    assert loans["value"].to_list() == [60000.0, 4500.0, None]  # null: a missing answer
    assert loans["modified"][0] == datetime(2024, 3, 2, 11, 30, tzinfo=UTC)
    assert set(loans["municipality_code"]) == {"1884"}
    assert set(loans["target_group"]) == {"Folkbibliotek"}

    # Official 2023 figures for Nora replace its example 2023 row; the rest stays, marked.
    example = rows.filter(pl.col("is_example")).sort("municipality_code", "sample_year")
    assert example.select("municipality_code", "sample_year", "value").rows() == [
        ("1884", 2022, 70000.0),
        ("1885", 2023, 123456.0),  # numbers given as text are read too
    ]
    assert notes == ["kb_library_statistics: 1 example rows replaced by official figures"]
    assert rows["source_file"].str.starts_with("kb_bibstat/").all()


def test_municipality_figures_are_sums_over_libraries():
    rows, _ = kb_bibstat.read_statistics(FIXTURE, KNOWN)

    totals = (
        rows.filter(pl.col("variable") == "Utlan399")
        .group_by("municipality_code", "sample_year")
        .agg(pl.col("value").sum())
        .sort("municipality_code", "sample_year")
    )
    assert totals.rows() == [
        ("1884", 2022, 70000.0),
        ("1884", 2023, 64500.0),
        ("1885", 2023, 123456.0),
    ]


def test_the_project_example_covers_all_twelve_municipalities():
    rows, _ = kb_bibstat.read_statistics(REFERENCE_DIR / kb_bibstat.FOLDER, KNOWN)

    assert rows["is_example"].all()
    assert set(rows["municipality_code"]) == set(KNOWN)
    population = rows.filter(pl.col("variable") == "Population01", pl.col("sample_year") == 2023)
    assert population.filter(pl.col("municipality_code") == "1864")["value"].to_list() == [4407.0]


@pytest.mark.parametrize(
    ("path", "content", "message"),
    [
        ("official/9999/2023-Utlan399-000000.jsonld", None, "unknown municipality '9999'"),
        ("example/1884/broken.jsonld", "{not json", "broken.jsonld:1: not JSON"),
        ("example/1884/list.jsonld", "[]", "field '@type': not a bibstat DataSet"),
        (
            "example/1884/two.jsonld",
            {
                "@type": "DataSet",
                "observations": [
                    {"library": {"@id": "x"}, "sampleYear": 2023, "Utlan399": 1, "Aktiv99": 2}
                ],
            },
            "field 'observations[0]': expected one variable key",
        ),
        (
            "example/1884/year.jsonld",
            {
                "@type": "DataSet",
                "observations": [
                    {"library": {"@id": "x"}, "sampleYear": "last year", "Utlan399": 1}
                ],
            },
            "field 'observations[0].sampleYear'",
        ),
        (
            "example/1884/value.jsonld",
            {
                "@type": "DataSet",
                "observations": [{"library": {"@id": "x"}, "sampleYear": 2023, "Utlan399": "many"}],
            },
            "field 'observations[0].Utlan399': 'many' is not a number",
        ),
        (
            "example/1885/again.jsonld",
            {
                "@type": "DataSet",
                "observations": [
                    {
                        "library": {"@id": "urn:example:library:1885"},
                        "sampleYear": 2023,
                        "Utlan399": 1,
                    }
                ],
            },
            "duplicate observation",
        ),
    ],
)
def test_a_malformed_page_names_the_file_and_the_observation(tmp_path, path, content, message):
    folder = tmp_path / kb_bibstat.FOLDER
    shutil.copytree(FIXTURE, folder)
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if content is None:
        shutil.copy(FIXTURE / "official/1884/2023-Population01-000000.jsonld", target)
    else:
        target.write_text(content if isinstance(content, str) else json.dumps(content))

    with pytest.raises(ReferenceFileError, match=re.escape(message)) as refused:
        kb_bibstat.read_statistics(folder, KNOWN)
    assert target.name in str(refused.value)


def fake_kb(pages: dict[tuple[str, str, int], dict], requests: list[httpx.Request]):
    """A KB that answers (municipality, term, offset) from `pages`, empty otherwise."""

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        query = request.url.params
        key = (query["municipality_code"], query["term"], int(query["offset"]))
        empty = {"@type": "DataSet", "observations": []}
        return httpx.Response(200, json=pages.get(key, empty))

    return httpx.Client(transport=httpx.MockTransport(answer))


def test_the_fetcher_follows_pages_with_its_filters_and_stores_them(tmp_path):
    pages = {
        ("1884", "Utlan399", 0): json.loads(
            (FIXTURE / "official/1884/2023-Utlan399-000000.jsonld").read_text()
        ),
        ("1884", "Utlan399", 2): json.loads(
            (FIXTURE / "official/1884/2023-Utlan399-000002.jsonld").read_text()
        ),
    }
    requests: list[httpx.Request] = []
    folder = tmp_path / kb_bibstat.FOLDER
    (folder / "official" / "1884").mkdir(parents=True)
    stale = folder / "official" / "1884" / "2023-Utlan399-000004.jsonld"
    stale.write_text("{}")  # a page from an earlier, longer answer

    written = kb_bibstat.fetch_statistics(
        "https://kb.example",
        folder,
        ["1884"],
        [2023],
        ["Utlan399"],
        client=fake_kb(pages, requests),
        page_size=2,
    )

    assert [p.name for p in written] == [
        "2023-Utlan399-000000.jsonld",
        "2023-Utlan399-000002.jsonld",
    ]
    assert not stale.exists()
    assert [dict(r.url.params) for r in requests] == [
        {
            "term": "Utlan399",
            "sample_year": "2023",
            "municipality_code": "1884",
            "library_type": "folkbib",
            "limit": "2",
            "offset": str(offset),
        }
        for offset in (0, 2)
    ]
    rows, _ = kb_bibstat.read_statistics(folder, KNOWN)
    assert sorted(rows["value"].drop_nulls().to_list()) == [4500.0, 60000.0]


def test_the_fetcher_refuses_an_answer_for_the_whole_country(tmp_path):
    everything = {
        "@type": "DataSet",
        "observations": [
            {"library": {"@id": f"lib-{n}"}, "sampleYear": 2023, "Utlan399": n}
            for n in range(kb_bibstat.MAX_LIBRARIES_PER_MUNICIPALITY + 1)
        ],
    }
    folder = tmp_path / kb_bibstat.FOLDER

    with pytest.raises(IngestionError, match="ignore the municipality_code filter"):
        kb_bibstat.fetch_statistics(
            "https://kb.example",
            folder,
            ["1884"],
            [2023],
            ["Utlan399"],
            client=fake_kb({("1884", "Utlan399", 0): everything}, []),
            page_size=1000,
        )
    assert not folder.exists()
