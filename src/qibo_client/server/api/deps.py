"""What routes are given instead of fetching it themselves: the server's state and the caller.

As in FastAPI's full-stack template, a route names what it needs by type::

    async def get_job(pid: str, state: State, user: CurrentUser) -> Response: ...

and FastAPI resolves it per request: :data:`State` is the one :class:`ServerState` of the app
(kept in ``app.state.server``), :data:`CurrentUser` the user whose token the request carries, or a
401. Both are ``async``, so they run on the event loop, where the store and the runner live, and
not in a thread.
The token header is declared as an API-key scheme, so ``/docs`` shows it and lets a reader try the
endpoints with a token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from qibo_client.protocol import TOKEN_HEADER
from qibo_client.server.accounts import User
from qibo_client.server.profiles import USER_NOT_FOUND
from qibo_client.server.state import ServerState

_token_header = APIKeyHeader(
    name=TOKEN_HEADER,
    auto_error=False,
    description="Your API token (sent on every request except the version check).",
)


async def get_state(request: Request) -> ServerState:
    """The running server's state (made in the app's lifespan)."""
    state: ServerState = request.app.state.server
    return state


State = Annotated[ServerState, Depends(get_state)]


async def current_user(state: State, token: Annotated[str | None, Depends(_token_header)]) -> User:
    """The user the request's token belongs to; 401 without a token or with a wrong one.

    The ``tii`` profile answers both with 404 ``User not found, specify the correct token``, as
    TII's service does.
    """
    if state.profile.official_shapes and (not token or state.user_for(token) is None):
        raise HTTPException(404, USER_NOT_FOUND)
    if not token:
        raise HTTPException(401, f"missing {TOKEN_HEADER} header: send your API token")
    user = state.user_for(token)
    if user is None:
        raise HTTPException(401, "invalid API token: check the token you were given")
    return user


CurrentUser = Annotated[User, Depends(current_user)]

__all__ = ["CurrentUser", "State", "current_user", "get_state"]
