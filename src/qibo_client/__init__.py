"""qibo-client: run Qibo programs unchanged on a remote quantum cluster.

``qibo.set_backend("qibo-client", token=..., url=...)`` is all a program needs; qibo imports this
package and calls ``MetaBackend.load``. The public names below are loaded on first use, so that
``import qibo_client`` stays cheap (no requests, no qibo, no numpy until something needs them);
the error classes are the exception: :mod:`qibo_client.errors` is standard library only, so they
are imported at once, and their names are written there alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from qibo_client import _moved
from qibo_client import errors as _errors
from qibo_client.errors import *  # noqa: F403 - every error class, listed once in errors.__all__
from qibo_client.versions import __version__

_moved.install()  # the module paths of 0.3 keep working, with a DeprecationWarning

# public name -> module that defines it (loaded on first use)
_LAZY = {
    "Client": "qibo_client.qibo_client",
    "TII": "qibo_client.tii",
    "Job": "qibo_client.jobs.job",
    "JobStatus": "qibo_client.jobs.job",
    "MetaBackend": "qibo_client.backend",
    "RemoteTIIBackend": "qibo_client.backend",
    "ServerExtraMissingError": "qibo_client.server",
    "ResampledCountsWarning": "qibo_client.results.counts",
}

__all__ = [
    "TII",
    "Client",
    "Job",
    "JobStatus",
    "MetaBackend",
    "RemoteTIIBackend",
    "ResampledCountsWarning",
    "ServerExtraMissingError",
    "__version__",
]
__all__ += _errors.__all__

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from qibo_client.backend import MetaBackend, RemoteTIIBackend
    from qibo_client.jobs.job import Job, JobStatus
    from qibo_client.qibo_client import Client
    from qibo_client.results.counts import ResampledCountsWarning
    from qibo_client.server import ServerExtraMissingError
    from qibo_client.tii import TII


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qibo_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
