"""The HTTP endpoints, one router per resource, combined here in the order they must match.

``batches`` comes before ``jobs``: ``/api/jobs/batch/`` must not be taken for the job ``batch`` of
``/api/jobs/{pid}/`` (``jobs`` itself declares ``bulk_delete/`` before ``{pid}/`` for the same
reason).
"""

from __future__ import annotations

from fastapi import APIRouter

from qibo_client.server.routes import batches, jobs, quotas, version

api_router = APIRouter()
api_router.include_router(version.router)
api_router.include_router(batches.router)
api_router.include_router(jobs.router)
api_router.include_router(quotas.router)

__all__ = ["api_router"]
