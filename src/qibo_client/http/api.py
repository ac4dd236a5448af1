"""One thin method per endpoint of the protocol, and what this server is known to support.

:class:`ServerApi` turns each endpoint into a method that sends one request and returns the parsed
JSON (the model is qiskit-ionq's ``ionq_client.py``); it decides nothing about waiting, retrying
or batching, which :mod:`~qibo_client.jobs.waiting`, the transport and
:mod:`~qibo_client.jobs.batch` own. Everything above it (``Job``, batches, ``Client``) talks to the
server only through these methods.

:class:`ServerFeatures` says which extensions of our servers this one has: the circuit formats
it takes, server-side holds (``?wait=`` / ``Prefer: wait``), the batch endpoints and idempotency
keys. :meth:`ServerFeatures.from_version` reads the version answer, which every client asks for
once: a server that lists ``extensions`` there is believed, and one that lists nothing (TII's
service) gets the base protocol alone: ``circuit.raw``, plain polling, batches one job at a time,
and no re-sending of a POST that may have reached it. Only a client that skipped the version check
learns holds and batches by trying them.
Templates (:mod:`qibo_client.jobs.encoding`) are used only where a server lists them.

Every request names its kind, a row of :mod:`qibo_client.http.retries`, through
:meth:`ServerApi.call`: that row and what this server lists decide whether the transport may send
it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qibo_client.errors import ConfigurationError, MalformedResponseError
from qibo_client.http import retries
from qibo_client.http.session import (
    MAX_RESPONSE_BYTES,
    ApiSession,
    check_response_has_keys,
    parse_json,
)
from qibo_client.protocol import (
    ACCOUNTS_ME_PATH,
    BATCH_PATH,
    BULK_DELETE_PATH,
    DISK_QUOTA_PATH,
    EXTENSION_BATCH,
    EXTENSION_COLLAPSE_OUTCOMES,
    EXTENSION_IDEMPOTENCY,
    EXTENSION_INITIAL_STATE,
    EXTENSION_QASM,
    EXTENSION_SEED,
    EXTENSION_TAGS,
    EXTENSION_TEMPLATES,
    EXTENSION_WAIT,
    EXTENSIONS_KEY,
    IDEMPOTENCY_HEADER,
    JOBS_PATH,
    MAX_WAIT_SECONDS,
    PREFER_HEADER,
    PROJECT_QUOTAS_PATH,
    TAG_QUERY,
    TEMPLATES_PATH,
    TOKEN_HEADER,
    VERSION_PATH,
    job_path,
    template_path,
)
from qibo_client.settings import CIRCUIT_QASM, CIRCUIT_RAW

#: Older names of the constants in :mod:`qibo_client.protocol`.
HOLD_EXTENSION = EXTENSION_WAIT
BATCH_EXTENSION = EXTENSION_BATCH


@dataclass
class ServerFeatures:
    """What this server supports: True, False, or None until known."""

    holds: bool | None = None
    batches: bool | None = None
    #: Takes OpenQASM 2.0 text (else, or when unknown, circuits go as ``circuit.raw``).
    qasm: bool | None = None
    #: Honours ``Idempotency-Key`` (else, or when unknown, a POST is never re-sent once it may
    #: have reached the server).
    idempotency: bool | None = None
    #: Honours an ``initial_state`` field (else, or when unknown, none is sent).
    initial_states: bool | None = None
    #: Takes templates (only where listed; never learnt by trying).
    templates: bool = False
    #: Keeps job names and tags (only where listed: elsewhere they are never sent).
    tags: bool = False
    #: Seeds a job with its ``seed`` field (only where listed: elsewhere none is sent).
    seeds: bool = False
    #: Returns collapsing measurements' outcomes when a raw circuit asks (only where listed).
    collapse_outcomes: bool = False
    #: True once set from a version answer: nothing is learnt by trying then.
    listed: bool = False

    @classmethod
    def from_version(cls, body: Any) -> ServerFeatures:
        """From a version answer: its ``extensions`` list, or the base protocol without one."""
        extensions = body.get(EXTENSIONS_KEY) if isinstance(body, dict) else None
        names = {str(name) for name in extensions} if isinstance(extensions, list) else set()
        return cls(
            holds=EXTENSION_WAIT in names,
            batches=EXTENSION_BATCH in names,
            qasm=EXTENSION_QASM in names,
            idempotency=EXTENSION_IDEMPOTENCY in names,
            initial_states=EXTENSION_INITIAL_STATE in names,
            templates=EXTENSION_TEMPLATES in names,
            tags=EXTENSION_TAGS in names,
            seeds=EXTENSION_SEED in names,
            collapse_outcomes=EXTENSION_COLLAPSE_OUTCOMES in names,
            listed=True,
        )

    @property
    def circuit_format(self) -> str:
        """``"qasm"`` where the server says it takes QASM, else ``"raw"``."""
        return CIRCUIT_QASM if self.qasm else CIRCUIT_RAW

    def honours(self, extension: str) -> bool:
        """Whether this server is known to honour ``extension`` (unknown counts as no)."""
        known = {
            EXTENSION_WAIT: self.holds,
            EXTENSION_BATCH: self.batches,
            EXTENSION_QASM: self.qasm,
            EXTENSION_IDEMPOTENCY: self.idempotency,
            EXTENSION_INITIAL_STATE: self.initial_states,
            EXTENSION_TEMPLATES: self.templates,
            EXTENSION_TAGS: self.tags,
            EXTENSION_SEED: self.seeds,
            EXTENSION_COLLAPSE_OUTCOMES: self.collapse_outcomes,
        }
        return known.get(extension) is True

    def learn_holds(self, supported: bool) -> None:
        """Record what a held request showed (ignored when the server listed its extensions)."""
        if not self.listed:
            self.holds = supported

    def learn_batches(self, supported: bool) -> None:
        """Record what a batch request showed (ignored when the server listed its extensions)."""
        if not self.listed:
            self.batches = supported


def _hold(seconds: float) -> float:
    return min(max(0.0, float(seconds)), MAX_WAIT_SECONDS)


class ServerApi:
    """The endpoints of one server, for one token; every method is one request."""

    def __init__(self, session: ApiSession, features: ServerFeatures | None = None) -> None:
        #: The HTTP session (public: tests and tools may add response hooks to observe requests).
        self.session = session
        self.features = features or ServerFeatures()
        #: The warning categories already shown to this client's user (each is said once).
        self.warned: set[type[Warning]] = set()

    def __repr__(self) -> str:
        return f"ServerApi(url={self.url!r})"

    @property
    def url(self) -> str:
        return self.session.base_url

    @property
    def token(self) -> str:
        return str(self.session.headers[TOKEN_HEADER])

    def close(self) -> None:
        self.session.close()

    def call(self, kind: retries.RequestKind, path: str, **options: Any) -> Any:
        """Send a request of ``kind`` (its row of :mod:`qibo_client.http.retries` resolved for this
        server says whether it may be sent again); ``options`` go to the session's ``call``."""
        resendable = kind.resendable(self.features.honours)
        return self.session.call(kind.method, path, idempotent=resendable, kind=kind, **options)

    def version(self) -> dict[str, Any]:
        return check_response_has_keys(self.call(retries.VERSION, VERSION_PATH), ())

    def submit(
        self, job: dict[str, Any], *, hold: float = 0.0, idempotency_key: str | None = None
    ) -> Any:
        """``POST /api/jobs/``; ``hold`` > 0 asks the server to answer when the job ends."""
        return self._post(retries.SUBMIT, JOBS_PATH, job, hold, idempotency_key)

    def submit_batch(
        self,
        jobs: Sequence[dict[str, Any]],
        *,
        hold: float = 0.0,
        idempotency_key: str | None = None,
    ) -> Any:
        """``POST /api/jobs/batch/`` (extension): all the jobs queued, or none."""
        body = {"jobs": list(jobs)}
        return self._post(retries.SUBMIT_BATCH, BATCH_PATH, body, hold, idempotency_key)

    def _post(
        self, kind: retries.RequestKind, path: str, body: Any, hold: float, key: str | None
    ) -> Any:
        seconds = _hold(hold)
        headers = {IDEMPOTENCY_HEADER: key or uuid.uuid4().hex}
        if seconds > 0:
            headers[PREFER_HEADER] = f"wait={seconds:.3g}"
        # Re-sent after it may have reached the server only where the server lists idempotency
        # keys (the row of ``kind``); anywhere else a second POST could queue the job twice.
        response = self.call(kind, path, json_body=body, headers=headers, extra_read=seconds)
        return parse_json(response)

    def put_template(self, template_id: str, structure: bytes) -> Any:
        """``PUT /api/templates/{id}/`` (extension): a circuit structure, as its exact bytes."""
        headers = {"Content-Type": "application/json"}
        path = template_path(template_id)
        return parse_json(self.call(retries.TEMPLATE_PUT, path, data=structure, headers=headers))

    def list_templates(self) -> Any:
        """``GET /api/templates/`` (extension): this user's templates and how they were used."""
        return parse_json(self.call(retries.TEMPLATES, TEMPLATES_PATH))

    def get_job(self, pid: str, *, hold: float = 0.0, max_bytes: int | None = None) -> Any:
        """``GET /api/jobs/{pid}/``; ``hold`` > 0 lets the server answer when the job ends.

        ``max_bytes`` bounds the answer (what the job can honestly produce), enforced while read.
        """
        seconds = _hold(hold)
        params = {"wait": f"{seconds:.3g}"} if seconds > 0 else None
        response = self.call(
            retries.JOB,
            job_path(pid),
            params=params,
            extra_read=seconds,
            job_url=True,
            max_bytes=max_bytes or MAX_RESPONSE_BYTES,
        )
        return parse_json(response)

    def get_batch(self, pids: Sequence[str], *, hold: float = 0.0) -> Any:
        """``GET /api/jobs/batch/?pids=...`` (extension)."""
        seconds = _hold(hold)
        params = {"pids": ",".join(pids)}
        if seconds > 0:
            params["wait"] = f"{seconds:.3g}"
        response = self.call(
            retries.BATCH_GET, BATCH_PATH, params=params, extra_read=seconds, job_url=True
        )
        return parse_json(response)

    def download(self, pid: str) -> bytes:
        """``GET /api/jobs/{pid}/download/``: the result archive."""
        return self.call(retries.DOWNLOAD, job_path(pid, "download/"), job_url=True).content

    def delete(self, pid: str) -> None:
        """``DELETE /api/jobs/{pid}/`` (the server cancels a job still queued or running)."""
        self.call(retries.DELETE, job_path(pid), job_url=True)

    def list_jobs(self, tag: str | None = None) -> list[Any]:
        """``GET /api/jobs/``; ``tag`` asks a server with the tags extension for only the jobs
        carrying it (a ConfigurationError elsewhere: the list would not be filtered)."""
        params = None
        if tag is not None:
            if not self.features.honours(EXTENSION_TAGS):
                raise ConfigurationError(
                    f"the server at {self.url} does not list the {EXTENSION_TAGS!r} extension: "
                    "it keeps no tags to filter by (qibo-client jobs --tag reads the journal)"
                )
            params = {TAG_QUERY: tag}
        body = parse_json(self.call(retries.JOBS, JOBS_PATH, params=params))
        if not isinstance(body, list):
            raise MalformedResponseError("The job list is not a JSON list")
        return body

    def bulk_delete(self) -> list[str]:
        body = check_response_has_keys(
            self.call(retries.BULK_DELETE, BULK_DELETE_PATH), ("deleted",)
        )
        return [str(pid) for pid in body["deleted"]]

    def accounts_me(self) -> dict[str, Any]:
        """``GET /api/accounts/me/`` (2026 generation): ``{"email"}`` of the token's user."""
        return check_response_has_keys(self.call(retries.ACCOUNTS_ME, ACCOUNTS_ME_PATH), ("email",))

    def disk_quota(self) -> dict[str, Any]:
        """``GET /api/disk_quota/``: one object (2026) or a list holding it (0.2.4 read ``[0]``)."""
        body = parse_json(self.call(retries.DISK_QUOTA, DISK_QUOTA_PATH))
        if isinstance(body, list) and body:
            body = body[0]
        return check_response_has_keys(body, ("kbs_left", "kbs_max"))

    def project_quotas(self) -> list[dict[str, Any]]:
        body = parse_json(self.call(retries.PROJECT_QUOTAS, PROJECT_QUOTAS_PATH))
        if not isinstance(body, list):
            raise MalformedResponseError("The project quotas are not a JSON list")
        return [check_response_has_keys(item, ("project", "partition")) for item in body]


__all__ = ["BATCH_EXTENSION", "HOLD_EXTENSION", "ServerApi", "ServerFeatures"]
