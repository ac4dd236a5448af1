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
    MalformedResponseError,
    UnknownJobStatusError,
)
from qibo_client.job import MAX_SERVER_WAIT, Job, JobStatus, job_path, poll_intervals
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
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        extra = 0.0
        if wait is not None and wait > 0:
            # With a live display, hold at most until the status line is due (``Job.wait`` then
            # takes over and shows it); a job that ends sooner is still one round trip.
            seconds = min(float(wait), SHOW_AFTER if self.progress else MAX_SERVER_WAIT)
            headers["Prefer"] = f"wait={seconds:.3g}"
            extra = seconds
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
        if self.journal:
            _journal.record(
                self.url,
                pid,
                device=device,
                project=project,
                nshots=nshots,
                path=self._journal_path,
            )
        logger.debug("Submitted job %s to %s", pid, self.url)
        return Job(self, pid, body if "status" in body else None, nbits=_measured_bits(circuit))

    def submit_many(
        self,
        circuits: Iterable[Any],
        nshots: int | None = None,
        device: str = "sim",
        project: str = "personal",
        verbatim: bool = False,
    ) -> list[Job]:
        """Queue several circuits without waiting, over the one keep-alive connection."""
        return [self.submit(circuit, nshots, device, project, verbatim) for circuit in circuits]

    def wait_all(self, jobs: Sequence[Job], timeout: float | None = None) -> list[JobStatus]:
        """Wait for every job, with one progress bar for the batch; raises JobTimeoutError."""
        start = time.monotonic()
        statuses = []
        with BatchProgress(self.progress, len(jobs)) as bar:
            for job in jobs:
                remaining = None
                if timeout is not None:  # past the deadline, wait() still looks once
                    remaining = max(0.0, timeout - (time.monotonic() - start))
                statuses.append(job.wait(remaining, observer=bar))
                bar.advance()
        return statuses

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
