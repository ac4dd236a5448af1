"""``Client(url, token)``: the original qibo-client API, and jobs one can leave and pick up.

The original names keep working (``Client(url, token)``, ``run_circuit``,
``check_client_server_qibo_versions``, ``check_response_has_keys``,
``wait_for_response_to_get_request``); around them, ``submit`` returns a
:class:`~qibo_client.job.Job` without waiting, ``submit_many``/``wait_all`` run batches with one
progress bar, and every submission lands in the local journal so a crashed script can find its
results later.

What a fast job costs: ``run_circuit`` sends one ``POST /api/jobs/`` with ``Prefer: wait=S``; a
server of ours holds the answer until the job ends and returns it with the counts, so the whole
job is that one round trip. An older server answers with a pid, and then one
``GET /api/jobs/{pid}/?wait=S`` (or a short backoff poll) fetches the result.

Batches (``submit_many``/``wait_all``) use the batch extension of our servers
(``POST``/``GET /api/jobs/batch/``): a whole batch, results included, can be one round trip,
which is what a variational loop pays per step. A server without it (an older one of ours, TII's
service) answers 404 or 405 the first time; the client remembers that and sends one request per
job, as before.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from qibo_client import journal as _journal
from qibo_client.config import (
    TERMINAL_STATUSES,
    TOKEN_ENV,
    URL_ENV,
    ConfigurationError,
    IncompatibleVersionsError,
    JobFailedError,
    JobPostServerError,
    JobTimeoutError,
    MalformedResponseError,
    QiboApiError,
    UnknownJobStatusError,
)
from qibo_client.job import (
    DISPLAY_SERVER_WAIT,
    MAX_SERVER_WAIT,
    Job,
    JobStatus,
    job_path,
    poll_intervals,
)
from qibo_client.progress import SHOW_AFTER, BatchProgress, progress_enabled
from qibo_client.transport import (
    ApiSession,
    _qibo_version,
    check_response_has_keys,
    parse_json,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import requests
    from urllib3.util.retry import Retry

logger = logging.getLogger("qibo_client")

#: Server-side hold asked by ``run_circuit`` on submission (a fast job then costs one round trip).
RUN_CIRCUIT_WAIT = 10.0
#: The batch extension's path, and the most jobs one batch POST carries (the server's limit).
BATCH_PATH = "/api/jobs/batch/"
MAX_BATCH_SUBMIT = 1000
#: Most pids one batch GET asks about: 36-character pids keep the URL under 8 kB (proxies' limit).
MAX_BATCH_GET = 150
#: What a server without the batch extension answers on its path.
NO_BATCH_STATUSES = frozenset({404, 405})


def _version_tuple(version: str) -> tuple[int, ...]:
    """``"0.3.6"`` -> ``(0, 3, 6)``; pre-release and local tags are ignored."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(version))
    if match is None:
        raise MalformedResponseError(f"The server sent an unreadable qibo version: {version!r}")
    parts = [int(part) for part in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _measured_bits(circuit: Any) -> int | None:
    measurements = getattr(circuit, "measurements", None)
    if not isinstance(measurements, list):
        return None
    return sum(len(gate.target_qubits) for gate in measurements)


class Client:
    """A connection to one cluster, for one user.

    ``url`` and ``token`` default to ``QIBO_CLIENT_URL`` and ``QIBO_CLIENT_TOKEN``. ``timeout`` is
    the read timeout of each request (server-side waits add their own length to it); ``verify`` is
    ``True``, a CA bundle path, or ``False``; ``progress`` None means "on in a terminal or a
    notebook"; ``journal=False`` skips the local record of submissions.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
        progress: bool | None = None,
        check_versions: bool = True,
        journal: bool = True,
        retry: Retry | None = None,
    ) -> None:
        url = url or os.environ.get(URL_ENV)
        token = token or os.environ.get(TOKEN_ENV)
        if not url:
            raise ConfigurationError(f"No server URL: pass url=... or set {URL_ENV}.")
        if not token:
            raise ConfigurationError(f"No token: pass token=... or set {TOKEN_ENV}.")
        self.url = url.rstrip("/")
        self._session = ApiSession(self.url, token, timeout=timeout, verify=verify, retry=retry)
        self.progress = progress_enabled(progress)
        self.journal = journal
        self._journal_path = _journal.journal_path() if journal else None
        #: None until known: does this server honour ``?wait=`` (see ``Job.wait``)?
        self._server_waits: bool | None = None
        #: None until known: does this server have the batch extension (``BATCH_PATH``)?
        self._server_batches: bool | None = None
        self.server_versions: dict[str, Any] | None = None
        if check_versions:
            self.check_client_server_qibo_versions()

    def __repr__(self) -> str:
        return f"Client(url={self.url!r})"

    @property
    def base_url(self) -> str:
        """The original client's name for :attr:`url`."""
        return self.url

    @property
    def token(self) -> str:
        """The token in use (never shown in reprs, logs or errors)."""
        return str(self._session.headers["x-api-token"])

    def close(self) -> None:
        """Close the keep-alive connections."""
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- versions ----------------------------------------------------------------------------

    def check_client_server_qibo_versions(self) -> None:
        """Refuse to work with a server whose qibo this local qibo cannot match.

        Local qibo below the server's ``minimum_client_qibo_version`` raises
        :class:`IncompatibleVersionsError`; an old server that reports only ``qibo_version`` must
        match exactly; a server newer than the local qibo only warns. Asked once per client.
        """
        if self.server_versions is None:
            response = self._session.call("GET", "/api/qibo_version/")
            self.server_versions = check_response_has_keys(response, ())
        body = self.server_versions
        local = _qibo_version()
        if "minimum_client_qibo_version" in body or "server_qibo_version" in body:
            body = check_response_has_keys(
                body, ("server_qibo_version", "minimum_client_qibo_version")
            )
            minimum = str(body["minimum_client_qibo_version"])
            server = str(body["server_qibo_version"])
            if _version_tuple(local) < _version_tuple(minimum):
                raise IncompatibleVersionsError(
                    f"The server at {self.url} needs qibo>={minimum}, but qibo {local} is "
                    f"installed: pip install -U 'qibo>={minimum}'."
                )
            if _version_tuple(local) < _version_tuple(server):
                logger.warning(
                    "Local qibo %s is older than the server's %s; consider upgrading.",
                    local,
                    server,
                )
        elif "qibo_version" in body:
            server = str(body["qibo_version"])
            if _version_tuple(local) != _version_tuple(server):
                raise IncompatibleVersionsError(
                    f"The server at {self.url} runs qibo {server} and accepts no other version, "
                    f"but qibo {local} is installed: pip install 'qibo=={server}'."
                )
        else:
            check_response_has_keys(body, ("server_qibo_version", "minimum_client_qibo_version"))

    # -- jobs --------------------------------------------------------------------------------

    def submit(
        self,
        circuit: Any,
        nshots: int | None = None,
        device: str = "sim",
        project: str = "personal",
        verbatim: bool = False,
        wait: float | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> Job:
        """Queue a circuit (a qibo Circuit or OpenQASM 2.0 text) and return its :class:`Job`.

        ``wait=S`` asks the server to hold the answer up to S seconds (at most 1 s when a live
        status line is on): if the job ends by then the Job is born final, results included.
        The submission carries an ``Idempotency-Key`` so that a retried POST never queues a
        second job.
        """
        from qibo_client.qasm import to_qasm

        payload = {
            "circuit": to_qasm(circuit),
            "nshots": nshots,
            "device": device,
            "project": project,
            "verbatim": verbatim,
        }
        headers, extra = self._hold(wait)
        headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        response = self._session.call(
            "POST", "/api/jobs/", json_body=payload, headers=headers, extra_read=extra
        )
        body = parse_json(response)
        if not isinstance(body, dict):
            raise MalformedResponseError("The server answered the submission with no JSON object")
        pid = body.get("pid")
        if not pid:
            detail = body.get("detail")
            raise JobPostServerError(str(detail) if detail else None)
        pid = str(pid)
        self._journal(pid, device, project, nshots)
        logger.debug("Submitted job %s to %s", pid, self.url)
        return Job(self, pid, body if "status" in body else None, nbits=_measured_bits(circuit))

    def _hold(self, wait: float | None) -> tuple[dict[str, str], float]:
        """The ``Prefer: wait`` header for a submission, and the read time it adds."""
        if wait is None or wait <= 0:
            return {}, 0.0
        # With a live display, hold at most until the status line is due (the waits then take
        # over and show it); a job that ends sooner is still one round trip.
        seconds = min(float(wait), SHOW_AFTER if self.progress else MAX_SERVER_WAIT)
        return {"Prefer": f"wait={seconds:.3g}"}, seconds

    def _journal(self, pid: str, device: str, project: str, nshots: int | None) -> None:
        if self.journal:
            _journal.record(
                self.url,
                pid,
                device=device,
                project=project,
                nshots=nshots,
                path=self._journal_path,
            )

    def submit_many(
        self,
        circuits: Iterable[Any],
        nshots: int | None = None,
        device: str = "sim",
        project: str = "personal",
        verbatim: bool = False,
        wait: float | None = None,
    ) -> list[Job]:
        """Queue several circuits; with ``wait=S``, jobs that end within S are born final.

        On a server with the batch extension this is one POST per 1000 circuits, all or none
        queued (only the last POST is held by ``wait``: the queue runs in order, so the earlier
        ones are done by then or nearly). Otherwise one POST per circuit, without holds.
        """
        from qibo_client.qasm import to_qasm

        circuits = list(circuits)
        texts = [to_qasm(circuit) for circuit in circuits]  # refuse before anything is queued
        jobs: list[Job] = []
        while len(jobs) < len(circuits) and self._server_batches is not False:
            end = min(len(circuits), len(jobs) + MAX_BATCH_SUBMIT)
            try:
                jobs += self._submit_batch(
                    circuits[len(jobs) : end],
                    texts[len(jobs) : end],
                    {"nshots": nshots, "device": device, "project": project, "verbatim": verbatim},
                    wait if end == len(circuits) else None,
                )
            except QiboApiError as error:
                if error.status not in NO_BATCH_STATUSES or self._server_batches:
                    raise
                logger.debug("Server at %s has no batch endpoint; one POST per job", self.url)
                self._server_batches = False
                break
            self._server_batches = True
        return jobs + [
            self.submit(text, nshots, device, project, verbatim) for text in texts[len(jobs) :]
        ]

    def _submit_batch(
        self, circuits: list[Any], texts: list[str], fields: dict[str, Any], wait: float | None
    ) -> list[Job]:
        """One ``POST /api/jobs/batch/`` (idempotent under retries) -> its Jobs, in order."""
        headers, extra = self._hold(wait)
        headers["Idempotency-Key"] = uuid.uuid4().hex
        payload = {"jobs": [{"circuit": text, **fields} for text in texts]}
        response = self._session.call(
            "POST", BATCH_PATH, json_body=payload, headers=headers, extra_read=extra
        )
        body = parse_json(response)
        pids = body.get("pids") if isinstance(body, dict) else None
        if not isinstance(pids, list) or len(pids) != len(texts) or not all(pids):
            raise MalformedResponseError(
                f"The server answered a batch of {len(texts)} jobs without as many pids"
            )
        objects = _per_job(body, "jobs", len(pids))
        statuses = _per_job(body, "statuses", len(pids))
        jobs = []
        for index, (pid, circuit) in enumerate(zip(pids, circuits, strict=True)):
            pid = str(pid)
            self._journal(pid, fields["device"], fields["project"], fields["nshots"])
            data = None
            if objects is not None:
                data = objects[index]
                if not isinstance(data, dict) or str(data.get("pid")) != pid:
                    raise MalformedResponseError(f"The batch answer's jobs[{index}] is not {pid}")
            elif statuses is not None:
                data = {"pid": pid, "status": statuses[index]}
            jobs.append(Job(self, pid, data, nbits=_measured_bits(circuit)))
        logger.debug("Submitted %d jobs to %s in one batch", len(jobs), self.url)
        return jobs

    def wait_all(self, jobs: Sequence[Job], timeout: float | None = None) -> list[JobStatus]:
        """Wait for every job, with one progress bar for the batch; raises JobTimeoutError.

        On a server with the batch extension, one ``GET /api/jobs/batch/`` per 150 unfinished
        jobs and per server-side hold (up to 30 s); otherwise one wait per job.
        """
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        with BatchProgress(self.progress, len(jobs)) as bar:
            pending = []
            for job in jobs:
                if job.is_final:
                    bar.advance()
                else:
                    pending.append(job)
            if pending and self._server_batches is not False:
                pending = self._wait_batch(pending, timeout, bar)
            for job in pending:
                remaining = None
                if deadline is not None:  # past the deadline, wait() still looks once
                    remaining = max(0.0, deadline - time.monotonic())
                job.wait(remaining, observer=bar)
                bar.advance()
        return [job.status() for job in jobs]  # all final: no request

    def _wait_batch(
        self, pending: list[Job], timeout: float | None, bar: BatchProgress
    ) -> list[Job]:
        """Batch GETs until every job is final -> []; the jobs left if the server lacks them."""
        cap = DISPLAY_SERVER_WAIT if bar.enabled else MAX_SERVER_WAIT
        deadline = None if timeout is None else time.monotonic() + timeout
        intervals = poll_intervals()
        while pending:
            remaining = float("inf") if deadline is None else deadline - time.monotonic()
            hold = max(0.0, min(cap, remaining))
            sent = time.monotonic()
            for first in range(0, len(pending), MAX_BATCH_GET):
                chunk = pending[first : first + MAX_BATCH_GET]
                try:
                    answer = self._get_batch(chunk, hold)
                except QiboApiError as error:
                    unnamed = not any(job.pid in (error.detail or "") for job in chunk)
                    if error.status in NO_BATCH_STATUSES and unnamed and not self._server_batches:
                        logger.debug("Server at %s has no batch GET; one wait per job", self.url)
                        self._server_batches = False
                        return [job for job in pending if not job.is_final]
                    raise
                self._server_batches = True
                for job, data in zip(chunk, answer, strict=True):
                    if job.receive(data).is_terminal:
                        bar.advance()
                    else:
                        bar.update(job.data, time.monotonic() - sent)
                hold = 0.0  # later chunks: the first one's hold has passed already
            before = len(pending)
            pending = [job for job in pending if not job.is_final]
            if pending and deadline is not None and time.monotonic() >= deadline:
                raise _batch_timeout(pending, float(timeout or 0.0))
            if pending and len(pending) == before and time.monotonic() - sent < cap / 2:
                # Nothing ended and the server did not hold: do not spin on it.
                time.sleep(min(next(intervals), max(0.0, remaining)))
        return []

    def _get_batch(self, jobs: list[Job], hold: float) -> list[dict[str, Any]]:
        params = {"pids": ",".join(job.pid for job in jobs)}
        if hold > 0:
            params["wait"] = f"{hold:.3g}"
        response = self._session.call(
            "GET", BATCH_PATH, params=params, extra_read=hold, job_url=True
        )
        body = parse_json(response)
        objects = _per_job(body, "jobs", len(jobs))
        if objects is None:
            raise MalformedResponseError(f"The batch answer has no 'jobs' for {len(jobs)} pids")
        for job, data in zip(jobs, objects, strict=True):
            if not isinstance(data, dict) or str(data.get("pid")) != job.pid:
                raise MalformedResponseError("The batch answer does not follow the asked pids")
        return objects

    def get_job(self, pid: str) -> Job:
        """The job ``pid``, fetched once (raises JobNotFoundError if the server has no such job)."""
        job = Job.from_pid(self, pid)
        job.refresh()
        return job

    def jobs(self) -> list[dict[str, Any]]:
        """This user's jobs as the server lists them."""
        body = parse_json(self._session.call("GET", "/api/jobs/"))
        if not isinstance(body, list):
            raise MalformedResponseError("The job list is not a JSON list")
        return body

    def delete_job(self, pid: str) -> None:
        """Remove a job (the server cancels it first if it is still queued or running)."""
        self._session.call("DELETE", job_path(pid), job_url=True)
        logger.info("Deleted job %s", pid)

    def delete_all_jobs(self) -> list[str]:
        """Remove every job of this user; returns their pids."""
        response = self._session.call("DELETE", "/api/jobs/bulk_delete/")
        deleted = check_response_has_keys(response, ("deleted",))["deleted"]
        return [str(pid) for pid in deleted]

    def disk_quota(self) -> dict[str, Any]:
        """``{"user", "kbs_left", "kbs_max"}`` for this user."""
        body = parse_json(self._session.call("GET", "/api/disk_quota/"))
        if isinstance(body, list) and body:
            body = body[0]
        return check_response_has_keys(body, ("kbs_left", "kbs_max"))

    def project_quotas(self) -> list[dict[str, Any]]:
        """Per project and device: seconds, shots and jobs left."""
        body = parse_json(self._session.call("GET", "/api/projectquotas/"))
        if not isinstance(body, list):
            raise MalformedResponseError("The project quotas are not a JSON list")
        return [check_response_has_keys(item, ("project", "partition")) for item in body]

    def devices(self) -> list[dict[str, Any]]:
        """The devices (partitions) this user may run on, one entry each."""
        seen: dict[str, dict[str, Any]] = {}
        for quota in self.project_quotas():
            partition = quota["partition"]
            if isinstance(partition, dict) and "name" in partition:
                seen.setdefault(str(partition["name"]), partition)
        return list(seen.values())

    # -- the original entry point -------------------------------------------------------------

    def run_circuit(
        self,
        circuit: Any,
        nshots: int = 1000,
        device: str = "sim",
        *,
        project: str = "personal",
        verbatim: bool = False,
        timeout: float | None = None,
    ) -> np.ndarray | None:
        """Run ``circuit`` and return its frequencies as a dense int64 array of length ``2**m``.

        Returns None if the job failed on the server (the reason is logged at ERROR level).
        Raises :class:`JobTimeoutError` after ``timeout`` seconds, the job staying retrievable.
        """
        hold = RUN_CIRCUIT_WAIT if timeout is None else min(RUN_CIRCUIT_WAIT, timeout)
        job = self.submit(circuit, nshots, device, project, verbatim, wait=hold)
        try:
            return job.dense_frequencies(timeout)
        except JobFailedError as error:
            logger.error("Job %s failed on the server: %s", job.pid, error.reason or "no reason")
            return None


def _per_job(body: Any, name: str, count: int) -> list[Any] | None:
    """``body[name]`` if it is a list of ``count`` items; None if absent; else malformed."""
    value = body.get(name) if isinstance(body, dict) else None
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != count:
        raise MalformedResponseError(f"The batch answer's {name!r} is not a list of {count}")
    return value


def _batch_timeout(jobs: list[Job], timeout: float) -> JobTimeoutError:
    shown = ", ".join(job.pid for job in jobs[:10]) + (", ..." if len(jobs) > 10 else "")
    return JobTimeoutError(
        f"{len(jobs)} job(s) did not finish within {timeout:g} s: {shown}. They are still on "
        "the server: resume with client.wait_all(jobs) or client.get_job(pid).wait().",
        pid=jobs[0].pid,
        timeout=timeout,
    )


def check_client_server_qibo_versions(client: Client) -> None:
    """Function form of :meth:`Client.check_client_server_qibo_versions`."""
    client.check_client_server_qibo_versions()


def wait_for_response_to_get_request(
    url: str,
    *,
    token: str | None = None,
    timeout: float | None = None,
    session: ApiSession | None = None,
) -> requests.Response:
    """GET ``url`` until the job behind it is finished; return that final response.

    A JSON body with a non-terminal ``status`` (or the old plain-text "Job still in progress")
    means "not yet": polling backs off from 50 ms to 5 s. An unknown status is an error.
    """
    from qibo_client.config import JobTimeoutError

    own = session is None
    sess = session or ApiSession(url, token or os.environ.get(TOKEN_ENV, ""))
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        for interval in poll_intervals():
            response = sess.call("GET", url)
            if not _still_running(response):
                return response
            if deadline is not None and time.monotonic() + interval > deadline:
                raise JobTimeoutError(f"{url} was not finished within {timeout:g} s")
            time.sleep(interval)
    finally:
        if own:
            sess.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _still_running(response: requests.Response) -> bool:
    if response.content.strip() == b"Job still in progress":
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    if isinstance(body, dict) and "status" in body:
        status = str(body["status"]).strip().lower()
        if status not in {s.value for s in JobStatus}:
            raise UnknownJobStatusError(f"{response.url} reports unknown job status {status!r}")
        return status not in TERMINAL_STATUSES
    return False


__all__ = [
    "Client",
    "check_client_server_qibo_versions",
    "check_response_has_keys",
    "wait_for_response_to_get_request",
]
