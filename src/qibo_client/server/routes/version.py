"""``GET /api/qibo_version/``: which qibo the server runs and the oldest a client may run."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from qibo_client.protocol import MIN_CLIENT_QIBO, VERSION_PATH
from qibo_client.server.answers import json_response
from qibo_client.server.deps import State
from qibo_client.server.schemas import Version

router = APIRouter(tags=["version"])


@router.get(VERSION_PATH, responses={200: {"model": Version}})
async def qibo_version(state: State) -> Response:
    """Public: the only endpoint that needs no token."""
    return json_response(
        {
            "server_qibo_version": state.qibo_version,
            "minimum_client_qibo_version": MIN_CLIENT_QIBO,
        }
    )
