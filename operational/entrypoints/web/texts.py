"""What the visitors' web says, in Swedish: names of codes, dates, and why a request was
refused. The rules themselves speak English (domain errors); this is their translation."""

from __future__ import annotations

from datetime import date, datetime

from operational.clock import local_date
from operational.domain import errors
from operational.service_layer import visitors

MEDIA_TYPES = {
    "book": "Bok",
    "audiobook": "Ljudbok",
    "quick_loan": "Snabblån",
    "film": "Film",
    "magazine": "Tidskrift",
}
AUDIENCES = {"adult": "Vuxna", "child": "Barn och unga"}
LANGUAGES = {
    "sv": "Svenska",
    "en": "Engelska",
    "ar": "Arabiska",
    "so": "Somaliska",
    "fi": "Finska",
    "fa": "Persiska",
    "ti": "Tigrinska",
    "de": "Tyska",
    "fr": "Franska",
    "es": "Spanska",
}
BRANCH_KINDS = {
    "main": "Huvudbibliotek",
    "branch": "Filial",
    "bookbus": "Bokbuss",
    "staffless": "Meröppet bibliotek",
}
WEEKDAYS = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"]
MONTHS = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
]
FACET_NAMES = {
    "media_type": "Medietyp",
    "language": "Språk",
    "audience": "Målgrupp",
    "library": "Bibliotek",
}


def media_type(code: str) -> str:
    return MEDIA_TYPES.get(str(code), str(code))


def audience(code: str) -> str:
    return AUDIENCES.get(str(code), str(code))


def language(code: str) -> str:
    return LANGUAGES.get(str(code), str(code).upper())


def day(value: date | datetime | None) -> str:
    """A date as Swedes write it in running text: "3 december 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value)
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def iso_day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date(value)
    return value.isoformat()


def open_days(days: str) -> str:
    """ISO weekdays "123456" as "måndag–lördag"; gaps listed: "tisdag, onsdag, torsdag"."""
    numbers = sorted({int(d) for d in days if d.isdigit() and 1 <= int(d) <= 7})
    if not numbers:
        return "stängt"
    if len(numbers) == 7:
        return "alla dagar"
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 2:
        return f"{WEEKDAYS[numbers[0] - 1]}–{WEEKDAYS[numbers[-1] - 1]}"
    return ", ".join(WEEKDAYS[n - 1] for n in numbers)


def hours(value: float) -> str:
    whole = int(value)
    return str(whole) if whole == value else f"{value:.1f}".replace(".", ",")


# ------------------------------------------------------------------------------ refusals

RENEWAL_REFUSALS = {
    "others_waiting": "andra låntagare har reserverat den. Lämna tillbaka den senast "
    "på återlämningsdagen.",
    "renewal_limit": "den har redan förnyats så många gånger som låneregler tillåter.",
    "returned": "den är redan återlämnad.",
}


def renewal_refusal(error: errors.NotRenewable) -> str:
    return RENEWAL_REFUSALS.get(error.reason or "", "den kan inte förnyas just nu.")


def refusal(error: Exception) -> str:
    """Why a visitor's request was refused, in Swedish."""
    if isinstance(error, errors.NotRenewable):
        return "Lånet kunde inte förnyas: " + renewal_refusal(error)
    if isinstance(error, visitors.NothingToReserve):
        return (
            "Titeln kan inte reserveras åt dig än: inget exemplar finns på ett bibliotek "
            "som din kommun delar bibliotekskort med i dag."
        )
    if isinstance(error, errors.DuplicateHold):
        return "Du har redan en reservation på den här titeln."
    if isinstance(error, errors.NotPermitted):
        return (
            "Du kan inte hämta på det biblioteket: din kommun delar inte bibliotek med "
            "den kommunen i dag."
        )
    if isinstance(error, errors.HoldNotActive):
        return "Reservationen är redan avslutad."
    if isinstance(error, errors.NotFound):
        return "Det du valde finns inte (längre)."
    if isinstance(error, errors.InvalidRequest):
        return "Välj ett bibliotek att hämta på."
    return "Det gick inte just nu. Försök igen om en stund."
