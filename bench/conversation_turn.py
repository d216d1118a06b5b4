"""One conversation turn whose model asks for K tool calls at once, each upstream taking L ms: the loop (calls
run concurrently) against a baseline that runs the same calls one after another, both through the real Runtime
and the emulated gateway over loopback. Run: .venv/bin/python bench/conversation_turn.py [K] [L_MS]"""

from __future__ import annotations

import asyncio
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from _common import table

from reconciler.api import ApiClient, Target
from reconciler.conversation import Conversation, GatewayClient, Invocation, Outcome, run_turn
from reconciler.emulator import EmulatorConfig, run_emulator
from reconciler.model import SourceLocation, Tool
from reconciler.runtime import Runtime

ROUNDS = 5


def upstream(latency: float) -> ThreadingHTTPServer:
    class Slow(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = -1  # headers and body leave in one segment: no delayed-ACK stall per answer
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(latency)  # the upstream's own work
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class OneAtATime:
    """The baseline: the same Runtime, but each call waits for the one before it."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._lock = asyncio.Lock()

    async def invoke(self, invocation: Invocation) -> Outcome:
        async with self._lock:
            return await self._runtime.invoke(invocation)


def main(calls: int = 4, latency_ms: float = 100.0) -> int:
    server = upstream(latency_ms / 1000)
    url = f"http://127.0.0.1:{server.server_address[1]}/t"
    tool = Tool("t", "A slow tool.", url, {"type": "object", "properties": {}}, SourceLocation("bench", 1, 1))
    script: list[dict[str, Any]] = [{"tool_calls": [{"name": "t", "arguments": {}}] * calls}, {"content": "done"}]
    with run_emulator(EmulatorConfig(log_requests=False)) as running:
        target = Target(api_url=running.url, login_url=running.url, description="bench", credentials=None)
        with ApiClient(target) as client:
            gateway = GatewayClient(client)

            async def rounds() -> tuple[list[float], list[float], list[float]]:
                ratios, concurrent, serial = [], [], []
                async with Runtime([tool]) as runtime:
                    await runtime.invoke(Invocation("t", {}))  # warm: the first call builds the HTTP client
                    for _ in range(ROUNDS):  # the sides take turns; the ratio is the median of each round's ratio
                        together = await turn(runtime)
                        alone = await turn(OneAtATime(runtime))
                        concurrent.append(together)
                        serial.append(alone)
                        ratios.append(alone / together)
                return ratios, concurrent, serial

            async def turn(runner: Runtime | OneAtATime) -> float:
                started = time.perf_counter()
                result = await run_turn(Conversation([tool]), "go", gateway=gateway, runner=runner, script=script)
                elapsed = time.perf_counter() - started
                assert result.reply == "done" and all(r.status == "success" for r in result.tool_calls)
                return elapsed

            ratios, concurrent, serial = asyncio.run(rounds())
    server.shutdown()
    floor = latency_ms / 1000
    print(f"a turn with {calls} tool calls of {latency_ms:g} ms each (2 model calls), median of {ROUNDS} rounds")
    print(
        table(
            ["runner", "wall s", "vs one upstream call"],
            [
                ["loop (concurrent)", statistics.median(concurrent), statistics.median(concurrent) / floor],
                ["one after another", statistics.median(serial), statistics.median(serial) / floor],
            ],
        )
    )
    print(f"speed-up of the concurrent loop: {statistics.median(ratios):.2f}x (ideal {calls}x)")
    return 0


if __name__ == "__main__":
    given = sys.argv[1:]
    raise SystemExit(main(int(given[0]) if given else 4, float(given[1]) if len(given) > 1 else 100.0))
