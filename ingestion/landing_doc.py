"""Rewrite the generated column tables of LANDING.md after changing the contract:

.venv/bin/python -m ingestion.landing_doc
"""

from __future__ import annotations

from pathlib import Path

from ingestion.contract import LANDING_DOC_END, LANDING_DOC_START, landing_doc_section

LANDING_DOC = Path(__file__).with_name("LANDING.md")


def write_landing_doc(document: Path = LANDING_DOC) -> None:
    """Replace the section between the contract markers with the current contract."""
    text = document.read_text(encoding="utf-8")
    start = text.index(LANDING_DOC_START)
    end = text.index(LANDING_DOC_END) + len(LANDING_DOC_END)
    document.write_text(text[:start] + landing_doc_section() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    write_landing_doc()
