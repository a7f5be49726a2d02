"""Reading the shared catalogue for visitors: full-text search with facets, and a title's
copies and hold queue. Plain SQL on the unit of work's session, in the database's own
full-text engine (adapters/search_index.py): FTS5 `MATCH` on SQLite, a `tsquery` with the
`swedish` configuration on PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from operational.adapters import tables
from operational.domain.model import ItemStatus

PAGE_SIZE = 20
# At most this many matching titles (the most recently added) are ranked and counted for
# the facets: it bounds the work a broad query costs (see CatalogueSearch).
WINDOW = 300
# A broad query's matches are counted up to this many ("över 10 000 träffar").
COUNT_LIMIT = 10_000
# A word as the index's tokenizer sees it: letters and digits (å, ä, ö included).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# An ISBN as people write it, with or without hyphens: indexed without them too.
_ISBN = re.compile(r"\b(?:97[89][- ]?)?(?:\d[- ]?){9}[\dXx]\b")
MAX_TERMS = 8
# Statuses in which a copy still belongs to the catalogue a visitor sees.
_HELD = "('available', 'on_loan', 'in_transit', 'on_hold_shelf')"


@dataclass(frozen=True)
class SearchQuery:
    """What a visitor asked: words, facet choices (None: any), and a page (from 1)."""

    text: str
    media_type: str | None = None
    language: str | None = None
    audience: str | None = None
    library: str | None = None  # a branch code: titles with a copy that belongs there
    available_now: bool = False  # a copy on the shelf (at `library`, when one is chosen)
    page: int = 1

    def terms(self) -> list[str]:
        """The query's words, lower-cased, ISBNs without hyphens, at most MAX_TERMS."""
        raw = _ISBN.sub(lambda m: re.sub(r"[- ]", "", m.group(0)), self.text)
        return [word.lower() for word in _WORD.findall(raw)][:MAX_TERMS]


@dataclass(frozen=True)
class Hit:
    title_id: int
    title: str
    author: str | None
    year: int | None
    media_type: str
    language: str
    audience: str
    copies: int
    available: int


@dataclass
class SearchPage:
    query: SearchQuery
    total: int  # matching titles, up to COUNT_LIMIT
    hits: list[Hit]
    # facet name -> [(value, number of titles)], most titles first
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    available_now: int = 0  # titles with a copy on the shelf
    # False when more than WINDOW titles match: ranking, pages and facet counts then cover
    # the WINDOW most recently added of them
    exhaustive: bool = True
    more: bool = False  # more than COUNT_LIMIT titles match

    @property
    def ranked(self) -> int:
        """How many titles the pages go through."""
        return min(self.total, WINDOW)

    @property
    def pages(self) -> int:
        return max(1, -(-self.ranked // PAGE_SIZE))


class CatalogueSearch:
    """Full-text search of the catalogue in one read-only session.

    The work is bounded whatever the query: the engine walks the matching titles newest
    first and stops after WINDOW of them, which are ranked by relevance (bm25 on SQLite,
    ts_rank on PostgreSQL) and counted for the facets. When fewer match (most queries),
    that is all of them and everything is exact; a broad query ("sjön" in a large
    catalogue) is counted up to COUNT_LIMIT, and its ranking and facet counts cover the
    WINDOW most recently added matches, which the page says.
    """

    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def search(self, query: SearchQuery) -> SearchPage:
        terms = query.terms()
        if not terms:
            return SearchPage(query, 0, [])
        if self.dialect == "postgresql":
            # One search is a few small index walks: starting parallel workers for it
            # costs more than it saves, and under many visitors it only adds waiting.
            self.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        match = self._match_expression(terms)
        if self.dialect == "sqlite":
            window = self._window(match, query)
            exhaustive = len(window) <= WINDOW
            total = len(window) if exhaustive else self._count(match, query)
        else:
            window, total = self._window_postgresql(match, query)
            exhaustive = len(window) <= WINDOW
        window = window[:WINDOW]
        page = SearchPage(
            query, min(total, COUNT_LIMIT), [], exhaustive=exhaustive, more=total > COUNT_LIMIT
        )
        if not window:
            return page
        ranked = sorted(window, key=lambda row: (-row[1], -row[0]))
        offset = (max(query.page, 1) - 1) * PAGE_SIZE
        on_page = [row[0] for row in ranked[offset : offset + PAGE_SIZE]]
        # One pass over the window's copies gives the library facet, "available now" and
        # the page's copies (three queries cost a quarter of a server's time under load).
        copies = self._copies([row[0] for row in window])
        page.hits = self._hits(on_page, copies)
        page.facets = _facets(window)
        libraries: dict[str, int] = {}
        available = 0
        for held in copies.values():
            for library in {copy[1] for copy in held}:
                libraries[library] = libraries.get(library, 0) + 1
            if any(
                copy[3] == "available" and (query.library is None or copy[2] == query.library)
                for copy in held
            ):
                available += 1
        page.facets["library"] = _most_first(libraries)
        page.available_now = available
        return page

    # -- the parts of the query

    def _match_expression(self, terms: list[str]) -> str:
        """Every term must match (a word of two letters or more also as a prefix)."""
        if self.dialect == "sqlite":
            # Each term quoted, so no word is FTS5 syntax.
            return " ".join(
                '"' + term.replace('"', '""') + '"' + ("*" if len(term) > 1 else "")
                for term in terms
            )
        # Terms are letters and digits only (_WORD), so they cannot be tsquery syntax.
        return " & ".join(term + (":*" if len(term) > 1 else "") for term in terms)

    def _window(self, match: str, query: SearchQuery) -> list:
        """SQLite: the newest WINDOW + 1 matching titles, as (id, score, media_type,
        language, audience), score higher for more relevant. FTS5 walks its index newest
        first and stops there; it computes bm25 only for the rows it returns."""
        conditions, values = _filters(query)
        values.update(match=match, limit=WINDOW + 1)
        where = "".join(f" AND {condition}" for condition in conditions)
        sql = f"""
            SELECT s.rowid AS id, -s.rank AS score, t.media_type, t.language, t.audience
            FROM title_search AS s JOIN title AS t ON t.id = s.rowid
            WHERE s.title_search MATCH :match {where}
            ORDER BY s.rowid DESC LIMIT :limit
        """
        return self.session.execute(text(sql), values).all()

    def _count(self, match: str, query: SearchQuery) -> int:
        """SQLite: the matching titles, counted up to COUNT_LIMIT + 1."""
        conditions, values = _filters(query)
        values.update(match=match, limit=COUNT_LIMIT + 1)
        if conditions:
            where = "".join(f" AND {condition}" for condition in conditions)
            matches = (
                "SELECT 1 FROM title_search AS s JOIN title AS t ON t.id = s.rowid "
                f"WHERE s.title_search MATCH :match {where}"
            )
        else:
            matches = "SELECT 1 FROM title_search WHERE title_search MATCH :match"
        sql = f"SELECT count(*) FROM ({matches} LIMIT :limit) AS m"
        return int(self.session.execute(text(sql), values).scalar_one())

    def _window_postgresql(self, match: str, query: SearchQuery) -> tuple[list, int]:
        """PostgreSQL: the same window, and the matches counted up to COUNT_LIMIT + 1.

        A GIN index returns its matches in no order, and each must be read from the table
        to be counted or sorted; so the matches are first collected up to COUNT_LIMIT + 1
        (a bitmap scan). Fewer: they are all there, and the newest WINDOW + 1 are taken.
        More: a broad query, whose matches are dense, so walking the titles newest first
        and testing each finds WINDOW + 1 of them soonest. Relevance (ts_rank) is then
        computed for the window alone."""
        conditions, values = _filters(query)
        values.update(match=match, probe=COUNT_LIMIT + 1, limit=WINDOW + 1)
        join = "JOIN title AS t ON t.id = s.title_id" if conditions else ""
        where = "".join(f" AND {condition}" for condition in conditions)
        matches = f"""
            SELECT s.title_id FROM title_search AS s {join}
            WHERE s.document @@ to_tsquery('swedish', :match) {where}
        """
        rows = self.session.execute(
            text(
                f"""
                WITH m AS MATERIALIZED ({matches} LIMIT :probe)
                SELECT title_id, count(*) OVER () AS total FROM m
                ORDER BY title_id DESC LIMIT :limit
                """
            ),
            values,
        ).all()
        total = rows[0].total if rows else 0
        ids = [row.title_id for row in rows]
        if total > COUNT_LIMIT:
            self.session.execute(text("SET LOCAL enable_bitmapscan = off"))
            ids = list(
                self.session.execute(
                    text(
                        f"""
                        SELECT s.title_id FROM title_search AS s
                        JOIN title AS t ON t.id = s.title_id
                        WHERE s.document @@ to_tsquery('swedish', :match) {where}
                        ORDER BY s.title_id DESC LIMIT :limit
                        """
                    ),
                    values,
                ).scalars()
            )
            self.session.execute(text("SET LOCAL enable_bitmapscan = on"))
        if not ids:
            return [], total
        window = self.session.execute(
            text(
                """
                SELECT s.title_id AS id, ts_rank(s.document, q.query) AS score,
                       t.media_type, t.language, t.audience
                FROM title_search AS s JOIN title AS t ON t.id = s.title_id,
                     to_tsquery('swedish', :match) AS q(query)
                WHERE s.title_id = ANY(:ids)
                ORDER BY s.title_id DESC
                """
            ),
            {"match": match, "ids": ids},
        ).all()
        return window, total

    def _ids(self, column: str, ids: list[int]) -> tuple[str, dict]:
        """`column IN (ids)`: a list of integers written into the statement on SQLite, an
        array parameter on PostgreSQL."""
        if self.dialect == "sqlite":
            return f"{column} IN ({', '.join(str(int(i)) for i in ids)})", {}
        return f"{column} = ANY(:ids)", {"ids": [int(i) for i in ids]}

    def _copies(self, title_ids: list[int]) -> dict[int, list[tuple]]:
        """The copies still in the catalogue of each title, as (title id, home branch,
        current branch, status): one pass over the item index."""
        where, values = self._ids("title_id", title_ids)
        copies: dict[int, list[tuple]] = {}
        for row in self.session.execute(
            text(
                "SELECT title_id, home_branch_code, current_branch_code, status FROM item "
                f"WHERE {where} AND status IN {_HELD}"
            ),
            values,
        ):
            copies.setdefault(row[0], []).append(row)
        return copies

    def _hits(self, title_ids: list[int], copies: dict[int, list]) -> list[Hit]:
        if not title_ids:
            return []
        where, values = self._ids("id", title_ids)
        rows = {
            row.id: row
            for row in self.session.execute(
                text(
                    "SELECT id, title, author, year, media_type, language, audience "
                    f"FROM title WHERE {where}"
                ),
                values,
            )
        }
        return [
            Hit(
                title_id=row.id,
                title=row.title,
                author=row.author,
                year=row.year,
                media_type=str(row.media_type),
                language=row.language,
                audience=str(row.audience),
                copies=len(copies.get(row.id, ())),
                available=sum(copy[3] == "available" for copy in copies.get(row.id, ())),
            )
            for row in (rows[i] for i in title_ids if i in rows)
        ]


def _facets(window: list) -> dict[str, list[tuple[str, int]]]:
    """Titles per media type, language and audience in the window."""
    counts: dict[str, dict[str, int]] = {"media_type": {}, "language": {}, "audience": {}}
    for name, column in (("media_type", 2), ("language", 3), ("audience", 4)):
        values = counts[name]
        for row in window:
            value = row[column]
            values[value] = values.get(value, 0) + 1
    return {name: _most_first(values) for name, values in counts.items()}


def _most_first(values: dict) -> list[tuple[str, int]]:
    return sorted(
        ((str(value), count) for value, count in values.items()),
        key=lambda pair: (-pair[1], pair[0]),
    )


def _filters(query: SearchQuery) -> tuple[list[str], dict]:
    """SQL conditions on `t` (title) for the facets chosen, and their parameters."""
    conditions, values = [], {}
    for column in ("media_type", "language", "audience"):
        value = getattr(query, column)
        if value:
            conditions.append(f"t.{column} = :{column}")
            values[column] = value
    if query.library:
        values["library"] = query.library
        conditions.append(
            "EXISTS (SELECT 1 FROM item AS i WHERE i.title_id = t.id "
            + (
                "AND i.status = 'available' AND i.current_branch_code = :library)"
                if query.available_now
                else f"AND i.status IN {_HELD} AND i.home_branch_code = :library)"
            )
        )
    elif query.available_now:
        conditions.append(
            "EXISTS (SELECT 1 FROM item AS i WHERE i.title_id = t.id AND i.status = 'available')"
        )
    return conditions, values


# ------------------------------------------------------------------------- a title's copies


@dataclass(frozen=True)
class CopyRow:
    """One copy of a title as the title page shows it."""

    item_id: int
    home_branch_code: str
    current_branch_code: str
    status: str
    due_at: datetime | None  # when on loan
    to_branch_code: str | None  # when on its way somewhere


def copies_of(session: Session, title_id: int) -> list[CopyRow]:
    """Every copy of the title that is not withdrawn, with its due date or destination."""
    item, loan, transport = tables.item, tables.loan, tables.transport
    rows = session.execute(
        select(
            item.c.id,
            item.c.home_branch_code,
            item.c.current_branch_code,
            item.c.status,
            loan.c.due_at,
            transport.c.to_branch_code,
        )
        .select_from(item)
        .outerjoin(loan, (loan.c.item_id == item.c.id) & loan.c.returned_at.is_(None))
        .outerjoin(
            transport,
            (transport.c.item_id == item.c.id)
            & transport.c.received_at.is_(None)
            & transport.c.lost_at.is_(None),
        )
        .where(item.c.title_id == title_id, item.c.status != ItemStatus.WITHDRAWN)
        .order_by(item.c.home_branch_code, item.c.id)
    ).all()
    return [
        CopyRow(
            item_id=row.id,
            home_branch_code=row.home_branch_code,
            current_branch_code=row.current_branch_code,
            status=str(row.status),
            due_at=row.due_at,
            to_branch_code=row.to_branch_code,
        )
        for row in rows
    ]
