"""The change history gives the same marts as the daily copies it replaced, and
`bibbla ingest compact` turns a landing of daily copies into that very history.

One small simulated period across a month's end and the joins of 2025-04-01, ingested
after every simulated day, twice over: into a landing as ingestion lands it now (the
change history), and into a landing of daily copies, each copy the whole table as that
day's run read it (the landing before the history). Both are built with `dbt seed` and
`dbt run`: the history through the project as it is, the copies through the old staging
views (tests/warehouse/daily_snapshot_path/) swapped into a copy of the project. Every mart must
be the same row for row. Then the copies are compacted and must give the history's files
back, with `bibbla ingest verify`'s checks passing before and after.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from bibbla.config import Settings
from ingestion import land_snapshots
from ingestion.compaction import CompactionFailed, compact
from ingestion.contract import HISTORY_TABLES
from ingestion.history import read_history, state_on
from ingestion.pipeline import ingest
from ingestion.verify import check_feed_landing, check_histories, check_landing_files
from tests.spark.equality import _same, _sort_key
from tests.world import KEY, environment
from warehouse.build import DBT_PROJECT_DIR, run_dbt

BIBBLA = str(Path(sys.executable).with_name("bibbla"))
START, FIRST_RUN, END = "2025-03-20", 8, 14  # ingested after day 8, then after each day
OLD_PATH = Path(__file__).parent / "daily_snapshot_path"


def _settings(root: Path, operational: str) -> Settings:
    return Settings(
        env="test",
        data_dir=root,
        landing=root / "landing",
        warehouse=root / "warehouse.duckdb",
        operational_db=operational,
        pseudonym_key=KEY,
    )


def _bibbla(arguments: list[str], settings: Settings) -> None:
    subprocess.run([BIBBLA, *arguments], env=environment(settings), check=True, capture_output=True)


def _land_daily_copy(settings: Settings, copies: Path, scratch: Path) -> None:
    """Land today's whole tables as the daily copies of the landing before the history:
    a first run into an empty landing lands every row, which is that day's copy."""
    if scratch.exists():
        shutil.rmtree(scratch)
    report = land_snapshots(settings.model_copy(update={"landing": scratch}))
    for table in HISTORY_TABLES:
        [landed] = (scratch / table.name).glob("date=*/changes-*.parquet")
        target = copies / table.name / landed.parent.name
        target.mkdir(parents=True, exist_ok=True)
        name = landed.name.replace("changes-", "snapshot-")
        pl.read_parquet(landed, hive_partitioning=False).drop("change").write_parquet(
            target / name, compression="zstd"
        )
    assert report.as_of is not None


@dataclass
class Paths:
    history: Settings  # the landing as ingestion lands it now
    copies: Settings  # the same days as daily copies


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    root = tmp_path_factory.mktemp("history-path")
    operational = f"sqlite:///{root / 'operational.sqlite'}"
    history = _settings(root / "history", operational)
    copies_root = root / "copies"
    simulate = ["simulate", "--db", operational, "--scale", "0.01", "--seed", "5"]
    _bibbla(["db", "init", "--reset", "--db", operational], history)
    end = f"2025-03-{19 + END:02d}" if 19 + END <= 31 else f"2025-04-{19 + END - 31:02d}"
    _bibbla([*simulate, "--start", START, "--end", end, "--days", str(FIRST_RUN)], history)
    for day in range(FIRST_RUN, END + 1):
        if day > FIRST_RUN:
            _bibbla(["simulate", "--db", operational, "--resume", "--days", "1"], history)
        outcome = ingest(history)
        assert outcome.ok, outcome
        _land_daily_copy(history, copies_root / "copies", root / "scratch")
    # The copies' landing: the same events, manifest, quarantine and reference files.
    copies = _settings(copies_root, operational)
    shutil.copytree(history.landing_path, copies.landing_path)
    for table in HISTORY_TABLES:
        shutil.rmtree(copies.landing_path / table.name)
        shutil.copytree(copies_root / "copies" / table.name, copies.landing_path / table.name)
    return Paths(history, copies)


def _old_project(target: Path) -> Path:
    shutil.copytree(
        DBT_PROJECT_DIR, target, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    for model in OLD_PATH.glob("*.sql"):
        [place] = target.glob(f"models/**/{model.name}")
        shutil.copyfile(model, place)
    return target


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    """Every mart's rows in one order (floats rounded for the ordering only)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]
        return {
            name: sorted(connection.execute(f"select * from main.{name}").fetchall(), key=_sort_key)
            for name in names
        }


def test_the_history_gives_the_marts_the_daily_copies_gave(paths: Paths, tmp_path: Path):
    project = _old_project(tmp_path / "old-project")
    for command in (["seed"], ["run"]):
        run_dbt(command, paths.history, target_path=tmp_path / "new-target", log=lambda _: None)
        run_dbt(
            command,
            paths.copies,
            target_path=tmp_path / "old-target",
            project_dir=project,
            log=lambda _: None,
        )
    new, old = _marts(paths.history.warehouse_path), _marts(paths.copies.warehouse_path)
    assert set(new) == set(old)
    assert len(new) > 15
    for name in sorted(new):
        assert len(new[name]) == len(old[name]), name
        for row_new, row_old in zip(new[name], old[name], strict=True):
            # equal, but for a float summed in another order (a relative 1e-9)
            assert all(_same(a, b) for a, b in zip(row_new, row_old, strict=True)), (
                f"{name} differs between the history and the copies: {row_new} != {row_old}"
            )
    # the period is not trivial: several as-of dates, and items did change between them
    items = next(t for t in HISTORY_TABLES if t.name == "item")
    landed = read_history(paths.history.landing_path / "item", items).collect()
    assert landed["date"].n_unique() == END - FIRST_RUN + 1
    assert landed.filter(pl.col("change") == "changed").height > 0


def _verified(settings: Settings) -> None:
    assert check_feed_landing(settings).exactly_once
    assert check_landing_files(settings) == []


def test_compaction_turns_the_copies_into_the_history(paths: Paths, tmp_path: Path):
    settings = paths.copies.model_copy(update={"landing": tmp_path / "landing"})
    shutil.copytree(paths.copies.landing_path, settings.landing_path)
    _verified(settings)
    with pytest.raises(Exception, match="ingest compact"):
        land_snapshots(settings)  # the history cannot grow on daily copies

    report = compact(settings)

    _verified(settings)
    assert check_histories(settings) == []
    assert check_histories(paths.history) == []
    for table in HISTORY_TABLES:
        assert report.copies[table.name] == END - FIRST_RUN + 1
        # the very files ingestion landed day by day, dates and rows
        made = read_history(settings.landing_path / table.name, table).collect()
        landed = read_history(paths.history.landing_path / table.name, table).collect()
        order = ["date", *table.key]
        assert made.sort(order).equals(landed.sort(order), null_equal=True), table.name
        # and nothing lost: the copies are kept aside, each one the state of its date
        [kept] = (settings.landing_path / "_superseded").glob(f"*-daily-copies/{table.name}")
        for copy in kept.glob("date=*/snapshot-*.parquet"):
            day = copy.parent.name.removeprefix("date=")
            state = state_on(
                read_history(settings.landing_path / table.name, table),
                table,
                pl.Series([day]).str.to_date()[0],
            )
            assert state.height == pl.read_parquet(copy, hive_partitioning=False).height
    # compacting again finds nothing to do, and the landing takes the next run
    assert compact(settings).copies == {}
    land_snapshots(settings)


def test_a_copy_the_history_cannot_give_back_stops_compaction_with_nothing_moved(
    paths: Paths, tmp_path: Path
):
    settings = paths.copies.model_copy(update={"landing": tmp_path / "landing"})
    shutil.copytree(paths.copies.landing_path, settings.landing_path)
    # one item twice in a copy of the middle: no history of one row per key holds it
    middle = sorted((settings.landing_path / "item").glob("date=*/snapshot-*.parquet"))[3]
    rows = pl.read_parquet(middle, hive_partitioning=False)
    pl.concat([rows, rows.head(1)]).write_parquet(middle)
    before = sorted(p.relative_to(settings.landing_path) for p in settings.landing_path.rglob("*"))

    with pytest.raises(CompactionFailed, match="item: the history does not give back"):
        compact(settings)

    # every history is built and checked before any table is switched: nothing moved
    after = sorted(p.relative_to(settings.landing_path) for p in settings.landing_path.rglob("*"))
    assert after == before
