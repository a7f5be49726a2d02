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
    total: int
    hits: list[Hit]
    # facet name -> [(value, number of matching titles)], most titles first
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    available_now: int = 0  # matching titles with a copy on the shelf

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


class CatalogueSearch:
    """Full-text search of the catalogue in one read-only session."""

    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def search(self, query: SearchQuery) -> SearchPage:
        terms = query.terms()
        if not terms:
            return SearchPage(query, 0, [])
        matched, parameters = self._matches(terms)
        filtered, parameters = self._filtered(matched, query, parameters)
        total = self._scalar(f"WITH m AS ({filtered}) SELECT count(*) FROM m", parameters)
        page = SearchPage(query, total, [])
        if total == 0:
            return page
        offset = (max(query.page, 1) - 1) * PAGE_SIZE
        rows = self.session.execute(
            text(
                f"""
                WITH m AS ({filtered})
                SELECT t.id, t.title, t.author, t.year, t.media_type, t.language,
                       t.audience, m.score
                FROM m JOIN title AS t ON t.id = m.id
                ORDER BY m.score DESC, t.id
                LIMIT {PAGE_SIZE} OFFSET {int(offset)}
                """
            ),
            parameters,
        ).all()
        copies = self._copies([row.id for row in rows])
        page.hits = [
            Hit(
                title_id=row.id,
                title=row.title,
                author=row.author,
                year=row.year,
                media_type=str(row.media_type),
                language=row.language,
                audience=str(row.audience),
                copies=copies.get(row.id, (0, 0))[0],
                available=copies.get(row.id, (0, 0))[1],
            )
            for row in rows
        ]
        page.facets = self._facets(filtered, parameters)
        page.available_now = self._scalar(
            f"""
            WITH m AS ({filtered})
            SELECT count(*) FROM m WHERE EXISTS (
                SELECT 1 FROM item AS i
                WHERE i.title_id = m.id AND i.status = 'available'
                {"AND i.current_branch_code = :library" if query.library else ""})
            """,
            {**parameters, "library": query.library},
        )
        return page

    # -- the parts of the query

    def _matches(self, terms: list[str]) -> tuple[str, dict]:
        """SQL of (id, score) for every title matching all terms (a word of two letters or
        more also matches as a prefix), and its parameters."""
        if self.dialect == "sqlite":
            # Each term quoted (so no word is FTS5 syntax), words of 2+ letters as prefixes.
            expression = " ".join(
                '"' + term.replace('"', '""') + '"' + ("*" if len(term) > 1 else "")
                for term in terms
            )
            return (
                "SELECT rowid AS id, -rank AS score FROM title_search "
                "WHERE title_search MATCH :match",
                {"match": expression},
            )
        # Terms are letters and digits only (_WORD), so they cannot be tsquery syntax.
        expression = " & ".join(term + (":*" if len(term) > 1 else "") for term in terms)
        return (
            "SELECT s.title_id AS id, ts_rank(s.document, q.query) AS score "
            "FROM title_search AS s, to_tsquery('swedish', :match) AS q(query) "
            "WHERE s.document @@ q.query",
            {"match": expression},
        )

    def _filtered(self, matched: str, query: SearchQuery, parameters: dict) -> tuple[str, dict]:
        conditions, values = [], dict(parameters)
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
        if query.available_now and not query.library:
            conditions.append(
                "EXISTS (SELECT 1 FROM item AS i WHERE i.title_id = t.id "
                "AND i.status = 'available')"
            )
        if not conditions:
            return matched, values
        return (
            f"SELECT mm.id, mm.score FROM ({matched}) AS mm JOIN title AS t ON t.id = mm.id "
            f"WHERE {' AND '.join(conditions)}",
            values,
        )

    def _facets(self, filtered: str, parameters: dict) -> dict[str, list[tuple[str, int]]]:
        counts: dict[str, dict[str, int]] = {"media_type": {}, "language": {}, "audience": {}}
        for row in self.session.execute(
            text(
                f"""
                WITH m AS ({filtered})
                SELECT t.media_type, t.language, t.audience, count(*) AS titles
                FROM m JOIN title AS t ON t.id = m.id
                GROUP BY t.media_type, t.language, t.audience
                """
            ),
            parameters,
        ):
            for name in counts:
                value = str(getattr(row, name))
                counts[name][value] = counts[name].get(value, 0) + row.titles
        libraries = self.session.execute(
            text(
                f"""
                WITH m AS ({filtered})
                SELECT i.home_branch_code AS library, count(DISTINCT i.title_id) AS titles
                FROM m JOIN item AS i ON i.title_id = m.id
                WHERE i.status IN {_HELD}
                GROUP BY i.home_branch_code
                """
            ),
            parameters,
        ).all()
        counts["library"] = {row.library: row.titles for row in libraries}
        return {
            name: sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))
            for name, values in counts.items()
        }

    def _copies(self, title_ids: list[int]) -> dict[int, tuple[int, int]]:
        """(copies, copies on the shelf) of each title."""
        if not title_ids:
            return {}
        ids = ", ".join(str(int(i)) for i in title_ids)
        rows = self.session.execute(
            text(
                f"""
                SELECT title_id, count(*) AS copies,
                       sum(CASE WHEN status = 'available' THEN 1 ELSE 0 END) AS available
                FROM item WHERE title_id IN ({ids}) AND status IN {_HELD}
                GROUP BY title_id
                """
            )
        ).all()
        return {row.title_id: (row.copies, int(row.available or 0)) for row in rows}

    def _scalar(self, sql: str, parameters: dict) -> int:
        return int(self.session.execute(text(sql), parameters).scalar_one() or 0)


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
