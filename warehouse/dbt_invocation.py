"""Running one dbt command inside this process (dbt's programmatic entry point, `dbtRunner`).

A dbt process spends 4-5 s of CPU on its interpreter, imports and adapter start-up before it
parses anything; in a process that has run dbt once, the next command skips all of that
(measured on the demo warehouse: a second small `dbt build` 1.6-2.4 s of CPU in-process
against 5.2-6.2 s as a new process). The pipeline runs dbt two or three times per process
(build and docs; the retention rule's run, test and build) and the test suite dozens of times.

dbt is not made to share a process, so each command is fenced in:

- one command at a time: dbt keeps its flags, event loggers and adapters in module globals
  and does not support two invocations at once in one process;
- the environment: while dbt runs, `os.environ` holds exactly the command's environment
  (dbt copies it at the start of each invocation and reads `env_var()` from that copy), and
  the caller's afterwards, so no BIBBLA_* value of one build is seen by the next or left
  behind in the caller;
- the working directory (the profile names the warehouse file relative to it) is set for
  the command and restored after;
- dbt's console lines go to `log` as they come, not to this process's stdout; its debug
  log goes to `dbt.log` in the log path as with the dbt CLI, and its loggers are closed
  after the command, so nothing of dbt writes once the command has returned;
- the DuckDB database dbt opened is closed after the command (dbt-duckdb would keep it
  open for the next one), so the caller can open the warehouse it has just built;
- an interruption (Ctrl-C, an orchestrator stopping the step) is raised again, not turned
  into an ordinary failure.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Log = Callable[[str], None]
# dbt's structured events as dicts, in the shape of its JSON log lines
# (https://docs.getdbt.com/reference/events-logging#structured-logging)
EventCallback = Callable[[dict[str, Any]], None]
# the events a caller usually wants: one per node finished (model, seed, snapshot, test)
RESULT_EVENTS = frozenset({"LogModelResult", "LogSeedResult", "LogSnapshotResult", "LogTestResult"})

# the names dbt gives the Python loggers behind its console and file logs (dbt_common)
_DBT_LOGGERS = ("stdout_log", "file_log")
_ONE_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class DbtOutcome:
    """How a dbt command ended: success, its last console lines (indented for a message),
    the error messages dbt logged, and the exception it stopped on, if any."""

    success: bool
    tail: str
    errors: tuple[str, ...]
    exception: BaseException | None


class _Lines(io.TextIOBase):
    """A text stream that hands each complete line to `log` and keeps the last 40."""

    def __init__(self, log: Log) -> None:
        self._log = log
        self._partial = ""
        self.tail: deque[str] = deque(maxlen=40)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self.tail.append(line)
            self._log(line)
        return len(text)

    def finish(self) -> None:
        if self._partial:
            self.write("\n")


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ is `env` inside, the caller's again after. Only the names that differ are
    touched (set or removed), so the environment is never empty for another thread."""
    saved = dict(os.environ)
    for name in saved.keys() - env.keys():
        del os.environ[name]
    for name, value in env.items():
        if saved.get(name) != value:
            os.environ[name] = value
    try:
        yield
    finally:
        for name in os.environ.keys() - saved.keys():
            del os.environ[name]
        for name, value in saved.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


@contextmanager
def _working_directory(folder: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _close_dbt_loggers() -> None:
    """Detach dbt's loggers once a command is over: its console stream is ours, and its
    file handler would otherwise keep dbt.log open until the next command."""
    from dbt_common.events.event_manager_client import cleanup_event_logger

    cleanup_event_logger()
    for name in _DBT_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()


def _close_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb opened. It keeps one per process across commands
    (while dbt's own connections are released, the database stays open), and DuckDB lets a
    process open a file only once with one configuration: the caller's read-only look at the
    warehouse after a build, or the next build of another file, must find it closed."""
    import sys

    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    environment = manager._ENV
    if environment is not None:
        environment.close()
    manager.close_all_connections()


def invoke_dbt(
    arguments: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log: Log,
    on_event: EventCallback | None = None,
    events: frozenset[str] = RESULT_EVENTS,
) -> DbtOutcome:
    """Run `dbt <arguments>` in this process with exactly `env` as its environment and `cwd`
    as its working directory; console lines go to `log`, the structured events named in
    `events` to `on_event` (converting every debug event would cost more than it tells)."""
    # imported here: dbt costs ~2 s of imports, which only a command should pay
    from dbt.cli.main import dbtRunner
    from dbt_common.events.base_types import EventMsg
    from dbt_common.events.functions import (
        capture_stdout_logs,
        msg_to_dict,
        stop_capture_stdout_logs,
    )

    errors: list[str] = []

    def collect(message: EventMsg) -> None:
        if message.info.level == "error":
            errors.append(message.info.msg)
        if on_event is not None and message.info.name in events:
            on_event(msg_to_dict(message))

    lines = _Lines(log)
    with _ONE_AT_A_TIME, _environment(env), _working_directory(cwd):
        capture_stdout_logs(lines)
        try:
            result = dbtRunner(callbacks=[collect]).invoke(list(arguments))
        finally:
            stop_capture_stdout_logs()
            _close_dbt_loggers()
            _close_duckdb()
            lines.finish()
    exception = result.exception
    if exception is not None and not isinstance(exception, Exception):
        # KeyboardInterrupt, SystemExit, an orchestrator's interruption: not dbt's failure
        raise exception
    return DbtOutcome(
        success=bool(result.success),
        tail="\n".join(f"  | {line}" for line in lines.tail),
        errors=tuple(errors),
        exception=exception,
    )
