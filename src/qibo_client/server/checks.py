"""Checks on a request, before anything is stored: body, headers, fields, circuit, room.

**Bodies are checked by hand, not by pydantic models.** Every mistake must come back as a 4xx whose
``detail`` is one human *string* naming the field (pydantic's is a list of objects), and the hot
path (a small POST with ``Prefer: wait``) must cost microseconds. Measured with ``timeit`` on a
Bell POST body: parsing with pydantic-core and these checks take 1.8 us, the checks alone 0.8 us;
``JobSubmission.model_validate_json`` takes 2.7 us and ``model_validate`` on the parsed dict 3.4 us
(:mod:`.schemas` describes the same bodies for the OpenAPI document only).

Status codes: 413 for a body over the limit, 422 for a body of the wrong JSON shape, 400 for a
well-formed request the server cannot run (unknown device, bad circuit, too many shots), 409 and 429
for the state of the user's jobs.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
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
from qibo_client.server.devices import Device, DeviceTable
from qibo_client.server.profiles import DEFAULT, Profile
from qibo_client.server.store import NewJob
from qibo_client.server.templates import TemplateBook, UnknownTemplate
from qibo_client.server.worker import Task

#: A batch body may be this many times ``max_body_bytes``: a batch of small circuits is still
#: bounded, and one circuit near the single-job limit can still travel in a batch of 16.
BATCH_BODY_FACTOR = 16
_NOT_NUMBERS = re.compile(rb"\b(?:NaN|Infinity)\b")
#: An explicit ``seed`` is a 32-bit unsigned integer (what numpy and qibo take everywhere).
MAX_SEED = 2**32 - 1


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

_KIND_NAMES = {
    "device": "a device name (text)",
    "project": "a project name (text)",
    "verbatim": "true or false",
}


def _field(body: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is str and not value):
        raise refuse(422, f"'{name}' must be {_KIND_NAMES[name]}, not {value!r}")
    return value


def check_shape(payload: Any) -> None:
    """The JSON types of one job's fields (422), before anything is looked up."""
    if not isinstance(payload, dict):
        raise refuse(422, "a job must be a JSON object with 'circuit' and 'nshots'")
    if "template" in payload:  # the templates extension: {"template": id, "parameters": [...]}
        if not isinstance(payload["template"], str) or not isinstance(
            payload.get("parameters"), list | str
        ):
            raise refuse(
                422, "'template' must be a template id and 'parameters' a list (or packed text)"
            )
    elif "circuit" not in payload:
        raise refuse(422, "'circuit' is missing: send OpenQASM 2.0 text or circuit.raw")
    elif not isinstance(payload["circuit"], str | dict):
        raise refuse(422, "'circuit' must be OpenQASM 2.0 text or the JSON object of circuit.raw")
    nshots = payload.get("nshots")
    if nshots is not None and (isinstance(nshots, bool) or not isinstance(nshots, int)):
        raise refuse(422, f"'nshots' must be a positive integer or null, not {nshots!r}")
    for name, kind in (("device", str), ("project", str), ("verbatim", bool)):
        _field(payload, name, kind, None)


def parse_circuit(circuit: Any) -> Any:
    """QASM text, or qibo's ``circuit.raw`` (an object, or that object as JSON text) -> Program."""
    if is_raw(circuit):
        # JSON text goes to the raw parser as text: it bounds nesting (json.loads here would
        # raise RecursionError on hostile depth, a 500 instead of a 400).
        from qibo_client.server.raw_circuit import program_from_raw

        return program_from_raw(circuit)
    if isinstance(circuit, str):
        from qibo_client.server.qasm_parser import parse_qasm

        return parse_qasm(circuit)
    raise TypeError("circuit must be OpenQASM 2.0 text or the JSON object of qibo's circuit.raw")


def check_seed(seed: Any) -> int | None:
    """An explicit ``seed``: an integer 0 to 2**32-1, or absent/null (the server picks one)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer from 0 to {MAX_SEED}, or null; not {seed!r}")
    return seed


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
    payload: dict[str, Any],
    key: str | None,
    profile: Profile = DEFAULT,
    templates: TemplateBook | None = None,
) -> CheckedJob:
    """Every check of one job (device, project, shots, seed, circuit); a refusal is a 400.

    ``payload`` has passed :func:`check_shape`. A profile without QASM refuses QASM text; one
    without seeds ignores ``seed``, one without initial states ``initial_state``. A job naming
    a template (``templates``: the server's book) the user does not have is a 409
    ``unknown_template``: nothing is stored.
    """
    circuit = payload.get("circuit")
    if "template" not in payload and not profile.qasm and not is_raw(circuit):
        raise refuse(400, RAW_ONLY)
    device_name = _field(payload, "device", str, DEFAULT_DEVICE)
    project = _field(payload, "project", str, DEFAULT_PROJECT)
    verbatim = _field(payload, "verbatim", bool, False)
    try:
        device = devices.get(device_name)
        if project not in user.projects:
            yours = ", ".join(sorted(user.projects))
            raise ValueError(f"unknown project {project!r}; yours are: {yours}")
        shots = device.check_nshots(payload.get("nshots"))
        seed = check_seed(payload.get("seed")) if profile.seeds else None
        if "template" in payload:
            if templates is None:
                raise ValueError("this server takes no templates: send 'circuit'")
            template, values, circuit_json = templates.job(user.id, payload)
            # The shape, for the device's rules (a template has no wire names or noise).
            program: Any = device.check_program(template.program, verbatim=verbatim)
            run: Any = template.run(values)
        else:
            initial_state = payload.get("initial_state") if profile.initial_states else None
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
    new = NewJob(
        user.id, device.name, project, circuit_json, shots, program.nqubits, verbatim, key, seed
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


__all__ = [
    "BATCH_BODY_FACTOR",
    "CheckedJob",
    "check_job",
    "check_room",
    "check_seed",
    "check_shape",
    "idempotency_key",
    "is_raw",
    "parse_body",
    "parse_circuit",
    "prefer_wait",
    "read_body",
    "refuse",
    "wait_seconds",
]
