"""Runs the real API server (uvicorn, several worker processes) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bibbla.config import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(database_url: str, workers: int = 4, timeout: float = 60) -> Iterator[str]:
    """Start `bibbla serve` on a free port; yields its base URL and stops it afterwards."""
    port = free_port()
    env = {**os.environ, "BIBBLA_OPERATIONAL_DB": database_url}
    # A file, not a pipe: a full pipe would block the server's logging and hang it.
    log_path = Path(tempfile.mkstemp(prefix="bibbla-server-", suffix=".log")[1])
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bibbla.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output = log_path.read_text(errors="replace")
                raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in time")
            time.sleep(0.2)
        yield base
    except BaseException:
        print(f"server log: {log_path}\n" + log_path.read_text(errors="replace")[-20000:])
        raise
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
