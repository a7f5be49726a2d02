"""A large synthetic catalogue for the search benchmark, and the queries people type.

The simulator's catalogue (operational/simulation/catalogue.py) builds titles from a dozen
adjectives and nouns, so every word in it is in a good share of all titles: no catalogue
looks like that, and a search benchmark on it would measure only broad queries. Here words
follow a Zipf law over a vocabulary of tens of thousands of Swedish-looking words
(stems, inflections, compounds), authors are Faker's Swedish names, and queries are drawn
as a search log would have them: mostly words of a known title or an author's name, some
single common words (broad queries with thousands of hits), some word beginnings and
ISBNs.

Rows are written with one executemany per table straight through SQLAlchemy Core, so the
search index is filled by its triggers exactly as for any other writer.
"""

from __future__ import annotations

import functools
import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from operational.adapters import tables

_WORD_LIST = """
sjö hus vinter skog brev bruk gruv kyrk sommar väg gård ö stad eld natt res dröm hjärt
mor far syster bror barn kvinn man flick pojk hund katt häst fågel fisk vatten berg dal
älv bäck äng myr sten järn silver guld ljus mörk tid år dag morgon kväll höst vår snö
regn vind storm hav strand båt skepp tåg bil buss väg bro torg skol bok ord sång musik
dans lek krig fred land folk kung drottning prins riddare häx troll drak ängel död liv
kärlek sorg glädje hopp minne hemlig spår mord brott polis doktor präst lärare bonde
smed fiske jakt mat bröd kaffe trädgård blom ros lilj ek björk gran tall löv rot frö
stjärn måne sol himmel jord värld rymd robot dator kod spel boll match lag seger resa
karta kompass fyr ankare segel ström våg is frost glöd aska rök dimm skugg spegel dörr
fönster nyckel lås trappa källare vind tak vägg golv säng bord stol lampa klock kista
"""
_STEMS = _WORD_LIST.split()
_ENDINGS = ["", "en", "et", "ar", "arna", "ens", "s", "na", "er", "erna", "or", "orna"]
_FUNCTION_WORDS = [
    "och",
    "i",
    "på",
    "om",
    "en",
    "ett",
    "det",
    "den",
    "till",
    "med",
    "för",
    "av",
    "de",
    "som",
    "under",
    "över",
    "vid",
    "mot",
]
_ADJECTIVES = [
    "röda",
    "tysta",
    "sista",
    "gamla",
    "långa",
    "mörka",
    "blå",
    "hemliga",
    "vita",
    "stora",
    "lilla",
    "gröna",
    "kalla",
    "varma",
    "glömda",
    "vilda",
    "nya",
    "första",
    "okända",
    "förlorade",
]
_MEDIA = [
    ("book", 0.72),
    ("quick_loan", 0.06),
    ("audiobook", 0.08),
    ("film", 0.06),
    ("magazine", 0.08),
]
_LANGUAGES = [
    ("sv", 0.88),
    ("en", 0.05),
    ("ar", 0.02),
    ("so", 0.01),
    ("fi", 0.015),
    ("fa", 0.015),
    ("ti", 0.01),
]
LENDING_BRANCHES = [
    "NORA",
    "NORA-GYT",
    "LIND",
    "LIND-FEL",
    "LIND-FRO",
    "LIND-STO",
    "LIND-BUSS",
    "HALL",
    "HALL-GRY",
    "KOPP",
    "ASK",
    "ASK-OLS",
    "HBG",
    "HBG-PAL",
    "HBG-HJO",
    "KUM",
    "KUM-HAL",
    "LAXA",
    "LAXA-HAS",
    "LAXA-ROF",
    "LAXA-TIV",
    "LAXA-FIN",
    "LEKE",
]
ZIPF = 0.95
DEFAULT_SEED = 7


def _pick(rng: random.Random, choices: list[tuple[str, float]]) -> str:
    u, total = rng.random(), 0.0
    for value, share in choices:
        total += share
        if u < total:
            return value
    return choices[-1][0]


def vocabulary(rng: random.Random) -> list[str]:
    """Content words, most frequent first: inflected stems and two-stem compounds."""
    words = {stem + ending for stem in _STEMS for ending in _ENDINGS}
    for a, b in itertools.product(_STEMS, repeat=2):
        if a != b:
            words.add(a + b + rng.choice(["", "en", "et", "ar"]))
    ordered = sorted(words)
    rng.shuffle(ordered)
    return ordered


class ZipfSampler:
    def __init__(self, size: int, exponent: float = ZIPF):
        weights = [1.0 / (rank**exponent) for rank in range(1, size + 1)]
        self.cumulative = list(itertools.accumulate(weights))

    def rank(self, rng: random.Random) -> int:
        import bisect

        return bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1])


@dataclass
class Catalogue:
    titles: int
    items: int
    words: list[str]
    authors: list[str]
    samples: list[tuple[str, str, str | None]]  # (title, author, isbn) of some titles


def _authors(rng: random.Random, count: int) -> list[str]:
    return list(_faker_names(rng.randrange(2**32), count))


@functools.cache
def _faker_names(seed: int, count: int) -> tuple[str, ...]:
    # cached: Faker takes seconds for 20 000 names, which would swamp a small write sample
    from faker import Faker

    faker = Faker(["sv_SE", "en_GB"])
    faker.seed_instance(seed)
    return tuple(faker.name() for _ in range(count))


def build(engine: Engine, size: int, seed: int = DEFAULT_SEED, batch: int = 50_000) -> Catalogue:
    """Write `size` titles and their copies (0-5 each, in the member libraries, most on the
    shelf, some lent or on their way) into an initialised lending-core database."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    sampler = ZipfSampler(len(words))
    authors = _authors(rng, 20_000)
    author_sampler = ZipfSampler(len(authors), 0.8)
    added = datetime(2024, 1, 1, tzinfo=UTC)
    samples, item_count, next_item = [], 0, 1
    title_rows, item_rows = [], []
    collection = {"film": "film", "magazine": "magazines"}

    def flush(connection) -> None:
        if title_rows:
            connection.execute(tables.title.insert(), title_rows)
            title_rows.clear()
        if item_rows:
            connection.execute(tables.item.insert(), item_rows)
            item_rows.clear()

    with engine.begin() as connection:
        for title_id in range(1, size + 1):
            media = _pick(rng, _MEDIA)
            language = _pick(rng, _LANGUAGES)
            audience = "child" if rng.random() < 0.3 else "adult"
            count = rng.choice([1, 2, 2, 3, 3, 4])
            parts = [words[sampler.rank(rng)] for _ in range(count)]
            if rng.random() < 0.5:
                parts.insert(0, rng.choice(_ADJECTIVES))
            if rng.random() < 0.4:
                parts.insert(rng.randrange(len(parts) + 1), rng.choice(_FUNCTION_WORDS))
            name = " ".join(parts).capitalize()
            author = authors[author_sampler.rank(rng)]
            isbn = None
            if media in ("book", "quick_loan", "audiobook"):
                number, group, check = rng.randrange(100000), rng.randrange(100), rng.randrange(10)
                isbn = f"978-91-{number:05d}-{group:02d}-{check}"
            code = collection.get(media) or (
                "children"
                if audience == "child"
                else "languages"
                if language != "sv"
                else rng.choice(["adult-fiction", "adult-nonfiction"])
            )
            title_rows.append(
                {
                    "id": title_id,
                    "isbn": isbn,
                    "title": name,
                    "author": author,
                    "year": 2025 - min(int(rng.expovariate(0.08)), 120),
                    "media_type": media,
                    "language": language,
                    "audience": audience,
                    "collection_code": code,
                    "added_at": added,
                }
            )
            if rng.random() < 0.002:
                samples.append((name, author, isbn))
            for _ in range(rng.choice([0, 1, 1, 1, 1, 2, 2, 3, 5])):
                branch = rng.choice(LENDING_BRANCHES)
                u = rng.random()
                status = "available" if u < 0.7 else "on_loan" if u < 0.95 else "in_transit"
                item_rows.append(
                    {
                        "id": next_item,
                        "barcode": f"S{next_item:09d}",
                        "title_id": title_id,
                        "home_branch_code": branch,
                        "current_branch_code": branch,
                        "status": status,
                        "added_at": added,
                    }
                )
                next_item += 1
                item_count += 1
            if len(title_rows) >= batch:
                flush(connection)
        flush(connection)
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "sqlite":
        # Statistics for the planner, as any long-lived database has; the full-text index
        # is left as its triggers built it (FTS5 merges its segments as it goes).
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    return Catalogue(size, item_count, words, authors, samples)


def queries(catalogue: Catalogue, count: int, seed: int = 11) -> list[str]:
    """Queries as a search log would have them (see the module's docstring)."""
    rng = random.Random(seed)
    sampler = ZipfSampler(len(catalogue.words))
    found = []
    for _ in range(count):
        title, author, isbn = rng.choice(catalogue.samples)
        u = rng.random()
        if u < 0.40:  # words of a title someone heard of
            words = [w for w in title.lower().split() if w not in _FUNCTION_WORDS]
            found.append(" ".join(rng.sample(words, min(2, len(words)))))
        elif u < 0.65:  # an author, whole or by surname
            found.append(author if rng.random() < 0.5 else author.split()[-1])
        elif u < 0.85:  # one word, as common as words are in titles: broad
            found.append(catalogue.words[sampler.rank(rng)])
        elif u < 0.95:  # the beginning of a word
            word = catalogue.words[sampler.rank(rng)]
            found.append(word[: max(3, len(word) // 2)])
        else:
            found.append(isbn or title)
    return found
