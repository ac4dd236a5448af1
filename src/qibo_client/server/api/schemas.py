"""The request and response bodies: the request models validate, and every model documents.

**One description of each request body.** :class:`JobSubmission` and :class:`BatchSubmission`
are what the routes validate a body with (:func:`.checks.job_of`, :func:`.checks.batch_of`) and
what ``/docs`` shows, so the page cannot drift from what the server accepts. A body that does not
fit is a 422 whose ``detail`` is one sentence naming the field, written from the field's own
``description`` (:func:`detail_of`): ``'nshots' must be a positive integer or null ..., not
10.5``. What depends on the server's state (the device's shot limit, the user's projects, the
circuit itself, read by the hand-written circuit readers) is checked after, in :mod:`.checks`,
and refused with 400.

The routes read the body themselves (:func:`.checks.read_body` stops at the size limit before the
rest arrives; pydantic-core's parser refuses NaN and bounds nesting) and then call
``model_validate`` on the parsed object, rather than taking the model as a handler parameter:
FastAPI would read the whole body first and parse it with ``json.loads``. So routes point at the
models with ``openapi_extra`` (:func:`request_body`) and ``responses=`` (answers), and
:func:`add_request_schemas` puts the request models into the document's components. Answers are
written by :mod:`.answers`; their models here document them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from qibo_client.protocol import (
    DEFAULT_DEVICE,
    DEFAULT_PROJECT,
    LABEL_PATTERN,
    MAX_BATCH_JOBS,
    MAX_JOB_NAME_CHARS,
    MAX_SEED,
    MAX_TAG_CHARS,
    MAX_TAGS,
    TEMPLATES_PATH,
    Status,
)

_REF = "#/components/schemas/{model}"
#: How much of a refused value a ``detail`` repeats.
_SHOWN_CHARS = 60
_NOT_A_JOB = "a JSON object with 'circuit' and 'nshots'"
_NOT_A_BATCH = 'body must be a JSON object {"jobs": [job, ...]}'
_Text = Annotated[str, Field(min_length=1)]
_Tag = Annotated[str, Field(min_length=1, max_length=MAX_TAG_CHARS, pattern=LABEL_PATTERN)]


def _whole(value: Any) -> Any:
    """``10.0`` as ``10``: JSON Schema's ``integer`` is any whole number, so ours is too."""
    return int(value) if type(value) is float and value.is_integer() else value


#: A JSON integer: a whole number (``10`` or ``10.0``), not ``10.5``, ``"10"`` or ``true``.
#: (Bounds go before the validator, as ``Annotated[int, Field(ge=1), _WHOLE]``: after it, the
#: schema would not show them as ``minimum``.)
_WHOLE = BeforeValidator(_whole)


def _given(*names: str, absent: str | None = None) -> dict[str, Any]:
    """A JSON-schema branch: ``names`` present and not null, ``absent`` absent or null."""
    shapes: dict[str, Any] = {name: {"not": {"type": "null"}} for name in names}
    if absent is not None:
        shapes[absent] = {"type": "null"}
    return {"required": list(names), "properties": shapes}


#: A job's circuit, when it names no template (a template, when given, wins).
_CIRCUIT = _given("circuit", absent="template")


class JobSubmission(BaseModel):
    """The body of ``POST /api/jobs/``: a circuit, or a template and its parameter values.

    Each ``description`` says what the field must be: a refusal quotes it. Strict: JSON's types
    as sent (``10.5`` or ``"100"`` shots, ``1`` for ``true`` are mistakes, not conversions). Fields
    the server does not know are ignored, as the protocol asks.
    """

    model_config = ConfigDict(
        strict=True,
        # What the model validator asks, said in the schema too: a circuit, or a template.
        json_schema_extra={"anyOf": [_CIRCUIT, _given("template", "parameters")]},
    )

    circuit: str | dict[str, Any] | None = Field(
        None,
        description="OpenQASM 2.0 text, or qibo's circuit.raw as a JSON object (or as JSON text)",
    )
    nshots: Annotated[int, Field(ge=1), _WHOLE] | None = Field(
        None, description="a positive integer, or null for the device's default"
    )
    device: _Text | None = Field(
        DEFAULT_DEVICE,
        description=f"a device name of /api/projectquotas/ (text), or null for {DEFAULT_DEVICE}",
    )
    project: _Text | None = Field(
        DEFAULT_PROJECT,
        description=f"a project name of yours (text), or null for {DEFAULT_PROJECT}",
    )
    verbatim: bool | None = Field(
        False,
        description="true (run as written, without transpilation: hardware) or false",
    )
    seed: Annotated[int, Field(ge=0, le=MAX_SEED), _WHOLE] | None = Field(
        None,
        description=f"an integer from 0 to {MAX_SEED} seeding the simulation's random draws, or "
        "null for one derived from the job's pid",
    )
    initial_state: (
        list[float | Annotated[list[float], Field(min_length=2, max_length=2)]] | None
    ) = Field(
        None,
        description="a state vector to start from: 2**nqubits amplitudes (numbers or "
        "[re, im] pairs), with the circuit as circuit.raw, on a simulator",
    )
    template: _Text | None = Field(
        None,
        description=f"the id of a template you PUT to {TEMPLATES_PATH}{{id}}/ (the job then "
        "sends 'parameters' instead of 'circuit')",
    )
    parameters: list[float] | str | None = Field(
        None,
        description="the template's parameter values: a list of numbers, or their packed text",
    )
    name: (
        Annotated[str, Field(min_length=1, max_length=MAX_JOB_NAME_CHARS, pattern=LABEL_PATTERN)]
        | None
    ) = Field(
        None,
        description=f"a name for the job: 1 to {MAX_JOB_NAME_CHARS} characters, no control "
        "characters (the tags extension)",
    )
    tags: Annotated[list[_Tag], Field(max_length=MAX_TAGS)] | None = Field(
        None,
        description=f"up to {MAX_TAGS} tags, each 1 to {MAX_TAG_CHARS} characters without "
        "control characters; GET /api/jobs/?tag=T finds them (the tags extension)",
    )

    @model_validator(mode="after")
    def _circuit_or_template(self) -> JobSubmission:
        if self.template is not None:
            if self.parameters is None and not self._shares_parameters():
                raise PydanticCustomError(
                    "job", "'parameters' is missing: a job that names a 'template' sends its values"
                )
        elif self.circuit is None:
            raise PydanticCustomError(
                "job", "'circuit' is missing: send OpenQASM 2.0 text or circuit.raw"
            )
        return self

    def _shares_parameters(self) -> bool:
        return False


class BatchJob(JobSubmission):
    """One job of a batch: a single job's fields, and ``parameters_of``."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                _CIRCUIT,
                _given("template", "parameters"),
                _given("template", "parameters_of"),
            ]
        }
    )

    parameters_of: Annotated[int, _WHOLE] | None = Field(
        None,
        description="the index of an earlier job of the batch with 'parameters', whose values "
        "this job takes instead of its own (the measurement groups of one evaluation)",
    )

    def _shares_parameters(self) -> bool:
        return self.parameters_of is not None


class BatchSubmission(BaseModel):
    """The body of ``POST /api/jobs/batch/``: all of its jobs are accepted, or none."""

    model_config = ConfigDict(strict=True)

    jobs: list[BatchJob] = Field(
        min_length=1, max_length=MAX_BATCH_JOBS, description=f"1 to {MAX_BATCH_JOBS} jobs"
    )


def detail_of(error: ValidationError, payload: Any) -> str:
    """One sentence for the first mistake: the field, what it must be, what was sent.

    A job of a batch is named by its index (``jobs[3]: 'nshots' must be ...``).
    """
    first = error.errors(include_url=False)[0]
    loc, kind = first["loc"], first["type"]
    prefix = ""
    if loc[:1] == ("jobs",) and len(loc) > 1 and isinstance(loc[1], int):
        prefix, loc = f"jobs[{loc[1]}]: ", loc[2:]
        payload = payload["jobs"][first["loc"][1]]
    elif error.title == BatchSubmission.__name__:
        if kind in ("too_short", "too_long"):
            return f"'jobs' must hold 1 to {MAX_BATCH_JOBS} jobs, not {len(first['input'])}"
        return _NOT_A_BATCH
    if not loc:
        if kind == "model_type":
            return f"{prefix}a job must be {_NOT_A_JOB}" if prefix else f"body must be {_NOT_A_JOB}"
        return prefix + first["msg"]
    name = str(loc[0])
    field = BatchJob.model_fields[name]
    value = payload.get(name) if isinstance(payload, dict) else first["input"]
    return f"{prefix}'{name}' must be {field.description}, not {value!r:.{_SHOWN_CHARS}}"


class User(BaseModel):
    email: str


class Partition(BaseModel):
    name: str
    max_num_qubits: int | None = None
    hardware_type: str | None = None
    description: str | None = None
    status: str | None = None
    max_shots: int | None = None
    default_shots: int | None = None
    qubits: list[int | str] | None = Field(
        default=None, description="hardware: the chip's qubit names (docs/hardware.md)"
    )
    connectivity: list[list[int | str]] | None = Field(
        default=None, description="hardware: its coupled qubit pairs, by name; null: all-to-all"
    )
    natives: list[str] | None = Field(
        default=None, description="hardware: the qibo gates it runs as written (verbatim)"
    )


class ProjectQuotaRef(BaseModel):
    project: str
    partition: Partition


class JobObject(BaseModel):
    """A job, as ``GET /api/jobs/{pid}/`` (and a held POST, once it ended) answers it."""

    pid: str
    status: Status
    user: User
    device: str
    project: str
    projectquota: ProjectQuotaRef
    nshots: int
    num_qubits: int
    verbatim: bool
    seed: int = Field(description="the seed the job runs with: submit it again to replay")
    created_at: str
    updated_at: str
    queue_position: int | None = Field(description="1: next to run; 0: running; null: ended")
    etd_seconds: float | None = Field(description="estimated seconds until it ends")
    runtime: float | None
    stdout: str
    stderr: str = Field(description="on error, the reason")
    qibo_version: str
    result_path: str | None = Field(description="the archive's path, once the job ended")
    name: str | None = Field(None, description="the job's name (the tags extension)")
    tags: list[str] | None = Field(None, description="the job's tags (the tags extension)")
    circuit: str | dict[str, Any] = Field(description="the circuit as submitted")
    frequencies: dict[str, int] | None = Field(description="outcome bitstring -> count")


class Submitted(BaseModel):
    """A POST's answer without ``Prefer: wait``, or when the hold ended first."""

    pid: str
    status: str | None = Field(None, description="with Prefer: wait, the status when it ended")


class BatchAnswer(BaseModel):
    """A batch's answer: the job objects once all ended, else their statuses."""

    pids: list[str] | None = None
    jobs: list[JobObject] | None = None
    statuses: list[str] | None = Field(None, description="per pid; 'deleted' if it was")


class JobSummary(BaseModel):
    pid: str
    user: User
    created_at: str
    updated_at: str
    status: str
    result_path: str | None
    name: str | None = Field(None, description="the job's name (the tags extension)")
    tags: list[str] | None = Field(None, description="the job's tags (the tags extension)")


class Deleted(BaseModel):
    pid: str
    status: str


class BulkDeleted(BaseModel):
    deleted: list[str]


class Version(BaseModel):
    """Both generations' keys (``tii-2026``: the 2026 ones); our profiles add ``extensions``."""

    server_qibo_version: str
    minimum_client_qibo_version: str | None = Field(None, description="the 0.2 generation's name")
    minimum_qibo_version: str = Field(description="the lowest qibo a client may run")
    minimum_client_version: str = Field(description="the lowest client version; admits every one")


class DiskQuota(BaseModel):
    """One object for ``tii-quantum`` (its header) and on ``tii-2026``; else a list of one."""

    user: User
    kbs_left: float
    kbs_max: int


class ProjectQuota(BaseModel):
    project: str
    partition: Partition
    seconds_left: float | None
    shots_left: int | None
    jobs_left: int | None


class ErrorDetail(BaseModel):
    """Every refusal: one sentence naming the field or the reason."""

    detail: str


#: Refusals the routes that take a token may answer.
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDetail, "description": "missing or invalid token"}
}
SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    400: {"model": ErrorDetail, "description": "a job the server cannot run"},
    403: {"model": ErrorDetail, "description": "a project quota would be exceeded"},
    409: {"model": ErrorDetail, "description": "Idempotency-Key names another batch"},
    413: {"model": ErrorDetail, "description": "body over the limit"},
    422: {"model": ErrorDetail, "description": "body of the wrong shape"},
    429: {"model": ErrorDetail, "description": "too many unfinished jobs"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    404: {"model": ErrorDetail, "description": "no such job for this user"},
}

#: Models the routes point at by reference only (no ``model`` of a response names them).
_REFERENCED_MODELS: tuple[type[BaseModel], ...] = (
    JobSubmission,
    BatchSubmission,
    Submitted,
    JobObject,
)


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the JSON body (validated by the route itself)."""
    schema = {"$ref": _REF.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def add_request_schemas(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document hold the models its routes point at by reference."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in _REFERENCED_MODELS:
                model_schema = model.model_json_schema(ref_template=_REF)
                for name, definition in model_schema.pop("$defs", {}).items():
                    components.setdefault(name, definition)
                components.setdefault(model.__name__, model_schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
