"""The retention rule for patron keys on the landing (ingestion/retention.py): the cutoff
worked out by hand, and a small history over a year's end cleared before the cutoff only,
everywhere a key is landed, atomically and idempotently, in the order that keeps the
aggregates (freeze, then the landing, then the warehouse). The warehouse side is a fake
here; tests/reliability/test_retention.py runs the real one on a simulated history."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from bibbla.cli import app as bibbla_app
from bibbla.config import Settings, get_settings
from ingestion import check_landing_files, extract_events, land_snapshots
from ingestion.errors import LandingBusy
from ingestion.retention import (
    RetentionRefused,
    apply_retention,
    find_keyed_files,
    newest_event_date,
    retention_cutoff,
)
from ingestion.state import StateStore
from operational.adapters import schema, tables
from operational.adapters.database import create_database_engine
from operational.clock import SimulatedClock
from tests.conftest import REFERENCE_DIR, local
from tests.ingestion.conftest import KEY, make_history, make_settings
from tests.operational.desk import Desk

CUTOFF = date(2026, 1, 1)


@pytest.mark.parametrize(
    ("newest", "months", "month_cutoff", "cutoff"),
    [
        # the default: three years back from the newest event's month
        (date(2027, 3, 15), 36, date(2024, 3, 1), date(2024, 3, 1)),
        # the demo data (2024-01-01 to 2026-10-31): nothing is 36 months old yet
        (date(2026, 10, 31), 36, date(2023, 10, 1), date(2023, 10, 1)),
        (date(2025, 1, 20), 1, date(2024, 12, 1), date(2024, 12, 1)),
        (date(2025, 1, 1), 12, date(2024, 1, 1), date(2024, 1, 1)),
        (date(2025, 2, 28), 13, date(2024, 1, 1), date(2024, 1, 1)),
        (date(2025, 2, 28), 14, date(2023, 12, 1), date(2023, 12, 1)),
        # inside the newest event's year, which has not ended: back to its 1 January
        (date(2025, 5, 15), 2, date(2025, 3, 1), date(2025, 1, 1)),
        (date(2025, 12, 31), 1, date(2025, 11, 1), date(2025, 1, 1)),
        (date(2025, 12, 31), 11, date(2025, 1, 1), date(2025, 1, 1)),
    ],
)
def test_the_cutoff_counts_whole_months_back_and_never_splits_an_open_year(
    newest: date, months: int, month_cutoff: date, cutoff: date
) -> None:
    found = retention_cutoff(newest, months)
    assert (found.month_cutoff, found.cutoff) == (month_cutoff, cutoff)
    assert found.moved_to_year_start == (month_cutoff != cutoff)
    assert str(cutoff) in found.explain()


def test_retention_is_at_least_a_month_and_36_by_default(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        retention_cutoff(date(2025, 1, 1), 0)
    assert Settings(data_dir=tmp_path).retention_months == 36
    assert Settings(data_dir=tmp_path, retention_months=1).retention_months == 1
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, retention_months=0)


class FakeWarehouse:
    """The warehouse side, recording what it was asked and checking the order: the
    aggregates are frozen while the landing still has its keys, and the warehouse is
    rebuilt after they are gone."""

    def __init__(self, settings: Settings, built: bool = True):
        self.settings = settings
        self.built = built
        self.calls: list[str] = []
        self.fact_keys = {"fct_loans": 4, "fct_holds": 2}

    def _landing_keys(self, cutoff: date) -> int:
        keyed = find_keyed_files(self.settings.landing_path, cutoff, self.settings.timezone)
        return sum(item.keys for item in keyed)

    def exists(self) -> bool:
        return self.built

    def keyed_rows_before(self, cutoff: date) -> dict[str, int]:
        return dict(self.fact_keys)

    def freeze(self, cutoff: date) -> dict[str, int]:
        assert self._landing_keys(cutoff) > 0, "frozen after the keys went"
        self.calls.append("freeze")
        return {"retained_loan_borrowers": 4}

    def rebuild(self) -> None:
        assert self._landing_keys(CUTOFF) == 0, "rebuilt while the landing still had keys"
        self.calls.append("rebuild")
        self.fact_keys = dict.fromkeys(self.fact_keys, 0)


def _append_bad_events(engine, moment: datetime) -> None:
    """Two events the contract quarantines, appended behind the lending core's back: a
    hold with a pickup branch nobody knows, and one whose time is no time at all (SQLite
    keeps any text), which can only be dated by its batch."""
    with engine.begin() as connection:
        last = connection.execute(select(tables.feed_counter.c.last_id)).scalar_one()
        connection.execute(
            text(
                "INSERT INTO circulation_event "
                "(id, occurred_at, type, branch_code, hold_id, title_id, patron_id, details) "
                "VALUES (:a, :moment, 'hold_placed', 'NOWHERE', 99, 1, 1, '{}'), "
                "(:b, 'last Tuesday', 'hold_placed', 'NORA', 98, 1, 2, '{}')"
            ),
            {
                "a": last + 1,
                "b": last + 2,
                "moment": moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            },
        )
        connection.execute(update(tables.feed_counter).values(last_id=last + 2))


@pytest.fixture(scope="module")
def landed_over_a_year_end(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """December 2025 and February 2026 landed (events, snapshots, quarantined rows of both
    months, one of them without a time), and a December landing moved aside by a full
    refresh. One month of retention: cutoff 2026-01-01 (February's month minus one is
    January, inside 2026, so 1 January), so December's keys go and February's stay.
    Landed once; each test gets a copy (over_a_year_end)."""
    folder = tmp_path_factory.mktemp("retention")
    engine = create_database_engine(f"sqlite:///{folder / 'operational.sqlite'}")
    schema.init(engine, REFERENCE_DIR)
    settings = make_settings(folder, str(engine.url), retention_months=1)
    desk = Desk(engine, SimulatedClock(local(2025, 12, 1, 9)))
    for month in (12, 2):
        if month == 2:
            desk.clock.set(local(2026, 2, 2, 9))
        history = make_history(desk, days=2)
        # a hold still waiting when the snapshot is taken (the only copy is out)
        title = desk.title()
        copy = desk.item(title, "NORA")
        desk.checkout(history.patrons[1].card, copy, "NORA")
        desk.hold(history.patrons[0].card, title, "NORA")
        _append_bad_events(engine, desk.clock.now())
        desk.patron()  # the newest event has a time again: the snapshots' as-of date
        extract_events(settings)
        land_snapshots(settings)
        if month == 12:
            # a day later in December the copy comes back: its loan closes (a deletion in
            # the open_loan history) and the waiting hold is trapped (a new version)
            desk.clock.advance(timedelta(days=1))
            desk.checkin(copy, "NORA")
            extract_events(settings)
            land_snapshots(settings)
    root = settings.landing_path
    # a quarantined patron snapshot from December, and December's landing moved aside
    [december, *_] = sorted((root / "patron").glob("date=2025-12-*/*.parquet"))
    day = december.parent.name.removeprefix("date=")
    database = december.name.removeprefix("changes-").removesuffix(".parquet")
    quarantined = root / "_quarantine" / "patron" / f"snapshot-{database}-{day}.parquet"
    pl.read_parquet(december).drop("change").with_columns(
        quarantine_reason=pl.lit("test")
    ).write_parquet(quarantined)
    superseded = root / "_superseded" / "20260101T000000Z-old" / "circulation_event"
    for partition in (root / "circulation_event").glob("date=2025-12-*"):
        shutil.copytree(partition, superseded / partition.name)
    engine.dispose()
    return settings


@pytest.fixture
def over_a_year_end(landed_over_a_year_end: Settings, tmp_path: Path) -> Settings:
    """A copy of the landing over a year's end that a test may change."""
    shutil.copytree(landed_over_a_year_end.landing_path, tmp_path / "landing")
    return landed_over_a_year_end.model_copy(
        update={"landing": tmp_path / "landing", "data_dir": tmp_path / "data"}
    )


def _keys(path: Path) -> list[str | None]:
    return pl.read_parquet(path, hive_partitioning=False)["patron_key"].to_list()


def _day_of(path: Path) -> date | None:
    for part in path.parts:
        if part.startswith("date="):
            return date.fromisoformat(part.removeprefix("date="))
    if path.parent.name == "patron" and path.parent.parent.name == "_quarantine":
        return date.fromisoformat(path.stem[-10:])
    return None


def _keyed_files(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*.parquet")
        if "patron_key" in pl.read_parquet_schema(path) and path.name != "empty.parquet"
    )


def _ended_by_cutoff(path: Path) -> list[bool]:
    """Per row of a history file: whether it is in no state landed from the cutoff on (a
    later row of its key dated on or before the first as-of date from the cutoff on; a
    deletion dated by then), as the daily copies dated before the cutoff were."""
    table = path.parent.parent.name
    manifest = path.parent.parent.parent / "snapshot_manifest"
    boundary = min(
        day for day in (_day_of(p) for p in manifest.glob("date=*/*.parquet")) if day >= CUTOFF
    )
    key = "patron_key" if table == "patron" else "id"
    own = _day_of(path)
    later = [
        (_day_of(other), set(pl.read_parquet(other)[key].drop_nulls().to_list()))
        for other in sorted(path.parent.parent.glob("date=*/changes-*.parquet"))
        if _day_of(other) > own
    ]
    ended = []
    for row in pl.read_parquet(path).iter_rows(named=True):
        if row["change"] == "deleted":
            ended.append(own <= boundary)
        else:
            following = [day for day, keys in later if row[key] in keys]
            ended.append(bool(following) and following[0] <= boundary)
    return ended


def test_keys_before_the_cutoff_go_everywhere_and_only_those(over_a_year_end: Settings) -> None:
    settings = over_a_year_end
    root = settings.landing_path
    before = {path: pl.read_parquet(path, hive_partitioning=False) for path in _keyed_files(root)}
    ended = {path: _ended_by_cutoff(path) for path in before if path.name.startswith("changes-")}
    warehouse = FakeWarehouse(settings)

    report = apply_retention(settings, warehouse)

    assert warehouse.calls == ["freeze", "rebuild"]
    assert (report.cutoff, report.newest_event_date.year) == (CUTOFF, 2026)
    assert report.month_cutoff == CUTOFF
    assert report.frozen_rows == {"retained_loan_borrowers": 4}
    assert report.warehouse_rebuilt and report.warehouse_keys_cleared == 6
    cleared_somewhere = set()
    for path, old in before.items():
        new = pl.read_parquet(path, hive_partitioning=False)
        # nothing but the key changes: same columns, types, rows and values
        assert new.schema == old.schema
        assert new.drop("patron_key").equals(old.drop("patron_key"))
        day = _day_of(path)
        if path.parent.name == "circulation_event" and "_quarantine" in path.parts:
            continue  # below
        if path.name.startswith("changes-"):
            # a history: only the rows in no state from the cutoff on lose their key
            expected = [
                None if ended else key
                for key, ended in zip(old["patron_key"].to_list(), ended[path], strict=True)
            ]
            assert new["patron_key"].to_list() == expected, path
            if expected != old["patron_key"].to_list():
                cleared_somewhere.add(path.parent.parent.name)
        elif day is not None and day < CUTOFF:
            assert new["patron_key"].null_count() == new.height, path
            if old["patron_key"].null_count() < old.height:
                cleared_somewhere.add(
                    "_superseded" if "_superseded" in path.parts else path.parent.parent.name
                )
        else:
            assert new["patron_key"].to_list() == old["patron_key"].to_list(), path
    # quarantined events, one file per batch: December's rows go (the one without a time
    # too, dated by its batch), February's stay
    december_batch, february_batch = sorted(
        path for path in before if "_quarantine" in path.parts and "circulation_event" in path.parts
    )
    assert before[december_batch]["patron_key"].null_count() == 0
    assert _keys(december_batch) == [None] * before[december_batch].height
    assert _keys(february_batch) == before[february_batch]["patron_key"].to_list()
    assert None not in _keys(february_batch)
    cleared_somewhere.add("_quarantine/circulation_event")
    # the patrons' December versions are still current after the cutoff: they keep their
    # keys, as the copies taken after the cutoff did
    assert cleared_somewhere == {
        "circulation_event",
        "open_loan",
        "active_hold",
        "_quarantine",
        "_quarantine/circulation_event",
        "_superseded",
    }
    # February keeps its keys, and every landed file still keeps the contract
    february = list((root / "circulation_event").glob("date=2026-02-*/*.parquet"))
    assert february and all(any(key is not None for key in _keys(path)) for path in february)
    assert check_landing_files(settings) == []
    assert report.keys_cleared["circulation_event"] == sum(
        old["patron_key"].is_not_null().sum()
        for path, old in before.items()
        if path.parent.parent.name == "circulation_event" and _day_of(path) < CUTOFF
    )
    assert "retention" in (root / "_state" / "runs.jsonl").read_text().splitlines()[-1]
    assert not list(root.rglob("*.tmp"))


def test_a_second_run_and_a_dry_run_change_nothing(over_a_year_end: Settings) -> None:
    settings = over_a_year_end
    root = settings.landing_path
    files_before = {path: path.stat().st_mtime_ns for path in root.rglob("*.parquet")}

    dry = apply_retention(settings, FakeWarehouse(settings), dry_run=True)
    assert dry.dry_run and dry.cutoff == CUTOFF
    assert dry.files_rewritten > 0 and dry.keys_cleared["circulation_event"] > 0
    assert dry.warehouse_keys_before == {"fct_loans": 4, "fct_holds": 2}
    assert "would be removed" in dry.summary()
    assert {path: path.stat().st_mtime_ns for path in root.rglob("*.parquet")} == files_before

    apply_retention(settings, FakeWarehouse(settings))
    after_first = {path: path.stat().st_mtime_ns for path in root.rglob("*.parquet")}
    assert after_first != files_before

    warehouse = FakeWarehouse(settings)
    warehouse.fact_keys = {"fct_loans": 0, "fct_holds": 0}
    again = apply_retention(settings, warehouse)
    assert warehouse.calls == []
    assert (again.files_rewritten, again.landing_keys_cleared) == (0, 0)
    assert not again.changed_anything
    assert "nothing to do" in again.summary()
    assert {path: path.stat().st_mtime_ns for path in root.rglob("*.parquet")} == after_first


def test_facts_still_holding_keys_are_rebuilt_even_when_the_landing_has_none(
    over_a_year_end: Settings,
) -> None:
    """A run killed after the landing was cleared but before the warehouse was rebuilt
    is finished by the next one."""
    settings = over_a_year_end
    apply_retention(settings, FakeWarehouse(settings))
    warehouse = FakeWarehouse(settings)  # the facts still hold keys
    report = apply_retention(settings, warehouse)
    assert warehouse.calls == ["rebuild"]
    assert report.files_rewritten == 0 and report.warehouse_keys_cleared == 6


def test_no_key_goes_without_a_warehouse_to_freeze_the_aggregates_in(
    over_a_year_end: Settings,
) -> None:
    settings = over_a_year_end
    files_before = {
        path: path.stat().st_mtime_ns for path in settings.landing_path.rglob("*.parquet")
    }
    with pytest.raises(RetentionRefused, match="warehouse build"):
        apply_retention(settings, FakeWarehouse(settings, built=False))
    assert {
        path: path.stat().st_mtime_ns for path in settings.landing_path.rglob("*.parquet")
    } == files_before


def test_a_busy_landing_is_refused(over_a_year_end: Settings) -> None:
    with StateStore(over_a_year_end.landing_path).lock(), pytest.raises(LandingBusy):
        apply_retention(over_a_year_end, FakeWarehouse(over_a_year_end))


def test_temporary_files_of_a_killed_run_are_removed(over_a_year_end: Settings) -> None:
    settings = over_a_year_end
    [partition] = (settings.landing_path / "circulation_event").glob("date=2025-12-01")
    left = partition / ".part-x.parquet.123.tmp"
    left.write_bytes(b"half a file")
    report = apply_retention(settings, FakeWarehouse(settings))
    assert not left.exists()
    assert any("temporary" in note for note in report.notes)


def test_newest_event_date_reads_the_partitions(over_a_year_end: Settings, tmp_path: Path) -> None:
    assert newest_event_date(over_a_year_end.landing_path).isoformat().startswith("2026-02-0")
    assert newest_event_date(tmp_path / "nothing") is None


def test_bibbla_ingest_retention_dry_run(
    over_a_year_end: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = over_a_year_end
    for name, value in {
        "BIBBLA_ENV": "test",
        "BIBBLA_DATA_DIR": str(settings.data_dir),
        "BIBBLA_LANDING": str(settings.landing_path),
        "BIBBLA_OPERATIONAL_DB": settings.operational_db,
        "BIBBLA_PSEUDONYM_KEY": KEY,
        "BIBBLA_RETENTION_MONTHS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        dry = runner.invoke(bibbla_app, ["ingest", "retention", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "cutoff 2026-01-01" in dry.output
        assert "would be removed" in dry.output and "warehouse: not built yet" in dry.output
        # without a warehouse nothing may go: refused, exit status 2, nothing changed
        refused = runner.invoke(bibbla_app, ["ingest", "retention"])
        assert refused.exit_code == 2
        assert "bibbla warehouse build" in refused.output
    finally:
        get_settings.cache_clear()
    assert find_keyed_files(settings.landing_path, CUTOFF, settings.timezone)


def test_the_report_is_plain_data(over_a_year_end: Settings) -> None:
    report = apply_retention(over_a_year_end, FakeWarehouse(over_a_year_end))
    document = report.to_dict()
    assert document["step"] == "retention"
    assert document["cutoff"] == CUTOFF
    assert document["landing_keys_cleared"] == report.landing_keys_cleared > 0
    assert report.seconds >= 0 and report.finished_at - report.started_at >= timedelta(0)
