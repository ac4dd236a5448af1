"""A job on the cluster: its status, a wait that always ends, and its result, cached once final.

Waiting uses the protocol's server-side wait (``GET /api/jobs/{pid}/?wait=S``): the server holds
the request until the job ends, so a job that is already done, or ends within S, costs exactly one
round trip, and a long job costs one request every S seconds instead of a poll every 0.5 s. An
older server that ignores ``wait`` answers at once; the client notices (the answer came back much
sooner than asked, still not final), remembers it for that server, and polls instead, starting at
50 ms and backing off 1.5x to 5 s.

A status this client does not know is an error (:class:`UnknownJobStatusError`), never a reason to
keep waiting; a wait past its timeout raises :class:`JobTimeoutError`, and the job stays on the
server, retrievable with ``client.get_job(pid)`` (or ``Job.from_pid``) at any later time.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from qibo_client.config import (
    JobFailedError,
    JobTimeoutError,
    MalformedResponseError,
    QiboClientError,
    UnknownJobStatusError,
    UnsupportedCircuitError,
)
from qibo_client.progress import WaitObserver, WaitStatus
from qibo_client.results import (
    dense_from_frequencies,
    frequencies_from_archive,
    read_archive,
    validate_frequencies,
)
from qibo_client.transport import check_response_has_keys, parse_json

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from qibo_client.qibo_client import Client

logger = logging.getLogger("qibo_client.job")

#: Longest server-side wait the protocol allows per request.
MAX_SERVER_WAIT = 30.0
#: With a live status line, hold requests shorter so that the line can show news.
DISPLAY_SERVER_WAIT = 5.0
#: A server-side wait that returns before this fraction of the asked time, not final, was ignored.
IGNORED_WAIT_FRACTION = 0.5
#: The tail of a downloaded error log kept as a failure reason.
MAX_REASON_CHARS = 4000
#: Polling fallback: first interval, growth, cap.
POLL_START = 0.05
POLL_GROWTH = 1.5
POLL_MAX = 5.0


class JobStatus(enum.Enum):
    """The protocol's job statuses; ``SUCCESS`` and ``ERROR`` are the only terminal ones."""

    QUEUEING = "queueing"
    PENDING = "pending"
    RUNNING = "running"
    POSTPROCESSING = "postprocessing"
    SUCCESS = "success"
    ERROR = "error"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @classmethod
    def parse(cls, value: Any) -> JobStatus:
        """Read a status case-insensitively; an unknown one is an error, never "keep waiting"."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise UnknownJobStatusError(
                f"The server reported job status {value!r}, which this client does not know "
                f"(known: {', '.join(s.value for s in cls)}). Upgrade qibo-client, or look at "
                "the job with client.get_job(pid)."
            ) from None


_TERMINAL = frozenset({JobStatus.SUCCESS, JobStatus.ERROR})


def poll_intervals() -> Iterator[float]:
    """50 ms, then 1.5x each time, capped at 5 s."""
    interval = POLL_START
    while True:
        yield interval
        interval = min(interval * POLL_GROWTH, POLL_MAX)


def job_path(pid: str, suffix: str = "") -> str:
    """``/api/jobs/{pid}/``, with the pid quoted: a pid typed by a user cannot reach other paths."""
    return f"/api/jobs/{quote(str(pid), safe='')}/{suffix}"


class Job:
    """A job on the server, known by its ``pid``.

    Built by ``client.submit`` or rebuilt from a pid alone with :meth:`from_pid`. Reading the
    status asks the server until the job is final; after that the status and the result are
    cached and cost nothing.
    """

    def __init__(
        self,
        client: Client,
        pid: str,
        data: dict[str, Any] | None = None,
        *,
        nbits: int | None = None,
    ) -> None:
        self.pid = pid
        self._client = client
        self._nbits = nbits
        self._data: dict[str, Any] = {"pid": pid}
        self._status: JobStatus | None = None
        self._frequencies: dict[str, int] | None = None
        if data is not None:
            self._update(data)

    @classmethod
    def from_pid(cls, client: Client, pid: str) -> Job:
        """A handle on an existing job; nothing is fetched until it is used."""
        return cls(client, pid)

    def __repr__(self) -> str:
        status = self._status.value if self._status else "unknown"
        return f"Job(pid={self.pid!r}, status={status!r})"

    @property
    def data(self) -> dict[str, Any]:
        """The last job object the server sent (status, queue position, runtime, ...)."""
        return dict(self._data)

    @property
    def is_final(self) -> bool:
        return self._status is not None and self._status.is_terminal

    # -- talking to the server ---------------------------------------------------------------

    def _path(self, suffix: str = "") -> str:
        return job_path(self.pid, suffix)

    def _update(self, data: Any) -> JobStatus:
        body = check_response_has_keys(data, ("status",))
        status = JobStatus.parse(body["status"])
        self._data = body
        self._status = status
        if status is JobStatus.SUCCESS and body.get("frequencies") is not None:
            self._frequencies = validate_frequencies(body["frequencies"])
        return status

    def receive(self, data: Any) -> JobStatus:
        """Take a job object fetched by someone else (a batch answer) as this job's news."""
        return self._update(data)

    def refresh(self, wait: float | None = None) -> JobStatus:
        """Fetch the job once; with ``wait``, let the server hold the answer up to that long."""
        params = None
        extra = 0.0
        if wait is not None and wait > 0:
            params = {"wait": f"{wait:.3g}"}
            extra = wait
        response = self._client._session.call(
            "GET", self._path(), params=params, extra_read=extra, job_url=True
        )
        return self._update(parse_json(response))

    def status(self) -> JobStatus:
        """The current status (one request, unless the job is already final)."""
        if self._status is not None and self._status.is_terminal:
            return self._status
        return self.refresh()

    def wait(
        self, timeout: float | None = None, *, observer: WaitObserver | None = None
    ) -> JobStatus:
        """Block until the job is final and return its status.

        Raises :class:`JobTimeoutError` after ``timeout`` seconds (None: no limit); the job keeps
        running and stays retrievable. ``observer`` replaces the job's own status line (a batch
        passes its progress bar).
        """
        if self._status is not None and self._status.is_terminal:
            return self._status
        if observer is not None:
            return self._wait(timeout, observer)
        with WaitStatus(self._client.progress) as line:
            return self._wait(timeout, line)

    def _wait(self, timeout: float | None, display: WaitObserver) -> JobStatus:
        client = self._client
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        intervals = poll_intervals()
        cap = DISPLAY_SERVER_WAIT if display.enabled else MAX_SERVER_WAIT
        first = True
        while True:
            remaining = float("inf") if deadline is None else deadline - time.monotonic()
            if client._server_waits is not False:
                # The first hold is short when a status line may need to appear after ~1 s.
                asked = min(remaining, 1.0 if (first and display.enabled) else cap)
                before = self._status
                sent = time.monotonic()
                status = self.refresh(wait=asked if asked > 0 else None)
                took = time.monotonic() - sent
                if status.is_terminal:
                    return status
                if asked >= 1.0:
                    # An early answer with news (a status change) is fine; early and unchanged
                    # means the server did not hold the request at all.
                    changed = before is not None and status is not before
                    supported = took >= asked * IGNORED_WAIT_FRACTION or changed
                    if client._server_waits is None or not supported:
                        logger.debug(
                            "Server at %s %s server-side waits",
                            client.url,
                            "honours" if supported else "ignores",
                        )
                    client._server_waits = supported
            else:
                if not first:
                    time.sleep(max(0.0, min(next(intervals), remaining)))
                status = self.refresh()
                if status.is_terminal:
                    return status
            if deadline is not None and time.monotonic() >= deadline:
                raise JobTimeoutError(pid=self.pid, timeout=float(timeout or 0.0))
            first = False
            display.update(self._data, time.monotonic() - start)

    # -- results -----------------------------------------------------------------------------

    def frequencies(self, timeout: float | None = None) -> dict[str, int]:
        """``{bitstring: count}`` in measurement order; waits for the job first.

        Raises :class:`JobFailedError` (with the server's reason) if the job failed. The dict is
        the job's cached result, not a copy (a large result has a million entries): treat it as
        read-only.
        """
        status = self.wait(timeout)
        if status is JobStatus.ERROR:
            raise JobFailedError(pid=self.pid, reason=self._failure_reason())
        if self._frequencies is None:
            logger.debug("Job %s gave no frequencies in JSON; reading its download", self.pid)
            self._frequencies = frequencies_from_archive(self._download())
        return self._frequencies

    def _download(self) -> bytes:
        return self._client._session.call("GET", self._path("download/"), job_url=True).content

    def _failure_reason(self) -> str:
        """The server's ``stderr``; a server that keeps it only in the download is read there."""
        reason = str(self._data.get("stderr") or self._data.get("detail") or "").strip()
        if reason:
            return reason
        try:
            log = read_archive(self._download()).get("stderr.log", b"")
        except QiboClientError as error:
            logger.debug("Job %s: no readable error log in its download: %s", self.pid, error)
            return ""
        return log.decode("utf-8", "replace").strip()[-MAX_REASON_CHARS:]

    def dense_frequencies(self, timeout: float | None = None) -> np.ndarray:
        """Counts as an int64 array of length ``2**m``, index = outcome bitstring as binary."""
        counts = self.frequencies(timeout)
        nbits = self._nbits
        if counts:
            key_bits = len(next(iter(counts)))
            if nbits is not None and key_bits != nbits:
                raise MalformedResponseError(
                    f"Job {self.pid} returned {key_bits}-bit outcomes for {nbits} measured bits"
                )
            nbits = key_bits
        try:
            return dense_from_frequencies(counts, nbits or 0)
        except UnsupportedCircuitError as error:
            raise UnsupportedCircuitError(
                f"{error.message} The counts stay available as "
                f"client.get_job({self.pid!r}).frequencies()."
            ) from None

    def cancel(self) -> None:
        """Cancel the job (if still queued or running) and remove it from the server."""
        self._client.delete_job(self.pid)


__all__ = ["Job", "JobStatus", "job_path", "poll_intervals"]
