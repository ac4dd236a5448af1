"""The reference cluster server (extra ``[server]``): the protocol of docs/protocol.md, for real.

Importing this package is cheap: FastAPI, uvicorn and qibo load only when a server starts, so the
``qibo-client`` command can build its parser without the server extra installed. Without the
extra, asking for :func:`local_cluster` raises :class:`ServerExtraMissingError`, which says what
to install, instead of a bare ``No module named 'fastapi'``.

    from qibo_client.server import local_cluster
    with local_cluster() as cluster:          # a free port on 127.0.0.1
        cluster.url, cluster.token
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qibo_client.server.local import LocalCluster, local_cluster

#: How to get the server's dependencies. Not ``pip install "qibo-client[server]"`` from the package
#: index: the index's ``qibo-client`` is the official client (no server, no such extra).
INSTALL_HINT = (
    'pip install ".[server]" in a clone of qibo-client, or '
    'pip install "qibo-client[server] @ git+https://github.com/qibo-client/qibo-client"'
)
#: The modules the server needs beyond the client's own.
SERVER_MODULES = ("fastapi", "uvicorn")


class ServerExtraMissingError(ImportError):
    """The reference server was asked for, but the ``[server]`` extra is not installed."""


def require_server_extra(what: str = "the reference cluster server") -> None:
    """Raise :class:`ServerExtraMissingError`, naming the install command, if one is missing."""
    import importlib

    missing = []
    for name in SERVER_MODULES:
        try:
            importlib.import_module(name)  # the server imports them next anyway
        except ImportError:
            missing.append(name)
    if missing:
        raise ServerExtraMissingError(
            f"{what} needs the [server] extra ({', '.join(missing)} not installed): "
            f"{INSTALL_HINT} (the package index's qibo-client is another package, without it)",
            name=missing[0],
        )


__all__ = [
    "INSTALL_HINT",
    "LocalCluster",
    "ServerExtraMissingError",
    "local_cluster",
    "require_server_extra",
]


def __getattr__(name: str) -> Any:
    if name in ("LocalCluster", "local_cluster"):
        require_server_extra("local_cluster()")
        from qibo_client.server import local

        return getattr(local, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
