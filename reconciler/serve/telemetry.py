"""OpenTelemetry metrics with the seed's names, exposed in Prometheus' text format at `/metrics`.

    genesys.tool.invocation.latency   histogram, ms   {tool_name}
    genesys.tool.invocation.success   counter          {tool_name}
    genesys.tool.invocation.error     counter          {tool_name, error_type}

The exporter converts the names (`genesys_tool_invocation_latency_milliseconds_bucket`,
`genesys_tool_invocation_success_total`, …). Each app has its own meter provider and Prometheus registry, so
two services in one process (tests do that) do not share counts. A tool name the service does not serve is
counted as `(unknown)`: a caller must not be able to mint series. No argument value is ever an attribute.
"""

from __future__ import annotations

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from reconciler.runtime import Outcome

UNKNOWN = "(unknown)"
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._reader = PrometheusMetricReader(registry=self.registry)
        self._provider = MeterProvider(metric_readers=[self._reader])
        meter = self._provider.get_meter("reconciler.serve")
        self._latency = meter.create_histogram(
            "genesys.tool.invocation.latency", unit="ms", description="Time to answer one tool invocation."
        )
        self._success = meter.create_counter("genesys.tool.invocation.success", description="Successful invocations.")
        self._error = meter.create_counter("genesys.tool.invocation.error", description="Failed invocations.")

    def record(self, tool_name: str, outcome: Outcome) -> None:
        attributes = {"tool_name": tool_name}
        self._latency.record(outcome.latency_ms, attributes)
        if outcome.ok:
            self._success.add(1, attributes)
        else:
            self._error.add(1, {**attributes, "error_type": outcome.error_code or "EXECUTION_FAILURE"})

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        self._provider.shutdown()


__all__ = ["CONTENT_TYPE", "UNKNOWN", "Metrics"]
