"""The request and response bodies, described for the OpenAPI document (``/docs``) only.

These pydantic models are never used to validate a request or an answer: :mod:`.checks` checks
bodies by hand (one readable ``detail`` string, and faster than ``model_validate``
on the hot path) and :mod:`.answers` writes answers itself. Routes point at these
models with ``openapi_extra`` (request bodies, through :func:`request_body`) and ``responses=``
(answers), so a reader of ``/docs`` sees every field, and :func:`add_request_schemas` puts the
request models into the document's components.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from qibo_client.protocol import (
    DEFAULT_DEVICE,
    DEFAULT_PROJECT,
    MAX_BATCH_JOBS,
    Status,
)

_REF = "#/components/schemas/{model}"


class JobSubmission(BaseModel):
    """The body of ``POST /api/jobs/`` (and each entry of a batch)."""

    circuit: str | dict[str, Any] = Field(
        description="OpenQASM 2.0 text, or qibo's circuit.raw (the object, or it as JSON text)"
    )
    nshots: int | None = Field(None, ge=1, description="shots; null: the device's default")
    device: str = Field(DEFAULT_DEVICE, description="a device of /api/projectquotas/")
    project: str = Field(DEFAULT_PROJECT, description="one of your projects")
    verbatim: bool = Field(False, description="run as written: no transpilation (hardware)")
    seed: int | None = Field(
        None,
        ge=0,
        le=2**32 - 1,
        description="seed of the simulation's random draws; null: derived from the job's pid",
    )


class BatchSubmission(BaseModel):
    """The body of ``POST /api/jobs/batch/``: all of its jobs are accepted, or none."""

    jobs: list[JobSubmission] = Field(min_length=1, max_length=MAX_BATCH_JOBS)


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
    """``openapi_extra`` documenting ``model`` as the JSON body (read by hand, not by FastAPI)."""
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
