"""Can this local qibo work with a server's? One check, read from ``GET /api/qibo_version/``.

Kept apart from :class:`~qibo_client.qibo_client.Client` because the rule has three cases (a
current server names a minimum and its own version; a very old one names only its version, which
must then match exactly; anything else is malformed) and the client only needs the verdict.
"""

from __future__ import annotations

import logging
from typing import Any

from qibo_client.config import IncompatibleVersionsError, MalformedResponseError
from qibo_client.replies import check_response_has_keys
from qibo_client.versions import qibo_version, version_tuple

logger = logging.getLogger("qibo_client")


def _version(text: str) -> tuple[int, ...]:
    try:
        return version_tuple(text)
    except ValueError:
        raise MalformedResponseError(
            f"The server sent an unreadable qibo version: {text!r}"
        ) from None


def check_compatible(body: dict[str, Any], url: str) -> None:
    """Raise :class:`IncompatibleVersionsError` if the local qibo cannot work with the server's.

    Local qibo below the server's ``minimum_client_qibo_version`` is refused; an old server that
    reports only ``qibo_version`` must match exactly; a server newer than the local qibo only
    warns.
    """
    local = qibo_version()
    if "minimum_client_qibo_version" in body or "server_qibo_version" in body:
        body = check_response_has_keys(body, ("server_qibo_version", "minimum_client_qibo_version"))
        minimum = str(body["minimum_client_qibo_version"])
        server = str(body["server_qibo_version"])
        if _version(local) < _version(minimum):
            raise IncompatibleVersionsError(
                f"The server at {url} needs qibo>={minimum}, but qibo {local} is "
                f"installed: pip install -U 'qibo>={minimum}'."
            )
        if _version(local) < _version(server):
            logger.warning(
                "Local qibo %s is older than the server's %s; consider upgrading.", local, server
            )
    elif "qibo_version" in body:
        server = str(body["qibo_version"])
        if _version(local) != _version(server):
            raise IncompatibleVersionsError(
                f"The server at {url} runs qibo {server} and accepts no other version, "
                f"but qibo {local} is installed: pip install 'qibo=={server}'."
            )
    else:
        check_response_has_keys(body, ("server_qibo_version", "minimum_client_qibo_version"))


__all__ = ["check_compatible"]
