"""Building answers: the protocol's job object, batch answers, and small JSON bodies.

**Answers are JSON we serialise ourselves**, with the stored frequencies and circuit spliced in as
the JSON text they already are: no re-parsing of what the store holds, no ``jsonable_encoder``, no
response model validated on the way out (:mod:`.schemas` describes these answers for the OpenAPI
document only).
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from typing import Any

from fastapi.responses import Response

from qibo_client.protocol import TERMINAL_STATUSES, job_path
from qibo_client.server.accounts import User
from qibo_client.server.jobs.quotas import balance
from qibo_client.server.jobs.worker import job_seed_of
from qibo_client.server.state import ServerState

#: The status a batch answer gives a job deleted while the batch was held.
DELETED = "deleted"


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``payload`` as compact JSON."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def result_path(state: ServerState, pid: str, status: str) -> str | None:
    """Where a finished job's archive is; None until it is terminal, or where there are none."""
    if not state.profile.downloads or status not in TERMINAL_STATUSES:
        return None
    return job_path(pid, "download/")


def job_object(state: ServerState, row: sqlite3.Row, user: User) -> bytes:
    """The protocol's job object; circuit and frequencies are spliced in as stored JSON text."""
    if state.profile.official_shapes:
        return official_job_object(state, row, user)
    pid = row["pid"]
    status, position = state.shown_status(row)
    etd = None if status in TERMINAL_STATUSES else state.runner.etd_seconds(pid, position)
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
        "seed": job_seed_of(pid, row["seed"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "queue_position": position,
        "etd_seconds": etd,
        "runtime": row["runtime"],
        "stdout": row["stdout"],
        "stderr": row["stderr"],
        "qibo_version": state.qibo_version,
        "engine": row["engine"],
        "result_path": result_path(state, pid, status),
        **labels(state, row),
    }
    text = json.dumps(head, separators=(",", ":"))
    frequencies = row["frequencies"] or "null"
    return f'{text[:-1]},"circuit":{row["circuit"]},"frequencies":{frequencies}}}'.encode()


def official_job_object(state: ServerState, row: sqlite3.Row, user: User) -> bytes:
    """The job object in the shape of the official client's test schema (the ``tii`` profile)."""
    pid = row["pid"]
    status, position = state.shown_status(row)
    finished = status in TERMINAL_STATUSES
    start = None if finished or position is None else state.runner.start_seconds(position)
    head = {
        "pid": pid,
        "user": {"email": user.email},
        "projectquota": project_quota(state, user, row["project"], row["device"]),
        "transpiled_circuit": None,
        "num_qubits": row["num_qubits"],
        "status": status,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "result_path": result_path(state, pid, status) or "",
        "nshots": row["nshots"],
        "stdout": row["stdout"] if finished else "",
        "stderr": row["stderr"] if finished else "",
        "qibo_version": state.qibo_version,
        "qibolab_version": None,
        "verbatim": bool(row["verbatim"]),
        "runtime": row["runtime"] if finished else None,
        "job_queue_position": position,
        "seconds_to_job_start": start,
    }
    text = json.dumps(head, separators=(",", ":"))
    frequencies = (row["frequencies"] or "null") if finished else "null"
    return f'{text[:-1]},"circuit":{row["circuit"]},"frequencies":{frequencies}}}'.encode()


def project_quota(state: ServerState, user: User, project: str, device_name: str) -> dict[str, Any]:
    """One entry of ``GET /api/projectquotas/``, with every field the official schema lists.

    The budget is the project's (:mod:`.quotas`), the same on each device; ``jobs_left`` is also
    bounded by the room left in the user's queue (``max_queued_per_user``)."""
    device = state.devices.get(device_name)
    limits = state.quota_limits
    left = balance(state.store, limits, user.id, project)
    room = state.config.max_queued_per_user - state.store.count_queued(user.id)
    return {
        "id": zlib.crc32(f"{user.id}/{project}/{device.name}".encode()) % 1_000_000,
        "project": project,
        "partition": device.partition(),
        "max_num_shots": device.max_shots,
        "max_walltime_seconds": limits.walltime_seconds,
        "seconds_left": round(left.seconds_left, 3),
        "seconds_max": left.seconds_max,
        "shots_left": left.shots_left,
        "shots_max": left.shots_max,
        "jobs_left": max(0, min(left.jobs_left, room)),
        "jobs_max": left.jobs_max,
        "prealloc_seconds": 0,
        "prealloc_shots": 0,
        "prealloc_jobs": 0,
    }


def job_response(
    state: ServerState, row: sqlite3.Row, user: User, headers: dict[str, str] | None = None
) -> Response:
    """One job object as the whole answer."""
    return Response(job_object(state, row, user), media_type="application/json", headers=headers)


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
    done = all(row is not None and row["status"] in TERMINAL_STATUSES for row in rows)
    if done or (all_objects and all(row is not None for row in rows)):
        text = json.dumps(head, separators=(",", ":"))[:-1].encode()
        objects = b",".join(job_object(state, row, user) for row in rows if row is not None)
        sep = b"," if head else b""
        return Response(text + sep + b'"jobs":[' + objects + b"]}", media_type="application/json")
    statuses = [DELETED if row is None else state.live_status(row) for row in rows]
    return json_response({**head, "pids": pids, "statuses": statuses})


def job_summary(state: ServerState, row: sqlite3.Row, user: User) -> dict[str, Any]:
    """One entry of ``GET /api/jobs/``."""
    status = state.live_status(row)
    return {
        "pid": row["pid"],
        "user": {"email": user.email},
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "status": status,
        "result_path": result_path(state, row["pid"], status),
        **labels(state, row),
    }


def labels(state: ServerState, row: sqlite3.Row) -> dict[str, Any]:
    """``name`` and ``tags`` of a job, where the profile has the tags extension (else nothing)."""
    if not state.profile.tags:
        return {}
    return {"name": row["name"], "tags": json.loads(row["tags"]) if row["tags"] else []}


__all__ = [
    "DELETED",
    "batch_answer",
    "job_object",
    "job_response",
    "job_summary",
    "json_response",
    "labels",
    "official_job_object",
    "project_quota",
    "result_path",
]
