"""The batch extension: many jobs in one request, all or none, and one request to collect them.

See docs/protocol.md, "Batches". A batch is its jobs: each is stored and run as a single job would
be; the batch's ``Idempotency-Key`` names them as ``key + "\\n" + index``.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from qibo_client.protocol import BATCH_PATH, IDEMPOTENCY_HEADER, MAX_BATCH_JOBS
from qibo_client.server.accounts import User
from qibo_client.server.api.answers import batch_answer, json_response
from qibo_client.server.api.checks import (
    BATCH_BODY_FACTOR,
    CheckedJob,
    batch_of,
    check_job,
    check_quotas,
    check_room,
    idempotency_key,
    parse_body,
    prefer_wait,
    read_body,
    refuse,
    wait_seconds,
)
from qibo_client.server.api.deps import CurrentUser, State
from qibo_client.server.api.schemas import (
    NOT_FOUND,
    SUBMIT_ERRORS,
    BatchAnswer,
    BatchSubmission,
    JobSubmission,
    request_body,
)
from qibo_client.server.state import ServerState

router = APIRouter(tags=["batches"])

BATCH_QUERY = [
    {
        "name": "pids",
        "in": "query",
        "required": True,
        "schema": {"type": "string"},
        "description": f"1 to {MAX_BATCH_JOBS} of your pids, comma-separated",
    },
    {
        "name": "wait",
        "in": "query",
        "required": False,
        "schema": {"type": "number", "minimum": 0},
        "description": "hold the answer until all ended, at most this many seconds (max 30)",
    },
]


def check_batch(
    state: ServerState, user: User, jobs: list[JobSubmission], key: str | None
) -> list[CheckedJob]:
    """Every job of a batch checked as a single one; a refusal names the job (``jobs[3]: ...``)."""
    checked = []
    for index, job in enumerate(jobs):
        try:
            job_key = None if key is None else f"{key}\n{index}"
            checked.append(
                check_job(state.devices, user, job, job_key, state.profile, state.templates)
            )
        except HTTPException as err:
            raise refuse(err.status_code, f"jobs[{index}]: {err.detail}") from err
    return checked


@router.post(
    BATCH_PATH,
    openapi_extra=request_body(BatchSubmission),
    responses={200: {"model": BatchAnswer}, **SUBMIT_ERRORS},
)
async def submit_batch(request: Request, state: State, user: CurrentUser) -> Response:
    """Queue several jobs, all or none; with ``Prefer: wait=S``, held until all end."""
    limit = state.config.max_body_bytes * BATCH_BODY_FACTOR
    items = batch_of(parse_body(await read_body(request, limit)))
    key = idempotency_key(request)
    wait = prefer_wait(request)

    store = state.store
    pids = store.find_idempotent_batch(user.id, key) if key else None
    if pids is not None and len(pids) != len(items):
        raise refuse(
            409,
            f"{IDEMPOTENCY_HEADER} already names a batch of {len(pids)} existing jobs, not "
            f"{len(items)}: use a new key for a new batch",
        )
    queued = pids is None
    if pids is None:
        checked = check_batch(state, user, items, key)
        check_room(store.count_queued(user.id), state.config.max_queued_per_user, len(checked))
        check_quotas(store, state.quota_limits, [job.new for job in checked])
        pids = store.insert_jobs([job.new for job in checked])
        for pid, job in zip(pids, checked, strict=True):
            state.runner.submit(job.task(pid), user.id)
    request.state.job_id = f"{pids[0]}+{len(pids) - 1}"
    if wait is None:
        return json_response({"pids": pids})
    rows = await state.rows_when_done(pids, user, wait, just_queued=queued)
    return batch_answer(state, pids, rows, user, {"pids": pids})


@router.get(
    BATCH_PATH,
    responses={200: {"model": BatchAnswer}, **NOT_FOUND},
    openapi_extra={"parameters": BATCH_QUERY},
)
async def get_batch(request: Request, state: State, user: CurrentUser) -> Response:
    """Several of the caller's jobs in one request, held until all end or ``wait`` passes."""
    wait = wait_seconds(request.query_params.get("wait"), strict=True)
    pids = [pid for pid in request.query_params.get("pids", "").split(",") if pid]
    if not 0 < len(pids) <= MAX_BATCH_JOBS:
        raise refuse(
            422, f"pids must name 1 to {MAX_BATCH_JOBS} jobs (comma-separated), not {len(pids)}"
        )
    for pid in pids:
        if state.store.get_job(pid, user.id) is None:
            raise refuse(404, f"no job {pid!r} for this user")
    request.state.job_id = f"{pids[0]}+{len(pids) - 1}"
    rows = await state.rows_when_done(pids, user, wait)
    return batch_answer(state, pids, rows, user, {}, all_objects=True)
