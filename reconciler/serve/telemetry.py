"""OpenTelemetry metrics with the seed's names, exposed in Prometheus' text format at `/metrics`.

    genesys.tool.invocation.latency   histogram, ms   {tool_name}
    genesys.tool.invocation.success   counter          {tool_name}
    genesys.tool.invocation.error     counter          {tool_name, error_type}
    reconciler.audit.write.failures   counter          audit lines that could not be written (audit.py)
    reconciler.unauthorized.requests  counter          requests refused for want of the caller secret (auth.py)

The exporter converts the names (`genesys_tool_invocation_latency_milliseconds_bucket`,
`genesys_tool_invocation_success_total`, …). Each app has its own meter provider and Prometheus registry, so
two services in one process (tests do that) do not share counts. A tool name the service does not serve is
counted as `(unknown)`: a caller must not be able to mint series. No argument value is ever an attribute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
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
        # The counters are counted here and observed by the SDK when it collects (a scrape): an SDK counter's
        # add() cost ~4 µs per call, a Counter increment a tenth of that. Same names, same exposition.
        self._successes: Counter[str] = Counter()
        self._errors: Counter[tuple[str, str]] = Counter()
        meter.create_observable_counter(
            "genesys.tool.invocation.success", [self._observe_successes], description="Successful invocations."
        )
        meter.create_observable_counter(
            "genesys.tool.invocation.error", [self._observe_errors], description="Failed invocations."
        )
        self._attributes: dict[str, dict[str, str]] = {}
        self.audit_failures = 0
        meter.create_observable_counter(
            "reconciler.audit.write.failures",
            [self._observe_audit_failures],
            description="Invocations whose audit line could not be written (answered all the same).",
        )
        self.unauthorized = 0
        meter.create_observable_counter(
            "reconciler.unauthorized.requests",
            [lambda options: [Observation(self.unauthorized)]],
            description="Requests answered 401: they did not carry the caller secret.",
        )

    def record(self, tool_name: str, outcome: Outcome) -> None:
        attributes = self._attributes.get(tool_name)
        if attributes is None:
            attributes = self._attributes[tool_name] = {"tool_name": tool_name}
        self._latency.record(outcome.latency_ms, attributes)
        if outcome.ok:
            self._successes[tool_name] += 1
        else:
            self._errors[tool_name, outcome.error_code or "EXECUTION_FAILURE"] += 1

    def _observe_successes(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(count, {"tool_name": name}) for name, count in list(self._successes.items())]

    def _observe_errors(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(count, {"tool_name": name, "error_type": code})
            for (name, code), count in list(self._errors.items())
        ]

    def _observe_audit_failures(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(self.audit_failures)]

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def shutdown(self) -> None:
        self._provider.shutdown()


__all__ = ["CONTENT_TYPE", "UNKNOWN", "Metrics"]
