"""``Client(url, token)``: the original qibo-client API, and jobs one can leave and pick up.

The original names keep working (``Client(url, token)``, ``run_circuit``,
``check_client_server_qibo_versions``, ``check_response_has_keys``,
``wait_for_response_to_get_request``); around them, ``submit`` returns a
:class:`~qibo_client.jobs.job.Job` without waiting, ``submit_many``/``wait_all`` run batches
(:mod:`qibo_client.jobs.batch`) with one progress bar, and every submission lands in the local
journal so a crashed script can find its results later.

The client is the composition root of one connection: settings (:mod:`qibo_client.settings`) ->
transport session -> :class:`~qibo_client.http.api.ServerApi` -> jobs. It holds no protocol logic of
its own beyond the version check and the journal.

What a fast job costs: ``run_circuit`` sends one ``POST /api/jobs/`` with ``Prefer: wait=S``; a
server of ours holds the answer until the job ends and returns it with the counts, so the whole
job is that one round trip. An older server answers with a pid, and then the wait policy
(:mod:`qibo_client.jobs.waiting`) fetches the result.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from qibo_client.errors import (
    ConfigurationError,
    JobFailedError,
    JobPostServerError,
    MalformedResponseError,
    WaitInterrupted,
)
from qibo_client.http import deadline as budget
from qibo_client.http.api import ServerApi, ServerFeatures
from qibo_client.http.compat import check_compatible
from qibo_client.http.session import ApiSession, check_response_has_keys
from qibo_client.jobs import batch as _batch
from qibo_client.jobs import journal as _journal
from qibo_client.jobs.encoding import JobEncoder
from qibo_client.jobs.job import Job, JobStatus
from qibo_client.jobs.legacy import (
    check_client_server_qibo_versions,
    wait_for_response_to_get_request,
)
from qibo_client.jobs.progress import progress_enabled
from qibo_client.jobs.waiting import ANSWER_GRACE, now
from qibo_client.protocol import (
    DEFAULT_DEVICE,
    DEFAULT_PROJECT,
    EXTENSION_SEED,
    EXTENSION_TAGS,
    MAX_WAIT_SECONDS,
)
from qibo_client.settings import CIRCUIT_AUTO, SUBMIT_HOLD, JobOptions, official_order, resolve

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from urllib3.util.retry import Retry

    from qibo_client.http.retries import RetryPolicy

logger = logging.getLogger("qibo_client")

#: Server-side hold asked by ``run_circuit`` on submission (one constant with the backend's).
RUN_CIRCUIT_WAIT = SUBMIT_HOLD


def _measured_bits(circuit: Any) -> int | None:
    measurements = getattr(circuit, "measurements", None)
    if not isinstance(measurements, list):
        return None
    return sum(len(gate.target_qubits) for gate in measurements)


def _may_be_template(circuit: Any, options: JobOptions) -> bool:
    """A qibo circuit with the format left to the client: the encoder may send it as a template."""
    return options.circuit_format == CIRCUIT_AUTO and not isinstance(circuit, str | dict)


def _circuit_object(circuit: Any) -> Any:
    """The qibo Circuit a job came from, or None when it came as text or a raw dict."""
    return None if isinstance(circuit, str | dict) else circuit


class Client:
    """A connection to one cluster, for one user.

    ``url``, ``token`` and ``timeout`` are resolved by :mod:`qibo_client.settings` (argument, then
    ``QIBO_CLIENT_URL``/``QIBO_CLIENT_TOKEN``/``QIBO_CLIENT_TIMEOUT``, then the account saved by
    ``qibo-client login``, then defaults; no default URL). The official 0.2.x order
    ``Client(token, url)`` is understood too (one of the two is a URL); a URL that is none is
    refused without showing it. ``timeout`` is the deadline of each request, retries included
    (server-side holds add their own length to it; see docs/guarantees.md); ``verify`` is
    ``True``, a CA bundle path, or ``False``; ``progress`` None means "on in a terminal or a
    notebook"; ``journal=False`` skips the local record of submissions; ``templates=False``
    sends every circuit whole even to a server that takes templates
    (:mod:`qibo_client.jobs.encoding`).
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | None = None,
        verify: bool | str = True,
        progress: bool | None = None,
        check_versions: bool = True,
        journal: bool = True,
        retry: RetryPolicy | Retry | None = None,
        templates: bool = True,
    ) -> None:
        settings = resolve(*official_order(url, token), timeout)
        self.url = settings.url
        #: One method per endpoint; ``api.features`` says what this server supports.
        self.api = ServerApi(
            ApiSession(
                settings.url, settings.token, timeout=settings.timeout, verify=verify, retry=retry
            )
        )
        #: Turns circuits into job fields: templates where the server lists them, else QASM.
        self.encoder = JobEncoder(self.api, enabled=templates)
        self.progress = progress_enabled(progress)
        self.journal = journal
        self._journal_path = _journal.journal_path() if journal else None
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
        return self.api.token

    @property
    def features(self) -> ServerFeatures:
        """What this server is known to support (holds, batches); learnt as they are tried."""
        return self.api.features

    def close(self) -> None:
        """Close the keep-alive connections."""
        self.api.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- versions ----------------------------------------------------------------------------

    def check_client_server_qibo_versions(self) -> None:
        """Refuse to work with a server whose qibo this local qibo cannot match.

        Reads either generation of the answer (:mod:`qibo_client.http.compat`): local qibo below the
        server's minimum (``minimum_client_qibo_version`` or ``minimum_qibo_version``) raises
        :class:`IncompatibleVersionsError`; an old server that reports only ``qibo_version`` must
        match exactly; a server newer than the local qibo, and a ``minimum_client_version`` above
        this qibo-client's, only warn. Asked once per client; a server that lists its
        ``extensions`` there sets :attr:`features`.
        """
        if self.server_versions is None:
            self.server_versions = self.api.version()
            listed = ServerFeatures.from_version(self.server_versions)
            if listed.listed:
                self.api.features = listed
        check_compatible(self.server_versions, self.url)

    # -- jobs --------------------------------------------------------------------------------

    def submit(
        self,
        circuit: Any,
        nshots: int | None = None,
        device: str = DEFAULT_DEVICE,
        project: str = DEFAULT_PROJECT,
        verbatim: bool = False,
        wait: float | None = None,
        *,
        idempotency_key: str | None = None,
        options: JobOptions | None = None,
        initial_state: Any = None,
        name: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> Job:
        """Queue a circuit and return its :class:`Job`.

        ``circuit`` is a qibo Circuit (written as QASM where the server lists it and QASM says it
        exactly, else as qibo's raw JSON completed by :mod:`qibo_client.circuits.raw`;
        ``options.circuit_format`` forces either), OpenQASM 2.0 text or a raw dict (sent as they
        are). ``initial_state`` (a state vector, or a pure density matrix) goes in the POST's
        ``initial_state`` field with the circuit as raw, only to a server that lists that
        extension. ``options`` replaces ``nshots``/``device``/``project``/``verbatim`` when
        given. ``wait=S`` asks a server that holds to keep the answer up to S seconds (at most
        the protocol's 30 s): if the job ends by then the Job is born final, results included.
        The submission carries an ``Idempotency-Key``; it is re-sent after a failure only to a
        server that honours it. ``name`` and ``tags`` (bounded by ``protocol.MAX_JOB_NAME_CHARS``,
        ``MAX_TAGS`` and ``MAX_TAG_CHARS``) label the job: sent to a server that lists the
        ``tags`` extension, and kept in the local journal (``qibo-client jobs --tag``) anywhere.
        """
        options = options or JobOptions(device, project, verbatim).with_nshots(nshots)
        options = options.with_labels(name, tags)
        from qibo_client.circuits.export import initial_state_fields

        extra = initial_state_fields(circuit, initial_state, self.features.initial_states)
        circuit_fields = self.fields(circuit, options, raw=bool(extra))
        return self._submit(circuit_fields, circuit, options, wait, idempotency_key, extra)

    def fields(
        self, circuit: Any, options: JobOptions | None = None, *, raw: bool = False
    ) -> dict[str, Any]:
        """The circuit part of a job body: a template reference where the server lists
        templates (and the format is left to the server), else the circuit (:meth:`encode`).
        ``raw=True`` (an initial state comes along) always sends the circuit as raw."""
        options = options or JobOptions()
        if not raw and _may_be_template(circuit, options):
            found = self.encoder.template_fields(circuit)
            if found is not None:
                return found
        return {"circuit": self.encode(circuit, options, raw=raw)}

    def _batch_fields(self, circuits: Sequence[Any], options: JobOptions) -> list[dict[str, Any]]:
        """:meth:`fields` of a batch's circuits: templates only where they pay in this batch
        and no more than the server keeps (:meth:`JobEncoder.batch_fields`)."""
        candidates = [c if _may_be_template(c, options) else None for c in circuits]
        found = self.encoder.batch_fields(candidates)
        return [
            fields if fields is not None else {"circuit": self.encode(circuit, options)}
            for circuit, fields in zip(circuits, found, strict=True)
        ]

    def _submit(
        self,
        fields: dict[str, Any],
        circuit: Any,
        options: JobOptions,
        wait: float | None,
        idempotency_key: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Job:
        """POST one job's circuit ``fields`` (and ``extra`` fields: an initial state);
        ``circuit`` is what the user gave (for bits and results). A template the server forgot
        is sent again, and the POST once more."""
        hold = min(wait or 0.0, MAX_WAIT_SECONDS) if self.features.holds is not False else 0.0
        labels = self.features.honours(EXTENSION_TAGS)
        seeded = self.features.honours(EXTENSION_SEED)
        job = {**fields, **options.fields(labels=labels, seed=seeded), **(extra or {})}
        try:
            body = self.encoder.send(
                lambda: self.api.submit(job, hold=hold, idempotency_key=idempotency_key),
                [job],
            )
        except KeyboardInterrupt:
            raise WaitInterrupted(submitting=True) from None
        if not isinstance(body, dict):
            raise MalformedResponseError("The server answered the submission with no JSON object")
        pid = body.get("pid")
        if not pid:
            detail = body.get("detail")
            raise JobPostServerError(str(detail) if detail else None)
        pid = str(pid)
        self._record(pid, options)
        logger.debug("Submitted job %s to %s", pid, self.url)
        data = body if "status" in body else None
        return Job(
            self.api,
            pid,
            data,
            nbits=_measured_bits(circuit),
            nshots=options.nshots,
            progress=self.progress,
            circuit=_circuit_object(circuit),
            submitted_at=now(),
        )

    def encode(self, circuit: Any, options: JobOptions | None = None, *, raw: bool = False) -> Any:
        """What is posted for ``circuit``: QASM text or raw (see :meth:`submit`); ``raw=True``
        asks for raw whatever the format (an initial state travels only with raw)."""
        from qibo_client.circuits.export import export_circuit

        chosen = (options or JobOptions()).circuit_format
        return export_circuit(circuit, chosen, self.features.circuit_format, raw=raw)

    def _record(self, pid: str, options: JobOptions) -> None:
        if self.journal:
            _journal.record(
                self.url,
                pid,
                device=options.device,
                project=options.project,
                nshots=options.nshots,
                path=self._journal_path,
                name=options.name,
                tags=options.tags,
            )

    def submit_many(
        self,
        circuits: Iterable[Any],
        nshots: int | None = None,
        device: str = DEFAULT_DEVICE,
        project: str = DEFAULT_PROJECT,
        verbatim: bool = False,
        wait: float | None = None,
        *,
        options: JobOptions | None = None,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        seeds: Sequence[int] | None = None,
    ) -> list[Job]:
        """Queue several circuits; with ``wait=S``, jobs that end within S are born final.

        On a server with the batch extension this is one POST per 1000 circuits, all or none
        queued; otherwise one POST per circuit, without holds (see :mod:`qibo_client.jobs.batch`).
        ``name`` and ``tags`` label every job (as in :meth:`submit`). ``seeds`` gives each job its
        own seed, in order, in place of ``options.seed`` (one seed for all would make the jobs'
        draws the same); like that one, they are sent only to a server that lists the ``seed``
        extension.
        """
        options = options or JobOptions(device, project, verbatim).with_nshots(nshots)
        options = options.with_labels(name, tags)
        circuits = list(circuits)
        fields = self._batch_fields(circuits, options)  # refuse before queueing
        if seeds is not None:
            fields = self._seeded(fields, seeds)
            options = dataclasses.replace(options, seed=None)
        jobs = _batch.submit_batches(
            self.api,
            fields,
            [_measured_bits(circuit) for circuit in circuits],
            options,
            hold=min(wait or 0.0, MAX_WAIT_SECONDS),
            progress=self.progress,
            record=lambda pid: self._record(pid, options),
            send=self.encoder.send,
        )
        for job, circuit in zip(jobs, circuits, strict=False):
            job.circuit = _circuit_object(circuit)
        rest = range(len(jobs), len(fields))
        return jobs + [self._submit(fields[i], circuits[i], options, None) for i in rest]

    def _seeded(self, fields: list[dict[str, Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
        """Each job's fields with its own seed, where the server honours seeds."""
        if len(seeds) != len(fields):
            raise ConfigurationError(f"Give one seed per circuit: {len(seeds)} for {len(fields)}")
        if not self.features.honours(EXTENSION_SEED):
            return fields
        return [{**job, "seed": int(seed)} for job, seed in zip(fields, seeds, strict=True)]

    def wait_all(self, jobs: Sequence[Job], timeout: float | None = None) -> list[JobStatus]:
        """Wait for every job, with one progress bar for the batch; raises JobTimeoutError."""
        return _batch.wait_all(self.api, jobs, timeout, progress=self.progress)

    def get_job(self, pid: str) -> Job:
        """The job ``pid``, fetched once (raises JobNotFoundError if the server has no such job)."""
        job = Job.from_pid(self.api, pid, progress=self.progress)
        job.refresh()
        return job

    def jobs(self, tag: str | None = None) -> list[dict[str, Any]]:
        """This user's jobs as the server lists them; ``tag``: only those carrying it (a server
        with the ``tags`` extension; elsewhere a ConfigurationError)."""
        return self.api.list_jobs(tag)

    def delete_job(self, pid: str) -> None:
        """Remove a job (the server cancels it first if it is still queued or running)."""
        self.api.delete(pid)
        logger.info("Deleted job %s", pid)

    def delete_all_jobs(self) -> list[str]:
        """Remove every job of this user; returns their pids."""
        return self.api.bulk_delete()

    def me(self) -> dict[str, Any]:
        """``{"email"}`` of the token's user (``GET /api/accounts/me/``, a 2026-generation route:
        a server without it raises :class:`QiboApiError` with ``status`` 404)."""
        return self.api.accounts_me()

    def disk_quota(self) -> dict[str, Any]:
        """``{"user", "kbs_left", "kbs_max"}`` for this user (either generation's shape)."""
        return self.api.disk_quota()

    def project_quotas(self) -> list[dict[str, Any]]:
        """Per project and device: seconds, shots and jobs left."""
        return self.api.project_quotas()

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
        device: str = DEFAULT_DEVICE,
        *,
        project: str = DEFAULT_PROJECT,
        verbatim: bool = False,
        timeout: float | None = None,
    ) -> np.ndarray | None:
        """Run ``circuit`` and return its frequencies as a dense int64 array of length ``2**m``.

        Returns None if the job failed on the server (the reason is logged at ERROR level).
        Raises :class:`JobTimeoutError` after ``timeout`` seconds, the job staying retrievable.
        """
        hold = RUN_CIRCUIT_WAIT if timeout is None else min(RUN_CIRCUIT_WAIT, timeout)
        end = None if timeout is None else time.monotonic() + timeout
        with budget.capped(None if end is None else end + ANSWER_GRACE):
            job = self.submit(circuit, nshots, device, project, verbatim, wait=hold)
        left = None if end is None else max(0.0, end - time.monotonic())
        try:
            return job.dense_frequencies(left)
        except JobFailedError as error:
            logger.error("Job %s failed on the server: %s", job.pid, error.reason or "no reason")
            return None


__all__ = [
    "Client",
    "check_client_server_qibo_versions",
    "check_response_has_keys",
    "wait_for_response_to_get_request",
]
