"""``GET /api/qibo_version/``: which qibo the server runs, the oldest a client may run, and the
extensions of the protocol it honours (none listed: the base protocol only)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from qibo_client.protocol import EXTENSIONS_KEY, MIN_CLIENT_QIBO, VERSION_PATH
from qibo_client.server.answers import json_response
from qibo_client.server.deps import State
from qibo_client.server.schemas import Version

router = APIRouter(tags=["version"])


@router.get(VERSION_PATH, responses={200: {"model": Version}})
async def qibo_version(state: State) -> Response:
    """Public: the only endpoint that needs no token."""
    body: dict[str, object] = {
        "server_qibo_version": state.qibo_version,
        "minimum_client_qibo_version": MIN_CLIENT_QIBO,
    }
    if state.profile.extensions is not None:
        body[EXTENSIONS_KEY] = list(state.profile.extensions)
    return json_response(body)
