"""``GET /metrics``: what an operator's Prometheus scrapes, in its text format.

Why this shape:

- **One registry per app** (:class:`prometheus_client.CollectorRegistry`), never the library's
  global one: the tests run several servers in one process, and each must count only its own.
- **Counts of jobs are read at scrape time**, not kept beside the store: ``qibo_jobs`` and
  ``qibo_queue_length`` come from the store (finished jobs by one ``GROUP BY``, unfinished ones by
  the partial index ``jobs_unfinished``) and from the runner (which of them runs now), so they can
  never drift from what the API answers, and cost nothing between scrapes.
- **Events are observed when they happen**: a job's end (run and wait time histograms, the
  finished counter) through :attr:`ServerState.finish_listeners`, each HTTP answer in
  :class:`HttpMetrics`, a plain ASGI middleware like the access log.
- **No label names a person or a job**: labels are a device, an engine, a status, an HTTP method,
  a route *template* (``/api/jobs/{pid}/``, never the pid) and an HTTP status. A path no route
  matches counts as :data:`UNMATCHED`, so a scanner cannot grow the label set.

The wait time of a job is the time from its submission to its result less its run time (the worker
measures the run); it includes the queue and the hand-over to a worker.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from qibo_client.protocol import Status

if TYPE_CHECKING:
    from fastapi import FastAPI

    from qibo_client.server.jobs.worker import Outcome
    from qibo_client.server.state import ServerState

#: Where the metrics are served.
METRICS_PATH = "/metrics"
#: The route label of a request that no route matched.
UNMATCHED = "unmatched"
#: Buckets (seconds) of the job time histograms: from a Bell pair's milliseconds to an hour.
JOB_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]


def device_load(state: ServerState) -> tuple[Counter[str], Counter[str]]:
    """Per device: the jobs waiting for a worker (every device, 0 included), and those running."""
    queued: Counter[str] = Counter({device.name: 0 for device in state.devices})
    running: Counter[str] = Counter()
    for row in state.store.unfinished_devices():
        if state.runner.is_running(row["pid"]):
            running[row["device"]] += 1
        else:
            queued[row["device"]] += 1
    return queued, running


class JobsCollector(Collector):
    """The jobs in the store by live status, device and engine; the queue length per device."""

    def __init__(self, state: Callable[[], ServerState | None]) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        state = self._state()
        if state is None:  # not serving yet (or any more)
            return
        jobs = GaugeMetricFamily(
            "qibo_jobs",
            "Jobs in the server's store, by status (running: a worker has it), device and engine "
            "(empty until the job ran)",
            labels=["status", "device", "engine"],
        )
        queue = GaugeMetricFamily(
            "qibo_queue_length", "Jobs waiting for a worker, per device", labels=["device"]
        )
        queued, running = device_load(state)
        for device, count in sorted(queued.items()):
            queue.add_metric([device], count)
            jobs.add_metric([Status.QUEUEING.value, device, ""], count)
        for device, count in sorted(running.items()):
            jobs.add_metric([Status.RUNNING.value, device, ""], count)
        for row in state.store.job_counts():
            jobs.add_metric([row["status"], row["device"], row["engine"]], row["n"])
        yield jobs
        yield queue


class ServerMetrics:
    """The metrics of one app: its registry, the job histograms and the HTTP counters."""

    def __init__(self, state: Callable[[], ServerState | None]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._state = state
        self.finished = PromCounter(
            "qibo_jobs_finished",
            "Jobs that ended since the server started, by status, device and engine",
            ["status", "device", "engine"],
            registry=self.registry,
        )
        self.run_seconds = Histogram(
            "qibo_job_run_seconds",
            "Time a job ran on a worker (measured by the worker)",
            ["device"],
            buckets=JOB_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.wait_seconds = Histogram(
            "qibo_job_wait_seconds",
            "Time from a job's submission to its result, less its run time",
            ["device"],
            buckets=JOB_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.requests = PromCounter(
            "qibo_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "qibo_http_request_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            registry=self.registry,
        )
        self.registry.register(JobsCollector(state))

    def job_finished(self, outcome: Outcome) -> None:
        """A job's end, stored just now: count it, and observe its run and wait times."""
        state = self._state()
        row = None if state is None else state.store.job_times(outcome.pid)
        if row is None:  # deleted while it ran: its end was not stored
            return
        device = row["device"]
        status = Status.SUCCESS.value if outcome.ok else Status.ERROR.value
        self.finished.labels(status, device, outcome.engine or "").inc()
        run = outcome.runtime or 0.0
        if outcome.runtime is not None:
            self.run_seconds.labels(device).observe(run)
        total = _seconds_between(row["created_at"], row["updated_at"])
        self.wait_seconds.labels(device).observe(max(0.0, total - run))

    def scrape(self) -> Response:
        """The registry in Prometheus' text format."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def route_of(app: Any, scope: Scope) -> str:
    """The template of the route that answered (``/api/jobs/{pid}/``), or :data:`UNMATCHED`.

    Starlette records the matched route in ``scope["route"]``; an older one does not, and the
    routes are then matched again, as the router did.
    """
    route = scope.get("route")
    if route is None:
        for candidate in getattr(app, "routes", ()):
            match, _ = candidate.matches(scope)
            if match == Match.FULL:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class HttpMetrics:
    """ASGI middleware: count each answer by method, route template and status, and time it."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        metrics: ServerMetrics,
        router: Any,
    ) -> None:
        self.app = app
        self.metrics = metrics
        #: The app's router (its routes, to match a request again on an older Starlette).
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_counted(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            route = route_of(self.router, scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status[0])).inc()
            self.metrics.request_seconds.labels(method, route).observe(
                time.perf_counter() - started
            )


def add_metrics(app: FastAPI) -> ServerMetrics:
    """Give ``app`` its registry, ``GET /metrics`` and the HTTP middleware.

    The job listener is attached by :func:`listen`, once the lifespan has made the state.
    """
    metrics = ServerMetrics(lambda: getattr(app.state, "server", None))
    app.state.metrics = metrics

    async def scrape(request: Request) -> Response:
        """The server's metrics in Prometheus' text format (no token needed; no user in them)."""
        return metrics.scrape()

    app.add_api_route(METRICS_PATH, scrape, methods=["GET"], include_in_schema=False)
    app.add_middleware(HttpMetrics, metrics=metrics, router=app.router)
    return metrics


def listen(app: FastAPI, state: ServerState) -> None:
    """Observe the jobs ``state`` finishes in ``app``'s metrics."""
    state.finish_listeners.append(app.state.metrics.job_finished)


__all__ = [
    "JOB_SECONDS_BUCKETS",
    "METRICS_PATH",
    "UNMATCHED",
    "HttpMetrics",
    "JobsCollector",
    "ServerMetrics",
    "add_metrics",
    "device_load",
    "listen",
    "route_of",
]
