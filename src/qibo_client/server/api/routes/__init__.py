"""The HTTP endpoints, one router per resource, combined here in the order they must match.

``batches`` comes before ``jobs``: ``/api/jobs/batch/`` must not be taken for the job ``batch`` of
``/api/jobs/{pid}/`` (``jobs`` itself declares ``bulk_delete/`` before ``{pid}/`` for the same
reason). A profile without batches (``tii``) has no ``batches`` router: its path is then a
job's, and answers 404 (GET) or 405 (POST), as a server that never had batches would; one
without downloads (``tii-2026``) has no ``downloads`` router, and that path answers 404.

**Both spellings of every path are served directly.** The protocol's paths end with ``/``, but
NVIDIA CUDA-Q's ``tii`` target posts to ``api/jobs`` and polls ``api/jobs/<pid>`` without it;
Starlette would answer those with a 307 redirect, which a client need not follow with its body.
So each resource's routes are declared once more here, without their final ``/`` (and out of
the OpenAPI document), right after the originals.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute

from qibo_client.server.api.routes import (
    accounts,
    batches,
    downloads,
    jobs,
    quotas,
    templates,
    version,
)
from qibo_client.server.profiles import DEFAULT, Profile


def router_for(profile: Profile) -> APIRouter:
    """Every endpoint a server of ``profile`` has, at both spellings of its path."""
    parts = [version.router, accounts.router]
    if profile.batches:
        parts.append(batches.router)
    parts.append(jobs.router)
    if profile.downloads:
        parts.append(downloads.router)
    parts.append(quotas.router)
    if profile.templates:
        parts.append(templates.router)
    router = APIRouter()
    for part in parts:
        router.include_router(part)
        router.include_router(without_slashes(part))
    return router


def without_slashes(part: APIRouter) -> APIRouter:
    """``part``'s endpoints at their paths without the final ``/``, out of the OpenAPI document.

    A path with ``/`` never matches one without, so the two spellings cannot shadow each other;
    within each, the order of ``part`` is kept.
    """
    router = APIRouter()
    for route in part.routes:
        if isinstance(route, APIRoute) and route.path.endswith("/"):
            router.add_api_route(
                route.path.rstrip("/"),
                route.endpoint,
                methods=sorted(route.methods or ()),
                name=f"{route.name}_without_slash",
                include_in_schema=False,
            )
    return router


api_router = router_for(DEFAULT)

__all__ = ["api_router", "router_for", "without_slashes"]
