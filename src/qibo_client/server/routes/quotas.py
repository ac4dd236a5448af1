"""``GET /api/disk_quota/`` and ``GET /api/projectquotas/``: what a user may still use."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from qibo_client.protocol import DISK_QUOTA_PATH, PROJECT_QUOTAS_PATH
from qibo_client.server.answers import json_response, project_quota
from qibo_client.server.deps import CurrentUser, State
from qibo_client.server.schemas import AUTH_ERRORS, DiskQuota, ProjectQuota

router = APIRouter(tags=["quotas"])

#: Each user's storage, in kB (the reference server does not enforce it).
DISK_KBS_MAX = 1024 * 1024


@router.get(DISK_QUOTA_PATH, responses={200: {"model": list[DiskQuota]}, **AUTH_ERRORS})
async def disk_quota(state: State, user: CurrentUser) -> Response:
    """The storage the caller's circuits and results take, and what is left."""
    used = state.store.bytes_used(user.id) / 1024
    return json_response(
        [
            {
                "user": {"email": user.email},
                "kbs_left": round(DISK_KBS_MAX - used, 1),
                "kbs_max": DISK_KBS_MAX,
            }
        ]
    )


@router.get(PROJECT_QUOTAS_PATH, responses={200: {"model": list[ProjectQuota]}, **AUTH_ERRORS})
async def project_quotas(state: State, user: CurrentUser) -> Response:
    """One entry per (project of the caller, device of the server), every number numeric."""
    quotas = [
        project_quota(state, user, project, device.name)
        for project in sorted(user.projects)
        for device in state.devices
    ]
    return json_response(quotas)
