"""The tool service's cost per call: invocations/s and p50/p99 latency at 1 and 32 concurrent clients, through
`reconciler serve` (a hand-written tool forwarded to its endpoint) against calling that upstream directly, in
the same run. Three processes: the upstream (a minimal ASGI app under uvicorn), the service, and this client.

The load generator must not be the bottleneck, or both paths measure the client: it speaks HTTP/1.1 over
keep-alive sockets with an asyncio protocol (requests prebuilt, a response is its head + Content-Length bytes),
about ten times cheaper per call than httpx; `--httpx` uses httpx instead, to compare. The client's own CPU per
call is printed beside the service's. At 32 clients in a closed loop the busiest process sets the pace, so the
latency overhead there is mostly queueing: about 32 x the service's CPU per call over the upstream's. So a third
load is measured too: 32 clients that together offer RATE calls/s (default 200; each waits for its turn, as
callers with think time do), where the overhead is the service's own latency rather than its queue. And a fourth:
32 clients back to back against an upstream that takes UPSTREAM_MS to answer (default 20, a quick real API), where
the upstream, not the service, sets the pace, as in production.
Run: .venv/bin/python bench/serve_invoke.py [REQUESTS_PER_ROUND] [--rate R] [--upstream-ms L] [--httpx]
(target: p99 overhead < 5 ms at 32 clients)"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import ROOT, table

UPSTREAM = """
import asyncio, socket, sys, uvicorn
DELAY = float(sys.argv[1]) / 1000
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if DELAY:
        await asyncio.sleep(DELAY)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"22")]})
    await send({"type": "http.response.body", "body": b'{"stock": 12, "ok": 1}'})
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # IPPROTO_TCP: asyncio sets TCP_NODELAY
sock.bind(("127.0.0.1", 0)); sock.listen(2048)
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")).run(sockets=[sock])
"""
TOOL = """name: check_inventory
description: Checks stock for a SKU.
endpoint: {url}/api/v1/tools/check_inventory
parameters:
  sku: {{type: string, description: The SKU, required: true}}
  warehouse: {{type: string, description: Where}}
context:
  user_id: conversation.user_id
"""
SLOW_TOOL = TOOL.replace("name: check_inventory", "name: check_inventory_slow")
ROUNDS = 2


def start_upstream(delay_ms: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-c", UPSTREAM, str(delay_ms)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, f"http://127.0.0.1:{process.stdout.readline().strip()}"


def start_service(folder: Path, upstream: str, slow_upstream: str) -> tuple[subprocess.Popen[str], str]:
    (folder / ".git").mkdir()
    (folder / "tools.d").mkdir()
    (folder / "tools.d" / "t.yaml").write_text(TOOL.format(url=upstream))
    (folder / "tools.d" / "slow.yaml").write_text(SLOW_TOOL.format(url=slow_upstream))
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "serve", "--port", "0", "--audit-log", "audit.jsonl"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    return process, process.stdout.readline().split()[-1]


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends a prebuilt request and waits for its whole answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower() + b"\r\n"
        at = head.find(b"\r\ncontent-length:")
        length = int(head[at + 17 : head.index(b"\r\n", at + 2)]) if at >= 0 else 0
        if len(self.buffer) >= end + 4 + length:
            status = int(head[9:12])
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self.waiter.set_result((status, body))
            self.waiter = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("closed"))

    async def send(self, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


async def load(
    url: str, body: bytes, clients: int, total: int, lean: bool, rate: float | None = None
) -> tuple[float, list[float], float]:
    """`total` POSTs from `clients` concurrent clients, back to back or (`rate`) together offering `rate` calls
    per second: (calls per second, each call's latency in ms, this process's CPU seconds per call)."""
    latencies: list[float] = []
    parsed = httpx.URL(url)
    request = (
        f"POST {parsed.raw_path.decode()} HTTP/1.1\r\nhost: {parsed.host}:{parsed.port}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        loop = asyncio.get_running_loop()

        async def worker(count: int, offset: float) -> None:
            connection: _Connection | None = None
            if lean:
                _, connection = await loop.create_connection(_Connection, parsed.host, parsed.port)
            interval = clients / rate if rate else 0.0
            due = time.perf_counter() + offset * interval
            for _ in range(count):
                if rate:  # a late call goes at once; its latency is counted from when it was sent
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    due += interval
                started = time.perf_counter()
                if connection is not None:
                    status, text = await connection.send(request)
                else:
                    response = await client.post(url, content=body, headers={"content-type": "application/json"})
                    status, text = response.status_code, response.content
                latencies.append((time.perf_counter() - started) * 1000)
                assert status == 200, text
            if connection is not None and connection.transport is not None:
                connection.transport.close()

        cpu = time.process_time()
        began = time.perf_counter()
        await asyncio.gather(*(worker(total // clients, n / clients) for n in range(clients)))
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu
    return len(latencies) / elapsed, latencies, cpu / len(latencies)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process `pid` (Linux), which scheduling noise on a busy machine does not inflate."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _paths(upstream_url: str, service_url: str, tool: str) -> tuple[tuple[str, bytes], tuple[str, bytes]]:
    direct = (upstream_url + f"/api/v1/tools/{tool}", b'{"sku": "A-1", "user_id": "U-1"}')
    served = (
        service_url + f"/tools/{tool}",
        b'{"tool_name": "%s", "parameters": {"sku": "A-1"}, "conversation_id": "C-1", "user_id": "U-1"}'
        % tool.encode(),
    )
    return direct, served


def main(per_round: int, lean: bool, offered: float, upstream_ms: float) -> None:
    upstream, upstream_url = start_upstream()
    slow, slow_url = start_upstream(upstream_ms)
    with tempfile.TemporaryDirectory() as folder:
        service, service_url = start_service(Path(folder), upstream_url, slow_url)
        try:
            loads: list[tuple[int, float | None, subprocess.Popen[str], str, str]] = [
                (1, None, upstream, upstream_url, "check_inventory"),
                (32, None, upstream, upstream_url, "check_inventory"),
                (32, offered, upstream, upstream_url, "check_inventory"),
                (32, None, slow, slow_url, "check_inventory_slow"),
            ]
            rows = []
            summary = []
            for clients, pace, target, target_url, tool in loads:
                direct, served = _paths(target_url, service_url, tool)
                total = per_round if clients == 1 else per_round * (2 if pace or target is slow else 4)
                label = f"{clients} clients" + (f", {pace:g}/s offered" if pace else "") if clients > 1 else "1 client"
                if target is slow:
                    label += f", upstream {upstream_ms:g} ms"
                for url, body in (direct, served):  # warm up connections, caches, the breaker's dict
                    asyncio.run(load(url, body, clients, min(total, 200), lean))
                results: dict[str, list[tuple[float, list[float], float]]] = {"direct": [], "serve": []}
                cpu = {"service": 0.0, "upstream (direct)": 0.0}
                for _ in range(ROUNDS):  # the two sides take turns: the machine's noise hits both
                    before = cpu_seconds(target.pid)
                    results["direct"].append(asyncio.run(load(*direct, clients, total, lean, pace)))
                    cpu["upstream (direct)"] += _spent(before, cpu_seconds(target.pid))
                    before = cpu_seconds(service.pid)
                    results["serve"].append(asyncio.run(load(*served, clients, total, lean, pace)))
                    cpu["service"] += _spent(before, cpu_seconds(service.pid))
                figures = {}
                for mode, runs in results.items():
                    rate = statistics.median(rate for rate, _, _ in runs)
                    latencies = [latency for _, run, _ in runs for latency in run]
                    client_cpu = statistics.median(spent for _, _, spent in runs) * 1000
                    figures[mode] = (rate, percentile(latencies, 0.5), percentile(latencies, 0.99))
                    rows.append([mode, label, len(latencies), *figures[mode], client_cpu])
                calls = ROUNDS * total
                summary.append(
                    (
                        label,
                        figures["serve"][1] - figures["direct"][1],
                        figures["serve"][2] - figures["direct"][2],
                        {process: spent / calls * 1000 for process, spent in cpu.items()},
                    )
                )
            client = "lean asyncio client" if lean else "httpx client"
            print(table(["path", "clients", "calls", "calls/s", "p50 ms", "p99 ms", f"{client} CPU ms/call"], rows))
            print()
            for label, p50, p99, cpu_ms in summary:
                verdict = (
                    "" if label == "1 client" else f"  (target p99 overhead < 5 ms: {'met' if p99 < 5 else 'NOT met'})"
                )
                spent = ", ".join(f"{process} {ms:.2f}" for process, ms in cpu_ms.items())
                print(f"overhead of serve, {label}: p50 {p50:+.2f} ms, p99 {p99:+.2f} ms{verdict}")
                print(f"  CPU ms per call: {spent}")
            print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        finally:
            service.terminate()
            service.wait(30)
    for process in (upstream, slow):
        process.terminate()
        process.wait(30)


def _spent(before: float | None, after: float | None) -> float:
    return after - before if before is not None and after is not None else float("nan")


if __name__ == "__main__":
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("per_round", nargs="?", type=int, default=300, help="calls per round at 1 client")
    options.add_argument("--rate", type=float, default=200.0, help="calls/s the 32 paced clients offer together")
    options.add_argument("--upstream-ms", type=float, default=20.0, help="the slow upstream's answer time, ms")
    options.add_argument("--httpx", action="store_true", help="load with httpx instead of the lean client")
    parsed = options.parse_args()
    main(parsed.per_round, lean=not parsed.httpx, offered=parsed.rate, upstream_ms=parsed.upstream_ms)
