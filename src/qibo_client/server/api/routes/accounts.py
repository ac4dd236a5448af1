"""``GET /api/accounts/me/``: who the caller's token belongs to, ``{"email": ...}``.

The 2026 service has it, and ``tii-quantum`` reads it to head its job table; every profile serves
it, since it reveals nothing a token's owner does not know.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from qibo_client.protocol import ACCOUNTS_ME_PATH
from qibo_client.server.api.answers import json_response
from qibo_client.server.api.deps import CurrentUser
from qibo_client.server.api.schemas import AUTH_ERRORS, User

router = APIRouter(tags=["accounts"])


@router.get(ACCOUNTS_ME_PATH, responses={200: {"model": User}, **AUTH_ERRORS})
async def me(user: CurrentUser) -> Response:
    """The caller's email."""
    return json_response({"email": user.email})
