"""The lending API benchmark's load generator: its own process and its own event loop, so
it does not take the server's CPU with threads of the benchmark process (the machine has
two cores; what it does use is measured and reported).

    .venv/bin/python -m benchmarks.lending_load SPEC.json   (prints a JSON result)

SPEC: {"base": URL, "headers": {...}, "seconds": s, "job": "read" | "circulation",
"cards": [one per client], "barcodes": [[the client's own items], ...]}.

Each client is one keep-alive HTTP/1.1 connection driven by a few lines of asyncio: the
requests are fixed and small, and a general HTTP client (httpx) costs the load several
times the CPU per request that this does. A 503 with Retry-After (SQLite's write lock held
too long) is counted and the request repeated after that wait; any other answer but 2xx
stops the run with an error.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit


class Connection:
    """One keep-alive connection that sends a request and reads its whole answer."""

    def __init__(self, host: str, port: int, headers: dict[str, str]):
        self.host, self.port = host, port
        self.fixed = "".join(f"{name}: {value}\r\n" for name, value in headers.items())

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: dict | None = None) -> float | None:
        """None when the request succeeded, or the seconds a 503 asks to wait."""
        payload = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.fixed}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        status = int(status_line.split(b" ", 2)[1])
        length, retry_after = None, None
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"retry-after":
                retry_after = float(value)
        if length is None:
            raise RuntimeError(f"{method} {path}: an answer without Content-Length")
        answer = await self.reader.readexactly(length)
        if status == 503 and retry_after is not None:
            return retry_after  # the database is busy (SQLite's writer): told, not kept
        if not 200 <= status < 300:
            raise RuntimeError(f"{method} {path}: {status} {answer[:500]!r}")
        return None

    def close(self) -> None:
        self.writer.close()


async def run(spec: dict) -> dict:
    url = urlsplit(spec["base"])
    clients = len(spec["cards"])
    connections = [Connection(url.hostname, url.port, spec["headers"]) for _ in range(clients)]
    await asyncio.gather(*(c.open() for c in connections))
    latencies: list[list[float]] = [[] for _ in range(clients)]
    checkouts, busy = [0] * clients, [0] * clients
    seconds = spec["seconds"]

    async def timed(index: int, method: str, path: str, body: dict | None = None) -> None:
        """The request, repeated after the wait a 503 asks for, as a desk would."""
        while True:
            began = time.perf_counter()
            retry_after = await connections[index].request(method, path, body)
            latencies[index].append(time.perf_counter() - began)
            if retry_after is None:
                return
            busy[index] += 1
            await asyncio.sleep(retry_after)

    async def reader(index: int, stop: float) -> None:
        while time.monotonic() < stop:
            await timed(index, "GET", "/api/v1/branches")

    async def lender(index: int, stop: float) -> None:
        own = spec["barcodes"][index]
        position = 0
        while time.monotonic() < stop:
            barcode = own[position % len(own)]
            position += 1
            loan = {"card_number": spec["cards"][index], "item_barcode": barcode}
            await timed(index, "POST", "/api/v1/loans", {**loan, "branch_code": "NORA"})
            checkouts[index] += 1
            await timed(
                index, "POST", "/api/v1/returns", {"item_barcode": barcode, "branch_code": "NORA"}
            )

    job = {"read": reader, "circulation": lender}[spec["job"]]
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.monotonic()
    stop = began + seconds
    await asyncio.gather(*(job(i, stop) for i in range(clients)))
    wall = time.monotonic() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    for connection in connections:
        connection.close()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "requests": sum(len(per) for per in latencies) - sum(busy),  # answered 2xx
        "checkouts": sum(checkouts),
        "busy": sum(busy),
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "latencies": [x for per in latencies for x in per],
    }


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    try:
        import uvloop  # uvicorn[standard] brings it; the stdlib loop costs more CPU
    except ImportError:
        uvloop = None
    result = uvloop.run(run(spec)) if uvloop else asyncio.run(run(spec))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
