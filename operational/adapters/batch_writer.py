"""Writing a bulk writer's batches: in this process, or in a writer process beside it.

A batch (`Batch`) is what one flush of the in-memory state (adapters/batch.py) must write:
its rows in statement order and its events, as driver values. `write_batch` writes one in
a single transaction. `DirectWriter` does so at once; `BackgroundWriter` hands each batch
to a child process (`main` below) that writes it while this process goes on with the next
one: SQLite's and the driver's work then runs on another core instead of between the
simulated days. Python's sqlite3 releases the GIL for every row it steps, so a writer
*thread* would wait for the GIL once a row; a process does not.

At most two batches are in flight (`IN_FLIGHT`): `write` first collects the outcome of the
oldest batch when two are, and raises the writer's error if that batch was not written. A
second batch in the pipe lets the writer go on at once when it has been slowed down for a
while (another process reading the database, or busy beside it), rather than the caller
waiting for every single batch. After an error nothing more is written (the database
keeps whole batches only; a batch still in the pipe is dropped with the writer); the
caller's in-memory state is then ahead of the database and must be reloaded from it.

The child ignores Ctrl-C from its start (the terminal sends it to the whole process group;
the parent decides when to stop and waits for the batch in flight), dies with its process
group on SIGKILL (a transaction cut short is rolled back), and exits when its parent
closes the pipe, after finishing the batch it has read whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import signal
import subprocess
import sys
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.engine import make_url

from operational.adapters import tables
from operational.adapters.bulk import insert_rows, update_values
from operational.adapters.feed import FEED, append_events
from operational.domain import errors


@dataclass
class Batch:
    """One transaction's writes, as plain values (the writer converts them for the
    driver): `writes` are (table name, changed column indexes or None, rows), executed in
    order, an INSERT's rows being whole rows and an UPDATE's the changed columns' values
    followed by the id; `events` are circulation_event rows numbered from `feed_last_id`
    + 1, where the feed counter must stand when the batch is written. `finish` (a
    picklable callable, for a background writer) runs last in the same transaction."""

    feed_last_id: int
    writes: list[tuple[str, tuple[int, ...] | None, list[tuple]]] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    finish: Callable[[Connection], None] | None = None


def write_batch(c: Connection, batch: Batch) -> int:
    """Write a batch in the connection's transaction; returns the number of events."""
    if c.dialect.name == "sqlite" and not c.info.get("bulk_writer"):
        # Checkpoint the WAL every ~100 MB rather than every 4 MB: a bulk writer would
        # otherwise pay a checkpoint (and its fsync) on every batch.
        c.exec_driver_sql("PRAGMA wal_autocheckpoint=25000")
        # A page cache of up to 256 MB instead of 2 MB: each batch changes rows all over
        # the item and loan tables, which would otherwise be read back page by page.
        c.exec_driver_sql("PRAGMA cache_size=-262144")
        c.info["bulk_writer"] = True  # settings of this (pooled) connection
    counter = c.execute(
        select(tables.feed_counter.c.last_id).where(tables.feed_counter.c.name == FEED)
    ).scalar_one()
    if counter != batch.feed_last_id:
        raise errors.Conflict(
            f"another writer changed the database during the batch (feed at {counter}, "
            f"expected {batch.feed_last_id}); nothing of this batch was written"
        )
    for name, columns, rows in batch.writes:
        table = tables.metadata.tables[name]
        if columns is None:
            insert_rows(c, table, rows)
            _advance_sequence(c, name)
        else:
            update_values(c, table, columns, rows)
    append_events(c, batch.events)
    if batch.finish is not None:
        batch.finish(c)
    return len(batch.events)


def _advance_sequence(c: Connection, table: str) -> None:
    # Ids were handed out by the bulk writer; keep PostgreSQL's sequence ahead of them for
    # later writers (the API). SQLite takes max(id) + 1 by itself.
    if c.dialect.name == "postgresql":
        c.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        )


class DirectWriter:
    """Writes each batch at once, in this process."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def write(self, batch: Batch) -> None:
        with self.engine.begin() as c:
            write_batch(c, batch)

    def wait(self) -> None:
        pass

    def close(self) -> None:
        pass


class WriterFailed(RuntimeError):
    """The background writer could not write a batch (its traceback is in the message)."""


# Batches handed to the writer process and not yet answered, at most (see above).
IN_FLIGHT = 2


class BackgroundWriter:
    """Writes batches in a child process, at most IN_FLIGHT of them in flight at a time."""

    def __init__(self, engine: Engine):
        self.url = engine.url.render_as_string(hide_password=False)
        self._pending = 0
        self._failed: BaseException | None = None
        self._finalizer: weakref.finalize | None = None
        # Started now, so that its imports overlap whatever the caller does next.
        self._process: subprocess.Popen | None = self._start()

    def _start(self) -> subprocess.Popen:
        with _ctrl_c_ignored():  # from its first instruction on (see main)
            process = subprocess.Popen(
                [sys.executable, "-c", f"from {__name__} import main; main()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                close_fds=True,
            )
        with contextlib.suppress(AttributeError, OSError):
            # A day's batch fits the pipe at once (Linux allows 1 MB unprivileged): the
            # simulation hands it over without waiting for the writer to be scheduled.
            fcntl.fcntl(process.stdin.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        # The URL (it may hold a password) goes through the pipe, not the command line.
        _send(process.stdin, self.url)
        self._finalizer = weakref.finalize(self, _stop, process)
        return process

    def write(self, batch: Batch) -> None:
        self._raise_if_failed()
        while self._pending >= IN_FLIGHT:
            self._collect_one()
        if self._process is None:
            self._process = self._start()
        self._pending += 1  # from here on a reply (or its absence) says what became of it
        try:
            _send(self._process.stdin, batch)
        except (BrokenPipeError, OSError):
            self.wait()  # the writer's reason, if it gave one
            raise

    def wait(self) -> None:
        """Wait until every batch handed over is written; raise the writer's error if one
        was not."""
        self._raise_if_failed()
        while self._pending:
            self._collect_one()

    def _raise_if_failed(self) -> None:
        if self._failed is not None:
            raise WriterFailed("an earlier batch was not written") from self._failed

    def _collect_one(self) -> None:
        """The outcome of the oldest batch in flight; raises if it was not written."""
        self._pending -= 1
        try:
            outcome, detail = _receive(self._process.stdout)
        except (EOFError, pickle.UnpicklingError, OSError) as error:
            code = self._process.wait()
            self._pending = 0  # the writer is gone, and with it whatever was in the pipe
            self._failed = WriterFailed(f"the batch writer stopped (exit status {code})")
            raise self._failed from error
        if outcome != "ok":
            self._pending = 0  # the writer stops after a failed batch (serve)
            self._failed = detail
            raise detail

    def close(self) -> None:
        """Wait for the batches in flight, then stop the writer process."""
        try:
            if self._failed is None:
                self.wait()
        finally:
            if self._finalizer is not None:
                self._finalizer()
            self._process = None


@contextlib.contextmanager
def _ctrl_c_ignored():
    """Ignore SIGINT here while a child is started: the child inherits the ignored signal
    and Python then installs no KeyboardInterrupt handler in it, so even a Ctrl-C during
    its start-up cannot stop it. (Only the main thread may change a signal's handling;
    elsewhere the child ignores SIGINT from its first line on.)"""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _send(stream: BinaryIO, value) -> None:
    """A length-prefixed pickle: the reader takes the whole message off the pipe before
    it unpickles, so the sender is never held up by the reader's unpickling."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little"))
    stream.write(data)
    stream.flush()


def _receive(stream: BinaryIO):
    """The next message, or EOFError when the sender has closed the pipe."""
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    size = int.from_bytes(header, "little")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def _stop(process: subprocess.Popen) -> None:
    """Close the writer's input and wait for it to exit (it closes its connection and
    leaves at once), so that nothing else has the database open afterwards."""
    with contextlib.suppress(OSError):
        process.stdin.close()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


def _error_reply(error: BaseException) -> tuple[str, BaseException]:
    """The error to raise in the parent: a domain error as itself, anything else as a
    WriterFailed carrying the child's traceback."""
    if isinstance(error, errors.DomainError):
        with contextlib.suppress(Exception):  # a subclass may want more than a message
            return "error", type(error)(str(error))
    message = "".join(traceback.format_exception(error))
    return "error", WriterFailed(f"the batch writer failed:\n{message}")


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """The writer process: the database URL, then batches until the input ends; each
    batch is answered with ("ok", events written) or ("error", the exception)."""
    from operational.adapters.database import create_database_engine

    engine = create_database_engine(_receive(requests))
    try:
        while True:
            try:
                batch = _receive(requests)
            except EOFError:
                return
            try:
                with engine.begin() as c:
                    reply = ("ok", write_batch(c, batch))
            except Exception as error:  # reported to the parent
                _send(replies, _error_reply(error))
                return  # nothing after a failed batch may be written
            _send(replies, reply)
    finally:
        engine.dispose()


def main() -> None:
    """The writer process's entry point."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The pipe to the parent is stdout: keep it for replies only, and let anything else
    # printed here go to stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, replies)
    # Every reply is flushed and the connection closed: leave without the interpreter's
    # shutdown (a parent closing the writer waits for this exit).
    sys.stderr.flush()
    os._exit(0)


def can_run_in_background(engine: Engine) -> bool:
    """A database another process can open (not SQLite's in-memory one)."""
    url = make_url(engine.url)
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))
