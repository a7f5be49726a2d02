"""Benchmark: `dbt build` time and peak memory as the volume grows, on DuckDB (the default
warehouse) and on PostgreSQL (dbt-postgres, the alternative a user might pick), in the
same run; optionally on Spark (dbt-spark, pyspark local mode) too.

    .venv/bin/python -m benchmarks.warehouse_scaling [--base-scale 0.0625]
        [--factors 1,4,16] [--runs 3] [--engines duckdb,postgres[,spark]]

The unit of volume is the consortium's yearly circulation: one simulated year at scale 1.
One year is simulated at `--base-scale` and landed; bigger volumes are made by replicating
that landing (`lab.replicate_landing`: k copies with new ids and patron keys, so k separate
populations borrowing their own items from the same branches and catalogue), not by
simulating for hours. Volume = base scale x factor; 16 x is about a country's yearly
circulation.

Each build starts from an empty warehouse (DuckDB: a new file; PostgreSQL and Spark:
`--full-refresh`) and runs every model and data test (`dbt build --exclude
test_type:unit`: the unit tests do not depend on the volume). PostgreSQL first needs the
landing copied in (`postgres_landing.load_landing`), timed separately. Peak memory is the
resident memory of the dbt process tree (for Spark, that includes the JVM); PostgreSQL's
is in its server processes and is not measured.

Ratios: each engine's time at k x against its own time at the smallest volume (how it
scales), and PostgreSQL (and Spark) against DuckDB at the same volume.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import duckdb

from benchmarks.common import Measurement, format_table, ratio, run_measured, write_results
from benchmarks.lab import Lab, replicate_landing
from bibbla.config import Settings
from tests.spark.targets import dbt_command, spark_missing, spark_state, target_environment
from warehouse.build import (
    DUCKDB_PATH_VARIABLE,
    PARTIAL_PARSE_CACHE,
    UNIT_TESTS_EXCLUDED,
    keep_parsed_project,
    seed_parsed_project,
)

BUILD = ["build", *UNIT_TESTS_EXCLUDED]

# What PostgreSQL lacks of the SQL that DuckDB and Spark share, given to it in the
# benchmark's database rather than by changing the models: the type names `double` (and
# `string`, in the seed's column types), which PostgreSQL spells `double precision` and
# `text`; and round() of a double to n decimals, which PostgreSQL has only for numeric.
# (JSON fields and ISO weekdays are dispatch macros: macros/cross_database.sql.)
POSTGRES_SHIMS = (
    "create domain public.double as double precision",
    "create domain public.string as text",
    "create function public.round(double precision, integer) returns double precision "
    "language sql immutable strict as "
    "'select cast(round(cast($1 as numeric), $2) as double precision)'",
)


def _settings(lab_root: Path, landing: Path, warehouse: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=lab_root,
        landing=landing,
        warehouse=warehouse,
        operational_db=f"sqlite:///{lab_root / 'unused.sqlite'}",
        pseudonym_key="benchmark-pseudonym-key-0123456789abcdef",
    )


def _events(landing: Path) -> int:
    return duckdb.sql(
        f"select count(*) from read_parquet('{landing}/circulation_event/*/*.parquet')"
    ).fetchone()[0]


class PostgresWarehouse:
    """A throwaway database on the test server for the dbt-postgres target."""

    def __init__(self) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from tests.conftest import create_postgres_database

        admin = os.environ.get(
            "BIBBLA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        )
        self.url, self._drop = create_postgres_database(admin)
        url = make_url(self.url)
        self.dbt = {
            "host": url.host or "127.0.0.1",
            "port": str(url.port or 5432),
            "user": url.username or "postgres",
            "password": url.password or "",
            "dbname": url.database,
        }
        self.libpq = " ".join(
            f"{k}={v}"
            for k, v in (
                ("host", self.dbt["host"]),
                ("port", self.dbt["port"]),
                ("user", self.dbt["user"]),
                ("password", self.dbt["password"]),
                ("dbname", self.dbt["dbname"]),
            )
            if v
        )
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for statement in POSTGRES_SHIMS:
                connection.execute(text(statement))
        engine.dispose()

    def drop(self) -> None:
        self._drop()


def build(
    engine: str, settings: Settings, folder: Path, parsed: Path, **target: object
) -> tuple[float, float]:
    """One `dbt build` on `engine` in `folder`, starting from the project as the last build
    on that engine left it parsed (`parsed`, a partial-parse file): every round has a new
    folder, and without it each build would parse all of the project again (15-25 s), which
    no nightly build does."""
    target_path = folder / "dbt-target"
    env = target_environment(
        settings, engine, target_path=target_path, log_path=folder / "dbt-logs", **target
    )
    if engine == "duckdb":
        # the profile names the file relative to the working folder, as `bibbla warehouse
        # build` does, so one parsed project serves every folder
        assert settings.warehouse_path.parent == folder
        env[DUCKDB_PATH_VARIABLE] = settings.warehouse_path.name
    seed_parsed_project(target_path, parsed)
    arguments = [*BUILD] if engine == "duckdb" else [*BUILD, "--full-refresh"]
    run = run_measured(dbt_command(arguments), env=env, cwd=folder)
    keep_parsed_project(target_path, parsed)
    return run.seconds, run.peak_rss_mb


def measure(args) -> tuple[list[Measurement], dict]:
    engines = args.engines.split(",")
    if "spark" in engines and (missing := spark_missing()) is not None:
        raise SystemExit(f"spark: {missing}")
    factors = [int(f) for f in args.factors.split(",")]
    only_at = {
        "spark": [int(f) for f in args.spark_factors.split(",") if f] or factors,
        "postgres": [int(f) for f in args.postgres_factors.split(",") if f] or factors,
    }

    def runs_at(engine: str, factor: int) -> bool:
        return factor in only_at.get(engine, factors)

    root = Path(tempfile.mkdtemp(prefix="bibbla-scaling-"))
    series: dict[str, Measurement] = {}
    context: dict = {"base_scale": args.base_scale, "factors": factors, "engines": engines}

    def record(name: str, unit: str, value: float) -> None:
        series.setdefault(name, Measurement(name, unit)).values.append(value)

    try:
        base = Lab(root / "base")
        base.root.mkdir(parents=True)
        base.init()
        sim = base.simulate("2025-01-01", "2025-12-31", args.base_scale)
        base.ingest()
        context["simulate_seconds"] = round(sim.seconds, 1)
        volumes = {}
        for factor in factors:
            landing = root / f"landing-x{factor}"
            if factor == 1:
                shutil.copytree(base.landing, landing)
            else:
                replicate_landing(base.landing, landing, factor)
            volume = args.base_scale * factor
            volumes[factor] = {"volume": volume, "events": _events(landing), "landing": landing}
            print(f"scaling: {volume:g} x yearly volume = {volumes[factor]['events']:,} events")
        context["volumes"] = {
            f"{v['volume']:g}x": {"events": v["events"]} for v in volumes.values()
        }
        postgres = PostgresWarehouse() if "postgres" in engines else None
        try:
            for factor in factors:
                v = volumes[factor]
                label = f"{v['volume']:g}x"
                settings = _settings(root, v["landing"], root / "warehouse.duckdb")
                if postgres is not None and runs_at("postgres", factor):
                    load = run_measured(
                        [
                            sys.executable,
                            "-c",
                            "import sys; from pathlib import Path; "
                            "from benchmarks.postgres_landing import load_landing; "
                            "load_landing(Path(sys.argv[1]), sys.argv[2])",
                            str(v["landing"]),
                            postgres.libpq,
                        ],
                        cwd=Path(__file__).resolve().parent.parent,
                    )
                    context.setdefault("postgres_load_seconds", {})[label] = round(load.seconds, 1)
                for number in range(args.runs):
                    print(f"scaling: {label} round {number + 1}/{args.runs}", flush=True)
                    for engine in engines:
                        if not runs_at(engine, factor):
                            continue
                        folder = root / f"{engine}-{factor}-{number}"
                        folder.mkdir()
                        target: dict = {}
                        if engine == "duckdb":
                            settings = _settings(root, v["landing"], folder / "warehouse.duckdb")
                        if engine == "postgres":
                            target["postgres"] = postgres.dbt
                        if engine == "spark":
                            target["spark_dir"] = spark_state(folder / "spark")
                        parsed = (
                            PARTIAL_PARSE_CACHE
                            if engine == "duckdb"
                            else root / f"partial_parse-{engine}.msgpack"
                        )
                        seconds, peak = build(engine, settings, folder, parsed, **target)
                        record(f"{engine} {label}: dbt build", "s", seconds)
                        if engine != "postgres":
                            record(f"{engine} {label}: peak memory", "MB", peak)
                        shutil.rmtree(folder, ignore_errors=True)
        finally:
            if postgres is not None:
                postgres.drop()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    smallest = f"{args.base_scale * factors[0]:g}x"
    results: list[Measurement] = []
    for factor in factors:
        label = f"{args.base_scale * factor:g}x"
        for engine in engines:
            if not runs_at(engine, factor):
                continue
            results.append(series[f"{engine} {label}: dbt build"])
            if engine != "postgres":
                results.append(series[f"{engine} {label}: peak memory"])
        for engine in engines:
            if engine != "duckdb" and runs_at(engine, factor):
                results.append(
                    Measurement(
                        f"{engine} / duckdb build time at {label}",
                        "ratio",
                        ratio(
                            series[f"{engine} {label}: dbt build"].values,
                            series[f"duckdb {label}: dbt build"].values,
                        ),
                    )
                )
        if label != smallest:
            for engine in engines:
                if not runs_at(engine, factor) or not runs_at(engine, factors[0]):
                    continue
                results.append(
                    Measurement(
                        f"{engine} time {label} / {smallest} (x{factor // factors[0]} volume)",
                        "ratio",
                        ratio(
                            series[f"{engine} {label}: dbt build"].values,
                            series[f"{engine} {smallest}: dbt build"].values,
                        ),
                    )
                )
    context["runs"] = args.runs
    return results, context


def main(argv: list[str] | None = None) -> list[Measurement]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-scale", type=float, default=0.0625)
    parser.add_argument("--factors", default="1,4,16")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engines", default="duckdb,postgres")
    parser.add_argument(
        "--spark-factors", default="", help="run Spark only at these factors (default: all)"
    )
    parser.add_argument(
        "--postgres-factors",
        default="",
        help="run PostgreSQL only at these factors (default: all)",
    )
    args = parser.parse_args(argv)
    results, context = measure(args)
    path = write_results("warehouse_scaling", results, {**vars(args), **context})
    print(
        format_table(
            f"Warehouse build as the volume grows (x the consortium's yearly volume, "
            f"{args.runs} runs)",
            results,
        )
    )
    print(f"results: {path}")
    return results


if __name__ == "__main__":
    main()
