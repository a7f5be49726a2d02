"""Calibration targets and population figures for the simulator, read from the project's
reference files (`simulation_calibration.csv`, `population.csv`, `population_by_age.csv`)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

AGE_BANDS = ("0-15", "16-24", "25-44", "45-64", "65+")
CHILD_BAND = "0-15"


@dataclass(frozen=True)
class Target:
    """What the simulator aims at for one municipality (per inhabitant, per year)."""

    municipality_code: str
    municipality_name: str
    loans_per_capita: float
    active_borrower_share: float
    stock_per_capita: float
    registered_share: float
    max_copies_per_title: int
    source: str
    # "start": simulated from the first day (a member, or one of the five before it
    # joins); "join": outside the consortium, entering the lending core (cardholders,
    # libraries, stock) only on its join date in a scenario's membership timeline.
    enters: str = "start"


class Population:
    """SCB population on 31 December by municipality and year (and by age band).

    A year that SCB figures here do not cover takes the nearest earlier year's figure
    (carried forward); `year_used` says which year stood in.
    """

    def __init__(self, totals: dict[tuple[str, int], int], by_age: dict[tuple[str, int], dict]):
        self.totals = totals
        self.by_age = by_age

    @classmethod
    def load(cls, reference_dir: Path) -> Population:
        totals: dict[tuple[str, int], int] = {}
        with (reference_dir / "population.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                totals[(row["municipality_code"], int(row["year"]))] = int(row["population_dec31"])
        by_age: dict[tuple[str, int], dict[str, int]] = {}
        with (reference_dir / "population_by_age.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                key = (row["municipality_code"], int(row["year"]))
                by_age.setdefault(key, {})[row["age_band"]] = int(row["population_dec31"])
        return cls(totals, by_age)

    def year_used(self, municipality_code: str, year: int, table: dict | None = None) -> int:
        table = self.totals if table is None else table
        years = [y for (code, y) in table if code == municipality_code and y <= year]
        if not years:
            raise KeyError(f"no population figure for {municipality_code} in or before {year}")
        return max(years)

    def total(self, municipality_code: str, year: int) -> int:
        return self.totals[(municipality_code, self.year_used(municipality_code, year))]

    def age_bands(self, municipality_code: str, year: int) -> dict[str, int]:
        used = self.year_used(municipality_code, year, self.by_age)
        return self.by_age[(municipality_code, used)]


ENTERS = ("start", "join")


def _enters(reference_dir: Path, row: dict[str, str]) -> str:
    enters = (row.get("enters") or "start").strip()
    if enters not in ENTERS:
        raise ValueError(
            f"{reference_dir / 'simulation_calibration.csv'}: municipality "
            f"{row['municipality_code']}: enters must be start or join, not {enters!r}"
        )
    return enters


def load_targets(reference_dir: Path) -> dict[str, Target]:
    targets = {}
    with (reference_dir / "simulation_calibration.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            targets[row["municipality_code"]] = Target(
                municipality_code=row["municipality_code"],
                municipality_name=row["municipality_name"],
                loans_per_capita=float(row["loans_per_capita"]),
                active_borrower_share=float(row["active_borrower_share"]),
                stock_per_capita=float(row["stock_per_capita"]),
                registered_share=float(row["registered_share"]),
                max_copies_per_title=int(row["max_copies_per_title"]),
                source=row["source"],
                enters=_enters(reference_dir, row),
            )
    return targets
