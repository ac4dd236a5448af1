"""qibo-client: run Qibo programs unchanged on a remote quantum cluster.

``qibo.set_backend("qibo-client", token=..., url=...)`` is all a program needs; qibo imports this
package and calls ``MetaBackend.load``. The public names below are loaded on first use, so that
``import qibo_client`` stays cheap (no requests, no qibo, no numpy until something needs them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

# public name -> module that defines it
_LAZY = {
    "Client": "qibo_client.qibo_client",
    "TII": "qibo_client.tii",
    "Job": "qibo_client.job",
    "JobStatus": "qibo_client.job",
    "MetaBackend": "qibo_client.backend",
    "RemoteTIIBackend": "qibo_client.backend",
    "QiboClientError": "qibo_client.config",
    "MalformedResponseError": "qibo_client.config",
    "JobPostServerError": "qibo_client.config",
    "QiboApiError": "qibo_client.config",
    "AuthenticationError": "qibo_client.config",
    "JobNotFoundError": "qibo_client.config",
    "JobFailedError": "qibo_client.config",
    "JobTimeoutError": "qibo_client.config",
    "IncompatibleVersionsError": "qibo_client.config",
    "UnsupportedCircuitError": "qibo_client.config",
    "TransportError": "qibo_client.config",
    "WaitInterrupted": "qibo_client.config",
    "SubmissionUncertainError": "qibo_client.config",
}

__all__ = [
    "TII",
    "AuthenticationError",
    "Client",
    "IncompatibleVersionsError",
    "Job",
    "JobFailedError",
    "JobNotFoundError",
    "JobPostServerError",
    "JobStatus",
    "JobTimeoutError",
    "MalformedResponseError",
    "MetaBackend",
    "QiboApiError",
    "QiboClientError",
    "RemoteTIIBackend",
    "SubmissionUncertainError",
    "TransportError",
    "UnsupportedCircuitError",
    "WaitInterrupted",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from qibo_client.backend import MetaBackend, RemoteTIIBackend
    from qibo_client.config import (
        AuthenticationError,
        IncompatibleVersionsError,
        JobFailedError,
        JobNotFoundError,
        JobPostServerError,
        JobTimeoutError,
        MalformedResponseError,
        QiboApiError,
        QiboClientError,
        SubmissionUncertainError,
        TransportError,
        UnsupportedCircuitError,
        WaitInterrupted,
    )
    from qibo_client.job import Job, JobStatus
    from qibo_client.qibo_client import Client
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
