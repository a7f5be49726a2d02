"""Collection-balancing moves made during a simulation: the warehouse's advice
(mart_collection_advice, exported by `bibbla warehouse advice-export`) read from a CSV file
and carried out on one simulated day through the lending core's own use case
(services.move_copy), so that the advice's predicted effect can be checked against a rerun
of the same seed (docs/metrics.md, "Collection balancing advice")."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

from operational.domain import errors

# The columns of the CSV file, in the order advice-export writes them (more are allowed).
COLUMNS = ("title_id", "from_branch_code", "to_branch_code", "copies")


@dataclass(frozen=True)
class CollectionMove:
    """Move `copies` copies of a title standing on the shelf at one branch to another."""

    title_id: int
    from_branch_code: str
    to_branch_code: str
    copies: int

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class MovesDone:
    """What a day's moves came to: copies asked for, moved, and not found on the shelf
    (on loan, gone, or refused by the rules) at the time."""

    asked: int = 0
    moved: int = 0
    missing: int = 0


def read_moves(path: Path) -> list[CollectionMove]:
    """The moves in a CSV file with the columns COLUMNS; a bad file or row is an error that
    names the line (InvalidRequest), never skipped."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise errors.InvalidRequest(
                    f"{path}: the moves file lacks the column(s) {', '.join(missing)} "
                    f"(expected {', '.join(COLUMNS)})",
                    field="collection_moves",
                )
            return [_move(path, line, row) for line, row in enumerate(reader, start=2)]
    except OSError as error:
        raise errors.InvalidRequest(
            f"cannot read the moves file {path}: {error.strerror}", field="collection_moves"
        ) from None


def _move(path: Path, line: int, row: dict) -> CollectionMove:
    where = f"{path}, line {line}"
    try:
        title_id, copies = int(row["title_id"]), int(row["copies"])
    except (TypeError, ValueError):
        raise errors.InvalidRequest(
            f"{where}: title_id and copies must be whole numbers, not "
            f"{row['title_id']!r} and {row['copies']!r}",
            field="collection_moves",
        ) from None
    source, target = (row["from_branch_code"] or "").strip(), (row["to_branch_code"] or "").strip()
    if copies < 1:
        raise errors.InvalidRequest(f"{where}: copies must be at least 1", field="collection_moves")
    if not source or not target or source == target:
        raise errors.InvalidRequest(
            f"{where}: a move needs two different branches, not {source!r} → {target!r}",
            field="collection_moves",
        )
    return CollectionMove(title_id, source, target, copies)


def copies_to_move(items, move: CollectionMove) -> list:
    """The copies a move takes: those of the title on the shelf at the source branch, its
    own copies first (a copy away from home may belong elsewhere), then by id."""
    on_shelf = [
        item
        for item in items
        if item.current_branch_code == move.from_branch_code and item.status == "available"
    ]
    on_shelf.sort(key=lambda item: (item.home_branch_code != move.from_branch_code, item.id))
    return on_shelf[: move.copies]
