"""The HTTP endpoints, one router per resource, combined here in the order they must match.

``batches`` comes before ``jobs``: ``/api/jobs/batch/`` must not be taken for the job ``batch`` of
``/api/jobs/{pid}/`` (``jobs`` itself declares ``bulk_delete/`` before ``{pid}/`` for the same
reason). A profile without batches (``tii``) has no ``batches`` router: its path is then a
job's, and answers 404 (GET) or 405 (POST), as a server that never had batches would.
"""

from __future__ import annotations

from fastapi import APIRouter

from qibo_client.server.profiles import DEFAULT, Profile
from qibo_client.server.routes import batches, jobs, quotas, templates, version


def router_for(profile: Profile) -> APIRouter:
    """Every endpoint a server of ``profile`` has."""
    router = APIRouter()
    router.include_router(version.router)
    if profile.batches:
        router.include_router(batches.router)
    router.include_router(jobs.router)
    router.include_router(quotas.router)
    if profile.templates:
        router.include_router(templates.router)
    return router


api_router = router_for(DEFAULT)

__all__ = ["api_router", "router_for"]
