"""Browser-test harness for the Evidence report site: build, serve, visit, scan.

Used by the fixtures in `tests/reports/conftest.py`; the functions here hold no pytest state,
so other test folders (e.g. an end-to-end run after `make demo`) can use them too.

- `prepare_project` copies `reports/` to a scratch folder (sharing its node_modules) and lays
  test-only pages and source queries over it, so tests never write into `reports/`.
- `visit` loads a page in Chromium and records console errors, failed responses and every
  request to a host other than 127.0.0.1 (which Chromium is also told it cannot resolve, so
  nothing leaves the machine even if a page tries).
- `axe_violations` runs axe-core (from reports/node_modules) for WCAG 2.1 A/AA and returns
  the serious and critical violations.
- `scan_site` looks for forbidden strings in every file of a built site, decoding the Parquet
  and Arrow files the site ships its query results in; `find_personal_values` does the same
  for thousands of personal values at once; `site_tables` reads those query results.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bibbla.reports import REPORTS_DIR, make_server
from privacy.scan import table_cells

CHROMIUM = Path(os.environ.get("BIBBLA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root on CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    # Any name but the local server's fails to resolve: a page can try to reach out (and is
    # recorded doing so), but no request leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
AXE_SCRIPT = REPORTS_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Files Evidence writes in reports/ that must not be copied into a test project.
_NOT_COPIED = {"node_modules", "build", ".evidence"}


# ------------------------------------------------------------------------- project and server


def prepare_project(destination: Path, overlay: Path | None = None) -> Path:
    """A copy of reports/ in `destination` with `overlay`'s files laid over it; node_modules is
    a link to reports/node_modules (install it first). Returns the copy's folder."""
    project = destination / "reports"
    shutil.copytree(REPORTS_DIR, project, ignore=lambda _dir, names: _NOT_COPIED & set(names))
    (project / "node_modules").symlink_to(REPORTS_DIR / "node_modules", target_is_directory=True)
    if overlay is not None:
        shutil.copytree(overlay, project, dirs_exist_ok=True)
    return project


@contextmanager
def serving(build_dir: Path) -> Iterator[str]:
    """Serve a built site on a free port of 127.0.0.1 for the duration; yields its base URL."""
    server = make_server(build_dir, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, name="report-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# ------------------------------------------------------------------------------------ browser


def launch_chromium(playwright):
    """Debian's Chromium, headless, driven by Playwright (whose own browser download does not
    work offline)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


# Evidence's layout asks for a page's prerendered query results even when the page has no
# queries, and handles the 404; Chromium still logs it as a console error.
_QUERY_RESULTS = re.compile(r"/api/[0-9a-f]{32}/[0-9a-f]{32}/all-queries\.json$")


@dataclass
class PageVisit:
    """One page load and what happened during it."""

    page: object  # playwright.sync_api.Page
    url: str
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    tolerated: list[str] = field(default_factory=list)  # known-harmless, kept for the record

    def problems(self) -> list[str]:
        """Every console error, outside request and failed response, for one assertion."""
        return (
            [f"console error: {text}" for text in self.console_errors]
            + [f"request outside 127.0.0.1: {url}" for url in self.outside_requests]
            + [f"failed response: {entry}" for entry in self.failed_responses]
        )


def _is_outside(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in ("data", "blob", "about", "chrome", "") and (
        parts.hostname not in LOCAL_HOSTS
    )


def visit(context, url: str, *, settle_ms: int = 500) -> PageVisit:
    """Open `url` in a new page of `context` and wait until the page has rendered and the
    network has been idle (DuckDB-WASM loads in the background after the first paint)."""
    page = context.new_page()
    result = PageVisit(page=page, url=url)

    def on_console(message) -> None:
        if message.type == "error":
            location = message.location or {}
            result.console_errors.append(f"{message.text} (at {location.get('url', '?')})")

    def on_request(request) -> None:
        if _is_outside(request.url):
            result.outside_requests.append(request.url)

    def on_response(response) -> None:
        if response.status >= 400:
            result.failed_responses.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: result.console_errors.append(f"uncaught: {error}"))
    # Context-wide, so requests from workers and the service worker are seen as well.
    context.on("request", on_request)
    page.on("response", on_response)
    page.goto(url, wait_until="networkidle")
    # Evidence removes its splash screen once the app has hydrated.
    page.wait_for_selector("#__evidence_project_splash", state="detached")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(settle_ms)
    context.remove_listener("request", on_request)
    result.outside_requests = sorted(set(result.outside_requests))
    _tolerate_missing_query_results(context, result)
    return result


def _tolerate_missing_query_results(context, result: PageVisit) -> None:
    """Drop the 404 of `all-queries.json` (and its console error), but only when the page's
    own metadata says it has no queries; on a page with queries it stays a failure."""
    missing = [e for e in result.failed_responses if _QUERY_RESULTS.search(e.split(" ", 1)[1])]
    if not missing:
        return
    parts = urlsplit(result.url)
    meta = context.request.get(f"{parts.scheme}://{parts.netloc}/api{parts.path}evidencemeta.json")
    if not (meta.ok and meta.json().get("queries") == []):
        return
    urls = {entry.split(" ", 1)[1] for entry in missing}
    result.tolerated = [
        *missing,
        *(e for e in result.console_errors if any(url in e for url in urls)),
    ]
    result.failed_responses = [e for e in result.failed_responses if e not in missing]
    result.console_errors = [e for e in result.console_errors if e not in result.tolerated]


def screenshot(page, name: str, directory: Path = ARTIFACTS_DIR) -> Path:
    """A full-page PNG in the (git-ignored) artifacts folder; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, impacts: Iterable[str] = ("serious", "critical")) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations of the given impacts on the page as it is now."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {
                runOnly: { type: 'tag', values: tags },
                resultTypes: ['violations'],
            });
            return r.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, html: n.html,
                                                          summary: n.failureSummary })),
            }));
        }""",
        WCAG_21_AA,
    )
    wanted = set(impacts)
    return [violation for violation in results if violation["impact"] in wanted]


def describe_violations(violations: list[dict]) -> str:
    """A readable list of axe violations for an assertion message."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {node['target']}: {node['html'][:160]}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- site file scan


@dataclass(frozen=True)
class Hit:
    """A forbidden string found in a file of the built site."""

    path: Path
    needle: str
    where: str  # "text", "bytes" or "column <name>" for a cell of a data file


def scan_site(build_dir: Path, forbidden: Iterable[str]) -> list[Hit]:
    """Every place a forbidden string occurs in the built site.

    Text files are searched as text. The Parquet and Arrow files (query results, which the
    browser downloads) are decoded: a hit is a cell whose text contains the needle (numbers
    compare by their text, e.g. "3" matches the cell 3 but also 13, so choose distinctive
    values). Any other file is searched as raw bytes.
    """
    needles = [str(needle) for needle in forbidden]
    hits: list[Hit] = []
    for path in sorted(p for p in build_dir.rglob("*") if p.is_file()):
        decoded = table_cells(path)
        if decoded is not None:
            cells = decoded[1]
            for column, value in cells:
                if value is None:
                    continue
                text = str(value)
                hits.extend(Hit(path, n, f"column {column}") for n in needles if n in text)
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            hits.extend(Hit(path, n, "bytes") for n in needles if n.encode() in data)
            continue
        hits.extend(Hit(path, n, "text") for n in needles if n in text)
    return sorted(set(hits), key=lambda hit: (str(hit.path), hit.needle))


def site_tables(build_dir: Path) -> Iterator[tuple[Path, object]]:
    """Every query result the site ships, as (path, pyarrow.Table): the source queries'
    Parquet files under data/ and the pages' prerendered Arrow files under api/."""
    import pyarrow.ipc
    import pyarrow.parquet

    for path in sorted(p for p in build_dir.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            yield path, pyarrow.parquet.read_table(path)
        elif path.suffix == ".arrow":
            try:
                yield path, pyarrow.ipc.open_file(path).read_all()
            except pyarrow.ArrowInvalid:
                yield path, pyarrow.ipc.open_stream(path).read_all()


def _site_texts(build_dir: Path) -> Iterator[tuple[Path, str]]:
    """The text of every file of the site: data files as their cells (one per line), other
    files decoded as UTF-8 (binary files with the undecodable bytes dropped)."""
    tables = {path: table for path, table in site_tables(build_dir)}
    for path in sorted(p for p in build_dir.rglob("*") if p.is_file()):
        if path in tables:
            table = tables[path]
            yield (
                path,
                "\n".join(
                    str(value)
                    for column in table.columns
                    for value in column.to_pylist()
                    if value is not None
                ),
            )
        else:
            yield path, path.read_bytes().decode("utf-8", errors="ignore")


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGIT_GROUPS = re.compile(r"\d+(?:[- \u00a0]\d+)*")
_WORD = re.compile(r"[^\W\d_]+")


def find_personal_values(build_dir: Path, values: dict[str, set[str]]) -> list[Hit]:
    """Every place a personal value (names, e-mail addresses, phone and card numbers, as
    `values` by kind) occurs in the built site, data files decoded.

    Built for thousands of values over a 50 MB site: instead of searching for each value, it
    reads every e-mail address, digit group (e.g. 077-1234567) and pair of adjacent words in
    each file and looks them up. Digit groups are compared with their separators (hyphens,
    spaces) removed, so "077 123 45 67" finds "077-1234567".
    """
    digits_only = lambda text: re.sub(r"\D", "", text)  # noqa: E731
    emails = {value.lower() for value in values.get("email", set())}
    numbers = {
        digits_only(value): value
        for kind in ("phone", "card_number")
        for value in values.get(kind, set())
        if len(digits_only(value)) >= 6
    }
    longest = max((len(digits) for digits in numbers), default=0)
    names = {" ".join(value.split()) for value in values.get("name", set())}
    surnames = {name.rsplit(" ", 1)[-1] for name in names}
    hits: list[Hit] = []
    for path, text in _site_texts(build_dir):
        for email in {match.lower() for match in _EMAIL.findall(text)} & emails:
            hits.append(Hit(path, email, "email"))
        for group in set(_DIGIT_GROUPS.findall(text)):
            # every run of adjacent parts: "077 123 45 67 8" holds 077-1234567
            parts = re.split(r"\D", group)
            for first in range(len(parts)):
                digits = ""
                for part in parts[first:]:
                    digits += part
                    if len(digits) > longest:
                        break
                    if digits in numbers:
                        hits.append(Hit(path, numbers[digits], "number"))
        words = _WORD.findall(text)
        for index in range(1, len(words)):
            if words[index] in surnames:
                # a name may have several given names: try the two and three words before
                for start in (index - 1, index - 2):
                    candidate = " ".join(words[max(start, 0) : index + 1])
                    if candidate in names:
                        hits.append(Hit(path, candidate, "name"))
    return sorted(set(hits), key=lambda hit: (str(hit.path), hit.needle))
