"""Browser helpers for the visitors' web: Debian's Chromium driven by Playwright (as for the
report site, tests/reports/harness.py), and axe-core for WCAG 2.1 A/AA.

axe-core's script comes from the pinned PyPI package axe-playwright-python (its
axe.min.js), so the tests need no npm install and no network: only Chromium and the dev
dependencies `make install` brings.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest

from tests.reports.harness import CHROMIUM, CHROMIUM_ARGS, describe_violations  # noqa: F401

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}  # fmt: skip


def axe_script() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text("utf-8")


def browser_required() -> bool:
    return os.environ.get("BIBBLA_REQUIRE_BROWSER", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip with the reason, or fail under BIBBLA_REQUIRE_BROWSER (as CI sets it)."""
    if browser_required():
        pytest.fail(f"{reason} (BIBBLA_REQUIRE_BROWSER is set, so this is an error)")
    pytest.skip(reason)


def check_tools() -> None:
    if not CHROMIUM.is_file():
        unavailable(
            f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or set "
            "BIBBLA_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("browser tests need the Python package playwright (uv sync --group dev)")
    try:
        axe_script()
    except (ModuleNotFoundError, FileNotFoundError):
        unavailable("browser tests need axe-playwright-python (uv sync --group dev)")


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations of the given impacts on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_script())
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
    return [violation for violation in results if violation["impact"] in set(impacts)]


def screenshot(page, name: str) -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def overflows_sideways(page) -> bool:
    """Whether the page is wider than the window (a phone would have to scroll sideways)."""
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
    )


def focused(page) -> dict:
    """The focused element: its tag, text, name, and whether a focus outline is drawn."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            const style = getComputedStyle(e);
            return { tag: e.tagName.toLowerCase(), text: (e.innerText || e.value || '').trim(),
                     name: e.getAttribute('name'), id: e.id,
                     outline: style.outlineStyle !== 'none' && style.outlineWidth !== '0px' };
        }"""
    )


def tab_to(page, matches, limit: int = 80, backwards: bool = False) -> dict:
    """Press Tab (or Shift+Tab) until the focused element matches; returns it."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        element = focused(page)
        if matches(element):
            return element
    raise AssertionError(f"no focusable element matched within {limit} tabs")
