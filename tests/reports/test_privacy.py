"""No personal data past the lending core, checked in all three places it could leak to —
the landing, the warehouse and the built report site — with `bibbla privacy scan`'s
scanner, after proving that the scanner catches a canary planted in each place."""

from __future__ import annotations

import shutil

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from privacy.scan import Needles, personal_values, scan

CANARY = {"name": {"Kanarie Fågelsson"}, "email": {"kanarie@example.se"}}


def _patron_values(report_warehouse) -> Needles:
    return Needles(personal_values(f"sqlite:///{report_warehouse.operational_db}"))


def test_the_scanner_catches_a_canary_in_each_place(report_site, tmp_path):
    canary = Needles(CANARY)
    # landing: a Parquet file with the canary inside a JSON details column
    landing = tmp_path / "landing" / "circulation_event" / "date=2025-01-01"
    landing.mkdir(parents=True)
    pq.write_table(
        pa.table({"id": [1], "details": ['{"note": "Kanarie Fågelsson lånade"}']}),
        landing / "part.parquet",
    )
    # warehouse: a copy of the real warehouse with a planted row
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(report_site.warehouse.path, warehouse)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create table planted as select 'kanarie@example.se' as contact")
    # site: a copy of a built page with the canary in its text
    site = tmp_path / "site"
    shutil.copytree(report_site.build_dir, site)
    (site / "index.html").write_text((site / "index.html").read_text() + "<p>Kanarie Fågelsson</p>")
    for place in (tmp_path / "landing", warehouse, site):
        found = scan([place], canary)
        assert found, f"the scanner missed the canary in {place}"
    names = {f.value for f in scan([tmp_path / "landing", warehouse, site], canary)}
    assert names == {"Kanarie Fågelsson", "kanarie@example.se"}


def test_a_personal_column_is_caught_even_when_empty(tmp_path):
    pq.write_table(pa.table({"patron_key": ["ab"], "email": [None]}), tmp_path / "x.parquet")
    assert [(f.kind, f.value) for f in scan([tmp_path], Needles({}))] == [("column", "email")]


def test_no_personal_value_in_landing_warehouse_or_site(report_site):
    needles = _patron_values(report_site.warehouse)
    assert len(needles.kind_of) > 1000  # names, e-mails, phones and card numbers
    places = [report_site.warehouse.landing, report_site.warehouse.path, report_site.build_dir]
    findings = scan(places, needles)
    assert findings == [], "\n".join(
        f"{f.path}: {f.kind} {f.value!r} ({f.where})" for f in findings[:20]
    )


def test_a_value_inside_a_binary_file_is_found_by_its_bytes(tmp_path):
    """Files that are not text (fonts, images, WebAssembly) are searched byte by byte for
    every value at once; a value split or absent is not reported."""
    needles = Needles({"name": {"Åsa Öberg", "Kalle Anka"}, "email": {"x@example.se"}})
    data = bytes(range(256)) * 40 + "Åsa Öberg".encode() + b"\xff\x00" + b"x@example." + b"\x80"
    (tmp_path / "font.woff2").write_bytes(data)
    found = {(f.kind, f.value, f.where) for f in scan([tmp_path], needles)}
    assert found == {("name", "Åsa Öberg", "bytes")}
