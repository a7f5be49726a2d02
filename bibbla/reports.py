"""Build and serve the Evidence reports (`reports/`) as a static site.

`build_reports(settings)` is what the pipeline calls (the last step, after dbt has closed the
warehouse); `bibbla reports build|serve|install` and `make reports` call the same functions.
The warehouse path comes from the settings (`BIBBLA_WAREHOUSE`) and reaches Evidence through
the environment variable `EVIDENCE_SOURCE__warehouse__filename`, which overrides the
`filename` option of `reports/sources/warehouse/connection.yaml`. Evidence joins that option
to the source folder, so it is given relative to that folder.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from bibbla.config import PROJECT_ROOT, Settings, get_settings
from bibbla.processes import run_streaming

REPORTS_DIR = PROJECT_ROOT / "reports"
SOURCE_NAME = "warehouse"
NODE_MAJOR = 20
# Written into node_modules after `npm ci`: the hash of the lock file it installed.
INSTALL_STAMP = ".bibbla-installed-lock.sha256"

Log = Callable[[str], None]


class ReportsBuildError(RuntimeError):
    """The reports could not be installed or built; the message says why and what to do."""


def _log_to_stderr(line: str) -> None:
    typer.echo(line, err=True)


def node_version() -> tuple[int, int, int]:
    """The version of the `node` on PATH; raises ReportsBuildError when Node or npm is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise ReportsBuildError(
            f"the reports need Node.js {NODE_MAJOR} and npm, and "
            f"{'node' if node is None else 'npm'} is not on PATH "
            "(on Debian: apt-get install nodejs npm, or see https://nodejs.org)"
        )
    output = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)\s*", output.stdout)
    if match is None:
        raise ReportsBuildError(f"cannot read the Node.js version from {output.stdout!r}")
    version = tuple(int(part) for part in match.groups())
    if version[0] != NODE_MAJOR:
        raise ReportsBuildError(
            f"the reports are pinned to Node.js {NODE_MAJOR}; found {output.stdout.strip()}"
        )
    return version  # type: ignore[return-value]


def _lock_hash(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((project_dir / name).read_bytes())
    return digest.hexdigest()


def install_needed(project_dir: Path = REPORTS_DIR) -> bool:
    """True when node_modules is missing or was installed from another package-lock.json."""
    stamp = project_dir / "node_modules" / INSTALL_STAMP
    return not stamp.is_file() or stamp.read_text().strip() != _lock_hash(project_dir)


def _run(command: list[str], cwd: Path, env: dict[str, str], log: Log, what: str) -> None:
    """Run a command, passing each line of its output to `log` as it comes."""
    log(f"$ {' '.join(command)}   (in {cwd})")
    code, last = run_streaming(command, cwd, env, log)
    if code != 0:
        raise ReportsBuildError(f"{what} failed (exit code {code}); last output:\n{last}")


def _environment(project_dir: Path, warehouse: Path | None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # Only this function decides what Evidence reads about its sources.
        if not key.startswith("EVIDENCE_SOURCE__")
    }
    env.update({"NO_COLOR": "1", "FORCE_COLOR": "0"})
    if warehouse is not None:
        source_dir = project_dir / "sources" / SOURCE_NAME
        env[f"EVIDENCE_SOURCE__{SOURCE_NAME}__filename"] = os.path.relpath(warehouse, source_dir)
    return env


def install(project_dir: Path = REPORTS_DIR, *, log: Log = _log_to_stderr) -> None:
    """`npm ci`: install the exact packages of package-lock.json (and run the postinstall
    patch, which fails the install if Evidence's code is not as expected)."""
    node_version()
    _run(["npm", "ci"], project_dir, _environment(project_dir, None), log, "npm ci")
    (project_dir / "node_modules" / INSTALL_STAMP).write_text(_lock_hash(project_dir) + "\n")


def build_reports(
    settings: Settings | None = None,
    *,
    project_dir: Path = REPORTS_DIR,
    warehouse: Path | None = None,
    log: Log = _log_to_stderr,
) -> Path:
    """Build the static report site from the DuckDB warehouse; returns the build folder.

    Installs the Node packages first when they are missing or stale, then runs
    `npm run sources` (source queries → Parquet) and `npm run build` (pages → HTML). Both fail
    on any query error. The warehouse (default: the settings' `warehouse_path`) must exist and
    no process may be writing to it: Evidence opens it read-only.
    """
    settings = settings or get_settings()
    warehouse = (warehouse or settings.warehouse_path).resolve()
    if not warehouse.is_file():
        raise ReportsBuildError(
            f"no warehouse at {warehouse}: build it first (the dbt step of the pipeline), "
            "or point BIBBLA_WAREHOUSE at a DuckDB file"
        )
    node_version()
    if install_needed(project_dir):
        log("reports: node_modules is missing or stale; installing with npm ci")
        install(project_dir, log=log)

    # Start clean: a file left from an earlier build (e.g. the result of a query since
    # deleted) must not be published.
    for stale in ("build", ".evidence/template/build", ".evidence/template/static/data"):
        shutil.rmtree(project_dir / stale, ignore_errors=True)

    env = _environment(project_dir, warehouse)
    log(f"reports: reading {warehouse}")
    _run(["npm", "run", "sources", "--", "--strict"], project_dir, env, log, "npm run sources")
    _run(["npm", "run", "build:strict"], project_dir, env, log, "npm run build")
    build_dir = project_dir / "build"
    if not (build_dir / "index.html").is_file():
        raise ReportsBuildError(f"the build finished but {build_dir}/index.html is missing")
    log(f"reports: site built in {build_dir}")
    return build_dir


class _StaticSiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the built site; knows the types DuckDB-WASM and Evidence fetch."""

    extensions_map = {  # noqa: RUF012 (class attribute of the standard library's handler)
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".webmanifest": "application/manifest+json",
        ".parquet": "application/vnd.apache.parquet",
        ".arrow": "application/vnd.apache.arrow.file",
    }


def make_server(
    build_dir: Path, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = False
) -> http.server.ThreadingHTTPServer:
    """An HTTP server for the static site (port 0: any free port; see `server_address`)."""
    if not (build_dir / "index.html").is_file():
        raise ReportsBuildError(f"no built site in {build_dir}: run `bibbla reports build`")
    handler: type[_StaticSiteHandler] = _StaticSiteHandler
    if quiet:
        handler = type("_QuietHandler", (_StaticSiteHandler,), {"log_message": lambda *_: None})
    return http.server.ThreadingHTTPServer((host, port), partial(handler, directory=build_dir))


# ---------------------------------------------------------------- command line: bibbla reports

app = typer.Typer(help="The Evidence reports: a static web site.", no_args_is_help=True)


def _fail(error: ReportsBuildError) -> typer.Exit:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@app.command("install")
def install_command() -> None:
    """Install the reports' Node packages (npm ci from reports/package-lock.json)."""
    try:
        install()
    except ReportsBuildError as error:
        raise _fail(error) from None


@app.command("build")
def build_command(
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", help="DuckDB warehouse file (default: BIBBLA_WAREHOUSE)."),
    ] = None,
) -> None:
    """Build the site into reports/build from the warehouse."""
    try:
        build_dir = build_reports(warehouse=warehouse)
    except ReportsBuildError as error:
        raise _fail(error) from None
    typer.echo(f"built {build_dir}; open it with: bibbla reports serve")


@app.command("serve")
def serve_command(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 3000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the built site (reports/build) until Ctrl-C."""
    try:
        server = make_server(REPORTS_DIR / "build", host, port)
    except ReportsBuildError as error:
        raise _fail(error) from None
    typer.echo(f"reports on http://{host}:{server.server_address[1]}/  (Ctrl-C stops)")
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            typer.echo("stopped")
