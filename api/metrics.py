"""The service's Prometheus metrics, counted where the API knows the result, exposed at /metrics.

The metric objects are built per app on their own registry, so that several apps in one process (the
tests build a few) do not collide. When PROMETHEUS_MULTIPROC_DIR is set (prometheus-client's own switch,
which the library reads when it is first imported; `copilot serve --workers N` sets it), every process
writes its values to files in that folder and /metrics adds up the files of all the workers.
"""

from __future__ import annotations

import atexit
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from copilot.domain import Decision, DecisionKind, Draft, DraftAction, RejectReason, Routing, Triage
from copilot.services import Services

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Seconds: a cached triage answers in milliseconds, a chat-model draft may wait for its 20 s timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
NO_REASON = "none"  # the reason label of an approval or an edit


def multiprocess_dir() -> str | None:
    """The folder the workers share their values through, or None for one process.

    Not a copilot setting: prometheus-client decides at import whether values go to files from this same
    variable, so reading it anywhere else would let the two disagree."""
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


class Metrics:
    """Counters and histograms the API updates, and gauges read from the services when scraped."""

    def __init__(self, services: Services) -> None:
        # No `*_created` series beside each counter (one process's start times, which workers do not share
        # anyway): half the series for nothing a dashboard uses.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        labels_by_request = ["method", "route", "status"]
        self.requests = Counter(
            "copilot_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels_by_request,
            registry=self.registry,
        )
        self.latency = Histogram(
            "copilot_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by method, route template and status.",
            labels_by_request,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.suggestions = Counter(
            "copilot_suggestions", "Drafts suggested, by action.", ["action"], registry=self.registry
        )
        self.triage_results = Counter(
            "copilot_triage_results",
            "Tickets labelled by /v1/triage and /v1/triage/batch, by routing and LOB.",
            ["routing", "lob"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "copilot_decisions",
            f"Agents' decisions on drafts, by kind and reject reason ({NO_REASON} unless rejected).",
            ["kind", "reason"],
            registry=self.registry,
        )
        self.llm_fallbacks = Counter(
            "copilot_llm_writer_fallbacks",
            "Replies the chat model failed to write, drafted by the template writer instead.",
            registry=self.registry,
        )
        # With several workers, a gauge shows the value the most recently updated live worker set.
        self.index_chunks = Gauge(
            "copilot_index_chunks",
            "Passages in the SOP index.",
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.library_documents = Gauge(
            "copilot_library_documents",
            "Active SOP and policy documents in the library.",
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self.model_info = Gauge(
            "copilot_model_info",
            "What the service runs with (always 1): triage model, taxonomy, embedder and writer versions.",
            ["triage_model", "taxonomy", "embedder", "writer"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )
        self._start(services)

    def _start(self, services: Services) -> None:
        """Zeros for every known label value, so that a rate shows 0 rather than no data; the versions."""
        for action in DraftAction:
            self.suggestions.labels(action=action.value)
        for routing in Routing:
            for lob in services.taxonomy.lobs:
                self.triage_results.labels(routing=routing.value, lob=lob)
        for kind in DecisionKind:
            reasons = [r.value for r in RejectReason] if kind is DecisionKind.REJECT else [NO_REASON]
            for reason in reasons:
                self.decisions.labels(kind=kind.value, reason=reason)
        self.llm_fallbacks.inc(0)
        classifier = services.classifier
        self.model_info.labels(
            triage_model=classifier.version if classifier is not None else "none",
            taxonomy=services.taxonomy.version,
            embedder=services.embedder_version,
            writer=services.writer.version,
        ).set(1)
        self.read_sizes(services)
        if multiprocess_dir() is not None:
            # A worker that exits takes its "live" gauges with it; the counters it left stay in the sum.
            atexit.register(multiprocess.mark_process_dead, os.getpid())

    def request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.latency.labels(method=method, route=route, status=str(status)).observe(seconds)

    def triaged(self, results: list[Triage]) -> None:
        for result in results:
            self.triage_results.labels(routing=result.routing.value, lob=result.lob).inc()

    def suggested(self, draft: Draft, *, services: Services) -> None:
        """Counts the draft's action, and a fallback when the chat model was to write a reply and did not."""
        self.suggestions.labels(action=draft.action.value).inc()
        if draft.action is DraftAction.REPLY and draft.writer != services.writer.name:
            self.llm_fallbacks.inc()

    def decided(self, decision: Decision) -> None:
        reason = decision.reason.value if decision.reason is not None else NO_REASON
        self.decisions.labels(kind=decision.kind.value, reason=reason).inc()

    def read_sizes(self, services: Services) -> None:
        self.index_chunks.set(services.index.count())
        self.library_documents.set(len(services.library.active()))

    def exposition(self, services: Services) -> tuple[bytes, str]:
        """The Prometheus text of every metric (of every worker, in multiprocess mode), and its content type."""
        self.read_sizes(services)
        registry = self.registry
        if multiprocess_dir() is not None:
            registry = CollectorRegistry()  # a fresh one each scrape, as prometheus-client requires
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
