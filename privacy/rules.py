"""The privacy rules, written down once: which columns are personal data (each with the
reason it is on the list), what a pseudonym looks like, and the small-number rule.

Every guard reads them from here: ingestion's column selection (ingestion/snapshots.py,
ingestion/events.py), the landing and mart checks (orchestration/checks/), the privacy
scan (privacy/scan.py) and the tests. docs/domain.md ("Personal data") and
docs/metrics.md ("Small numbers") say what the rules are for.

The list is the union of the three that had grown apart (the landing check's 16 names,
the privacy scan's 14 and a test's 5): a name is on it when a column so named would hold
a person's identity or credential wherever it stands. The lending core itself uses
`patron_id`, `card_number`, `name`, `email`, `phone`, `birth_date` and `pin_hash`; the
other names are how the same data is commonly called, so that a column added under another
name is still caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from bibbla.config import PROJECT_ROOT


class Handling(Enum):
    """What ingestion does with a personal column of the lending core."""

    NEVER_READ = "never read"  # not even selected from the lending core
    PSEUDONYMISED = "pseudonymised"  # read, turned into patron_key, dropped before landing
    GENERALISED = "generalised"  # read, turned into age_band, dropped before landing


@dataclass(frozen=True)
class PersonalColumn:
    name: str
    reason: str
    handling: Handling = Handling.NEVER_READ


PERSONAL_COLUMNS: tuple[PersonalColumn, ...] = (
    PersonalColumn(
        "patron_id",
        "the lending core's key of a person: one join from their name and card",
        Handling.PSEUDONYMISED,
    ),
    PersonalColumn("patron_name", "a person's name"),
    PersonalColumn("name_of_patron", "a person's name"),
    PersonalColumn("full_name", "a person's name"),
    PersonalColumn("first_name", "part of a person's name"),
    PersonalColumn("last_name", "part of a person's name"),
    PersonalColumn("email", "a person's contact, unique to them"),
    PersonalColumn("e_mail", "a person's contact, unique to them"),
    PersonalColumn("phone", "a person's contact, unique to them"),
    PersonalColumn("phone_number", "a person's contact, unique to them"),
    PersonalColumn("address", "where a person lives"),
    PersonalColumn("street_address", "where a person lives"),
    PersonalColumn("card_number", "the library card: identifies its holder at every desk"),
    PersonalColumn(
        "birth_date",
        "with the home municipality it narrows a small town's patrons to a few people",
        Handling.GENERALISED,
    ),
    PersonalColumn("date_of_birth", "as birth_date", Handling.GENERALISED),
    PersonalColumn("personal_number", "the Swedish national identity number"),
    PersonalColumn("personnummer", "the Swedish national identity number"),
    PersonalColumn("pin", "the visitors' web credential"),
    PersonalColumn("pin_hash", "the visitors' web credential (operational patron_pin)"),
)

PERSONAL_COLUMN_NAMES: frozenset[str] = frozenset(column.name for column in PERSONAL_COLUMNS)

# A plain `name` is a branch's, a municipality's or a collection's; only in the lending
# core's patron table, and in an event's `details` (which belong to one patron's action),
# is it a person's.
PATRON_NAME = "name"
PERSONAL_DETAIL_KEYS: tuple[str, ...] = (PATRON_NAME, *sorted(PERSONAL_COLUMN_NAMES))

# A net for personal columns under names not on the list (matched against column names and
# detail keys by the landing and mart checks).
PERSONAL_COLUMN_PATTERN = (
    r"(?:e_?mail|phone|birth|card_?n|personnummer|personal_?number|address|ssn|"
    r"first_?name|last_?name|full_?name|surname)"
)

# What ingestion lands instead of a patron id: HMAC-SHA256 in hex (ingestion/pseudonyms.py).
PSEUDONYM_PATTERN = r"^[0-9a-f]{64}$"


def is_personal(column: str) -> bool:
    """Whether a column so named holds personal data wherever it stands."""
    return column.lower() in PERSONAL_COLUMN_NAMES


def handling(column: str) -> Handling | None:
    """How ingestion treats a personal column (None: the column is not personal)."""
    for personal in PERSONAL_COLUMNS:
        if personal.name == column.lower():
            return personal.handling
    return None


# ---------------------------------------------------------------- small numbers

# The small-number rule lives where it is applied, as dbt vars in dbt_project.yml:
# `suppression_threshold` (a published cell resting on 1 to threshold-1 people is null) and
# `people_counts` (the published counts of the per-municipality equity marts that rest on
# people, each with the unsuppressed column of int_equity_municipality_period it comes
# from). The checks and tests read the same two vars through these functions.
DBT_PROJECT_FILE = PROJECT_ROOT / "dbt_project" / "dbt_project.yml"
THRESHOLD_VAR = "suppression_threshold"
PEOPLE_COUNTS_VAR = "people_counts"


@lru_cache(maxsize=1)
def _dbt_vars() -> dict:
    import yaml

    with DBT_PROJECT_FILE.open(encoding="utf-8") as file:
        return yaml.safe_load(file)["vars"]


def suppression_threshold() -> int:
    """The fewest people a published cell may rest on (docs/metrics.md, "Small numbers")."""
    return int(_dbt_vars()[THRESHOLD_VAR])


def small_counts() -> list[int]:
    """The counts a published cell must never be: 1 to threshold-1 (0 points at nobody)."""
    return list(range(1, suppression_threshold()))


def people_counts() -> dict[str, str]:
    """Every published count of people (or of loans and holds resting on people) in the
    per-municipality equity marts, by mart column, with its unsuppressed source column."""
    return dict(_dbt_vars()[PEOPLE_COUNTS_VAR])
