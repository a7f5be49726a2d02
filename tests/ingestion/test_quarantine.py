"""Rows that break the landing contract go to quarantine with their reasons: counted, kept,
never dropped, never landed with the good rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text, update

from ingestion import check_feed_landing, extract_events, land_snapshots
from operational.adapters import tables
from tests.ingestion.conftest import NOW, append_events, landed, make_settings
from tests.operational.desk import Desk

BAD_EVENTS = [
    (
        {
            "type": "checkout",
            "branch_code": "NORA",
            "item_id": 1,
            "loan_id": 1,
            "due_at": NOW + timedelta(days=28),
        },
        "patron_id is missing",
    ),
    (
        {
            "type": "hold_placed",
            "branch_code": "NOWHERE",
            "hold_id": 1,
            "title_id": 1,
            "patron_id": 1,
        },
        "branch_code is not a known branch",
    ),
    (
        {
            "type": "renew",
            "branch_code": "NORA",
            "item_id": 1,
            "loan_id": 1,
            "patron_id": 1,
            "due_at": NOW - timedelta(days=1),
        },
        "due_at is before occurred_at",
    ),
    (
        {
            "type": "item_added",
            "item_id": 1,
            "title_id": 1,
            "occurred_at": datetime(1890, 1, 1, tzinfo=UTC),
        },
        "occurred_at is outside 2000-2099",
    ),
    (
        {
            "type": "checkin",
            "branch_code": "LIND",
            "item_id": 1,
            "loan_id": 1,
            "details": {"email": "leaked@example.se"},
        },
        "details held personal data (removed)",
    ),
]


def test_bad_events_are_quarantined_with_their_reasons(settings, engine, desk, history):
    good = desk.last_event_id()
    ids = append_events(engine, [row for row, _ in BAD_EVENTS])
    desk.patron()  # a good event after the bad ones

    report = extract_events(settings)

    events = report.tables["circulation_event"]
    assert events.rows_quarantined == len(BAD_EVENTS)
    assert events.rows_landed == good + 1
    for _, reason in BAD_EVENTS:
        assert events.quarantine_reasons[reason] == 1
    quarantined = landed(settings, "circulation_event", quarantine=True).sort("id")
    assert quarantined["id"].to_list() == ids
    assert quarantined["quarantine_reason"].to_list() == [reason for _, reason in BAD_EVENTS]
    assert quarantined.filter(quarantined["id"] == ids[-1])["details"].to_list() == [None]
    assert not set(ids) & set(landed(settings, "circulation_event")["id"].to_list())
    # Nothing dropped: landed and quarantined together are the whole feed, once.
    assert check_feed_landing(settings).exactly_once
    assert report.to_dict()["rows_quarantined"] == len(BAD_EVENTS)


def test_text_that_is_not_a_timestamp_or_a_number_is_quarantined(tmp_path, sqlite_engine, clock):
    """SQLite keeps whatever text it is given; PostgreSQL's column types refuse it."""
    engine = sqlite_engine
    settings = make_settings(tmp_path, str(engine.url))
    Desk(engine, clock).patron()
    with engine.begin() as connection:
        last = connection.execute(select(tables.feed_counter.c.last_id)).scalar_one()
        connection.execute(
            text(
                "INSERT INTO circulation_event (id, occurred_at, type, item_id, details) VALUES "
                "(:a, 'last Tuesday', 'item_withdrawn', 7, '{}'), "
                "(:b, '2025-06-02 08:00:00.000000', 'item_withdrawn', 'seven', '{}')"
            ),
            {"a": last + 1, "b": last + 2},
        )
        connection.execute(update(tables.feed_counter).values(last_id=last + 2))

    report = extract_events(settings)

    reasons = report.tables["circulation_event"].quarantine_reasons
    assert reasons["occurred_at is not a timestamp"] == 1
    assert reasons["item_id is not an integer"] == 1
    assert report.rows_landed == 1
    assert check_feed_landing(settings).exactly_once


def test_a_patron_born_after_the_as_of_date_is_quarantined_from_the_snapshot(
    settings, engine, desk, history
):
    card = desk.patron(birth_date=date(2031, 1, 1))
    extract_events(settings)

    report = land_snapshots(settings)

    patrons = report.tables["patron"]
    assert patrons.rows_quarantined == 1
    assert patrons.quarantine_reasons == {"birth_date is after the as-of date": 1}
    quarantined = landed(settings, "patron", quarantine=True)
    assert quarantined.height == 1 and "birth_date" not in quarantined.columns
    assert landed(settings, "patron").height == len(history.patrons)

    # Corrected at the source, the next snapshot of the same as-of date has no quarantine.
    with engine.begin() as connection:
        connection.execute(
            update(tables.patron)
            .where(tables.patron.c.card_number == card)
            .values(birth_date=date(2001, 1, 1))
        )
    land_snapshots(settings)
    assert landed(settings, "patron", quarantine=True).height == 0
    assert landed(settings, "patron").height == len(history.patrons) + 1
