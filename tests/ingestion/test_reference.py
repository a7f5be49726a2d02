"""Reference files landed as tables: the rule for unpublished years, example flags, and
malformed files that fail with file, line and field named and land nothing."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from ingestion import land_reference
from ingestion.errors import ReferenceFileError
from ingestion.state import DatabaseState, LandingState, StateStore
from tests.ingestion.conftest import landed, landed_files, make_settings

FIXTURE = Path(__file__).parent / "fixtures" / "kb_bibstat"


@pytest.fixture
def reference_settings(tmp_path, reference_copy):
    # The reference step reads no database.
    return make_settings(tmp_path, "sqlite:///unused.sqlite", reference_dir=reference_copy)


def test_yearly_series_carry_the_nearest_earlier_year_forward(reference_settings):
    report = land_reference(reference_settings, through_year=2025)

    population = landed(reference_settings, "population")
    assert population.height == 12 * len(range(2017, 2026))
    nora = population.filter(pl.col("municipality_code") == "1884").sort("year")
    assert nora.select(
        "year", "population_dec31", "is_published", "source_year", "fill_rule"
    ).rows() == [
        (2017, 10747, True, 2017, "published"),
        (2018, 10737, True, 2018, "published"),
        (2019, 10737, False, 2018, "carried_forward"),
        (2020, 10686, True, 2020, "published"),
        (2021, 10686, False, 2020, "carried_forward"),
        (2022, 10701, True, 2022, "published"),
        (2023, 10627, True, 2023, "published"),
        (2024, 10627, False, 2023, "carried_forward"),
        (2025, 10627, False, 2023, "carried_forward"),
    ]
    assert nora["source"].str.starts_with("SCB").all()
    by_age = landed(reference_settings, "population_by_age")
    assert by_age.height == 12 * 5 * len(range(2018, 2026))
    members_2023 = by_age.filter(
        pl.col("year") == 2023,
        pl.col("municipality_code").is_in(
            ["1884", "1885", "1863", "1864", "1882", "1861", "1881", "1860", "1814"]
        ),
    )
    assert members_2023["population_dec31"].sum() == 109_150  # facts.md: the nine in 2023
    assert report.rows_quarantined == 0


def test_budget_goals_and_national_statistics_land_with_their_flags(reference_settings):
    land_reference(reference_settings, through_year=2025)

    budget = landed(reference_settings, "transport_budget")
    assert set(budget["budget_sek"]) == {250_000}
    assert budget["is_estimate"].all()
    assert budget.filter(pl.col("year") == 2025)["fill_rule"].to_list() == ["carried_forward"]
    targets = landed(reference_settings, "goal_target")
    assert targets.filter(pl.col("target_code") == "one_system")["target_value"].to_list() == [9.0]
    milestones = landed(reference_settings, "goal_milestone")
    councils = milestones.filter(pl.col("milestone_code") == "cooperation_agreement_approved")
    assert councils.height == 9 and councils["actual_date_is_example"].all()
    assert milestones.filter(pl.col("milestone_code") == "joint_procurement")[
        "municipality_code"
    ].to_list() == [None]
    statistics = landed(reference_settings, "kb_library_statistics")
    assert statistics["is_example"].all() and statistics["municipality_code"].n_unique() == 12


def test_the_years_reach_the_newest_snapshot(reference_settings):
    store = StateStore(reference_settings.landing_path)
    store.commit(
        LandingState(
            current_database_id="db",
            databases={"db": DatabaseState(last_snapshot_as_of="2031-05-01")},
        )
    )

    report = land_reference(reference_settings)

    assert landed(reference_settings, "population")["year"].max() == 2031
    assert "yearly series filled through 2031" in report.notes


def test_official_kb_figures_replace_the_examples(reference_settings, reference_copy):
    shutil.rmtree(reference_copy / "kb_bibstat")
    shutil.copytree(FIXTURE, reference_copy / "kb_bibstat")

    report = land_reference(reference_settings, through_year=2025)

    statistics = landed(reference_settings, "kb_library_statistics")
    assert statistics.filter(~pl.col("is_example")).height == 4
    assert "1 example rows replaced" in " ".join(report.notes)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _append_copy_of_line(path: Path, line: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines) + lines[line - 1], encoding="utf-8")


MALFORMED = [
    (
        "population.csv",
        lambda p: _replace(p, "year,population_dec31", "year,inhabitants"),
        "population.csv:1: field 'population_dec31': column is missing",
    ),
    (
        "goal_milestones.csv",
        lambda p: _replace(p, "council,1884,", "council,9999,"),
        "goal_milestones.csv:3: field 'municipality_code': unknown municipality '9999'",
    ),
    (
        "population_by_age.csv",
        lambda p: _append_copy_of_line(p, 2),
        "population_by_age.csv:242: field 'municipality_code, year, age_band': duplicate row: "
        "('1814', 2018, '0-15') already on line 2",
    ),
    (
        "population.csv",
        lambda p: _replace(p, "1884,Nora,2017,10747", "1884,Nora,2017,10 747"),
        "population.csv:12: field 'population_dec31': '10 747': expected a whole number",
    ),
    (
        "population.csv",
        lambda p: _replace(p, "1884,Nora,2017", "1884,Norra,2017"),
        "population.csv:12: field 'municipality_name': 'Norra' does not match 1884 'Nora'",
    ),
    (
        "population_by_age.csv",
        lambda p: _replace(p, "1814,Lekeberg,2018,0-15,1817", "1814,Lekeberg,2018,0-15,1818"),
        "population_by_age.csv:2: field 'population_dec31': 1814 2018: bands add up to 8117, "
        "population.csv says 8116",
    ),
    (
        "transport_budget.csv",
        lambda p: _replace(p, "2016,250000", "20x6,250000"),
        "transport_budget.csv:2: field 'year': '20x6': expected a whole number",
    ),
    (
        "goal_targets.csv",
        lambda p: _replace(p, ",>=,9,", ",about,9,"),
        "goal_targets.csv:2: field 'comparison': 'about' is not one of",
    ),
    (
        "sources.csv",
        lambda p: p.write_text("file,source\n", encoding="utf-8"),
        "sources.csv: field 'file': no source note for population.csv",
    ),
]


@pytest.mark.parametrize(
    ("file", "damage", "message"),
    MALFORMED,
    ids=[
        "missing-column",
        "unknown-municipality",
        "duplicate-row",
        "not-a-number",
        "wrong-name",
        "bands-do-not-add-up",
        "not-a-year",
        "unknown-comparison",
        "missing-source-note",
    ],
)
def test_a_malformed_reference_file_names_file_line_field_and_lands_nothing(
    reference_settings, reference_copy, file, damage, message
):
    land_reference(reference_settings, through_year=2025)
    before = landed_files(reference_settings)
    damage(reference_copy / file)

    with pytest.raises(ReferenceFileError, match=re.escape(message)) as refused:
        land_reference(reference_settings, through_year=2025)

    assert str(refused.value).startswith(str(reference_copy / file))
    assert landed_files(reference_settings) == before  # not one file replaced
