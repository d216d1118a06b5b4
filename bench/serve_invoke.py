"""The tool service's cost per call: invocations/s and p50/p99 latency at 1 and 32 concurrent clients, through
`reconciler serve` (a hand-written tool forwarded to its endpoint) against calling that upstream directly, in
the same run. Three processes: the upstream (a minimal ASGI app under uvicorn), the service, and this client.
Run: .venv/bin/python bench/serve_invoke.py [REQUESTS_PER_ROUND]   (target: p99 overhead < 5 ms at 32 clients)"""

from __future__ import annotations

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
import socket, sys, uvicorn
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"21")]})
    await send({"type": "http.response.body", "body": b'{"stock": 12, "ok": 1}'[:21]})
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
ROUNDS = 2


def start_upstream() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-c", UPSTREAM], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, f"http://127.0.0.1:{process.stdout.readline().strip()}"


def start_service(folder: Path, upstream: str) -> tuple[subprocess.Popen[str], str]:
    (folder / ".git").mkdir()
    (folder / "tools.d").mkdir()
    (folder / "tools.d" / "t.yaml").write_text(TOOL.format(url=upstream))
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


async def load(url: str, body: bytes, clients: int, total: int) -> tuple[float, list[float]]:
    """`total` POSTs from `clients` concurrent clients: (calls per second, each call's latency in ms)."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker(count: int) -> None:
            for _ in range(count):
                started = time.perf_counter()
                response = await client.post(url, content=body, headers={"content-type": "application/json"})
                latencies.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text

        began = time.perf_counter()
        await asyncio.gather(*(worker(total // clients) for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, latencies


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


def main(per_round: int) -> None:
    upstream, upstream_url = start_upstream()
    with tempfile.TemporaryDirectory() as folder:
        service, service_url = start_service(Path(folder), upstream_url)
        try:
            direct = (upstream_url + "/api/v1/tools/check_inventory", b'{"sku": "A-1", "user_id": "U-1"}')
            served = (
                service_url + "/tools/check_inventory",
                b'{"tool_name": "check_inventory", "parameters": {"sku": "A-1"}, "conversation_id": "C-1", '
                b'"user_id": "U-1"}',
            )
            rows = []
            summary = []
            for clients in (1, 32):
                total = per_round if clients == 1 else per_round * 4
                for url, body in (direct, served):  # warm up connections, caches, the breaker's dict
                    asyncio.run(load(url, body, clients, min(total, 200)))
                results: dict[str, list[tuple[float, list[float]]]] = {"direct": [], "serve": []}
                cpu = 0.0
                for _ in range(ROUNDS):  # the two sides take turns: the machine's noise hits both
                    results["direct"].append(asyncio.run(load(*direct, clients, total)))
                    before = cpu_seconds(service.pid)
                    results["serve"].append(asyncio.run(load(*served, clients, total)))
                    after = cpu_seconds(service.pid)
                    cpu += (after - before) if before is not None and after is not None else float("nan")
                figures = {}
                for mode, runs in results.items():
                    rate = statistics.median(rate for rate, _ in runs)
                    latencies = [latency for _, run in runs for latency in run]
                    figures[mode] = (rate, percentile(latencies, 0.5), percentile(latencies, 0.99))
                    rows.append([mode, clients, len(latencies), *figures[mode]])
                calls = sum(len(run) for _, run in results["serve"])
                summary.append(
                    (
                        clients,
                        figures["serve"][1] - figures["direct"][1],
                        figures["serve"][2] - figures["direct"][2],
                        cpu / calls * 1000,
                    )
                )
            print(table(["path", "clients", "calls", "calls/s", "p50 ms", "p99 ms"], rows))
            print()
            for clients, p50, p99, cpu_ms in summary:
                verdict = "" if clients != 32 else f"  (target p99 overhead < 5 ms: {'met' if p99 < 5 else 'NOT met'})"
                print(
                    f"overhead of serve at {clients} client(s): p50 {p50:+.2f} ms, p99 {p99:+.2f} ms{verdict}; "
                    f"the service's CPU per call {cpu_ms:.2f} ms"
                )
            print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        finally:
            service.terminate()
            service.wait(30)
    upstream.terminate()
    upstream.wait(30)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
