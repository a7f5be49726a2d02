"""Full-text search of the catalogue in the database's own engine (FTS5 on SQLite, the
`swedish` tsvector on PostgreSQL): case folded but å, ä, ö kept as letters, title, author,
subject and ISBN, ranked, with facets and pages; and the index kept current in the same
transaction as the change, by the API's use cases and the simulator's bulk writer alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from operational.adapters import schema, tables
from operational.adapters.batch import BatchUnitOfWork, MemoryState
from operational.adapters.catalogue import PAGE_SIZE, SearchQuery
from operational.adapters.unit_of_work import SqlAlchemyUnitOfWork
from operational.clock import SimulatedClock
from operational.domain.model import Audience, MediaType
from operational.service_layer import services, visitors
from tests.conftest import REFERENCE_DIR


def found(engine, words: str, **facets) -> list[str]:
    page = visitors.search(
        SqlAlchemyUnitOfWork(engine, read_only=True), SearchQuery(words, **facets)
    )
    return [hit.title for hit in page.hits]


def test_case_is_folded_but_a_ring_a_umlaut_o_umlaut_are_letters(library):
    engine = library.engine
    assert found(engine, "RÖDA huset") == ["Det röda huset", "Det röda huset"]
    assert found(engine, "det Röda HUSET") == found(engine, "röda huset")
    assert found(engine, "roda huset") == []  # "roda" is not "röda"
    assert found(engine, "öst") == ["Öst om Eden"]
    assert found(engine, "ÖST") == ["Öst om Eden"]
    assert "Öst om Eden" not in found(engine, "ost")  # "ost" does not find "öst"
    assert found(engine, "ost") == ["Osten och råttan"]  # but "Osten" (a prefix) yes
    assert found(engine, "öberg") == ["Osten och råttan"]  # an author
    assert found(engine, "oberg") == []
    assert found(engine, "råttan") == ["Osten och råttan"]
    assert found(engine, "rattan") == []


def test_title_author_subject_and_isbn_are_searched(library):
    engine = library.engine
    assert found(engine, "Lagerlöf") == ["Det röda huset"]
    assert found(engine, "karin boye") == ["Kallocain"]
    assert found(engine, "kallo") == ["Kallocain"]  # a word's beginning
    assert found(engine, "978-91-00123-45-6") == ["Det röda huset"]
    assert found(engine, "9789100123456") == ["Det röda huset"]
    # the subject is the title's collection, e.g. "Barn och unga"
    assert found(engine, "barn unga") == ["Osten och råttan"]
    assert found(engine, "kallocain boye steinbeck") == []  # every word must match
    assert found(engine, "") == [] and found(engine, "  ,.- ") == []


def test_odd_input_is_words_not_syntax(library):
    for odd in ['"', "huset*", "NEAR(a b)", "a OR b", "röda AND", "x:* & !y", "'; drop", "-"]:
        found(library.engine, odd)  # no error from FTS5 or tsquery syntax


def test_a_title_word_ranks_above_an_author_word(engine, clock):
    uow = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    services.add_title(
        uow(), clock, "Om Astrid", "Lena Kallocainsson", MediaType.BOOK, Audience.ADULT
    )
    services.add_title(
        uow(), clock, "Astrids sommar", "Per Svensson", MediaType.BOOK, Audience.ADULT
    )
    services.add_title(uow(), clock, "Sommar", "Astrid Lindgren", MediaType.BOOK, Audience.ADULT)
    assert found(engine, "sommar")[0] in ("Sommar", "Astrids sommar")
    assert found(engine, "lindgren") == ["Sommar"]
    assert found(engine, "astrid")[-1] == "Sommar"  # only by its author


def test_facets_count_and_narrow(library):
    engine = library.engine
    page = visitors.search(SqlAlchemyUnitOfWork(engine, read_only=True), SearchQuery("huset"))
    assert page.total == 2
    assert dict(page.facets["media_type"]) == {"book": 1, "film": 1}
    assert dict(page.facets["language"]) == {"sv": 2}
    assert dict(page.facets["audience"]) == {"adult": 2}
    assert dict(page.facets["library"]) == {"NORA": 1, "LIND": 2}
    assert page.available_now == 2  # the book's Lindesberg copy, and the film
    assert found(engine, "huset", media_type="film") == ["Det röda huset"]
    assert sorted(h.media_type for h in page.hits if h.title == "Det röda huset") == [
        "book",
        "film",
    ]
    assert found(engine, "red", language="en") == ["The red house"]
    assert found(engine, "red", language="sv") == []
    assert found(engine, "red", library="KUM") == ["The red house"]
    assert found(engine, "red", library="NORA") == []
    # the Nora copy of Det röda huset is on loan: it belongs to Nora, but is not on the
    # shelf there; its Lindesberg copy is
    assert found(engine, "huset", library="NORA") == ["Det röda huset"]
    assert found(engine, "huset", library="NORA", available_now=True) == []
    assert len(found(engine, "huset", library="LIND", available_now=True)) == 2
    assert found(engine, "kallocain", available_now=True) == []  # both copies lent
    assert found(engine, "osten", audience="child") == ["Osten och råttan"]
    assert found(engine, "osten", audience="adult") == []


def test_pages_of_twenty_in_rank_order(engine, clock):
    uow = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    for number in range(45):
        services.add_title(
            uow(), clock, f"Sagan om draken {number}", "Anon", MediaType.BOOK, Audience.CHILD
        )
    reading = lambda: SqlAlchemyUnitOfWork(engine, read_only=True)  # noqa: E731
    pages = [visitors.search(reading(), SearchQuery("draken", page=n)) for n in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [45] * 4 and pages[0].pages == 3
    assert [len(p.hits) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 5, 0]
    ids = [hit.title_id for page in pages for hit in page.hits]
    assert len(set(ids)) == 45  # no title twice, none left out


def test_the_index_changes_in_the_same_transaction_as_the_title(engine, clock):
    uow = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    title = services.add_title(
        uow(), clock, "Fjärilsvägen", "Ulla Ulv", MediaType.BOOK, Audience.ADULT
    )
    assert found(engine, "fjärilsvägen") == ["Fjärilsvägen"]
    # a change rolled back leaves the index as it was
    with engine.connect() as c:
        c.execute(update(tables.title).where(tables.title.c.id == title.id).values(title="Myran"))
        c.rollback()
    assert found(engine, "myran") == [] and found(engine, "fjärilsvägen") == ["Fjärilsvägen"]
    # a committed change is found at once, the old words no longer
    with engine.begin() as c:
        c.execute(
            update(tables.title)
            .where(tables.title.c.id == title.id)
            .values(title="Myrstacken", author="Åke Ärlig")
        )
    assert found(engine, "myrstacken") == ["Myrstacken"]
    assert found(engine, "fjärilsvägen") == []
    assert found(engine, "ärlig") == ["Myrstacken"]
    # and a renamed collection re-indexes its titles' subject
    with engine.begin() as c:
        c.execute(
            update(tables.collection)
            .where(tables.collection.c.code == "adult-fiction")
            .values(name="Romaner och noveller")
        )
    assert found(engine, "noveller") == ["Myrstacken"]
    # reloading the reference data (same names) re-indexes nothing but restores the name
    schema.init(engine, REFERENCE_DIR)
    assert found(engine, "noveller") == []
    assert found(engine, "skönlitteratur myrstacken") == ["Myrstacken"]


def test_the_simulators_bulk_writer_keeps_the_index_current(engine):
    clock = SimulatedClock(datetime(2025, 6, 2, 8, tzinfo=UTC))
    batch = BatchUnitOfWork(MemoryState(engine))
    services.add_title(
        batch, clock, "Gruvan i Grängesberg", "Berit Bulk", MediaType.BOOK, Audience.ADULT
    )
    batch.flush()
    assert found(engine, "grängesberg") == ["Gruvan i Grängesberg"]


def test_create_all_and_drop_all_make_and_remove_the_index(engine, clock):
    schema.drop_all(engine)
    with engine.connect() as c:
        leftovers = c.execute(
            text("SELECT name FROM sqlite_master WHERE name LIKE 'title_search%'")
            if engine.dialect.name == "sqlite"
            else text(
                "SELECT relname FROM pg_class WHERE relname LIKE 'title_search%' "
                "UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'title_search%'"
            )
        ).all()
    assert leftovers == []
    tables.metadata.create_all(engine)
    with engine.begin() as c:
        c.execute(tables.collection.insert().values(code="film", name="Film", floats=True))
        c.execute(
            tables.title.insert().values(
                title="Vägen till Kumla",
                media_type="film",
                language="sv",
                audience="adult",
                collection_code="film",
                added_at=datetime.now(UTC),
            )
        )
    assert found(engine, "vägen") == ["Vägen till Kumla"]


def test_a_database_made_before_the_index_gets_it_filled_by_the_migration(engine, clock):
    from alembic import command

    uow = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    services.add_title(
        uow(), clock, "Bergslagens gruvor", "Gustav Gammal", MediaType.BOOK, Audience.ADULT
    )
    config = schema.alembic_config()
    with engine.begin() as c:
        config.attributes["connection"] = c
        command.downgrade(config, "0003")
    with engine.connect() as c:
        assert c.execute(select(tables.title.c.title)).scalars().all() == ["Bergslagens gruvor"]
    schema.upgrade(engine)
    assert found(engine, "gruvor") == ["Bergslagens gruvor"]


@pytest.mark.parametrize("words", ["huset", "kallocain"])
def test_search_results_say_how_many_copies_are_on_the_shelf(library, words):
    page = visitors.search(SqlAlchemyUnitOfWork(library.engine, read_only=True), SearchQuery(words))
    by_title = {(h.title, h.media_type): (h.copies, h.available) for h in page.hits}
    if words == "huset":
        assert by_title[("Det röda huset", "book")] == (2, 1)
    else:
        assert by_title[("Kallocain", "book")] == (2, 0)


def test_a_broad_query_ranks_and_counts_facets_in_a_window_of_the_newest(
    engine, clock, monkeypatch
):
    """The work of a query is bounded: past WINDOW matches, ranking and facet counts cover
    the WINDOW newest; past COUNT_LIMIT the total says "more than"."""
    from operational.adapters import catalogue

    monkeypatch.setattr(catalogue, "WINDOW", 6)
    monkeypatch.setattr(catalogue, "COUNT_LIMIT", 10)
    uow = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    ids = []
    for number in range(14):
        media = MediaType.FILM if number % 2 else MediaType.BOOK
        ids.append(
            services.add_title(uow(), clock, f"Skogen {number}", "Anon", media, Audience.ADULT).id
        )
    services.add_title(uow(), clock, "Skogen skogen skogen", "Anon", MediaType.BOOK,
                       Audience.ADULT)  # fmt: skip
    read = lambda query: visitors.search(  # noqa: E731
        SqlAlchemyUnitOfWork(engine, read_only=True), query
    )
    broad = read(SearchQuery("skogen"))
    assert not broad.exhaustive and broad.more and broad.total == 10
    assert sum(count for _value, count in broad.facets["media_type"]) == 6  # the window
    assert broad.pages == 1
    newest = {hit.title_id for hit in broad.hits}
    assert newest == {*ids[-5:], ids[-1] + 1}
    assert broad.hits[0].title == "Skogen skogen skogen"  # most relevant of the window
    films = read(SearchQuery("skogen", media_type="film"))
    assert films.total == 7 and not films.more and not films.exhaustive
    assert {hit.media_type for hit in films.hits} == {"film"}
    exact = read(SearchQuery("skogen 3"))
    assert exact.exhaustive and exact.total == 1
