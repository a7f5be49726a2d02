"""The server the search benchmark measures: the visitors' web and API as `bibbla serve` runs
them (`create_app` on BIBBLA_OPERATIONAL_DB), with the catalogue searched either by the
database's full-text index (`fts`, the real thing) or, for the baseline, by a
`LIKE '%term%'` scan of the same title table (`like`): the same steps, the same bounded
window and the same page, only the matching done by scanning.

    .venv/bin/python -m benchmarks.search_server --engine fts|like --port 8123 --workers 2
"""

from __future__ import annotations

import argparse
import os

from sqlalchemy import text

from operational.adapters import catalogue

ENGINE_VARIABLE = "BIBBLA_BENCH_SEARCH_ENGINE"


class LikeScan(catalogue.CatalogueSearch):
    """The baseline: every term must occur in the title, the author or the ISBN, found by
    `LIKE '%term%'` (ILIKE on PostgreSQL, which folds case as the index does); no
    relevance, so the window is simply the newest matches."""

    def _condition(self, terms: list[str]) -> tuple[str, dict]:
        like = "LIKE" if self.dialect == "sqlite" else "ILIKE"
        parts, values = [], {}
        for number, term in enumerate(terms):
            values[f"p{number}"] = f"%{term}%"
            parts.append(
                f"(t.title {like} :p{number} OR t.author {like} :p{number} "
                f"OR t.isbn {like} :p{number})"
            )
        return " AND ".join(parts), values

    def search(self, query: catalogue.SearchQuery) -> catalogue.SearchPage:
        self._terms = query.terms()
        return super().search(query)

    def _match_expression(self, terms: list[str]) -> str:
        return ""

    def _window(self, _match: str, query: catalogue.SearchQuery) -> list:
        condition, values = self._condition(self._terms)
        filters, more = catalogue._filters(query)
        where = "".join(f" AND {f}" for f in filters)
        return self.session.execute(
            text(
                "SELECT t.id, 0.0 AS score, t.media_type, t.language, t.audience "
                f"FROM title AS t WHERE {condition} {where} ORDER BY t.id DESC LIMIT :limit"
            ),
            {**values, **more, "limit": catalogue.WINDOW + 1},
        ).all()

    def _count(self, _match: str, query: catalogue.SearchQuery) -> int:
        condition, values = self._condition(self._terms)
        filters, more = catalogue._filters(query)
        where = "".join(f" AND {f}" for f in filters)
        return int(
            self.session.execute(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM title AS t "
                    f"WHERE {condition} {where} LIMIT :limit) AS m"
                ),
                {**values, **more, "limit": catalogue.COUNT_LIMIT + 1},
            ).scalar_one()
        )

    def _window_postgresql(self, match: str, query: catalogue.SearchQuery):
        window = self._window(match, query)
        if len(window) <= catalogue.WINDOW:
            return window, len(window)
        return window, self._count(match, query)


def create_app():
    """The app `bibbla serve` runs; with the LIKE scan in place of the index if asked."""
    if os.environ.get(ENGINE_VARIABLE) == "like":
        from operational.adapters import unit_of_work

        unit_of_work.CatalogueSearch = LikeScan
    from operational.entrypoints.api import create_app as app

    return app()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["fts", "like"], default="fts")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ[ENGINE_VARIABLE] = args.engine
    uvicorn.run(
        "benchmarks.search_server:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
