"""Benchmark: what the lending API's request path costs in the framework when it is
synchronous, as it is, against the same path written asynchronously (issue 18: choose sync
or async by measurement).

    .venv/bin/python -m benchmarks.sync_async [--seconds 4] [--runs 3] [--clients 16]

Two one-worker uvicorn servers of one small app with the shape of the API's authenticated
read: a bearer check as a generator dependency (the API's takes a pooled connection, looks
the token up on it and gives the connection back after the answer) and a handler that
answers a list of pydantic models, like `GET /api/v1/branches`.
- `sync`: both plain `def`, as in the API, so FastAPI runs the dependency's set-up, the
  handler and the dependency's tear-down in its thread pool (three hand-offs);
- `async`: both `async def`, run on the event loop (what an async driver would allow);
- `one-hand-off`: `async def` both, the handler running the check and the work in one call
  to the thread pool (what a sync driver allows with a single hand-off).

There is no database in either: what differs is the framework's path alone, so the
difference is an upper bound of what an async rewrite saves a request (the driver and the
ORM cost what they cost either way). Each round drives both servers in turn with the API
benchmark's load generator (lending_load.py, its own process, 16 keep-alive clients) and
takes each server's CPU per answered request from psutil.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

VARIANT = "BIBBLA_BENCH_SYNC_ASYNC"
TOKEN = "benchmark-token"
VARIANTS = ("sync", "one-hand-off", "async")
BRANCHES = [(f"B{n:02d}", f"Bibliotek {n}", f"18{n:02d}") for n in range(20)]


class Branch(BaseModel):
    branch_code: str
    name: str
    municipality_code: str


def create_app() -> FastAPI:
    """The app of one variant (the environment says which), for uvicorn's --factory. (Its
    types are the module's: FastAPI reads the handlers' annotations from there.)"""

    def answer() -> list[Branch]:
        return [Branch(branch_code=c, name=n, municipality_code=m) for c, n, m in BRANCHES]

    def bearer(request: Request) -> str:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            raise HTTPException(status_code=401, detail="unknown token")
        return TOKEN

    app = FastAPI()
    variant = os.environ.get(VARIANT)
    if variant == "async":

        async def caller(request: Request) -> AsyncIterator[str]:
            yield bearer(request)

        @app.get("/api/v1/branches", response_model=list[Branch])
        async def branches(who: str = Depends(caller)):
            return answer()

    elif variant == "one-hand-off":
        from starlette.concurrency import run_in_threadpool

        async def caller(request: Request) -> AsyncIterator[str]:  # type: ignore[misc]
            yield request.headers.get("authorization", "")

        @app.get("/api/v1/branches", response_model=list[Branch])
        async def branches(request: Request, who: str = Depends(caller)):  # type: ignore[misc]
            def work() -> list[Branch]:
                bearer(request)
                return answer()

            return await run_in_threadpool(work)

    else:

        def caller(request: Request) -> Iterator[str]:  # type: ignore[misc]
            yield bearer(request)

        @app.get("/api/v1/branches", response_model=list[Branch])
        def branches(who: str = Depends(caller)):  # type: ignore[misc]
            return answer()

    return app


class Server:
    """One variant's server: `python -m uvicorn` with one worker, as `bibbla serve` runs
    it (its log level, so the access log is written too)."""

    def __init__(self, variant: str):
        from tests.server import free_port

        self.variant = variant
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "benchmarks.sync_async:create_app",
                "--factory",
                "--port",
                str(self.port),
                "--log-level",
                "info",
            ],
            env={**os.environ, VARIANT: variant},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.variant} server exited ({self.process.returncode})")
            try:
                headers = {"Authorization": f"Bearer {TOKEN}"}
                if httpx.get(f"{self.base}/api/v1/branches", headers=headers).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the {self.variant} server did not answer in {timeout} s")

    def cpu_seconds(self) -> float:
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _load(server: Server, seconds: float, clients: int) -> dict:
    """One run of the API benchmark's load generator against the server (reads, with the
    bearer token); its result and the server's CPU."""
    from benchmarks.lending_api import run_load

    headers = {"Authorization": f"Bearer {TOKEN}"}
    before = server.cpu_seconds()
    result = run_load(server.base, headers, seconds, "read", [""] * clients, [])
    return {**result, "server_cpu_seconds": server.cpu_seconds() - before}


def main() -> None:
    from benchmarks.common import Measurement, format_table, ratio, write_results

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()

    rate = {v: Measurement(f"{v}: requests per s", "requests/s") for v in VARIANTS}
    cpu = {v: Measurement(f"{v}: server CPU per request", "ms") for v in VARIANTS}
    servers = {variant: Server(variant) for variant in VARIANTS}
    try:
        for server in servers.values():
            server.wait_ready()
        for run in range(args.runs):
            # alternate which goes first, so that neither always gets a warmer machine
            order = VARIANTS if run % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                result = _load(servers[variant], args.seconds, args.clients)
                rate[variant].values.append(result["requests"] / result["wall_seconds"])
                cpu[variant].values.append(1000 * result["server_cpu_seconds"] / result["requests"])
            print(
                f"round {run + 1}/{args.runs}: "
                + ", ".join(
                    f"{v} {rate[v].values[-1]:,.0f}/s at {cpu[v].values[-1]:.3f} ms"
                    for v in VARIANTS
                ),
                flush=True,
            )
    finally:
        for server in servers.values():
            server.stop()
    measured = [
        *rate.values(),
        *cpu.values(),
        Measurement(
            "one hand-off / sync server CPU per request",
            "ratio",
            ratio(cpu["one-hand-off"].values, cpu["sync"].values),
        ),
        Measurement(
            "async / sync server CPU per request",
            "ratio",
            ratio(cpu["async"].values, cpu["sync"].values),
        ),
        Measurement(
            "async / sync requests per s", "ratio", ratio(rate["async"].values, rate["sync"].values)
        ),
    ]
    print(
        format_table(
            f"FastAPI's request path, sync against async, no database ({args.clients} clients, "
            f"one worker each, {args.runs} runs of {args.seconds:g} s)",
            measured,
        )
    )
    path = write_results("sync_async", measured, vars(args))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
