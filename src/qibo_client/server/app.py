"""The HTTP side of the reference cluster: every endpoint of the protocol, as a FastAPI app.

Design points, each for a reason:

- **Bodies are checked by hand, not by pydantic models.** Every mistake must come back as a
  4xx with a human ``detail`` *string* naming the field, and the hot path (a small POST with
  ``Prefer: wait``) must cost microseconds: ``json.loads``, a few ``isinstance`` checks and the
  QASM parser.
- **Answers are JSON we serialise ourselves**, with the stored frequencies and circuit spliced in as
  the JSON text they already are (no re-parsing, no ``jsonable_encoder``).
- **Another user's job does not exist**: every lookup is by (pid, user), so the answer is 404
  on every endpoint, never 403.
- **Nothing half done**: a job is one INSERT, made only after every check passed.
- The HTTP process never imports qibo (except to build a download archive, in a thread).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import logging
import math
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from qibo_client.server.accounts import AccountSpec, User, digests_match, token_digest
from qibo_client.server.devices import DEFAULT_DEVICES, DeviceTable
from qibo_client.server.runner import Outcome, Runner, Task
from qibo_client.server.store import NewJob, Store, row_dict

logger = logging.getLogger("qibo_client.server")
access_logger = logging.getLogger("qibo_client.server.access")

TERMINAL = frozenset({"success", "error"})
#: Longest a request may be held by ``Prefer: wait`` or ``?wait=``.
MAX_WAIT_SECONDS = 30.0
MAX_IDEMPOTENCY_KEY = 200
MIN_CLIENT_QIBO = "0.3.0"
#: Most jobs one batch request may carry or ask about.
MAX_BATCH_JOBS = 1000
#: A batch body may be this many times ``max_body_bytes``: a batch of small circuits is still
#: bounded, and one circuit near the single-job limit can still travel in a batch of 16.
BATCH_BODY_FACTOR = 16


def _qibo_version() -> str:
    try:
        return importlib.metadata.version("qibo")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - qibo is a dependency
        return "unknown"


@dataclass
class ServerConfig:
    """Everything a server instance is made of; ``local_cluster`` and ``serve`` both build one."""

    db_path: str | Path
    workers: int = 1
    accounts: list[AccountSpec] = field(default_factory=list)
    devices: DeviceTable = DEFAULT_DEVICES
    max_body_bytes: int = 1 << 20
    max_queued_per_user: int = 10_000


class ServerState:
    """What the endpoints share: the store, the runner, the users and the devices."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.devices = config.devices
        self.qibo_version = _qibo_version()
        self.store = Store(config.db_path)
        for spec in config.accounts:
            self.store.upsert_user(spec)
        self.users = self.store.users_by_digest()
        self.runner = Runner(config.workers, self.record)

    def add_user(self, spec: AccountSpec) -> None:
        """Create (or update) a user while serving; must run on the event loop's thread."""
        self.store.upsert_user(spec)
        self.users = self.store.users_by_digest()

    def authenticate(self, request: Request) -> User:
        token = request.headers.get("x-api-token")
        if not token:
            raise HTTPException(401, "missing x-api-token header: send your API token")
        digest = token_digest(token)
        entry = self.users.get(digest)
        if entry is None or not digests_match(digest, entry[0]):
            raise HTTPException(401, "invalid API token: check the token you were given")
        return entry[1]

    def record(self, outcome: Outcome) -> None:
        """The runner's callback: write a job's end to the store (one transaction)."""
        self.store.finish_job(
            outcome.pid,
            status="success" if outcome.ok else "error",
            frequencies_json=outcome.frequencies_json,
            runtime=outcome.runtime,
            stdout=outcome.stdout,
            stderr=outcome.stderr,
        )

    def requeue_unfinished(self) -> int:
        """At start: give every job accepted but not finished to the runner again, oldest first."""
        count = 0
        for row in self.store.unfinished_jobs():
            try:
                device = self.devices.get(row["device"])
                program = parse_circuit(json.loads(row["circuit"]))
            except ValueError as err:
                self.store.finish_job(row["pid"], status="error", stderr=f"cannot rerun: {err}")
                continue
            task = Task(row["pid"], program, row["nshots"], device, bool(row["verbatim"]))
            self.runner.submit(task)
            count += 1
        return count


# -- checks on a submission --------------------------------------------------


def parse_circuit(circuit: Any) -> Any:
    """QASM text, or qibo's ``circuit.raw`` (an object, or that object as JSON text) -> Program."""
    if isinstance(circuit, dict) or (isinstance(circuit, str) and circuit.lstrip()[:1] == "{"):
        # JSON text goes to the raw parser as text: it bounds nesting (json.loads here would
        # raise RecursionError on hostile depth, a 500 instead of a 400).
        from qibo_client.server.raw_circuit import program_from_raw

        return program_from_raw(circuit)
    if isinstance(circuit, str):
        from qibo_client.server.qasm_parser import parse_qasm

        return parse_qasm(circuit)
    raise TypeError("circuit must be OpenQASM 2.0 text or the JSON object of qibo's circuit.raw")


def _http_error(status: int, detail: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status, detail, headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing with 413 as soon as it is over ``limit`` bytes."""
    too_big = _http_error(413, f"request body is over the limit of {limit} bytes")
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
            raise _http_error(422, f"wait must be a number of seconds >= 0, not {raw!r}")
        return 0.0
    return min(seconds, MAX_WAIT_SECONDS)


def prefer_wait(header: str | None) -> float | None:
    """The ``wait=S`` preference of an RFC 7240 ``Prefer`` header, or None."""
    if not header:
        return None
    for part in header.replace(";", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "wait":
            return wait_seconds(value.strip().strip('"'), strict=False)
    return None


def _refuse_constant(name: str) -> Any:
    """``json.loads`` accepts NaN and Infinity, which are not JSON; we would echo them back."""
    raise ValueError(f"{name} is not a JSON number")


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is str and not value):
        raise _http_error(422, f"'{name}' must be {_KIND_NAMES[name]}, not {value!r}")
    return value


_KIND_NAMES = {
    "device": "a device name (text)",
    "project": "a project name (text)",
    "verbatim": "true or false",
}


# -- answers ------------------------------------------------------------


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def job_object(state: ServerState, row: sqlite3.Row, user: User) -> bytes:
    """The protocol's job object; circuit and frequencies are spliced in as stored JSON text."""
    pid = row["pid"]
    status = row["status"]
    position: int | None = None
    etd: float | None = None
    if status not in TERMINAL:
        if state.runner.is_running(pid):
            status, position = "running", 0
        else:
            position = state.runner.position(pid)
        etd = state.runner.etd_seconds(position)
    head = {
        "pid": pid,
        "status": status,
        "user": {"email": user.email},
        "device": row["device"],
        "project": row["project"],
        "projectquota": {"project": row["project"], "partition": {"name": row["device"]}},
        "nshots": row["nshots"],
        "num_qubits": row["num_qubits"],
        "verbatim": bool(row["verbatim"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "queue_position": position,
        "etd_seconds": etd,
        "runtime": row["runtime"],
        "stdout": row["stdout"],
        "stderr": row["stderr"],
        "qibo_version": state.qibo_version,
        "result_path": f"/api/jobs/{pid}/download/" if status in TERMINAL else None,
    }
    text = json.dumps(head, separators=(",", ":"))
    frequencies = row["frequencies"] or "null"
    return f'{text[:-1]},"circuit":{row["circuit"]},"frequencies":{frequencies}}}'.encode()


def job_response(state: ServerState, row: sqlite3.Row, user: User, **kw: Any) -> Response:
    return Response(job_object(state, row, user), media_type="application/json", **kw)


def parse_body(body: bytes) -> Any:
    """The request's JSON; invalid JSON (or NaN, or hostile depth) is a 422."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError
        raise _http_error(422, f"body is not valid JSON: {err}") from err


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise _http_error(400, f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    return key


def check_shape(payload: dict[str, Any]) -> None:
    """The JSON types of one job's fields (422), before anything is looked up."""
    if "circuit" not in payload:
        raise _http_error(422, "'circuit' is missing: send OpenQASM 2.0 text or circuit.raw")
    if not isinstance(payload["circuit"], str | dict):
        raise _http_error(
            422, "'circuit' must be OpenQASM 2.0 text or the JSON object of circuit.raw"
        )
    nshots = payload.get("nshots")
    if nshots is not None and (isinstance(nshots, bool) or not isinstance(nshots, int)):
        raise _http_error(422, f"'nshots' must be a positive integer or null, not {nshots!r}")
    for name, kind in (("device", str), ("project", str), ("verbatim", bool)):
        _field(payload, name, kind, None)


@dataclass(frozen=True)
class CheckedJob:
    """One submission that passed every check: what to store, and what the runner needs."""

    new: NewJob
    program: Any
    device: Any

    def task(self, pid: str) -> Task:
        return Task(pid, self.program, self.new.nshots, self.device, self.new.verbatim)


def check_job(
    state: ServerState, user: User, payload: dict[str, Any], key: str | None
) -> CheckedJob:
    """Every check of one job (device, project, shots, circuit); a refusal is a 400."""
    circuit = payload["circuit"]
    nshots = payload.get("nshots")
    device_name = _field(payload, "device", str, "sim")
    project = _field(payload, "project", str, "personal")
    verbatim = _field(payload, "verbatim", bool, False)
    try:
        device = state.devices.get(device_name)
        if project not in user.projects:
            yours = ", ".join(sorted(user.projects))
            raise ValueError(f"unknown project {project!r}; yours are: {yours}")
        shots = device.check_nshots(nshots)
        program = parse_circuit(circuit)
        device.check_qubits(program.nqubits)
        if program.nmeasured == 0:
            raise ValueError("the circuit measures nothing: add measurements (M gates)")
        if verbatim:
            device.check_verbatim(program.ops)
    except (ValueError, TypeError) as err:
        raise _http_error(400, str(err)) from err
    new = NewJob(
        user.id,
        device.name,
        project,
        json.dumps(circuit, separators=(",", ":")),
        shots,
        program.nqubits,
        verbatim,
        key,
    )
    return CheckedJob(new, program, device)


def check_room(state: ServerState, user: User, count: int) -> None:
    """429 if ``count`` more jobs would take the user over the unfinished-jobs limit."""
    limit = state.config.max_queued_per_user
    if state.store.count_queued(user.id) + count > limit:
        raise _http_error(
            429,
            f"you have {limit} unfinished jobs; wait for some to finish"
            if count == 1
            else f"{count} more jobs would take you over {limit} unfinished jobs; wait for some "
            "to finish or send fewer",
            {"Retry-After": "5"},
        )


async def rows_when_done(
    state: ServerState, pids: list[str], user: User, wait: float
) -> list[sqlite3.Row | None]:
    """The jobs' rows once all are terminal or ``wait`` seconds passed (None: deleted)."""
    deadline = time.monotonic() + wait
    rows = [state.store.get_job(pid, user.id) for pid in pids]
    for index, pid in enumerate(pids):
        row = rows[index]
        if row is None or row["status"] in TERMINAL:
            continue
        if index:  # it may have ended while an earlier one was awaited: read it again
            row = rows[index] = state.store.get_job(pid, user.id)
        remaining = deadline - time.monotonic()
        # No await between the read and ``runner.wait``: an end cannot slip in between.
        if row is not None and row["status"] not in TERMINAL and remaining > 0:
            await state.runner.wait(pid, remaining)
            rows[index] = state.store.get_job(pid, user.id)
    return rows


def batch_answer(
    state: ServerState,
    pids: list[str],
    rows: list[sqlite3.Row | None],
    user: User,
    head: dict[str, Any],
    *,
    all_objects: bool = False,
) -> Response:
    """``head`` plus ``"jobs"`` (job objects) when all ended, else plus ``"statuses"``.

    With ``all_objects`` (the batch GET) the job objects are sent whatever their status.
    """
    done = all(row is not None and row["status"] in TERMINAL for row in rows)
    if done or (all_objects and all(row is not None for row in rows)):
        text = json.dumps(head, separators=(",", ":"))[:-1].encode()
        objects = b",".join(job_object(state, row, user) for row in rows if row is not None)
        sep = b"," if head else b""
        return Response(text + sep + b'"jobs":[' + objects + b"]}", media_type="application/json")
    statuses = []
    for pid, row in zip(pids, rows, strict=True):
        if row is None:
            statuses.append("deleted")
        elif row["status"] not in TERMINAL and state.runner.is_running(pid):
            statuses.append("running")
        else:
            statuses.append(row["status"])
    return json_response({**head, "pids": pids, "statuses": statuses})


# -- the app ------------------------------------------------------------


class AccessLog:
    """ASGI middleware: one log line per request (method, path, status, ms, job id); no headers."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]
        logged = [False]
        state = scope.setdefault("state", {})

        def log() -> None:
            logged[0] = True
            if access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    "%s %s %d %.1fms job=%s",
                    scope["method"],
                    scope["path"],
                    status[0],
                    (time.perf_counter() - started) * 1000,
                    state.get("job_id", "-"),
                )

        async def send_logged(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Log before the last byte leaves: a client never sees an answer not yet logged.
                log()
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            if not logged[0]:
                log()


def create_app(config: ServerConfig) -> FastAPI:
    """A ready-to-serve app; the store opens and the workers warm up in its lifespan."""

    state_box: dict[str, ServerState] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            state = ServerState(config)
            state_box["state"] = state
            app.state.server = state
            await state.runner.start()
        except Exception as err:
            app.state.startup_error = err  # for local_cluster to raise with the real reason
            raise
        requeued = state.requeue_unfinished()
        if requeued:
            logger.info("requeued %d unfinished job(s) from %s", requeued, config.db_path)
        try:
            yield
        finally:
            await asyncio.get_running_loop().run_in_executor(None, state.runner.shutdown)
            state.store.close()

    app = FastAPI(
        title="qibo-client reference cluster",
        description="The Qibo cluster protocol (see docs/protocol.md), with server-side waits "
        "and idempotent submission.",
        lifespan=lifespan,
    )
    app.add_middleware(AccessLog)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
            parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"detail": "internal server error; the server logged the details"}, status_code=500
        )

    def server() -> ServerState:
        return state_box["state"]

    @app.get("/api/qibo_version/")
    async def qibo_version() -> Response:
        return json_response(
            {
                "server_qibo_version": server().qibo_version,
                "minimum_client_qibo_version": MIN_CLIENT_QIBO,
            }
        )

    @app.post("/api/jobs/")
    async def submit(request: Request) -> Response:
        state = server()
        user = state.authenticate(request)
        payload = parse_body(await read_body(request, state.config.max_body_bytes))
        if not isinstance(payload, dict):
            raise _http_error(422, "body must be a JSON object with 'circuit' and 'nshots'")
        check_shape(payload)
        key = idempotency_key(request)
        wait = prefer_wait(request.headers.get("prefer"))

        pid = state.store.find_idempotent(user.id, key) if key else None
        if pid is None:
            checked = check_job(state, user, payload, key)
            check_room(state, user, 1)
            pid = state.store.insert_job(checked.new)
            state.runner.submit(checked.task(pid))
        request.state.job_id = pid
        if wait is None:
            return json_response({"pid": pid})
        row = state.store.get_job(pid, user.id)
        if row is not None and row["status"] not in TERMINAL and wait > 0:
            await state.runner.wait(pid, wait)
            row = state.store.get_job(pid, user.id)
        if row is None:  # deleted while we waited
            return json_response({"pid": pid, "status": "deleted"})
        if row["status"] in TERMINAL:
            return job_response(state, row, user, headers={"Preference-Applied": f"wait={wait:g}"})
        status = "running" if state.runner.is_running(pid) else row["status"]
        return json_response({"pid": pid, "status": status})

    @app.post("/api/jobs/batch/")
    async def submit_batch(request: Request) -> Response:
        """Several jobs in one request, all or none (see docs/protocol.md, "Batches")."""
        state = server()
        user = state.authenticate(request)
        payload = parse_body(
            await read_body(request, state.config.max_body_bytes * BATCH_BODY_FACTOR)
        )
        if not isinstance(payload, dict) or not isinstance(payload.get("jobs"), list):
            raise _http_error(422, 'body must be a JSON object {"jobs": [job, ...]}')
        items: list[Any] = payload["jobs"]
        if not 0 < len(items) <= MAX_BATCH_JOBS:
            raise _http_error(422, f"'jobs' must hold 1 to {MAX_BATCH_JOBS} jobs, not {len(items)}")
        key = idempotency_key(request)
        wait = prefer_wait(request.headers.get("prefer"))

        pids = state.store.find_idempotent_batch(user.id, key) if key else None
        if pids is not None and len(pids) != len(items):
            raise _http_error(
                409,
                f"Idempotency-Key already names a batch of {len(pids)} existing jobs, not "
                f"{len(items)}: use a new key for a new batch",
            )
        if pids is None:
            checked = []
            for index, item in enumerate(items):
                try:
                    if not isinstance(item, dict):
                        raise _http_error(422, "a job must be a JSON object with 'circuit'")
                    check_shape(item)
                    job_key = None if key is None else f"{key}\n{index}"
                    checked.append(check_job(state, user, item, job_key))
                except HTTPException as err:
                    raise _http_error(err.status_code, f"jobs[{index}]: {err.detail}") from err
            check_room(state, user, len(checked))
            pids = state.store.insert_jobs([job.new for job in checked])
            for pid, job in zip(pids, checked, strict=True):
                state.runner.submit(job.task(pid))
        request.state.job_id = f"{pids[0]}+{len(pids) - 1}"
        if wait is None:
            return json_response({"pids": pids})
        rows = await rows_when_done(state, pids, user, wait)
        return batch_answer(state, pids, rows, user, {"pids": pids})

    @app.get("/api/jobs/batch/")
    async def get_batch(request: Request) -> Response:
        """Several of the caller's jobs in one request, held until all end or ``wait`` passes."""
        state = server()
        user = state.authenticate(request)
        wait = wait_seconds(request.query_params.get("wait"), strict=True)
        pids = [pid for pid in request.query_params.get("pids", "").split(",") if pid]
        if not 0 < len(pids) <= MAX_BATCH_JOBS:
            raise _http_error(
                422, f"pids must name 1 to {MAX_BATCH_JOBS} jobs (comma-separated), not {len(pids)}"
            )
        for pid in pids:
            if state.store.get_job(pid, user.id) is None:
                raise _http_error(404, f"no job {pid!r} for this user")
        request.state.job_id = f"{pids[0]}+{len(pids) - 1}"
        rows = await rows_when_done(state, pids, user, wait)
        return batch_answer(state, pids, rows, user, {}, all_objects=True)

    @app.get("/api/jobs/")
    async def list_jobs(request: Request) -> Response:
        state = server()
        user = state.authenticate(request)
        jobs = []
        for row in state.store.list_jobs(user.id):
            status = row["status"]
            if status not in TERMINAL and state.runner.is_running(row["pid"]):
                status = "running"
            jobs.append(
                {
                    "pid": row["pid"],
                    "user": {"email": user.email},
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                    "status": status,
                    "result_path": (
                        f"/api/jobs/{row['pid']}/download/" if status in TERMINAL else None
                    ),
                }
            )
        return json_response(jobs)

    @app.delete("/api/jobs/bulk_delete/")
    async def bulk_delete(request: Request) -> Response:
        state = server()
        user = state.authenticate(request)
        deleted = state.store.delete_all(user.id)
        for pid in deleted:
            state.runner.cancel(pid)
        return json_response({"deleted": deleted})

    def owned(state: ServerState, pid: str, user: User, request: Request) -> sqlite3.Row:
        request.state.job_id = pid
        row = state.store.get_job(pid, user.id)
        if row is None:
            raise _http_error(404, f"no job {pid!r} for this user")
        return row

    @app.get("/api/jobs/{pid}/")
    async def get_job(pid: str, request: Request) -> Response:
        state = server()
        user = state.authenticate(request)
        wait = wait_seconds(request.query_params.get("wait"), strict=True)
        row = owned(state, pid, user, request)
        if row["status"] not in TERMINAL and wait > 0:
            await state.runner.wait(pid, wait)
            row = owned(state, pid, user, request)
        return job_response(state, row, user)

    @app.delete("/api/jobs/{pid}/")
    async def delete_job(pid: str, request: Request) -> Response:
        state = server()
        user = state.authenticate(request)
        request.state.job_id = pid
        if not state.store.delete_job(pid, user.id):
            raise _http_error(404, f"no job {pid!r} for this user")
        state.runner.cancel(pid)
        return json_response({"pid": pid, "status": "deleted"})

    @app.get("/api/jobs/{pid}/download/")
    async def download(pid: str, request: Request) -> Response:
        from qibo_client.server import archive

        state = server()
        user = state.authenticate(request)
        row = row_dict(owned(state, pid, user, request))
        if row["status"] not in TERMINAL:
            raise _http_error(409, f"job {pid} has not finished (status queueing or running)")
        loop = asyncio.get_running_loop()
        if row["status"] == "success":
            data = await loop.run_in_executor(
                None, archive.success_archive, row["frequencies"], row["num_qubits"]
            )
        else:
            data = await loop.run_in_executor(
                None, archive.error_archive, row["stdout"], row["stderr"]
            )
        return Response(
            data,
            media_type="application/gzip",
            headers={"Content-Disposition": f'attachment; filename="{pid}.tar.gz"'},
        )

    @app.get("/api/disk_quota/")
    async def disk_quota(request: Request) -> Response:
        state = server()
        user = state.authenticate(request)
        kbs_max = 1024 * 1024
        used = state.store.bytes_used(user.id) / 1024
        return json_response(
            [
                {
                    "user": {"email": user.email},
                    "kbs_left": round(kbs_max - used, 1),
                    "kbs_max": kbs_max,
                }
            ]
        )

    @app.get("/api/projectquotas/")
    async def project_quotas(request: Request) -> Response:
        state = server()
        user = state.authenticate(request)
        quotas = [
            {
                "project": project,
                "partition": device.partition(),
                "seconds_left": None,
                "shots_left": None,
                "jobs_left": state.config.max_queued_per_user,
            }
            for project in sorted(user.projects)
            for device in state.devices
        ]
        return json_response(quotas)

    return app


__all__ = ["ServerConfig", "ServerState", "create_app", "parse_circuit"]
