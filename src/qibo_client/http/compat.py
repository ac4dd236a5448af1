"""Can this local qibo work with a server's? One check, read from ``GET /api/qibo_version/``.

Kept apart from :class:`~qibo_client.qibo_client.Client` because the rule covers three generations
of the answer and the client only needs the verdict:

- the 0.2 generation: ``SERVER_QIBO_KEY`` and ``MIN_CLIENT_QIBO_KEY``;
- the 2026 generation: ``SERVER_QIBO_KEY``, ``MIN_QIBO_KEY`` and
  ``MIN_CLIENT_VERSION_KEY`` (a server may send both generations' keys: each is honoured);
- very old servers: ``OLD_QIBO_VERSION_KEY`` alone, which must match exactly.

A local qibo below a minimum is refused; one older than the server's only warns. The lowest
client version (``MIN_CLIENT_VERSION_KEY``) is in the service's own numbering (TII's own
client compares its own version with it), so a qibo-client below it is a warning naming both
versions, never a refusal. Anything else is malformed.
"""

from __future__ import annotations

import logging
from typing import Any

from qibo_client.errors import IncompatibleVersionsError, MalformedResponseError
from qibo_client.protocol import (
    MIN_CLIENT_QIBO_KEY,
    MIN_CLIENT_VERSION_KEY,
    MIN_QIBO_KEY,
    OLD_QIBO_VERSION_KEY,
    SERVER_QIBO_KEY,
)
from qibo_client.versions import __version__, qibo_version, version_tuple

logger = logging.getLogger("qibo_client")

#: The keys that name a lowest local qibo, one per generation (0.2, then 2026).
MINIMUM_KEYS = (MIN_CLIENT_QIBO_KEY, MIN_QIBO_KEY)


def _version(text: str) -> tuple[int, ...]:
    try:
        return version_tuple(text)
    except ValueError:
        raise MalformedResponseError(
            f"The server sent an unreadable qibo version: {text!r}"
        ) from None


def _malformed(body: dict[str, Any]) -> MalformedResponseError:
    missing = [key for key in (SERVER_QIBO_KEY, *MINIMUM_KEYS) if key not in body]
    return MalformedResponseError(
        f"The server's version answer lacks {SERVER_QIBO_KEY!r} with "
        f"{MIN_CLIENT_QIBO_KEY!r} (0.2 generation) or {MIN_QIBO_KEY!r} (2026 "
        f"generation); missing: {', '.join(repr(key) for key in missing)}. Is the URL a "
        "qibo cluster?"
    )


def check_compatible(body: dict[str, Any], url: str) -> None:
    """Raise :class:`IncompatibleVersionsError` if the local qibo cannot work with the server's.

    Local qibo below any minimum the answer names is refused; an old server that reports only
    ``OLD_QIBO_VERSION_KEY`` must match exactly; a server qibo newer than the local one, and a
    client below ``MIN_CLIENT_VERSION_KEY``, only warn.
    """
    if SERVER_QIBO_KEY in body or any(key in body for key in MINIMUM_KEYS):
        _check_current(body, url)
    elif OLD_QIBO_VERSION_KEY in body:
        _check_exact(str(body[OLD_QIBO_VERSION_KEY]), url)
    else:
        raise _malformed(body)


def _check_current(body: dict[str, Any], url: str) -> None:
    minima = [str(body[key]) for key in MINIMUM_KEYS if body.get(key) is not None]
    if body.get(SERVER_QIBO_KEY) is None or not minima:
        raise _malformed(body)
    local = qibo_version()
    minimum = max(minima, key=_version)
    if _version(local) < _version(minimum):
        raise IncompatibleVersionsError(
            f"The server at {url} needs qibo>={minimum}, but qibo {local} is "
            f"installed: pip install -U 'qibo>={minimum}'."
        )
    server = str(body[SERVER_QIBO_KEY])
    if _version(local) < _version(server):
        logger.warning(
            "Local qibo %s is older than the server's %s; consider upgrading.", local, server
        )
    if body.get(MIN_CLIENT_VERSION_KEY) is not None:
        _check_client(str(body[MIN_CLIENT_VERSION_KEY]), url)


def _check_client(minimum: str, url: str) -> None:
    """Warn when this qibo-client is below the service's lowest client version (its numbering)."""
    try:
        below = version_tuple(__version__) < version_tuple(minimum)
    except ValueError:
        logger.debug("Ignoring an unreadable %s: %r", MIN_CLIENT_VERSION_KEY, minimum)
        return
    if below:
        logger.warning(
            "The server at %s asks for client version %s or later (in its own numbering); this "
            "is qibo-client %s. Carrying on; if requests fail, pip install -U qibo-client.",
            url,
            minimum,
            __version__,
        )


def _check_exact(server: str, url: str) -> None:
    local = qibo_version()
    if _version(local) != _version(server):
        raise IncompatibleVersionsError(
            f"The server at {url} runs qibo {server} and accepts no other version, "
            f"but qibo {local} is installed: pip install 'qibo=={server}'."
        )


__all__ = ["MINIMUM_KEYS", "check_compatible"]
