"""``GET /api/jobs/{pid}/download/``: a finished job's archive, the 0.2 generation's results.

The official client 0.2.4 reads its results only from here (qibo's ``results.npy`` in a gzip tar).
The 2026 service has no such path (the counts are in the job object), so a profile without
downloads (``tii-2026``) does not include this router and the path answers 404.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qibo_client.protocol import TERMINAL_STATUSES, Status
from qibo_client.server.api.checks import refuse
from qibo_client.server.api.deps import CurrentUser, State
from qibo_client.server.api.routes.jobs import JOB_PATH, owned
from qibo_client.server.api.schemas import NOT_FOUND

router = APIRouter(tags=["jobs"])

DOWNLOAD_PATH = f"{JOB_PATH}download/"


@router.get(
    DOWNLOAD_PATH,
    responses={
        200: {"content": {"application/gzip": {}}, "description": "results.npy, or the logs"},
        409: {"description": "the job has not finished"},
        **NOT_FOUND,
    },
)
async def download(pid: str, request: Request, state: State, user: CurrentUser) -> Response:
    """A finished job's archive: qibo's ``results.npy``, or ``stdout.log``/``stderr.log``."""
    from qibo_client.server.api import archive

    request.state.job_id = pid
    row = owned(state, pid, user)
    status = row["status"]
    if status not in TERMINAL_STATUSES:
        raise refuse(409, f"job {pid} has not finished (status queueing or running)")
    loop = asyncio.get_running_loop()
    if status == Status.SUCCESS.value:
        frequencies, nqubits, circuit = row["frequencies"], row["num_qubits"], row["circuit"]
        data = await loop.run_in_executor(
            None, archive.success_archive, frequencies, nqubits, circuit
        )
    else:
        stdout, stderr = row["stdout"], row["stderr"]
        data = await loop.run_in_executor(None, archive.error_archive, stdout, stderr)
    return Response(
        data,
        media_type="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="{pid}.tar.gz"'},
    )
