"""Snapshots of the slowly changing tables: dated by the data's as-of date, replaced (not
doubled) when taken again, consistent with the events, pseudonymised the same way."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import func, select

from ingestion import extract_events, land_snapshots
from ingestion.contract import ITEM, OPEN_LOAN
from ingestion.history import read_history, state_on
from operational.adapters import tables
from tests.ingestion.conftest import landed


def current_state(settings, table):
    """The state the landed history says is current, sorted by key."""
    rows = state_on(read_history(settings.landing_path / table.name, table), table)
    return rows.drop("snapshot_event_id", "change").sort(list(table.key))


def test_a_snapshot_is_dated_by_the_newest_event_not_the_wall_clock(settings, desk, history):
    last = desk.events()[-1]

    report = land_snapshots(settings)

    stockholm_day = last.occurred_at.astimezone(ZoneInfo("Europe/Stockholm")).date()
    manifest = landed(settings, "snapshot_manifest")
    assert manifest["as_of"].to_list() == [last.occurred_at]
    assert manifest["as_of_rule"].to_list() == ["newest_event"]
    assert manifest["snapshot_event_id"].to_list() == [last.id]
    assert report.as_of == manifest["date"][0] == stockholm_day
    assert report.as_of < date.today()  # simulated June 2025, not the day the test runs


def test_an_empty_feed_is_dated_by_the_database_creation(settings, engine):
    land_snapshots(settings)

    manifest = landed(settings, "snapshot_manifest")
    assert manifest["as_of_rule"].to_list() == ["database_created"]
    assert manifest["snapshot_event_id"].to_list() == [0]
    assert landed(settings, "branch").height == 24


def test_snapshots_match_the_lending_core(settings, engine, desk, history):
    land_snapshots(settings)

    with engine.connect() as connection:

        def count(table, *where):
            return connection.execute(
                select(func.count()).select_from(table).where(*where)
            ).scalar_one()

        open_loans = count(tables.loan, tables.loan.c.returned_at.is_(None))
        active_holds = count(
            tables.hold, tables.hold.c.status.in_(["waiting", "in_transit", "ready"])
        )
        open_transports = count(
            tables.transport,
            tables.transport.c.received_at.is_(None),
            tables.transport.c.lost_at.is_(None),
        )
        statuses = dict(
            connection.execute(select(tables.item.c.barcode, tables.item.c.status)).all()
        )
    items = landed(settings, "item")
    assert dict(zip(items["barcode"], items["status"], strict=True)) == statuses
    assert landed(settings, "open_loan").height == open_loans > 0
    assert landed(settings, "active_hold").height == active_holds
    assert landed(settings, "open_transport").height == open_transports > 0
    assert landed(settings, "membership").height == 9
    branches = landed(settings, "branch")
    assert branches.filter(branches["code"] == "NORA")["staffed_hours_per_week"].to_list() == [38.0]


def test_pseudonyms_join_across_events_and_snapshots(settings, history):
    extract_events(settings)
    land_snapshots(settings)

    patrons = set(landed(settings, "patron")["patron_key"].to_list())
    events = landed(settings, "circulation_event")
    assert set(events["patron_key"].drop_nulls().to_list()) == patrons
    assert set(landed(settings, "open_loan")["patron_key"].to_list()) <= patrons


def test_taking_a_snapshot_again_replaces_it_and_a_later_day_adds_one(settings, desk, history):
    land_snapshots(settings)
    land_snapshots(settings)
    assert len(list((settings.landing_path / "item").rglob("*.parquet"))) == 1

    desk.clock.advance(timedelta(days=2))
    desk.item(history.titles[0], "NORA")
    land_snapshots(settings)

    items = landed(settings, "item")
    assert items["date"].n_unique() == 2
    # the later day lands only its change: the new copy
    latest = items.filter(items["date"] == items["date"].max())
    assert latest["change"].to_list() == ["new"]
    assert current_state(settings, ITEM).height == len(history.items) + 1


def test_only_new_changed_and_deleted_rows_land_after_the_first_run(settings, desk, history):
    fresh = desk.item(history.titles[0], "NORA")
    first = land_snapshots(settings)
    assert first.tables["item"].rows_landed == len(history.items) + 1  # the first: all
    before = current_state(settings, ITEM)

    desk.clock.advance(timedelta(days=1))
    card = history.patrons[0].card
    loan = desk.checkout(card, fresh, "NORA")  # the item changes, a loan opens
    land_snapshots(settings)
    desk.checkin(fresh, "NORA")  # the same as-of date: the loan closes again
    again = land_snapshots(settings)

    items = landed(settings, "item")
    # the second run of the day replaced the first: the item is back as it was, so that
    # day has no change (and no file) left
    assert again.tables["item"].rows_landed == 0
    assert items.filter(items["date"] == again.as_of).height == 0
    assert not (settings.landing_path / "item" / f"date={again.as_of}").exists() or not any(
        (settings.landing_path / "item" / f"date={again.as_of}").glob("*.parquet")
    )
    assert current_state(settings, ITEM).equals(before, null_equal=True)

    desk.clock.advance(timedelta(days=1))
    loan = desk.checkout(card, fresh, "NORA")
    land_snapshots(settings)
    desk.clock.advance(timedelta(days=1))
    desk.checkin(fresh, "NORA")
    land_snapshots(settings)

    loans = landed(settings, "open_loan").sort("date")
    mine = loans.filter(loans["id"] == loan.id)
    assert mine["change"].to_list() == ["new", "deleted"]
    deleted = mine.row(1, named=True)
    assert deleted["item_id"] is None and deleted["patron_key"] is None  # only the key
    assert loan.id not in current_state(settings, OPEN_LOAN)["id"].to_list()
    changed = landed(settings, "item").filter(pl.col("id") == loan.item_id)
    assert changed["change"].to_list()[0] == "new"
    assert set(changed["change"].to_list()[1:]) == {"changed"}


def test_the_simulation_parameters_travel_with_the_data(settings, engine, desk):
    desk.patron()
    parameters = {"seed": 7, "scale": 0.1, "loans_per_capita": 5.5}
    now = datetime(2025, 6, 2, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            tables.simulation_run.insert(),
            {
                "seed": 7,
                "scale": 0.1,
                "start_date": date(2024, 1, 1),
                "end_date": date(2025, 12, 31),
                "last_finished_day": date(2025, 6, 1),
                "scenario": "baseline",
                "parameters": parameters,
                "created_at": now,
                "updated_at": now,
            },
        )

    land_snapshots(settings)

    runs = landed(settings, "simulation_run")
    assert runs["scale"].to_list() == [0.1]
    assert runs["start_date"].to_list() == [date(2024, 1, 1)]
    assert json.loads(runs["parameters"][0]) == parameters
    assert landed(settings, "snapshot_manifest")["is_simulated"].to_list() == [True]
