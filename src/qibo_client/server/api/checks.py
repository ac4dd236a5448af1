"""Checks on a request, before anything is stored: body, headers, device, project, circuit, room.

The body's *shape* (fields, JSON types, ranges) is the request models' concern
(:mod:`.schemas`, which ``/docs`` shows): :func:`read_body` and :func:`parse_body` hand them the
parsed JSON, :func:`job_of` and :func:`batch_of` validate it. What depends on the server (its
devices, the user's projects, the circuit itself, read by the hand-written circuit readers) is
checked here, in :func:`check_job`. Validating with the models costs about 1 us more per body
than the hand checks they replaced (parse and validate a Bell body: 0.9 -> 1.6 us as QASM,
2.9 -> 3.9 us as ``circuit.raw``), on a POST that costs 1.1-2 ms in process: below the noise of
the whole request (``benchmarks/body_check.py``).

Status codes: 413 for a body over the limit, 422 for a body of the wrong shape (not JSON, a field
of the wrong type), 400 for a well-formed request the server cannot run (a number out of its
range, unknown device, bad circuit, too many shots), 409 and 429 for the state of the user's
jobs. Every refusal's ``detail`` is one sentence.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from pydantic import ValidationError
from pydantic_core import from_json

from qibo_client.protocol import (
    DEFAULT_DEVICE,
    DEFAULT_PROJECT,
    IDEMPOTENCY_HEADER,
    MAX_IDEMPOTENCY_KEY,
    MAX_WAIT_SECONDS,
    PREFER_HEADER,
)
from qibo_client.server.accounts import User
from qibo_client.server.api.schemas import BatchJob, BatchSubmission, JobSubmission, detail_of
from qibo_client.server.devices import Device, DeviceTable
from qibo_client.server.jobs.quotas import QuotaLimits, quota_problem
from qibo_client.server.jobs.store import NewJob, Store
from qibo_client.server.jobs.templates import TemplateBook, UnknownTemplate
from qibo_client.server.jobs.worker import Task
from qibo_client.server.profiles import DEFAULT, Profile

#: A batch body may be this many times ``max_body_bytes``: a batch of small circuits is still
#: bounded, and one circuit near the single-job limit can still travel in a batch of 16.
BATCH_BODY_FACTOR = 16
_NOT_NUMBERS = re.compile(rb"\b(?:NaN|Infinity)\b")
#: pydantic's error types for a number outside its field's bounds (``nshots`` 0, ``seed`` -1).
_OUT_OF_RANGE = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def refuse(status: int, detail: str, headers: dict[str, str] | None = None) -> HTTPException:
    """The error every check raises: a status and one readable sentence."""
    return HTTPException(status, detail, headers=headers)


# -- body and headers --------------------------------------------------------------------------


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing with 413 as soon as it is over ``limit`` bytes."""
    too_big = refuse(413, f"request body is over the limit of {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(body: bytes) -> Any:
    """The request's JSON; invalid JSON (or NaN, or hostile depth) is a 422.

    pydantic-core's parser (a dependency of FastAPI) rather than ``json.loads``: 0.7 us against
    3-5 us for a Bell body, it refuses NaN and Infinity (not JSON; we would echo them back) and
    bounds nesting depth with a ValueError instead of a RecursionError.
    """
    try:
        return from_json(body, allow_inf_nan=False)
    except ValueError as err:
        hint = " (NaN and Infinity are not JSON numbers)" if _NOT_NUMBERS.search(body) else ""
        raise refuse(422, f"body is not valid JSON: {err}{hint}") from err


def wait_seconds(raw: str | None, *, strict: bool) -> float:
    """A wait in seconds, capped; a bad value is a 422 when ``strict`` (query), else ignored."""
    if raw is None or raw == "":
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        if strict:
            raise refuse(422, f"wait must be a number of seconds >= 0, not {raw!r}")
        return 0.0
    return min(seconds, MAX_WAIT_SECONDS)


def prefer_wait(request: Request) -> float | None:
    """The ``wait=S`` preference of the RFC 7240 ``Prefer`` header, or None."""
    header = request.headers.get(PREFER_HEADER)
    if not header:
        return None
    for part in header.replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "wait":
            return wait_seconds(value.strip().strip('"'), strict=False)
    return None


def idempotency_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` header, 1 to :data:`MAX_IDEMPOTENCY_KEY` characters, or None."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise refuse(400, f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    return key


# -- one job's fields --------------------------------------------------------------------------


def refusal(error: ValidationError, payload: Any) -> HTTPException:
    """A body the models refuse: 400 for a number out of its range (well-formed, but not a job
    the server runs, as a shot count over the device's limit), else 422 (the wrong shape)."""
    status = 400 if error.errors()[0]["type"] in _OUT_OF_RANGE else 422
    return refuse(status, detail_of(error, payload))


def job_of(payload: Any) -> JobSubmission:
    """The parsed body as a job (:class:`.schemas.JobSubmission`), or a 422 naming the field."""
    try:
        return JobSubmission.model_validate(payload)
    except ValidationError as err:
        raise refusal(err, payload) from None


def batch_of(payload: Any) -> list[JobSubmission]:
    """The parsed body as a batch's jobs, ``parameters_of`` resolved; a 422 names the job."""
    try:
        jobs = BatchSubmission.model_validate(payload).jobs
    except ValidationError as err:
        raise refusal(err, payload) from None
    return [shared_parameters(jobs, index, job) for index, job in enumerate(jobs)]


def shared_parameters(jobs: list[BatchJob], index: int, job: BatchJob) -> JobSubmission:
    """A template job that says ``"parameters_of": k`` takes the values of the batch's job k
    (an earlier one with its own): the measurement groups of one evaluation share them."""
    source = job.parameters_of
    if source is None:
        return job
    if not 0 <= source < index or jobs[source].parameters is None:
        raise refuse(
            422,
            f"jobs[{index}]: 'parameters_of' must name an earlier job of the batch with parameters",
        )
    return job.model_copy(update={"parameters": jobs[source].parameters})


def parse_circuit(circuit: Any) -> Any:
    """QASM text, or qibo's ``circuit.raw`` (an object, or that object as JSON text) -> Program."""
    if is_raw(circuit):
        # JSON text goes to the raw parser as text: it bounds nesting (json.loads here would
        # raise RecursionError on hostile depth, a 500 instead of a 400).
        from qibo_client.server.circuits.raw_circuit import program_from_raw

        return program_from_raw(circuit)
    if isinstance(circuit, str):
        from qibo_client.server.circuits.qasm_parser import parse_qasm

        return parse_qasm(circuit)
    raise TypeError("circuit must be OpenQASM 2.0 text or the JSON object of qibo's circuit.raw")


@dataclass(frozen=True)
class CheckedJob:
    """One submission that passed every check: what to store, and what the runner needs."""

    new: NewJob
    #: A Program, or a TemplateRun: what the worker builds the circuit from.
    program: Any
    device: Device

    def task(self, pid: str) -> Task:
        new = self.new
        return Task(pid, self.program, new.nshots, self.device, new.verbatim, new.seed)


#: What a server that takes ``circuit.raw`` only says to QASM text.
RAW_ONLY = (
    "this server takes circuits as qibo's circuit.raw (a JSON object), not OpenQASM text: "
    "post circuit.raw"
)


def is_raw(circuit: Any) -> bool:
    """Whether ``circuit`` is qibo's ``circuit.raw`` (an object, or that object as JSON text)."""
    return isinstance(circuit, dict) or (isinstance(circuit, str) and circuit.lstrip()[:1] == "{")


def check_job(
    devices: DeviceTable,
    user: User,
    job: JobSubmission,
    key: str | None,
    profile: Profile = DEFAULT,
    templates: TemplateBook | None = None,
) -> CheckedJob:
    """Every check of one job against the server (device, project, shots, circuit); a 400.

    ``job`` fits the request model. A profile without QASM refuses QASM text; one without seeds
    ignores ``seed``, one without initial states ``initial_state``, one without tags ``name``
    and ``tags``. A job naming a template
    (``templates``: the server's book) the user does not have is a 409 ``unknown_template``:
    nothing is stored.
    """
    circuit = job.circuit
    if job.template is None and not profile.qasm and not is_raw(circuit):
        raise refuse(400, RAW_ONLY)
    verbatim = bool(job.verbatim)
    try:
        device = devices.get(job.device or DEFAULT_DEVICE)
        project = job.project or DEFAULT_PROJECT
        if project not in user.projects:
            yours = ", ".join(sorted(user.projects))
            raise ValueError(f"unknown project {project!r}; yours are: {yours}")
        shots = device.check_nshots(job.nshots)
        seed = job.seed if profile.seeds else None
        if job.template is not None:
            if templates is None:
                raise ValueError("this server takes no templates: send 'circuit'")
            template, values, circuit_json = templates.job(user.id, job.template, job.parameters)
            # The shape, for the device's rules (a template has no wire names or noise).
            program: Any = device.check_program(template.program, verbatim=verbatim)
            run: Any = template.run(values)
        else:
            initial_state = job.initial_state if profile.initial_states else None
            if initial_state is not None:
                if not isinstance(circuit, dict):
                    raise ValueError("initial_state needs the circuit as qibo's raw JSON object")
                # Kept inside the stored circuit, so a restart reads it again with the circuit.
                circuit = {**circuit, "initial_state": initial_state}
            program = run = device.check_program(parse_circuit(circuit), verbatim=verbatim)
            circuit_json = json.dumps(circuit, separators=(",", ":"))
        if program.nmeasured == 0:
            raise ValueError("the circuit measures nothing: add measurements (M gates)")
    except UnknownTemplate as err:
        raise refuse(409, str(err)) from err
    except (ValueError, TypeError) as err:
        raise refuse(400, str(err)) from err
    name, tags = (job.name, tuple(dict.fromkeys(job.tags or ()))) if profile.tags else (None, ())
    new = NewJob(
        user.id,
        device.name,
        project,
        circuit_json,
        shots,
        program.nqubits,
        verbatim,
        key,
        seed,
        name,
        tags,
    )
    return CheckedJob(new, run, device)


def check_room(queued: int, limit: int, count: int) -> None:
    """429 if ``count`` more jobs would take a user with ``queued`` unfinished over ``limit``."""
    if queued + count > limit:
        raise refuse(
            429,
            f"you have {limit} unfinished jobs; wait for some to finish"
            if count == 1
            else f"{count} more jobs would take you over {limit} unfinished jobs; wait for some "
            "to finish or send fewer",
            {"Retry-After": "5"},
        )


def check_quotas(store: Store, limits: QuotaLimits, jobs: Sequence[NewJob]) -> None:
    """403 if accepting ``jobs`` (all of one user) would take a project over a quota: waiting
    never refills a budget, so not a 429, which clients retry."""
    problem = quota_problem(store, limits, jobs)
    if problem is not None:
        raise refuse(403, problem)


__all__ = [
    "BATCH_BODY_FACTOR",
    "CheckedJob",
    "batch_of",
    "check_job",
    "check_quotas",
    "check_room",
    "idempotency_key",
    "is_raw",
    "job_of",
    "parse_body",
    "parse_circuit",
    "prefer_wait",
    "read_body",
    "refusal",
    "refuse",
    "shared_parameters",
    "wait_seconds",
]
