"""The reference cluster server (extra ``[server]``): the protocol of docs/protocol.md, for real.

Importing this package is cheap: FastAPI, uvicorn and qibo load only when a server starts, so the
``qibo-client`` command can build its parser without the server extra installed.

    from qibo_client.server import local_cluster
    with local_cluster() as cluster:          # a free port on 127.0.0.1
        cluster.url, cluster.token
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qibo_client.server.local import LocalCluster, local_cluster

__all__ = ["LocalCluster", "local_cluster"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from qibo_client.server import local

        return getattr(local, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
