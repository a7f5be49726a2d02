"""The collection balancing advice outside the warehouse: give it for a date, write the
moves file `bibbla simulate --collection-moves` reads, and check the advice's expected
saving of hold waits against a rerun of the simulation (docs/metrics.md, "Collection
balancing advice").

Each is a function taking paths and dates, so a scenario run can call them from Python:

    give_advice(settings, as_of)                        # rebuild the advice for a date
    export_advice(warehouse, moves_csv, top=None)      # the moves file
    check_advice(baseline, rerun, moves_csv, moves_on) # predicted vs simulated
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from bibbla.config import Settings
from warehouse.build import (
    UNIT_TESTS_EXCLUDED,
    Log,
    WarehouseBuildError,
    log_to_stderr,
    run_dbt,
)

ADVICE_MODELS = (
    "int_collection_idle_copies",
    "int_collection_hold_demand",
    "mart_collection_advice",
)
# The moves file: what `bibbla simulate --collection-moves` needs first, then what the
# advice expects of each move (read back by check_advice).
MOVES_COLUMNS = (
    "title_id",
    "from_branch_code",
    "to_branch_code",
    "copies",
    "advice_rank",
    "expected_wait_days_saved",
    "expected_transports_saved",
)


class AdviceError(WarehouseBuildError):
    """The advice cannot be given, written or checked; the message says why."""


def give_advice(settings: Settings, as_of: date, *, log: Log = log_to_stderr) -> None:
    """Rebuild the advice models in the settings' warehouse for the advice date `as_of`
    (dbt var advice_as_of): the demand of the 12 months up to it, the copies idle on it."""
    run_dbt(
        [
            "build",
            "--select",
            *ADVICE_MODELS,
            *UNIT_TESTS_EXCLUDED,
            "--vars",
            f"{{advice_as_of: '{as_of.isoformat()}'}}",
        ],
        settings,
        log=log,
    )


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.is_file():
        raise AdviceError(f"no warehouse at {warehouse}; build it first (bibbla warehouse build)")
    return duckdb.connect(str(warehouse), read_only=True)


def export_advice(warehouse: Path, moves_file: Path, top: int | None = None) -> int:
    """Write the advice's moves (best first; the `top` best only, if given) to moves_file
    as CSV with MOVES_COLUMNS; returns the number of moves written."""
    if top is not None and top < 1:
        raise AdviceError("top must be at least 1")
    with _connect(warehouse) as connection:
        try:
            rows = connection.execute(
                f"select {', '.join(MOVES_COLUMNS)} from main.mart_collection_advice "
                "order by advice_rank" + (f" limit {int(top)}" if top else "")
            ).fetchall()
        except duckdb.CatalogException:
            raise AdviceError(
                f"{warehouse} has no mart_collection_advice; build the warehouse first"
            ) from None
    moves_file.parent.mkdir(parents=True, exist_ok=True)
    with moves_file.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MOVES_COLUMNS)
        writer.writerows(rows)
    return len(rows)


@dataclass(frozen=True)
class AdviceCheck:
    """The advice's expected saving of hold waits against the simulated one, on the moved
    titles, for holds placed from the day of the moves to the end of the comparison."""

    moves_on: date
    until: date
    moves: int
    copies: int
    copies_moved: int  # copies the rerun moved (item_rehomed): fewer when some were in use
    titles: int
    baseline_holds: int
    rerun_holds: int
    baseline_wait_days: float
    rerun_wait_days: float
    predicted_wait_days_saved: float
    simulated_wait_days_saved: float
    ratio: float | None  # simulated / predicted
    baseline_hold_transports: int
    rerun_hold_transports: int
    predicted_transports_saved: float
    # The control: the same figures for the titles not moved, which differ between the runs
    # only because a rerun's days unfold differently once anything changed (the noise).
    control_baseline_holds: int
    control_baseline_wait_days: float
    control_rerun_wait_days: float

    @property
    def control_change_per_hold(self) -> float | None:
        """The control's wait days saved per baseline hold (positive: the rerun waited less)."""
        if not self.control_baseline_holds:
            return None
        return (
            self.control_baseline_wait_days - self.control_rerun_wait_days
        ) / self.control_baseline_holds

    def to_json(self) -> dict:
        values = asdict(self) | {"control_change_per_hold": self.control_change_per_hold}
        values["moves_on"], values["until"] = self.moves_on.isoformat(), self.until.isoformat()
        return values

    def lines(self) -> list[str]:
        ratio = "undefined (nothing predicted)" if self.ratio is None else f"{self.ratio:.2f}"
        return [
            f"moves on {self.moves_on}: {self.moves} moves of {self.copies} copies of "
            f"{self.titles} titles ({self.copies_moved} copies moved in the rerun); holds on "
            f"those titles placed {self.moves_on} to {self.until}",
            f"hold wait days (ready holds): baseline {self.baseline_wait_days:.1f} over "
            f"{self.baseline_holds} holds, rerun {self.rerun_wait_days:.1f} over "
            f"{self.rerun_holds}",
            f"wait days saved: predicted {self.predicted_wait_days_saved:.1f}, simulated "
            f"{self.simulated_wait_days_saved:.1f}; ratio simulated/predicted {ratio}",
            f"hold transports: baseline {self.baseline_hold_transports}, rerun "
            f"{self.rerun_hold_transports}; predicted saving "
            f"{self.predicted_transports_saved:.1f}",
            f"control (titles not moved): wait days baseline {self.control_baseline_wait_days:.1f}"
            f" over {self.control_baseline_holds} holds, rerun {self.control_rerun_wait_days:.1f}"
            + (
                ""
                if self.control_change_per_hold is None
                else f"; {self.control_change_per_hold:+.3f} days saved a hold by chance alone"
            ),
        ]


def read_advised_moves(moves_file: Path) -> list[dict]:
    try:
        with moves_file.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in MOVES_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise AdviceError(
                    f"{moves_file} lacks the column(s) {', '.join(missing)}; write it with "
                    "bibbla warehouse advice-export"
                )
            return list(reader)
    except OSError as error:
        raise AdviceError(f"cannot read {moves_file}: {error.strerror}") from None


def _holds_on(
    connection, titles: list[int], first: date, last: date, others: bool = False
) -> tuple[int, float, int]:
    """Ready holds placed first..last on the titles (or, with others, on every other
    title): their number, their wait days, and their hold transports."""
    belongs = "not in" if others else "in"
    holds, wait = connection.execute(
        "select count(*), coalesce(sum(wait_days), 0) from main.fct_holds "
        "where became_ready and placed_date between ? and ? "
        f"and title_id {belongs} (select unnest(?::bigint[]))",
        [first, last, titles],
    ).fetchone()
    (transports,) = connection.execute(
        "select count(*) from main.fct_transports t join main.fct_holds h using (hold_id) "
        "where t.transport_reason = 'hold' and h.placed_date between ? and ? "
        f"and h.title_id {belongs} (select unnest(?::bigint[]))",
        [first, last, titles],
    ).fetchone()
    return int(holds), float(wait), int(transports)


def _last_event_date(connection) -> date:
    (last,) = connection.execute(
        "select last_event_date from intermediate.int_data_provenance"
    ).fetchone()
    return last


def check_advice(
    baseline: Path, rerun: Path, moves_file: Path, moves_on: date, until: date | None = None
) -> AdviceCheck:
    """Compare the hold waits on the moved titles, baseline minus rerun (same seed, the
    moves made on moves_on in the rerun), for holds placed from moves_on to `until` (else
    the last day both runs have), with the advice's expected saving over the same days:
    its yearly expected_wait_days_saved × days / 365."""
    advised = read_advised_moves(moves_file)
    if not advised:
        raise AdviceError(f"{moves_file} holds no moves")
    titles = sorted({int(move["title_id"]) for move in advised})
    with _connect(baseline) as base, _connect(rerun) as other:
        end = min(_last_event_date(base), _last_event_date(other))
        last = min(until, end) if until else end
        if last < moves_on:
            raise AdviceError(f"the runs end on {end}, before the moves on {moves_on}")
        base_holds, base_wait, base_transports = _holds_on(base, titles, moves_on, last)
        rerun_holds, rerun_wait, rerun_transports = _holds_on(other, titles, moves_on, last)
        control_holds, control_base, _ = _holds_on(base, titles, moves_on, last, others=True)
        _, control_rerun, _ = _holds_on(other, titles, moves_on, last, others=True)
        (copies_moved,) = other.execute(
            "select count(*) from intermediate.int_item_rehomings"
        ).fetchone()
    share_of_year = ((last - moves_on) + timedelta(days=1)).days / 365
    predicted = sum(float(m["expected_wait_days_saved"]) for m in advised) * share_of_year
    predicted_transports = (
        sum(float(m["expected_transports_saved"]) for m in advised) * share_of_year
    )
    simulated = base_wait - rerun_wait
    return AdviceCheck(
        moves_on=moves_on,
        until=last,
        moves=len(advised),
        copies=sum(int(m["copies"]) for m in advised),
        copies_moved=int(copies_moved),
        titles=len(titles),
        baseline_holds=base_holds,
        rerun_holds=rerun_holds,
        baseline_wait_days=base_wait,
        rerun_wait_days=rerun_wait,
        predicted_wait_days_saved=predicted,
        simulated_wait_days_saved=simulated,
        ratio=simulated / predicted if predicted > 0 else None,
        baseline_hold_transports=base_transports,
        rerun_hold_transports=rerun_transports,
        predicted_transports_saved=predicted_transports,
        control_baseline_holds=control_holds,
        control_baseline_wait_days=control_base,
        control_rerun_wait_days=control_rerun,
    )
