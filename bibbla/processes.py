"""Running a tool (dbt, npm) as a child process with its output passed on line by line,
so a long build shows its progress, and the last lines kept for the error message."""

from __future__ import annotations

import subprocess
from collections import deque
from collections.abc import Callable
from pathlib import Path


def run_streaming(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log: Callable[[str], None],
    *,
    tail_lines: int = 40,
    for_message: Callable[[str], str | None] | None = None,
) -> tuple[int, str]:
    """Run command; returns its exit code and its last `tail_lines` lines, indented for a
    message. `for_message` shortens a line for the message, or leaves it out (None); every
    line goes to `log` as it is."""
    tail: deque[str] = deque(maxlen=tail_lines)
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            kept = line if for_message is None else for_message(line)
            if kept is not None:
                tail.append(kept)
            log(line)
        code = process.wait()
    return code, "\n".join(f"  | {line}" for line in tail)
