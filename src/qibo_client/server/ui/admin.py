"""The admin page: every user's queue and usage, and the account actions.

Only a user marked admin (``qibo-client serve users add EMAIL --admin``, or ``"admin": true`` in
the accounts file) sees it; for anyone else it does not exist (404, as another user's job). The
actions are the store's account API, the same the ``serve users`` commands use, so a change here
takes effect on the next request, as one made from the command line does. A new user's token is
shown once, on the answer to the form that made it, and is kept nowhere but as its digest.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qibo_client.server.accounts import AccountsError
from qibo_client.server.api.deps import State
from qibo_client.server.state import ServerState
from qibo_client.server.ui.guard import Refused, read_form
from qibo_client.server.ui.routes import UI_PATH, SignedIn, Viewer, page, to

router = APIRouter(prefix=f"{UI_PATH}/admin", include_in_schema=False)


def admin_only(viewer: SignedIn) -> None:
    if not viewer.user.admin:
        raise Refused(404, "There is no such page.")


def _number(form: dict[str, str], name: str, kind: type) -> Any:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError as err:
        raise AccountsError(f"{name} must be a number, not {text!r}") from err


def overview(state: ServerState) -> list[dict[str, Any]]:
    """Every account with its unfinished jobs, and per project its spending and its limits."""
    store = state.store
    rows = []
    for account in store.list_users():
        projects = [
            {
                "name": project,
                "spent": store.spent(account.id, project),
                "quota": store.quota_of(account.id, project),
            }
            for project in sorted(account.projects)
        ]
        rows.append(
            {"account": account, "queued": store.count_queued(account.id), "projects": projects}
        )
    return rows


def admin_page(
    request: Request, state: State, viewer: SignedIn, status: int = 200, **context: Any
) -> Response:
    context.setdefault("error", None)
    context.setdefault("notice", None)
    context.setdefault("new_token", None)
    response = page(request, "admin.html", viewer, users=overview(state), **context)
    response.status_code = status
    return response


@router.get("")
async def admin(request: Request, state: State, viewer: Viewer) -> Response:
    """Every user's queue and usage, and the forms of the account actions."""
    admin_only(viewer)
    return admin_page(request, state, viewer)


@router.post("/users")
async def add_user(request: Request, state: State, viewer: Viewer) -> Response:
    """Create a user; the answer shows its token, once."""
    admin_only(viewer)
    form = await read_form(request, viewer.session.csrf)
    email = form.get("email", "")
    projects = [name.strip() for name in form.get("projects", "").split(",") if name.strip()]
    try:
        token = state.store.add_user(email, projects, admin=form.get("admin") == "on")
    except AccountsError as err:
        return admin_page(request, state, viewer, 400, error=str(err))
    return admin_page(request, state, viewer, new_token=token, notice=f"Added {email.strip()}.")


@router.post("/users/revoke")
async def revoke_user(request: Request, state: State, viewer: Viewer) -> Response:
    """Revoke a user's token (its jobs stay); an open web session of that user ends with it."""
    admin_only(viewer)
    form = await read_form(request, viewer.session.csrf)
    if not state.store.revoke_user(form.get("email", "")):
        return admin_page(request, state, viewer, 400, error="No active user has that email.")
    return to(request, "/admin")


@router.post("/quota")
async def set_quota(request: Request, state: State, viewer: Viewer) -> Response:
    """Set a user's limits on a project (an empty field leaves that limit as it is)."""
    admin_only(viewer)
    form = await read_form(request, viewer.session.csrf)
    try:
        if not form.get("project", "").strip():
            raise AccountsError("name the project the quota is for")
        state.store.set_quota(
            form.get("email", ""),
            form.get("project", "").strip(),
            shots=_number(form, "shots", int),
            jobs=_number(form, "jobs", int),
            seconds=_number(form, "seconds", float),
        )
    except AccountsError as err:
        return admin_page(request, state, viewer, 400, error=str(err))
    return to(request, "/admin")


__all__ = ["router"]
