"""The web view at ``/ui/``: a person's jobs, histograms, devices and quotas, in a browser.

Server-rendered pages (Jinja2 templates in ``templates/``, one stylesheet and one small script in
``static/``), all package data inside the wheel: no build chain, nothing fetched from elsewhere,
so the view works offline. :func:`mount_ui` adds it to an app; the pages are in :mod:`.routes`,
the protections against other sites in :mod:`.guard` and :mod:`.sessions`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from qibo_client.server.ui import admin
from qibo_client.server.ui.guard import Refused
from qibo_client.server.ui.pages import HERE, render
from qibo_client.server.ui.routes import UI_PATH, LoginRequired, router
from qibo_client.server.ui.sessions import Sessions

#: The heading of a refusal's page, by status.
HEADINGS = {400: "Bad request", 404: "Not found", 413: "Too large"}


async def _login_required(request: Request, exc: Exception) -> Response:
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}{UI_PATH}/login", status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    heading = HEADINGS.get(exc.status, "Refused")
    return render(request, "refused.html", exc.status, heading=heading, message=exc.message)


def mount_ui(app: FastAPI) -> None:
    """Serve the view at ``/ui/`` (its stylesheet and script at ``/ui/static/``)."""
    app.state.ui_sessions = Sessions()
    app.include_router(router)
    app.include_router(admin.router)
    app.mount(f"{UI_PATH}/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(Refused, _refused)

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}{UI_PATH}/", 307)

    app.add_api_route(UI_PATH, home, methods=["GET"], include_in_schema=False)


__all__ = ["UI_PATH", "mount_ui"]
