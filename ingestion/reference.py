"""Reference data edited by people, landed as tables: population, transport budget, the
goal's targets and milestones, and KB's national library statistics.

The rule for years without a published figure is explicit and the same for every yearly
series (population, population by age band, transport budget): each year from the first
published year up to the last year needed takes **the nearest earlier published figure**,
and says so (`is_published = false`, `fill_rule = 'carried_forward'`, `source_year`). Years
before the first published one are not filled.

All files are read and checked before anything is written: a malformed file fails the run
with file, line and field named, and lands nothing. Membership and branches are not read
here: they come from the lending core (snapshots), not from a second copy.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from bibbla.config import Settings
from ingestion import contract, files, kb_bibstat
from ingestion.errors import ReferenceFileError, landing_writes
from ingestion.events import Progress
from ingestion.landing import Landing
from ingestion.pseudonyms import AGE_BANDS, OLDEST_BAND
from ingestion.reference_files import (
    CsvFile,
    boolean,
    iso_date,
    known_municipalities,
    non_negative,
    number,
    sources,
    year,
)
from ingestion.report import RunReport
from ingestion.source import now_utc
from ingestion.state import StateStore

AGE_BAND_LABELS = (*(label for _, _, label in AGE_BANDS), OLDEST_BAND[1])
COMPARISONS = (">=", "<=", ">", "<", "=")


def _name_matches(source: CsvFile, line: int, row: dict, code: str, known: dict) -> None:
    name = (row.get("municipality_name") or "").strip()
    if name and name != known[code]:
        raise source.error(
            line, "municipality_name", f"{name!r} does not match {code} {known[code]!r}"
        )


def read_population(reference_dir, known: dict[str, str]) -> pl.DataFrame:
    """Published totals: municipality_code, year, population_dec31."""
    source = CsvFile(
        reference_dir / "population.csv", ["municipality_code", "year", "population_dec31"]
    )
    rows, seen = [], {}
    for line, row in source:
        code = source.municipality(line, row, "municipality_code", known)
        _name_matches(source, line, row, code, known)
        when = source.field(line, row, "year", year)
        source.unique(seen, (code, when), line, "municipality_code, year")
        rows.append((code, when, source.field(line, row, "population_dec31", non_negative)))
    return pl.DataFrame(
        rows,
        schema={"municipality_code": pl.String, "year": pl.Int64, "population_dec31": pl.Int64},
        orient="row",
    )


def read_population_by_age(
    reference_dir, known: dict[str, str], totals: pl.DataFrame
) -> pl.DataFrame:
    """Published figures by age band, checked to be complete and to add up to the totals."""
    path = reference_dir / "population_by_age.csv"
    source = CsvFile(path, ["municipality_code", "year", "age_band", "population_dec31"])
    rows, seen, first_line = [], {}, {}
    for line, row in source:
        code = source.municipality(line, row, "municipality_code", known)
        _name_matches(source, line, row, code, known)
        when = source.field(line, row, "year", year)
        band = source.field(line, row, "age_band")
        if band not in AGE_BAND_LABELS:
            raise source.error(
                line, "age_band", f"{band!r} is not one of {', '.join(AGE_BAND_LABELS)}"
            )
        source.unique(seen, (code, when, band), line, "municipality_code, year, age_band")
        first_line.setdefault((code, when), line)
        rows.append((code, when, band, source.field(line, row, "population_dec31", non_negative)))
    frame = pl.DataFrame(
        rows,
        schema={
            "municipality_code": pl.String,
            "year": pl.Int64,
            "age_band": pl.String,
            "population_dec31": pl.Int64,
        },
        orient="row",
    )
    sums = frame.group_by("municipality_code", "year").agg(
        pl.len().alias("bands"), pl.col("population_dec31").sum().alias("total")
    )
    for code, when, bands, total in sums.sort("municipality_code", "year").iter_rows():
        line = first_line[(code, when)]
        if bands != len(AGE_BAND_LABELS):
            raise source.error(
                line, "age_band", f"{code} {when} has {bands} of {len(AGE_BAND_LABELS)} bands"
            )
        published = totals.filter((pl.col("municipality_code") == code) & (pl.col("year") == when))
        if published.height and published["population_dec31"][0] != total:
            raise source.error(
                line,
                "population_dec31",
                f"{code} {when}: bands add up to {total}, population.csv says "
                f"{published['population_dec31'][0]}",
            )
    return frame


def carry_forward(published: pl.DataFrame, keys: list[str], through_year: int) -> pl.DataFrame:
    """Every year from each series' first published year to `through_year`; a year without
    its own figure takes the nearest earlier published one, flagged."""
    if published.height == 0:
        return published
    if not keys:  # one series: give it a constant key so that one code path serves all
        series = "__series"
        filled = carry_forward(
            published.with_columns(pl.lit(1).alias(series)), [series], through_year
        )
        return filled.drop(series)
    firsts = published.group_by(keys).agg(pl.col("year").min().alias("first_year"))
    wanted = (
        firsts.with_columns(
            pl.int_ranges(
                "first_year", pl.max_horizontal("first_year", pl.lit(through_year)) + 1
            ).alias("year")
        )
        .explode("year", empty_as_null=False)
        .drop("first_year")
        .with_columns(pl.col("year").cast(pl.Int64))
        .sort("year")
    )
    figures = published.rename({"year": "source_year"}).sort("source_year")
    filled = wanted.join_asof(
        figures,
        left_on="year",
        right_on="source_year",
        by=keys,
        strategy="backward",
        check_sortedness=False,
    )
    return filled.with_columns(
        (pl.col("year") == pl.col("source_year")).alias("is_published"),
        pl.when(pl.col("year") == pl.col("source_year"))
        .then(pl.lit("published"))
        .otherwise(pl.lit("carried_forward"))
        .alias("fill_rule"),
    ).sort([*keys, "year"])


def read_transport_budget(reference_dir) -> pl.DataFrame:
    source = CsvFile(
        reference_dir / "transport_budget.csv", ["year", "budget_sek", "is_estimate", "source"]
    )
    rows, seen = [], {}
    for line, row in source:
        when = source.field(line, row, "year", year)
        source.unique(seen, (when,), line, "year")
        rows.append(
            (
                when,
                source.field(line, row, "budget_sek", non_negative),
                source.field(line, row, "is_estimate", boolean),
                source.field(line, row, "source"),
            )
        )
    return pl.DataFrame(
        rows,
        schema={
            "year": pl.Int64,
            "budget_sek": pl.Int64,
            "is_estimate": pl.Boolean,
            "source": pl.String,
        },
        orient="row",
    )


def read_goal_targets(reference_dir) -> pl.DataFrame:
    columns = [
        "target_code",
        "description",
        "metric",
        "comparison",
        "target_value",
        "target_date",
        "is_example",
        "source",
    ]
    source = CsvFile(reference_dir / "goal_targets.csv", columns)
    rows, seen = [], {}
    for line, row in source:
        code = source.field(line, row, "target_code")
        source.unique(seen, (code,), line, "target_code")
        comparison = source.field(line, row, "comparison")
        if comparison not in COMPARISONS:
            raise source.error(
                line, "comparison", f"{comparison!r} is not one of {' '.join(COMPARISONS)}"
            )
        rows.append(
            {
                "target_code": code,
                "description": source.field(line, row, "description"),
                "metric": source.field(line, row, "metric"),
                "comparison": comparison,
                "target_value": source.field(line, row, "target_value", number),
                "target_date": source.field(line, row, "target_date", iso_date),
                "is_example": source.field(line, row, "is_example", boolean),
                "source": source.field(line, row, "source"),
            }
        )
    return pl.DataFrame(rows, schema=contract.GOAL_TARGET.schema)


def read_goal_milestones(reference_dir, known: dict[str, str]) -> pl.DataFrame:
    columns = [
        "milestone_code",
        "description",
        "municipality_code",
        "target_date",
        "target_date_is_example",
        "actual_date",
        "actual_date_is_example",
        "source",
    ]
    source = CsvFile(reference_dir / "goal_milestones.csv", columns)
    rows, seen = [], {}
    for line, row in source:
        code = source.field(line, row, "milestone_code")
        municipality = source.municipality(line, row, "municipality_code", known, optional=True)
        source.unique(seen, (code, municipality), line, "milestone_code, municipality_code")
        rows.append(
            {
                "milestone_code": code,
                "description": source.field(line, row, "description"),
                "municipality_code": municipality,
                "target_date": source.field(line, row, "target_date", iso_date),
                "target_date_is_example": source.field(
                    line, row, "target_date_is_example", boolean
                ),
                "actual_date": source.field(line, row, "actual_date", iso_date, optional=True),
                "actual_date_is_example": source.field(
                    line, row, "actual_date_is_example", boolean
                ),
                "source": source.field(line, row, "source"),
            }
        )
    return pl.DataFrame(rows, schema=contract.GOAL_MILESTONE.schema)


def _through_year(settings: Settings, published_years: list[int]) -> int:
    """The last year the yearly series must cover: the latest of the last published year,
    this calendar year and the year of the newest landed snapshot (simulated data can
    run ahead of the wall clock)."""
    candidates = [date.today().year, *published_years]
    state = StateStore(settings.landing_path).read()
    if state.current_database_id:
        as_of = state.database(state.current_database_id).last_snapshot_as_of
        if as_of:
            candidates.append(date.fromisoformat(as_of).year)
    return max(candidates)


def read_reference(
    settings: Settings, through_year: int | None = None
) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """Read and check every reference file; returns the landing frames by table name."""
    folder = settings.reference_dir
    known = known_municipalities(folder)
    notes_by_file = sources(folder)
    for needed in ("population.csv", "population_by_age.csv"):
        if needed not in notes_by_file:
            raise ReferenceFileError(
                str(folder / "sources.csv"), None, "file", f"no source note for {needed}"
            )
    totals = read_population(folder, known)
    by_age = read_population_by_age(folder, known, totals)
    budget = read_transport_budget(folder)
    through = through_year or _through_year(
        settings, [*totals["year"].to_list(), *by_age["year"].to_list(), *budget["year"].to_list()]
    )
    kb, notes = kb_bibstat.read_statistics(folder / kb_bibstat.FOLDER, known)
    frames = {
        "population": carry_forward(totals, ["municipality_code"], through).with_columns(
            pl.lit(notes_by_file["population.csv"]).alias("source")
        ),
        "population_by_age": carry_forward(
            by_age, ["municipality_code", "age_band"], through
        ).with_columns(pl.lit(notes_by_file["population_by_age.csv"]).alias("source")),
        "transport_budget": carry_forward(budget, [], through),
        "goal_target": read_goal_targets(folder),
        "goal_milestone": read_goal_milestones(folder, known),
        "kb_library_statistics": kb,
    }
    notes.append(f"yearly series filled through {through}")
    return frames, notes


@landing_writes
def land_reference(
    settings: Settings, *, through_year: int | None = None, progress: Progress | None = None
) -> RunReport:
    """Check every reference file and land each as `landing/<table>/reference.parquet`.

    Raises ReferenceFileError (naming file, line and field) and lands nothing when any
    file is malformed.
    """
    say = progress or (lambda _message: None)
    report = RunReport("reference", started_at=now_utc())
    landing = Landing(settings.landing_path)
    store = StateStore(landing.root)
    with store.lock():
        removed = sum(
            files.remove_temporary_files(landing.root / table.name)
            for table in contract.REFERENCE_TABLES
        )
        report.recovery.temporary_files_removed = removed
        frames, notes = read_reference(settings, through_year)
        report.notes += notes
        staged = []
        for table in contract.REFERENCE_TABLES:
            rows = table.conform(frames[table.name])
            final = landing.reference_file(table.name)
            staged.append((table, rows.height, files.write_parquet_temporary(rows, final), final))
        files.publish((temporary, final) for _, _, temporary, final in staged)
        for table, height, _, _ in staged:
            report.table(table.name).add(height, 0, 1, {})
            say(f"  {table.name:<24} {height:>6} rows")
    report.finished_at = now_utc()
    store.log_run(report.to_dict())
    return report
