"""The web view's pages: log in and out, my jobs, one job, devices and quotas.

Every page but the login form needs a session (:data:`Viewer`); without one the browser is sent to
the login form. **A user sees only their own jobs**: every job is looked up by (pid, user), as the
API does, so another user's job is a 404 page, never a 403. Every POST reads its form through
:func:`.guard.read_form` (same origin, the session's CSRF token) and answers with a redirect, so a
reload never posts twice.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from qibo_client.protocol import TERMINAL_STATUSES, Status
from qibo_client.server.accounts import User
from qibo_client.server.api.answers import project_quota
from qibo_client.server.api.deps import State
from qibo_client.server.api.metrics import device_load
from qibo_client.server.jobs.worker import Outcome, job_seed_of
from qibo_client.server.state import ServerState
from qibo_client.server.ui.drawing import draw
from qibo_client.server.ui.guard import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Refused,
    check_origin,
    clear_cookie,
    read_form,
    set_cookie,
)
from qibo_client.server.ui.histogram import histogram
from qibo_client.server.ui.pages import REFRESH_SECONDS, render
from qibo_client.server.ui.sessions import SESSION_BYTES, SESSION_SECONDS, Session, Sessions

#: Where the view lives.
UI_PATH = "/ui"
#: Jobs listed on one page at most (newest first); the filters find older ones.
JOBS_SHOWN = 200
#: How long the login form may sit in a tab before it must be reloaded (seconds).
LOGIN_FORM_SECONDS = 3600
#: The stderr of a job cancelled from the view.
CANCELLED = "cancelled by its owner from the web view"
#: The status filter's choices: the stored statuses (a running job is stored as queued).
STATUS_CHOICES = {
    "unfinished": Status.QUEUEING.value,
    "success": Status.SUCCESS.value,
    "error": Status.ERROR.value,
}

router = APIRouter(prefix=UI_PATH, include_in_schema=False)


class LoginRequired(Exception):
    """No session, or its token no longer works: the browser goes to the login form."""


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request: their account and their session."""

    user: User
    session: Session


def sessions_of(request: Request) -> Sessions:
    book: Sessions = request.app.state.ui_sessions
    return book


async def signed_in(request: Request, state: State) -> SignedIn:
    """The signed-in user (their token is checked again: a revoked token ends the session)."""
    session = sessions_of(request).get(request.cookies.get(SESSION_COOKIE))
    user = None if session is None else state.user_for(session.token)
    if session is None or user is None:
        raise LoginRequired
    return SignedIn(user, session)


Viewer = Annotated[SignedIn, Depends(signed_in)]


def to(request: Request, path: str) -> RedirectResponse:
    """A 303 to a page of the view (after a POST, the browser GETs it)."""
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}{UI_PATH}{path}", status_code=303)


def page(request: Request, template: str, viewer: SignedIn, **context: Any) -> Response:
    return render(request, template, viewer=viewer, csrf=viewer.session.csrf, **context)


# signing in and out ---------------------------------------------------------------------------


@router.get("/login")
async def login_form(request: Request) -> Response:
    """The login form, with its own CSRF cookie (there is no session yet)."""
    return _login_page(request)


def _login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(SESSION_BYTES)  # kept by the browser only, in the cookie
    response = render(request, "login.html", status, csrf=nonce, error=error)
    set_cookie(response, request, LOGIN_COOKIE, nonce, LOGIN_FORM_SECONDS)
    return response


@router.post("/login")
async def login(request: Request, state: State) -> Response:
    """Check the pasted token; open a session for its owner."""
    check_origin(request)
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected:
        raise Refused(403, "refused: reload the login page and paste your token again")
    form = await read_form(request, expected)
    token = form.get("token", "").strip()
    if not token or state.user_for(token) is None:
        return _login_page(request, "That token is not valid on this server.", 401)
    session = sessions_of(request).open(token)
    response = to(request, "/")
    set_cookie(response, request, SESSION_COOKIE, session.sid, SESSION_SECONDS)
    clear_cookie(response, request, LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, viewer: Viewer) -> Response:
    """Forget the session; the cookie goes too."""
    await read_form(request, viewer.session.csrf)
    sessions_of(request).close(viewer.session.sid)
    response = to(request, "/login")
    clear_cookie(response, request, SESSION_COOKIE)
    return response


# my jobs --------------------------------------------------------------------------------------


def _day(text: str, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise Refused(400, f"{name} must be a date as YYYY-MM-DD, not {text!r}") from err


@dataclass(frozen=True)
class Filters:
    """The jobs list's filters, as given in the query (empty: no filter)."""

    status: str = ""
    device: str = ""
    tag: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def of(cls, request: Request, state: ServerState) -> Filters:
        query = request.query_params
        given = cls(**{name: query.get(name, "").strip() for name in cls.__dataclass_fields__})
        if given.status and given.status not in STATUS_CHOICES:
            raise Refused(400, f"status must be one of {', '.join(STATUS_CHOICES)}")
        if given.device and given.device not in {device.name for device in state.devices}:
            raise Refused(400, f"there is no device {given.device!r} on this server")
        _day(given.since, "from"), _day(given.until, "to")
        return given

    def query(self) -> dict[str, Any]:
        """The store's filters (``until`` is inclusive: up to the start of the next day)."""
        until = _day(self.until, "to")
        return {
            "status": STATUS_CHOICES.get(self.status),
            "device": self.device or None,
            "tag": self.tag or None,
            "since": self.since or None,
            "until": None if until is None else (until + timedelta(days=1)).isoformat(),
        }


@router.get("/")
async def jobs(request: Request, state: State, viewer: Viewer) -> Response:
    """The user's jobs, newest first, filtered; the page refreshes itself while any runs."""
    filters = Filters.of(request, state)
    rows, total = state.store.view_jobs(viewer.user.id, limit=JOBS_SHOWN, **filters.query())
    shown = [
        {
            **{key: row[key] for key in row.keys()},  # noqa: SIM118 - sqlite3.Row
            "status": state.live_status(row),
            "tags": tags_of(row),
        }
        for row in rows
    ]
    busy = any(job["status"] not in TERMINAL_STATUSES for job in shown)
    return page(
        request,
        "jobs.html",
        viewer,
        jobs=shown,
        total=total,
        filters=filters,
        statuses=list(STATUS_CHOICES),
        devices=[device.name for device in state.devices],
        refresh=REFRESH_SECONDS if busy else None,
    )


def tags_of(row: Any) -> list[str]:
    """A job's tags (stored as a JSON list, or NULL)."""
    tags: list[str] = json.loads(row["tags"]) if row["tags"] else []
    return tags


# one job --------------------------------------------------------------------------------------


def owned(state: ServerState, pid: str, user: User) -> Any:
    """The user's job ``pid``, or a 404 page (another user's job does not exist)."""
    row = state.store.get_job(pid, user.id)
    if row is None:
        raise Refused(404, f"You have no job {pid}.")
    return row


@router.get("/jobs/{pid}")
async def job(pid: str, request: Request, state: State, viewer: Viewer) -> Response:
    """One job: its numbers, its counts as a histogram, its circuit as qibo draws it."""
    row = owned(state, pid, viewer.user)
    status = state.live_status(row)
    finished = status in TERMINAL_STATUSES
    position = None if finished else state.runner.position(pid)
    counts = json.loads(row["frequencies"]) if row["frequencies"] else None
    return page(
        request,
        "job.html",
        viewer,
        job=row,
        tags=tags_of(row),
        status=status,
        finished=finished,
        position=position,
        time_left=None if finished else state.runner.etd_seconds(pid, position),
        seed=job_seed_of(pid, row["seed"]),
        chart=None if counts is None else histogram(counts),
        drawing=await draw(row["circuit"]),
        refresh=None if finished else REFRESH_SECONDS,
    )


@router.post("/jobs/{pid}/cancel")
async def cancel(pid: str, request: Request, state: State, viewer: Viewer) -> Response:
    """Stop a queued or running job; it ends in ``error``, saying it was cancelled."""
    await read_form(request, viewer.session.csrf)
    row = owned(state, pid, viewer.user)
    if row["status"] not in TERMINAL_STATUSES:
        state.runner.cancel(pid)
        state.record(Outcome(pid, ok=False, stderr=CANCELLED))
    return to(request, f"/jobs/{pid}")


@router.post("/jobs/{pid}/delete")
async def delete(pid: str, request: Request, state: State, viewer: Viewer) -> Response:
    """Delete a job (a queued one never runs), as ``DELETE /api/jobs/{pid}/`` does."""
    await read_form(request, viewer.session.csrf)
    owned(state, pid, viewer.user)
    state.store.delete_job(pid, viewer.user.id)
    state.runner.cancel(pid)
    return to(request, "/")


# devices and quotas ---------------------------------------------------------------------------


@router.get("/devices")
async def devices(request: Request, state: State, viewer: Viewer) -> Response:
    """The devices with their limits and queues, and the user's quotas on them."""
    queued, running = device_load(state)
    quotas = [
        project_quota(state, viewer.user, project, device.name)
        for project in sorted(viewer.user.projects)
        for device in state.devices
    ]
    return page(
        request,
        "devices.html",
        viewer,
        devices=list(state.devices),
        queued=queued,
        running=running,
        quotas=quotas,
    )


__all__ = [
    "CANCELLED",
    "JOBS_SHOWN",
    "UI_PATH",
    "LoginRequired",
    "SignedIn",
    "Viewer",
    "router",
    "signed_in",
]
