"""Build and serve the Evidence reports (`reports/`) as a static site.

`build_reports(settings)` is what the pipeline calls (the last step, after dbt has closed the
warehouse); `bibbla reports build|serve|install` and `make reports` call the same functions.
The warehouse path comes from the settings (`BIBBLA_WAREHOUSE`) and reaches Evidence through
the environment variable `EVIDENCE_SOURCE__warehouse__filename`, which overrides the
`filename` option of `reports/sources/warehouse/connection.yaml`. Evidence joins that option
to the source folder, so it is given relative to that folder.

The build compiles the site with Vite (`npx vite build`, with SvelteKit's prerendering
switched off) and then prerenders it in a process of its own (`scripts/prerender.mjs`), so that
the bundler's 2-3 GB are freed before the page queries run. A rebuild does only what changed;
both caches live in `reports/node_modules/.cache/bibbla-reports` (which `npm ci` empties):
- the source queries' results (Parquet) are reused when the warehouse (its content), the source
  folder and the installed packages are those of an earlier run;
- the compiled bundles (most of a full build's time and memory) are reused when the pages,
  components, configuration and installed packages are unchanged: they do not depend on the
  data (two different warehouses gave the same bundles), so only the prerendering runs, and
  it runs the page queries on the new data.
`build_reports(..., reuse=False)` or `bibbla reports build --full` rebuilds both.

Since the bundles do not depend on the data, `compile_bundles` (`bibbla reports prepare`)
installs the packages and compiles them before there is a warehouse: `make demo` does it
while the simulator runs, and the site build then only prerenders. (Compiled with and
without data, the bundles differ only in SvelteKit's build timestamp and the file names
derived from it.) Compilations take a file lock, so a build that needs the bundles a
`prepare` is compiling waits for them instead of compiling them a second time.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from filelock import FileLock

from bibbla.config import PROJECT_ROOT, Settings, get_settings
from bibbla.processes import run_streaming

REPORTS_DIR = PROJECT_ROOT / "reports"
SOURCE_NAME = "warehouse"
NODE_MAJOR = 20
# Written into node_modules after `npm ci`: the hash of the lock file it installed.
INSTALL_STAMP = ".bibbla-installed-lock.sha256"
CACHE_DIR = Path("node_modules") / ".cache" / "bibbla-reports"  # relative to the project
CACHE_KEEP = 3  # entries of each kind kept (each compiled site is about 65 MB)
_TEMPLATE = Path(".evidence") / "template"
_DATA_DIR = _TEMPLATE / "static" / "data"  # where `npm run sources` writes
_KIT_OUTPUT = _TEMPLATE / ".svelte-kit" / "output"  # where `vite build` writes the bundles
# Not read when the bundles are compiled: what Evidence writes, the packages (keyed by their
# lock file and stamp instead), the source queries (only their results, the data, are read, at
# prerendering) and this folder's README.
_NOT_IN_BUNDLE_KEY = frozenset({"node_modules", "build", ".evidence", "sources", "README.md"})
_BUNDLE_ENV_PREFIXES = ("VITE_", "PUBLIC_", "EVIDENCE_")  # what Vite, SvelteKit, Evidence read
_PRERENDER_SCRIPT = Path("scripts") / "prerender.mjs"
# Read by the edits of scripts/patch-evidence.cjs: what Evidence's build runs instead of
# `npx vite build`, and SvelteKit's switch to compile without prerendering.
_BUILD_SWITCHES = frozenset({"BIBBLA_VITE_BUILD_COMMAND", "BIBBLA_BUNDLES_ONLY"})

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
        # Only this function decides what Evidence reads about its sources (and whether the
        # bundles are rebuilt).
        if not key.startswith("EVIDENCE_SOURCE__") and key not in _BUILD_SWITCHES
    }
    env.update({"NO_COLOR": "1", "FORCE_COLOR": "0"})
    if warehouse is not None:
        source_dir = project_dir / "sources" / SOURCE_NAME
        env[f"EVIDENCE_SOURCE__{SOURCE_NAME}__filename"] = os.path.relpath(warehouse, source_dir)
    return env


def _file_hash(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _tree_hash(digest: hashlib._Hash, root: Path, skip: frozenset[str] = frozenset()) -> None:
    """Add every file under root (path and content) to digest, in a fixed order; `skip`
    names top-level entries left out."""
    files = []
    for folder, dirs, names in os.walk(root):
        if Path(folder) == root:
            dirs[:] = [name for name in dirs if name not in skip]
            names = [name for name in names if name not in skip]
        files.extend(Path(folder, name) for name in names)
    for path in sorted(files):
        relative = path.relative_to(root).as_posix()
        digest.update(f"{relative}\0{_file_hash(path)}\n".encode())


def _packages_and_node(digest: hashlib._Hash, project_dir: Path) -> None:
    stamp = project_dir / "node_modules" / INSTALL_STAMP
    digest.update(_lock_hash(project_dir).encode())
    digest.update(stamp.read_bytes() if stamp.is_file() else b"no stamp")
    digest.update(".".join(map(str, node_version())).encode())


def bundle_key(project_dir: Path, env: dict[str, str]) -> str:
    """What Evidence's compiled bundles depend on: every file of the project but the source
    queries and what Evidence writes, the installed packages, Node and the variables that Vite,
    SvelteKit or Evidence read at build time (not the data, which is read at prerendering)."""
    digest = hashlib.sha256(b"bibbla bundles 1\n")
    _tree_hash(digest, project_dir, _NOT_IN_BUNDLE_KEY)
    _packages_and_node(digest, project_dir)
    for key in sorted(env):
        if key == "NODE_ENV" or (
            key.startswith(_BUNDLE_ENV_PREFIXES) and not key.startswith("EVIDENCE_SOURCE__")
        ):
            digest.update(f"{key}={env[key]}\n".encode())
    return digest.hexdigest()


def sources_key(project_dir: Path, warehouse: Path, env: dict[str, str]) -> str:
    """What the source queries' results depend on: the warehouse's content, the source folder
    (queries and connection), the source options from the environment (but the warehouse's
    path), the installed packages and Node."""
    digest = hashlib.sha256(b"bibbla sources 1\n")
    digest.update(f"warehouse {_file_hash(warehouse)}\n".encode())
    _tree_hash(digest, project_dir / "sources")
    filename = f"EVIDENCE_SOURCE__{SOURCE_NAME}__filename"
    for key in sorted(env):
        if key.startswith("EVIDENCE_") and key != filename:
            digest.update(f"{key}={env[key]}\n".encode())
    _packages_and_node(digest, project_dir)
    return digest.hexdigest()


def _cached(project_dir: Path, kind: str, key: str) -> Path | None:
    """The cache entry of this kind and key, or None; marks it as recently used."""
    entry = project_dir / CACHE_DIR / kind / key
    if not (entry / "complete").is_file():
        return None
    entry.touch()
    return entry


def _store(project_dir: Path, kind: str, key: str, parts: dict[str, Path]) -> None:
    """Copy `parts` ({name in the entry: folder}) into a new cache entry, atomically (a
    concurrent build storing the same key wins or loses as a whole), keeping the newest few."""
    kind_dir = project_dir / CACHE_DIR / kind
    entry = kind_dir / key
    if entry.exists():
        return
    partial = kind_dir / f".{key}.{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    for name, source in parts.items():
        shutil.copytree(source, partial / name, symlinks=True)
    (partial / "complete").write_text(key + "\n")
    try:
        partial.rename(entry)
    except OSError:  # stored meanwhile by another build
        shutil.rmtree(partial, ignore_errors=True)
    entries = sorted(
        (path for path in kind_dir.iterdir() if not path.name.startswith(".")),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for old in entries[CACHE_KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def install(project_dir: Path = REPORTS_DIR, *, log: Log = _log_to_stderr) -> None:
    """`npm ci`: install the exact packages of package-lock.json (and run the postinstall
    patch, which fails the install if Evidence's code is not as expected)."""
    node_version()
    _run(["npm", "ci"], project_dir, _environment(project_dir, None), log, "npm ci")
    (project_dir / "node_modules" / INSTALL_STAMP).write_text(_lock_hash(project_dir) + "\n")


# A larger young generation: the bundler allocates a lot of short-lived objects, and this
# cut its CPU time by about 6% (same peak memory). Evidence adds its own heap limit.
_VITE_BUILD = 'NODE_OPTIONS="$NODE_OPTIONS --max-semi-space-size=64" npx vite build'
_COMPILE_LOCK = "compile.lock"
_INSTALL_LOCK = ".install.lock"  # beside node_modules, which `npm ci` deletes


def _compiling(project_dir: Path) -> FileLock:
    """Held while bundles are compiled into the cache (shared by the copies of the project
    that share its node_modules)."""
    lock = project_dir / CACHE_DIR / _COMPILE_LOCK
    lock.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(lock)


def _store_bundles(project_dir: Path, key: str) -> None:
    output = project_dir / _KIT_OUTPUT
    _store(
        project_dir,
        "bundles",
        key,
        {
            "server": output / "server",
            "client/_app": output / "client" / "_app",
            "client/.vite": output / "client" / ".vite",
        },
    )


def compile_bundles(project_dir: Path = REPORTS_DIR, *, log: Log = _log_to_stderr) -> str:
    """Install the packages when needed and compile the site's bundles into the cache, with
    no warehouse (they do not depend on the data); returns their key. Nothing is compiled
    when the cache already has them."""
    node_version()
    ensure_installed(project_dir, log=log)
    env = _environment(project_dir, None)
    key = bundle_key(project_dir, env)
    with _compiling(project_dir):
        if _cached(project_dir, "bundles", key) is not None:
            log(f"reports: the compiled bundles are ready ({key[:12]})")
            return key
        for stale in ("build", _TEMPLATE / "build", _DATA_DIR, _KIT_OUTPUT):
            shutil.rmtree(project_dir / stale, ignore_errors=True)
        log("reports: compiling the site's bundles (no data needed)")
        env = {**env, "BIBBLA_BUNDLES_ONLY": "1", "BIBBLA_VITE_BUILD_COMMAND": _VITE_BUILD}
        _run(["npm", "run", "build:strict"], project_dir, env, log, "npm run build")
        _store_bundles(project_dir, key)
        # what the compile wrote is not a site: nothing must be served from it
        shutil.rmtree(project_dir / "build", ignore_errors=True)
    log(f"reports: bundles compiled ({key[:12]})")
    return key


def ensure_installed(project_dir: Path = REPORTS_DIR, *, log: Log = _log_to_stderr) -> None:
    """`npm ci` when node_modules is missing or stale, once: a process that finds another
    installing waits for it (npm ci empties node_modules first, so two must never overlap)."""
    with FileLock(project_dir / _INSTALL_LOCK):
        if install_needed(project_dir):
            log("reports: node_modules is missing or stale; installing with npm ci")
            install(project_dir, log=log)


def build_reports(
    settings: Settings | None = None,
    *,
    project_dir: Path = REPORTS_DIR,
    warehouse: Path | None = None,
    log: Log = _log_to_stderr,
    reuse: bool = True,
) -> Path:
    """Build the static report site from the DuckDB warehouse; returns the build folder.

    Installs the Node packages first when they are missing or stale, then runs
    `npm run sources` (source queries → Parquet) and `npm run build` (pages → HTML). Both fail
    on any query error. The warehouse (default: the settings' `warehouse_path`) must exist and
    no process may be writing to it: Evidence opens it read-only. With `reuse` (the default),
    the source results and the compiled bundles of an earlier build are reused when what they
    depend on is unchanged (see the module's documentation); the site is the same either way.
    """
    settings = settings or get_settings()
    warehouse = (warehouse or settings.warehouse_path).resolve()
    if not warehouse.is_file():
        raise ReportsBuildError(
            f"no warehouse at {warehouse}: build it first (the dbt step of the pipeline), "
            "or point BIBBLA_WAREHOUSE at a DuckDB file"
        )
    node_version()
    ensure_installed(project_dir, log=log)

    # Start clean: a file left from an earlier build (e.g. the result of a query since
    # deleted) must not be published.
    for stale in ("build", _TEMPLATE / "build", _DATA_DIR, _KIT_OUTPUT):
        shutil.rmtree(project_dir / stale, ignore_errors=True)

    env = _environment(project_dir, warehouse)
    log(f"reports: reading {warehouse}")
    key = sources_key(project_dir, warehouse, env)
    cached = _cached(project_dir, "sources", key) if reuse else None
    if cached is not None:
        log(f"reports: warehouse and source queries unchanged: reusing their results ({key[:12]})")
        shutil.copytree(cached / "data", project_dir / _DATA_DIR)
    else:
        _run(["npm", "run", "sources", "--", "--strict"], project_dir, env, log, "npm run sources")
        _store(project_dir, "sources", key, {"data": project_dir / _DATA_DIR})

    # Compile the bundles (unless those of an earlier build fit), then prerender in a process
    # of its own (scripts/prerender.mjs): the bundler's memory is freed before the queries run.
    key = bundle_key(project_dir, env)
    prerender = f"node {shlex.quote(str(project_dir / _PRERENDER_SCRIPT))}"
    with _compiling(project_dir):
        cached = _cached(project_dir, "bundles", key) if reuse else None
        if cached is not None:
            log(
                "reports: pages, components and packages unchanged: reusing the compiled "
                f"bundles ({key[:12]}), prerendering only"
            )
            command = f"{prerender} {shlex.quote(str(cached))}"
        else:
            command = f"{_VITE_BUILD} && {prerender}"
            env = {**env, "BIBBLA_BUNDLES_ONLY": "1"}
        env = {**env, "BIBBLA_VITE_BUILD_COMMAND": command}
        _run(["npm", "run", "build:strict"], project_dir, env, log, "npm run build")
        if cached is None:
            _store_bundles(project_dir, key)
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


@app.command("prepare")
def prepare_command() -> None:
    """Install the Node packages and compile the site's bundles, which need no data: a
    later `bibbla reports build` then only prerenders the pages (make demo runs this while
    the simulator runs)."""
    try:
        compile_bundles()
    except ReportsBuildError as error:
        raise _fail(error) from None


@app.command("build")
def build_command(
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", help="DuckDB warehouse file (default: BIBBLA_WAREHOUSE)."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option("--full", help="Rebuild everything (reuse no source results or bundles)."),
    ] = False,
) -> None:
    """Build the site into reports/build from the warehouse."""
    try:
        build_dir = build_reports(warehouse=warehouse, reuse=not full)
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
