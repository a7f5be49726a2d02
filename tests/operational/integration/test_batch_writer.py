"""The simulator's writer process (adapters/batch_writer.py): what it writes equals what is
written in-process, a batch it cannot write is reported and nothing after it is written,
Ctrl-C at the terminal does not stop it mid-day, and closing it leaves no process."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from operational.adapters import schema, tables
from operational.adapters.batch import BatchUnitOfWork, MemoryState
from operational.adapters.batch_writer import BackgroundWriter, DirectWriter, WriterFailed
from operational.adapters.feed import FEED
from operational.clock import SimulatedClock
from operational.domain import errors
from operational.domain.model import Audience, MediaType, PatronCategory
from operational.service_layer import services
from tests.conftest import REFERENCE_DIR


@pytest.fixture
def initialised(engine):
    schema.init(engine, REFERENCE_DIR)
    return engine


def _count(engine, table) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(table)).scalar_one()


def _a_day(state: MemoryState, number: int) -> None:
    """A title, a copy of it and a cardholder who borrows it: rows of several tables,
    new and changed, and their events."""
    uow = BatchUnitOfWork(state)
    clock = SimulatedClock(datetime(2024, 3, 4 + number, 9, tzinfo=UTC))
    title = services.add_title(
        uow, clock, f"Titel {number}", "N.N.", MediaType.BOOK, Audience.ADULT
    )
    branch = next(b for b in state.branches.values() if b.lends)
    item = services.add_item(uow, clock, f"X{number:07d}", title.id, branch.code)
    patron = services.register_patron(
        uow, clock, f"C-{number}", branch.municipality_code, PatronCategory.ADULT, branch.code
    )
    services.checkout(uow, clock, patron.card_number, item.barcode, branch.code)


def _content(engine) -> list:
    with engine.connect() as c:
        return [
            c.execute(select(table).order_by(table.c.id)).all()
            for table in (tables.title, tables.item, tables.patron, tables.loan)
        ] + [c.execute(select(tables.circulation_event.c.type).order_by("id")).all()]


def test_the_writer_process_writes_what_the_process_itself_would(engine, tmp_path):
    # `engine` is SQLite or PostgreSQL; the in-process reference is a SQLite file.
    from operational.adapters.database import create_database_engine

    reference = create_database_engine(f"sqlite:///{tmp_path / 'direct.sqlite'}")
    for target, writer in ((engine, BackgroundWriter(engine)), (reference, None)):
        schema.init(target, REFERENCE_DIR)
        state = MemoryState(target, writer or DirectWriter(target))
        for number in range(3):
            _a_day(state, number)
            assert state.flush() > 0
        state.close()
    assert _content(engine) == _content(reference)
    reference.dispose()


def _another_writer_moves_the_feed_on(engine) -> None:
    with engine.begin() as c:
        c.execute(
            update(tables.feed_counter)
            .where(tables.feed_counter.c.name == FEED)
            .values(last_id=tables.feed_counter.c.last_id + 1)
        )


def _a_day_written_then_the_feed_moved_on(engine) -> MemoryState:
    """A background writer that has written one day, after which another writer moved the
    feed on: the next batch it is handed must be refused."""
    state = MemoryState(engine, BackgroundWriter(engine))
    _a_day(state, 0)
    state.flush()
    state.wait()
    _another_writer_moves_the_feed_on(engine)
    return state


def test_a_batch_it_cannot_write_is_reported_and_nothing_after_it_is_written(initialised):
    engine = initialised
    state = _a_day_written_then_the_feed_moved_on(engine)
    written = _count(engine, tables.circulation_event)  # moving the counter adds no row
    _a_day(state, 1)
    state.flush()  # handed over: the refusal comes with the writer's answer
    with pytest.raises(errors.Conflict, match="another writer"):
        state.wait()
    _a_day(state, 2)
    with pytest.raises(WriterFailed):
        state.flush()
    state.close()
    assert _count(engine, tables.circulation_event) == written
    assert _count(engine, tables.title) == 1


def test_a_batch_behind_a_failed_one_in_the_pipe_is_not_written(initialised):
    engine = initialised
    state = _a_day_written_then_the_feed_moved_on(engine)
    # The writer is held still while both batches go into its pipe: otherwise it may
    # refuse the first and stop before the second is handed over (then the handing over
    # finds the pipe closed and reports the refusal itself, and nothing was behind it).
    writer = state.writer._process.pid
    os.kill(writer, signal.SIGSTOP)
    try:
        _a_day(state, 1)
        state.flush()  # to be refused by the writer, which then stops
        _a_day(state, 2)
        state.flush()  # handed over behind it (two in flight), before the refusal is known
    finally:
        os.kill(writer, signal.SIGCONT)
    with pytest.raises(errors.Conflict, match="another writer"):
        state.wait()
    with pytest.raises(WriterFailed):
        state.wait()
    state.close()
    assert _count(engine, tables.title) == 1  # neither day 1 nor day 2


def test_ctrl_c_at_the_terminal_does_not_stop_the_writer(initialised):
    engine = initialised
    writer = BackgroundWriter(engine)
    state = MemoryState(engine, writer)
    _a_day(state, 0)
    state.flush()
    os.kill(writer._process.pid, signal.SIGINT)  # the terminal signals the whole group
    _a_day(state, 1)
    state.flush()
    state.wait()
    assert _count(engine, tables.title) == 2
    process = writer._process
    state.close()
    assert process.returncode == 0  # closed: it has exited, and nothing has it open
