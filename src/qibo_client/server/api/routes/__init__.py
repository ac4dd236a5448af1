"""The HTTP endpoints, one router per resource, combined here in the order they must match.

``batches`` comes before ``jobs``: ``/api/jobs/batch/`` must not be taken for the job ``batch`` of
``/api/jobs/{pid}/`` (``jobs`` itself declares ``bulk_delete/`` before ``{pid}/`` for the same
reason). A profile without batches (``tii``) has no ``batches`` router: its path is then a
job's, and answers 404 (GET) or 405 (POST), as a server that never had batches would; one
without downloads (``tii-2026``) has no ``downloads`` router, and that path answers 404.

**Both spellings of every path are served directly.** The protocol's paths end with ``/``, but
NVIDIA CUDA-Q's ``tii`` target posts to ``api/jobs`` and polls ``api/jobs/<pid>`` without it;
Starlette would answer those with a 307 redirect, which a client need not follow with its body.
:class:`WithoutSlash`, an ASGI middleware, adds the final ``/`` to an ``/api/`` path that lacks
it before routing, so each route is declared once: declaring every route a second time made
each match walk twice the routes (20 us against 7 us for ``POST /api/jobs/``, ``timeit``).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.types import ASGIApp, Receive, Scope, Send

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
    """Every endpoint a server of ``profile`` has (each also without its final ``/``, through
    :class:`WithoutSlash`)."""
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
    return router


#: The protocol's paths: only these gain a final ``/`` (the web view and /metrics keep theirs).
API_PREFIX = "/api/"


class WithoutSlash:
    """Serve ``/api/...`` without its final ``/`` as the same path with it: no redirect, the
    body kept, one string check per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(API_PREFIX) and not path.endswith("/"):
            scope = {**scope, "path": path + "/"}
            raw = scope.get("raw_path")
            if raw:
                scope["raw_path"] = raw + b"/"
        await self.app(scope, receive, send)


api_router = router_for(DEFAULT)

__all__ = ["API_PREFIX", "WithoutSlash", "api_router", "router_for"]
