"""The shared world: one simulated lending core, landed, built and run through the pipeline
once per test run, which the warehouse, orchestration and report tests all read.

What it is (SCALE of the population, so that small numbers, and with them suppressed
cells, are common, as in Ljusnarsberg):
1. A lending core simulated from a January (so "this year" has last year's same months to
   compare with) to SPLIT, across the joins of 2025-04-01;
2. landed by `bibbla ingest` and built by `build_warehouse` (a first build: every model,
   data test and unit test; its log is kept);
3. simulated on to END (a complete month), then run through the whole pipeline by
   `bibbla pipeline run --no-reports` with its own DAGSTER_HOME: ingestion, the landing
   checks, dbt's incremental (nightly) build, the mart checks and the docs, as the nightly
   run does it;
4. the report site built from that warehouse (when Node.js is there).

Under pytest-xdist every worker would otherwise build its own. Instead the artefacts live
in a folder shared by the run's workers, each behind a file lock: whoever asks first builds
it, the others wait and read it. `make test` also starts a builder process as soon as the
workers have collected (tests/conftest.py), so the world is being built while the workers
run the tests that do not need it. Everything here is read-only for the tests; a test that
changes something works on a copy.

    python -m tests.world ROOT     # build the world and the site into ROOT (the builder)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock

from bibbla.config import PROJECT_ROOT, Settings
from tests.settings import environment, settings_under

BIBBLA = str(Path(sys.executable).with_name("bibbla"))
KEY = "test-pseudonym-key-warehouse-0123456789"
START, SPLIT, END = "2024-01-01", "2025-04-15", "2025-05-31"
SCALE, SEED = 0.02, 11
WORLD_ROOT_VARIABLE = "BIBBLA_TEST_WORLD_ROOT"


class WorldError(RuntimeError):
    """A step of the world could not be built; the message has its output."""


def bibbla(arguments: list[str], env: dict[str, str], check: bool = True):
    """Run the bibbla command line as a user would; raise with its output when it fails."""
    result = subprocess.run(
        [BIBBLA, *arguments], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT
    )
    if check and result.returncode != 0:
        raise WorldError(f"bibbla {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result


# ------------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class World:
    """Where the built world is, and what its steps said."""

    root: Path
    build_log: list[str]  # the first dbt build's output
    pipeline_output: str  # `bibbla pipeline run`'s output
    pipeline_returncode: int
    pipeline_seconds: float

    @property
    def operational_db(self) -> Path:
        return self.root / "operational.sqlite"

    @property
    def operational_url(self) -> str:
        return f"sqlite:///{self.operational_db}"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def settings(self) -> Settings:
        return settings_under(self.root, KEY)

    def env(self) -> dict[str, str]:
        return environment(self.settings, self.dagster_home)


def build_world(root: Path, log: Callable[[str], None] = print) -> World:
    from warehouse.build import build_warehouse

    root.mkdir(parents=True, exist_ok=True)
    placeholder = World(root, [], "", 0, 0.0)
    settings, env = placeholder.settings, placeholder.env()
    database = placeholder.operational_url
    simulate = ["simulate", "--db", database, "--scale", str(SCALE), "--seed", str(SEED)]
    log(f"world: simulating {START} to {SPLIT} at scale {SCALE}")
    bibbla(["db", "init", "--reset", "--db", database], env)
    bibbla([*simulate, "--start", START, "--end", END, "--days", str(_days(START, SPLIT))], env)
    log("world: landing and building the warehouse (a first build)")
    bibbla(["ingest"], env)
    build_log: list[str] = []
    try:
        build_warehouse(
            # the one build of a test run that runs dbt's unit tests (tests/settings.py)
            settings.model_copy(update={"dbt_unit_tests": True}),
            log=build_log.append,
            target_path=root / "dbt-target",
            log_path=root / "dbt-logs",
        )
    except Exception as error:  # dbt's output says what failed
        raise WorldError(
            f"the first build failed: {error}\n" + "\n".join(build_log[-40:])
        ) from error
    log(f"world: simulating on to {END}, then the nightly pipeline run")
    bibbla(["simulate", "--db", database, "--resume"], env)
    started = time.monotonic()
    pipeline = bibbla(["pipeline", "run", "--no-reports"], env, check=False)
    return World(
        root,
        build_log,
        pipeline.stdout + pipeline.stderr,
        pipeline.returncode,
        time.monotonic() - started,
    )


def _days(start: str, end: str) -> int:
    from datetime import date

    return (date.fromisoformat(end) - date.fromisoformat(start)).days + 1


# -------------------------------------------------------------------------------- the site


@dataclass(frozen=True)
class Site:
    build_dir: Path


def build_site(root: Path, world: World, log: Callable[[str], None] = print) -> Site:
    from bibbla.reports import REPORTS_DIR, build_reports, ensure_installed
    from tests.reports import harness

    ensure_installed(REPORTS_DIR, log=log)
    project = harness.prepare_project(root)
    build_dir = build_reports(project_dir=project, warehouse=world.settings.warehouse_path, log=log)
    return Site(build_dir)


# ------------------------------------------------------------------ shared, built once


def shared_root(basetemp: Path) -> Path:
    """The folder the run's processes share: under xdist, the parent of the workers'
    temporary folders (which `make test`'s builder is given too); else this process's."""
    given = os.environ.get(WORLD_ROOT_VARIABLE)
    if given:
        return Path(given)
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


def _shared(root: Path, name: str, build: Callable[[Path], object], decode: Callable) -> object:
    """The artefact `name` under root: read when built, else built here (under its lock, so
    exactly one process builds it; a builder that died leaves no result and the next one
    starts again in a fresh folder). A failure is kept and raised to every asker."""
    root.mkdir(parents=True, exist_ok=True)
    result = root / f"{name}.json"
    with FileLock(root / f"{name}.lock"):
        if not result.is_file():
            folder = root / f"{name}-{os.getpid()}-{time.monotonic_ns()}"
            try:
                built = build(folder)
                outcome = {"ok": True, "value": _jsonable(asdict(built))}
            except Exception as error:
                outcome = {"ok": False, "error": f"{error}\n{traceback.format_exc()}"}
            scratch = result.with_suffix(f".{os.getpid()}")
            scratch.write_text(json.dumps(outcome))
            os.replace(scratch, result)
        outcome = json.loads(result.read_text())
    if not outcome["ok"]:
        raise WorldError(f"the shared {name} could not be built:\n{outcome['error']}")
    return decode(outcome["value"])


def _jsonable(values: dict) -> dict:
    return {key: str(value) if isinstance(value, Path) else value for key, value in values.items()}


def _world_from(values: dict) -> World:
    return World(**{**values, "root": Path(values["root"])})


def shared_world(root: Path) -> World:
    return _shared(root, "world", build_world, _world_from)


def shared_site(root: Path) -> Site:
    world = shared_world(root)
    return _shared(
        root,
        "site",
        lambda folder: build_site(folder, world),
        lambda values: Site(Path(values["build_dir"])),
    )


def _report_errors(step: Callable[[Path], None], root: Path) -> None:
    # a failed compile is not fatal: the site build compiles (and reports the error) itself
    try:
        step(root)
    except Exception as error:
        print(f"compiling the bundles ahead failed: {error}", flush=True)


def node_available() -> bool:
    from bibbla.reports import ReportsBuildError, node_version

    try:
        node_version()
    except ReportsBuildError:
        return False
    return True


def compile_site_bundles(root: Path, log: Callable[[str], None] = print) -> None:
    """The report site's bundles, compiled into the reports' cache while the world is being
    built (they do not depend on the data); the site build then only prerenders."""
    from bibbla.reports import REPORTS_DIR, compile_bundles, ensure_installed
    from tests.reports import harness

    ensure_installed(REPORTS_DIR, log=log)
    folder = root / f"compile-{os.getpid()}"
    compile_bundles(harness.prepare_project(folder), log=log)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    # The builder `make test` starts: the world and, beside it, the site's bundles; then the
    # site. Failures are recorded for the tests that ask; the builder only says what it did.
    import threading

    target = Path(sys.argv[1])
    started = time.monotonic()
    with_site = node_available() and shutil.which("npm") is not None
    compiling = threading.Thread(
        target=lambda: _report_errors(compile_site_bundles, target), name="bundles"
    )
    if with_site:
        compiling.start()
    try:
        shared_world(target)
        print(f"world built in {time.monotonic() - started:.0f} s", flush=True)
        if with_site:
            compiling.join()
            shared_site(target)
            print(f"site built after {time.monotonic() - started:.0f} s", flush=True)
    except WorldError as error:
        print(f"the builder stopped: {error}", flush=True)
