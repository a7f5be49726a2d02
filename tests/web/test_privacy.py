"""PINs and sessions stay in the lending core: ingestion lands neither the PIN hashes nor
the session hashes (they live in tables it never reads), and the privacy scan knows the
PIN hashes as personal values and `pin_hash` as a personal column, so it would find one
that slipped past."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from ingestion import ingest
from operational.adapters import schema, tables
from operational.adapters.database import create_database_engine
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SystemClock
from operational.service_layer import visitors
from privacy.rules import PERSONAL_COLUMN_NAMES
from privacy.scan import Needles, personal_values, scan
from tests.conftest import REFERENCE_DIR
from tests.ingestion.conftest import make_history, make_settings
from tests.operational.desk import Desk


def test_pins_and_sessions_never_land_and_the_scan_would_see_them(tmp_path: Path, clock, hasher):
    url = f"sqlite:///{tmp_path / 'operational.sqlite'}"
    engine = create_database_engine(url)
    schema.init(engine, REFERENCE_DIR)
    history = make_history(Desk(engine, clock), days=2)
    pins = ["4821", "7350", "2468"]
    for patron, pin in zip(history.patrons, pins, strict=True):
        visitors.set_pin(SqlAlchemyUnitOfWork(engine), clock, hasher, patron.card, pin)
    clock.advance(timedelta(days=1))
    secret = visitors.log_in(
        SqlAlchemyUnitOfWork(engine, read_only=True),
        SqlAlchemyUnitOfWork(engine),
        SystemClock(),
        hasher,
        history.patrons[0].card,
        pins[0],
    )
    with engine.connect() as c:
        hashes = c.execute(select(tables.patron_pin.c.pin_hash)).scalars().all()
        sessions = c.execute(select(tables.visitor_session.c.token_hash)).scalars().all()
    assert len(hashes) == 3 and len(sessions) == 1

    settings = make_settings(tmp_path, url)
    assert ingest(settings).ok
    landing = settings.landing_path
    needles = Needles(personal_values(url))
    assert set(hashes) <= {v for v, kind in needles.kind_of.items() if kind == "pin_hash"}
    assert scan([landing], needles) == []
    raw = b"".join(p.read_bytes() for p in landing.rglob("*") if p.is_file())
    for value in [*pins, *hashes, *sessions, secret]:
        assert value.encode() not in raw

    # the scan catches a PIN hash, or a pin_hash column, that did land
    canary = next((landing / "title").rglob("*.parquet")).with_name("canary.parquet")
    pq.write_table(pa.table({"pin_hash": ["x"], "author": [hashes[0]]}), canary)
    findings = scan([landing], needles)
    assert {(f.path.name, f.kind) for f in findings} == {
        ("canary.parquet", "pin_hash"),
        ("canary.parquet", "column"),
    }
    assert "pin_hash" in PERSONAL_COLUMN_NAMES
