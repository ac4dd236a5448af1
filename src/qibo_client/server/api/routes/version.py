"""``GET /api/qibo_version/``: which qibo the server runs, the oldest a client may run, and the
extensions of the protocol it honours (none listed: the base protocol only).

Two generations of clients read this answer under different names: the 0.2 generation (the
official client 0.2.4, ours) reads ``minimum_client_qibo_version``, the 2026 one (``tii-quantum``,
the official v0.3.0 branch) ``minimum_qibo_version`` and ``minimum_client_version`` and fails
without them. So every profile sends the 2026 keys, and all but ``tii-2026`` the older one too.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from qibo_client.protocol import (
    EXTENSIONS_KEY,
    MIN_CLIENT_QIBO,
    MIN_CLIENT_QIBO_KEY,
    MIN_CLIENT_VERSION,
    MIN_CLIENT_VERSION_KEY,
    MIN_QIBO_KEY,
    SERVER_QIBO_KEY,
    VERSION_PATH,
)
from qibo_client.server.api.answers import json_response
from qibo_client.server.api.deps import State
from qibo_client.server.api.schemas import Version

router = APIRouter(tags=["version"])


@router.get(VERSION_PATH, responses={200: {"model": Version}})
async def qibo_version(state: State) -> Response:
    """Public: the only endpoint that needs no token."""
    profile = state.profile
    body: dict[str, object] = {SERVER_QIBO_KEY: state.qibo_version}
    if profile.legacy_version_key:
        body[MIN_CLIENT_QIBO_KEY] = MIN_CLIENT_QIBO
    body[MIN_QIBO_KEY] = MIN_CLIENT_QIBO
    body[MIN_CLIENT_VERSION_KEY] = MIN_CLIENT_VERSION
    if profile.extensions is not None:
        body[EXTENSIONS_KEY] = list(profile.extensions)
    return json_response(body)
