"""The jobs resource: submit, list, read (optionally held until it ends), delete.

**Another user's job does not exist**: every lookup is by (pid, user), so the answer is 404 on every
endpoint, never 403. **Nothing half done**: a job is one INSERT, made only after every check
passed, and given to the runner right after.
"""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from qibo_client.protocol import (
    BULK_DELETE_PATH,
    JOBS_PATH,
    MAX_TAG_CHARS,
    TAG_QUERY,
    TERMINAL_STATUSES,
)
from qibo_client.server.accounts import User
from qibo_client.server.api.answers import DELETED, job_response, job_summary, json_response
from qibo_client.server.api.checks import (
    check_job,
    check_quotas,
    check_room,
    idempotency_key,
    job_of,
    parse_body,
    prefer_wait,
    read_body,
    refuse,
    wait_seconds,
)
from qibo_client.server.api.deps import CurrentUser, State
from qibo_client.server.api.schemas import (
    AUTH_ERRORS,
    NOT_FOUND,
    SUBMIT_ERRORS,
    BulkDeleted,
    Deleted,
    JobObject,
    JobSubmission,
    JobSummary,
    request_body,
)
from qibo_client.server.state import ServerState

router = APIRouter(tags=["jobs"])

JOB_PATH = f"{JOBS_PATH}{{pid}}/"
#: The ``wait`` query parameter, documented (it is read by hand: a bad value is a 422 string).
WAIT_PARAMETER = {
    "name": "wait",
    "in": "query",
    "required": False,
    "schema": {"type": "number", "minimum": 0},
    "description": "hold the answer until the job ends, at most this many seconds (max 30)",
}


def no_job(pid: str) -> HTTPException:
    return refuse(404, f"no job {pid!r} for this user")


def owned(state: ServerState, pid: str, user: User) -> sqlite3.Row:
    """The caller's job ``pid``, or 404."""
    row = state.store.get_job(pid, user.id)
    if row is None:
        raise no_job(pid)
    return row


@router.post(
    JOBS_PATH,
    openapi_extra=request_body(JobSubmission),
    responses={
        200: {
            "description": "the pid; with Prefer: wait=S, the whole job once it ended",
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/Submitted"},
                            {"$ref": "#/components/schemas/JobObject"},
                        ]
                    }
                }
            },
        },
        **SUBMIT_ERRORS,
    },
)
async def submit(request: Request, state: State, user: CurrentUser) -> Response:
    """Queue one job. ``Idempotency-Key`` makes a retry return the first job; ``Prefer: wait=S``
    holds the answer until the job ends (at most S seconds)."""
    job = job_of(parse_body(await read_body(request, state.config.max_body_bytes)))
    profile = state.profile
    key = idempotency_key(request) if profile.idempotency else None
    wait = prefer_wait(request) if profile.holds else None

    store = state.store
    pid = store.find_idempotent(user.id, key) if key else None
    queued = pid is None
    if pid is None:
        checked = check_job(state.devices, user, job, key, profile, state.templates)
        check_room(store.count_queued(user.id), state.config.max_queued_per_user, 1)
        check_quotas(store, state.quota_limits, [checked.new])
        pid = store.insert_job(checked.new)
        state.runner.submit(checked.task(pid), user.id)
    request.state.job_id = pid
    if wait is None:
        return json_response({"pid": pid})
    [row] = await state.rows_when_done([pid], user, wait, just_queued=queued)
    if row is None:  # deleted while we waited
        return json_response({"pid": pid, "status": DELETED})
    if row["status"] in TERMINAL_STATUSES:
        return job_response(state, row, user, headers={"Preference-Applied": f"wait={wait:g}"})
    return json_response({"pid": pid, "status": state.live_status(row)})


#: The ``tag`` query parameter of the job list, documented.
TAG_PARAMETER = {
    "name": TAG_QUERY,
    "in": "query",
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_TAG_CHARS},
    "description": "only the jobs carrying this tag (the tags extension)",
}


@router.get(
    JOBS_PATH,
    responses={200: {"model": list[JobSummary]}, **AUTH_ERRORS},
    openapi_extra={"parameters": [TAG_PARAMETER]},
)
async def list_jobs(request: Request, state: State, user: CurrentUser) -> Response:
    """The caller's jobs, oldest first; with ``?tag=T``, only those tagged T."""
    tag = request.query_params.get(TAG_QUERY) if state.profile.tags else None
    rows = state.store.list_jobs(user.id, tag=tag)
    return json_response([job_summary(state, row, user) for row in rows])


@router.delete(BULK_DELETE_PATH, responses={200: {"model": BulkDeleted}, **AUTH_ERRORS})
async def bulk_delete(state: State, user: CurrentUser) -> Response:
    """Delete every job of the caller (queued ones never run)."""
    deleted = state.store.delete_all(user.id)
    for pid in deleted:
        state.runner.cancel(pid)
    return json_response({"deleted": deleted})


@router.get(
    JOB_PATH,
    responses={200: {"model": JobObject}, **NOT_FOUND},
    openapi_extra={"parameters": [WAIT_PARAMETER]},
)
async def get_job(pid: str, request: Request, state: State, user: CurrentUser) -> Response:
    """One job; with ``?wait=S``, held until it ends (at most S seconds)."""
    holds = state.profile.holds
    wait = wait_seconds(request.query_params.get("wait"), strict=True) if holds else 0.0
    request.state.job_id = pid
    row = owned(state, pid, user)
    if row["status"] not in TERMINAL_STATUSES and wait > 0:
        [again] = await state.rows_when_done([pid], user, wait)
        if again is None:  # deleted while we waited
            raise no_job(pid)
        row = again
    return job_response(state, row, user)


@router.delete(JOB_PATH, responses={200: {"model": Deleted}, **NOT_FOUND})
async def delete_job(pid: str, request: Request, state: State, user: CurrentUser) -> Response:
    """Delete one job (a queued one never runs; a running one's result is discarded)."""
    request.state.job_id = pid
    if not state.store.delete_job(pid, user.id):
        raise no_job(pid)
    state.runner.cancel(pid)
    if state.profile.official_shapes:
        return json_response({"detail": f"Job {pid} deleted"})
    return json_response({"pid": pid, "status": DELETED})
