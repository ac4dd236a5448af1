"""The templates extension: ``PUT /api/templates/{id}/`` keeps a structure, ``GET`` lists them.

See docs/protocol.md, "Templates", and :mod:`qibo_client.server.jobs.templates`. A server whose
configuration does not list the extension answers 404 here, as a server without it would.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qibo_client.protocol import TEMPLATE_FORMAT, TEMPLATES_PATH
from qibo_client.server.api.answers import json_response
from qibo_client.server.api.checks import read_body, refuse
from qibo_client.server.api.deps import CurrentUser, State
from qibo_client.server.api.schemas import AUTH_ERRORS
from qibo_client.server.jobs.templates import TemplateBook
from qibo_client.server.state import ServerState

router = APIRouter(tags=["templates"])

TEMPLATE_PATH = f"{TEMPLATES_PATH}{{template_id}}/"
#: The body, documented: a circuit's structure, read as bytes (its SHA-256 is the id) by the
#: hand-written reader of circuits (:func:`.templates.parse_structure`), not by a request model.
STRUCTURE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": f'a circuit structure, {{"format": "{TEMPLATE_FORMAT}", '
                    '"nqubits", "gates", "measurements"}: see docs/protocol.md, "Templates". '
                    "The id in the path is the SHA-256 of these bytes.",
                }
            }
        },
    }
}


def book_of(state: ServerState) -> TemplateBook:
    if state.templates is None:
        raise refuse(404, "this server does not take templates")
    return state.templates


@router.put(
    TEMPLATE_PATH,
    openapi_extra=STRUCTURE_BODY,
    responses={
        200: {"description": "already kept: nothing parsed"},
        201: {"description": "parsed and kept"},
        400: {"description": "not a template structure, or the id is not its SHA-256"},
        **AUTH_ERRORS,
    },
)
async def put_template(
    template_id: str, request: Request, state: State, user: CurrentUser
) -> Response:
    """Keep a circuit structure under its id (the SHA-256 of the body's bytes)."""
    book = book_of(state)
    body = await read_body(request, state.config.max_body_bytes)
    try:
        template, created = book.put(user.id, template_id, body)
    except ValueError as err:
        raise refuse(400, str(err)) from err
    answer = {"template": template.template_id, "parameters": template.nparams}
    return json_response(answer, status=201 if created else 200)


@router.get(TEMPLATES_PATH, responses=AUTH_ERRORS)
async def list_templates(state: State, user: CurrentUser) -> Response:
    """The caller's templates (most recently used last), how many jobs named each since the
    server started, the per-user limit, and how many structures the server has parsed."""
    return json_response(book_of(state).listing(user.id))
