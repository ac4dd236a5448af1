"""A job on the server, known by its pid: its status, its wait and its result.

A :class:`Job` talks to the server only through the public methods of
:class:`~qibo_client.http.api.ServerApi` (fetch with an optional hold, download, delete) and reads
what the server supports from ``api.features``; it never sees the ``Client`` that made it. Waiting
is :func:`qibo_client.jobs.waiting.wait_until`, the one wait policy of the package.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from qibo_client.errors import (
    JobFailedError,
    JobTimeoutError,
    MalformedResponseError,
    QiboApiError,
    QiboClientError,
    UnsupportedCircuitError,
    WaitInterrupted,
)
from qibo_client.http.api import ServerApi
from qibo_client.http.session import MAX_RESPONSE_BYTES, check_response_has_keys
from qibo_client.jobs.progress import WaitObserver, WaitStatus
from qibo_client.jobs.waiting import Deadline, Step, poll_intervals, wait_until
from qibo_client.protocol import COLLAPSE_OUTCOMES_KEY, Status, job_path
from qibo_client.results.counts import (
    ResampledCountsWarning,
    answer_limit,
    check_counts,
    dense_from_frequencies,
    frequencies_from_archive,
    read_archive,
    warn_resampled,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

logger = logging.getLogger("qibo_client.jobs.job")

#: The tail of a downloaded error log kept as a failure reason.
MAX_REASON_CHARS = 4000
#: How a service without the download path answers it (the 2026 generation: 404).
GONE_STATUSES = frozenset({404, 405, 410})


class HasServerApi(Protocol):
    """What :meth:`Job.from_pid` needs of a client: its API object (``Client`` has it)."""

    @property
    def api(self) -> ServerApi: ...


#: The job statuses, as a client reads them (:meth:`Status.parse`, :attr:`Status.is_terminal`):
#: the protocol's one enum under the name the first release gave it.
JobStatus = Status


class Job:
    """A job on the server, known by its ``pid``.

    Built by ``client.submit`` or rebuilt from a pid alone with :meth:`from_pid`. Reading the
    status asks the server until the job is final; after that the status and the result are
    cached and cost nothing. ``progress`` shows a status line while a wait lasts.
    """

    def __init__(
        self,
        api: ServerApi,
        pid: str,
        data: dict[str, Any] | None = None,
        *,
        nbits: int | None = None,
        nshots: int | None = None,
        progress: bool = False,
        circuit: Any = None,
        submitted_at: float | None = None,
    ) -> None:
        self.pid = pid
        #: When this client submitted the job (:func:`qibo_client.jobs.waiting.now`); None for a job
        #: rebuilt from its pid. A wait begun just after it polls first ``POLL_START`` later.
        self.submitted_at = submitted_at
        self.api = api
        self.progress = progress
        #: The qibo Circuit this job runs, when it was submitted from one (for :meth:`result`).
        self.circuit = circuit
        self._nbits = nbits
        self._nshots = nshots
        self._data: dict[str, Any] = {"pid": pid}
        self._status: JobStatus | None = None
        self._frequencies: dict[str, int] | None = None
        if data is not None:
            self._update(data)

    @classmethod
    def from_pid(
        cls, client: HasServerApi | ServerApi, pid: str, *, progress: bool | None = None
    ) -> Job:
        """A handle on an existing job; nothing is fetched until it is used.

        ``client`` is the :class:`~qibo_client.qibo_client.Client` (as since the first release)
        or its :class:`~qibo_client.http.api.ServerApi`; ``progress`` defaults to the client's.
        """
        api = client if isinstance(client, ServerApi) else getattr(client, "api", None)
        if not isinstance(api, ServerApi):
            raise TypeError(
                f"Job.from_pid takes a qibo_client Client (or its .api), not "
                f"{type(client).__name__}: Job.from_pid(client, pid), or client.get_job(pid)"
            )
        if progress is None:
            progress = bool(getattr(client, "progress", False))
        return cls(api, pid, progress=progress)

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

    def _update(self, data: Any) -> JobStatus:
        body = check_response_has_keys(data, ("status",))
        status = JobStatus.parse(body["status"])
        counts = None
        if status is JobStatus.SUCCESS and body.get("frequencies") is not None:
            counts = self._checked(body["frequencies"], body)  # nothing kept if refused
        self._data = body
        self._status = status
        if counts is not None:
            self._frequencies = counts
        return status

    def _checked(self, counts: Any, data: dict[str, Any]) -> dict[str, int]:
        """Counts checked against what this job was asked (see :func:`check_counts`)."""
        return check_counts(counts, pid=self.pid, nshots=self._shots(data), nbits=self._nbits)

    def _shots(self, data: dict[str, Any]) -> int | None:
        """The shots asked, else the device default the server reports in ``nshots``."""
        if self._nshots is not None:
            return self._nshots
        reported = data.get("nshots")
        return reported if type(reported) is int else None

    def _limit(self) -> int:
        """The largest answer this job can honestly produce (refused while read if larger)."""
        return answer_limit(self._shots(self._data), self._nbits, MAX_RESPONSE_BYTES)

    def receive(self, data: Any) -> JobStatus:
        """Take a job object fetched by someone else (a batch answer) as this job's news."""
        return self._update(data)

    def refresh(self, wait: float | None = None) -> JobStatus:
        """Fetch the job once; with ``wait``, let the server hold the answer up to that long."""
        return self._update(self.api.get_job(self.pid, hold=wait or 0.0, max_bytes=self._limit()))

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
        running and stays retrievable. Ctrl-C raises :class:`WaitInterrupted` (a
        ``KeyboardInterrupt``) naming the pid and the ways on; the job is not cancelled.
        ``observer`` replaces the job's own status line (a batch passes its progress bar).
        """
        if self._status is not None and self._status.is_terminal:
            return self._status
        try:
            if observer is not None:
                return self._wait(timeout, observer)
            with WaitStatus(self.progress, self.pid) as line:
                return self._wait(timeout, line)
        except KeyboardInterrupt:
            # The job runs on: say so and how to go on, not where in urllib3 the signal landed.
            raise WaitInterrupted([self.pid]) from None

    def _wait(self, timeout: float | None, display: WaitObserver) -> JobStatus:
        deadline = Deadline(timeout)

        def step(hold: float) -> Step:
            before = self._status
            status = self.refresh(wait=hold)
            if not status.is_terminal:
                display.update(self._data, deadline.elapsed())
            return Step(status.is_terminal, news=before is not None and status is not before)

        def late() -> JobTimeoutError:
            return JobTimeoutError(pid=self.pid, timeout=float(timeout or 0.0))

        wait_until(step, deadline, self.api.features, late, since=self.submitted_at)
        assert self._status is not None
        return self._status

    # -- results -----------------------------------------------------------------------------

    def frequencies(self, timeout: float | None = None) -> dict[str, int]:
        """``{bitstring: count}`` in measurement order; waits for the job first.

        The counts are the job object's ``frequencies``; only without them is the 0.2
        generation's download read, and a server with neither raises
        :class:`MalformedResponseError`. Raises :class:`JobFailedError` (with the server's
        reason) if the job failed. The dict is the job's cached result, not a copy (a large
        result has a million entries): treat it as read-only.
        """
        status = self.wait(timeout)
        if status is JobStatus.ERROR:
            raise JobFailedError(pid=self.pid, reason=self._failure_reason())
        if self._frequencies is None:
            logger.debug("Job %s gave no frequencies in JSON; reading its download", self.pid)
            self._frequencies = self._checked(
                frequencies_from_archive(self._counts_download(), resampled=self._resampled),
                self._data,
            )
        return self._frequencies

    def collapse_outcomes(self, timeout: float | None = None) -> dict[str, int] | None:
        """The joint counts of the collapsing and final measurements, or None where the server
        sent none (it does not list the extension, the circuit did not ask, the device could
        not). Bits: every collapse in circuit order, each one's qubits in increasing order, then
        the final measurements' (:data:`~qibo_client.protocol.EXTENSION_COLLAPSE_OUTCOMES`)."""
        self.frequencies(timeout)
        joint = self._data.get(COLLAPSE_OUTCOMES_KEY)
        if joint is None:
            return None
        return check_counts(joint, pid=self.pid, nshots=self._shots(self._data), nbits=None)

    def _resampled(self) -> None:
        """Say once per client (its :class:`ServerApi`) that a job's counts were drawn locally."""
        if ResampledCountsWarning not in self.api.warned:
            self.api.warned.add(ResampledCountsWarning)
            warn_resampled(f" for job {self.pid} from {self.api.url}")

    def _counts_download(self) -> bytes:
        """The 0.2 generation's result archive, read only when the job object had no counts.

        A 2026-generation service has no download (``GONE_STATUSES``): a job with neither is a
        server that sent no counts at all, said as such rather than as "no such job".
        """
        try:
            return self._download()
        except QiboApiError as error:
            if error.status not in GONE_STATUSES:
                raise
            raise MalformedResponseError(
                f"Job {self.pid} succeeded, but the server sent no counts: its job object has "
                f"no 'frequencies' and its download answered HTTP {error.status}. The server "
                "speaks neither generation of the protocol (or the job was deleted meanwhile); "
                f"its job object holds: {', '.join(sorted(self._data))}."
            ) from None

    def _download(self) -> bytes:
        return self.api.download(self.pid)

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

    def result(self, timeout: float | None = None) -> Any:
        """The job's qibo result: the same ``MeasurementOutcomes`` the qibo backend builds.

        Waits for the job (raises :class:`JobFailedError` if it failed). Its registers are the
        circuit's own measurement gates when the job was submitted from a Circuit; a job rebuilt
        from its pid gets one register over all measured bits. This reads like the official
        client's ``QiboJob.result()``, which loads the server's ``results.npy`` (never unpickled
        here: the counts come from the job object).
        """
        from qibo_client.results.outcomes import outcomes_for

        return outcomes_for(self.circuit, self.frequencies(timeout))

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
        self.api.delete(self.pid)
        logger.info("Deleted job %s", self.pid)


__all__ = ["Job", "JobStatus", "job_path", "poll_intervals"]  # the last two: old homes
