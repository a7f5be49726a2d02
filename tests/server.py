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


class ServerProcess:
    """`bibbla serve` in its own process group, logging to a file (a full pipe would block
    the server's logging and hang it)."""

    def __init__(self, database_url: str, workers: int = 4, port: int | None = None):
        self.database_url, self.workers = database_url, workers
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkstemp(prefix="bibbla-server-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> str:
        env = {**os.environ, "BIBBLA_OPERATIONAL_DB": self.database_url}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bibbla.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base}/openapi.json", timeout=1).status_code == 200:
                    return self.base
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start in time:\n{self.log()}")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-20000:]

    def kill(self) -> None:
        """kill -9 the server and all its workers at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def running_server(database_url: str, workers: int = 4, timeout: float = 60) -> Iterator[str]:
    """Start `bibbla serve` on a free port; yields its base URL and stops it afterwards."""
    server = ServerProcess(database_url, workers)
    try:
        yield server.start(timeout)
    except BaseException:
        print(f"server log: {server.log_path}\n{server.log()}")
        raise
    finally:
        server.stop()
