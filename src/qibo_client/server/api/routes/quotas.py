"""``GET /api/disk_quota/`` and ``GET /api/projectquotas/``: what a user may still use.

The disk quota has two shapes, one per generation of client: the official client 0.2.4 takes the
first element of a list, ``tii-quantum`` reads one object. A client names itself by its version
header, so the answer follows it (``x-tii-quantum-version``: the object, anything else: the list);
the ``tii-2026`` profile always answers the object, as the 2026 service does.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qibo_client.protocol import DISK_QUOTA_PATH, PROJECT_QUOTAS_PATH, TII_QUANTUM_VERSION_HEADER
from qibo_client.server.api.answers import json_response, project_quota
from qibo_client.server.api.deps import CurrentUser, State
from qibo_client.server.api.schemas import AUTH_ERRORS, DiskQuota, ProjectQuota

router = APIRouter(tags=["quotas"])

#: Each user's storage, in kB (the reference server does not enforce it).
DISK_KBS_MAX = 1024 * 1024


@router.get(
    DISK_QUOTA_PATH,
    responses={200: {"model": list[DiskQuota] | DiskQuota}, **AUTH_ERRORS},
)
async def disk_quota(request: Request, state: State, user: CurrentUser) -> Response:
    """The storage the caller's circuits and results take, and what is left."""
    used = state.store.bytes_used(user.id) / 1024
    quota = {
        "user": {"email": user.email},
        "kbs_left": round(DISK_KBS_MAX - used, 1),
        "kbs_max": DISK_KBS_MAX,
    }
    if state.profile.quota_object or TII_QUANTUM_VERSION_HEADER in request.headers:
        return json_response(quota)
    return json_response([quota])


@router.get(PROJECT_QUOTAS_PATH, responses={200: {"model": list[ProjectQuota]}, **AUTH_ERRORS})
async def project_quotas(state: State, user: CurrentUser) -> Response:
    """One entry per (project of the caller, device of the server), every number numeric."""
    quotas = [
        project_quota(state, user, project, device.name)
        for project in sorted(user.projects)
        for device in state.devices
    ]
    return json_response(quotas)
