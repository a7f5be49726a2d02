"""Durable file writes: a file appears under its final name complete or not at all.

Every landed file is written to a hidden temporary name in its final folder, flushed to
disk, renamed into place (atomic within one file system) and its folder flushed, so that a
reader never sees half a file and a crash leaves at most a `.tmp` file that the next run
removes. Readers glob `*.parquet`, which never matches a temporary name. All files of one
batch are flushed before any of them is renamed, and the renames are flushed before the
watermark that counts them is committed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from ingestion import faults

TEMP_SUFFIX = ".tmp"
PARQUET_COMPRESSION = "zstd"


def temporary_name(final: Path) -> Path:
    """The hidden name a file is written under before it is renamed to `final`."""
    return final.with_name(f".{final.name}.{os.getpid()}{TEMP_SUFFIX}")


def fsync_directory(folder: Path) -> None:
    """Flush a folder's entries (a rename is durable only once its folder is flushed)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def make_durable(paths: Iterable[Path]) -> None:
    """Flush files and folders to disk, one fsync each. (A batch has a file per local
    date it spans, a few dozen at most, so per-file fsync costs little and, unlike
    syncfs, does not also flush whatever else is dirty on the same file system.)"""
    for path in paths:
        if path.is_dir():
            fsync_directory(path)
        else:
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)


def write_parquet_temporary(frame: pl.DataFrame, final: Path) -> Path:
    """Write `frame` under the temporary name for `final`; returns that name. Not yet
    durable: `publish` flushes it before renaming it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(final)
    frame.write_parquet(temporary, compression=PARQUET_COMPRESSION, statistics=True)
    faults.fault_point(faults.FILE_WRITTEN)
    return temporary


def publish(pending: Iterable[tuple[Path, Path]]) -> None:
    """Make temporary files durable, rename each into place (atomic), and make the renames
    durable: after this, a crash keeps every file whole under its final name."""
    pending = list(pending)
    if not pending:
        return
    make_durable(temporary for temporary, _ in pending)
    for temporary, final in pending:
        os.replace(temporary, final)
        faults.fault_point(faults.FILE_RENAMED)
    make_durable({final.parent for _, final in pending})


def write_parquet(frame: pl.DataFrame, final: Path) -> None:
    """Write one Parquet file atomically and durably (replacing any file of that name)."""
    publish([(write_parquet_temporary(frame, final), final)])


def write_json(document: Any, final: Path, fault: str | None = None) -> None:
    """Write a JSON document atomically and durably; `fault` names a fault point that
    fires between writing the temporary file and renaming it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(final)
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    if fault:
        faults.fault_point(fault)
    os.replace(temporary, final)
    fsync_directory(final.parent)


def remove_temporary_files(root: Path) -> int:
    """Delete temporary files left by a killed run under root; returns how many."""
    removed = 0
    if not root.exists():
        return 0
    for path in root.rglob(f"*{TEMP_SUFFIX}"):
        if path.name.startswith("."):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
    return removed
