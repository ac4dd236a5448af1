"""qibo-client: run Qibo programs unchanged on a remote quantum cluster.

``qibo.set_backend("qibo-client", token=..., url=...)`` is all a program needs; qibo imports this
package and calls ``MetaBackend.load``. The public names below are loaded on first use, so that
``import qibo_client`` stays cheap (no requests, no qibo, no numpy until something needs them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

#: Every error class of :mod:`qibo_client.config`, importable from the package itself.
_ERRORS = (
    "AuthenticationError",
    "ConfigurationError",
    "IncompatibleVersionsError",
    "JobFailedError",
    "JobNotFoundError",
    "JobPostServerError",
    "JobTimeoutError",
    "MalformedResponseError",
    "QiboApiError",
    "QiboClientError",
    "RateLimitError",
    "ResultUnavailableError",
    "ServerUnreachableError",
    "SubmissionUncertainError",
    "TransportError",
    "UnknownJobStatusError",
    "UnsafeResultError",
    "UnsupportedCircuitError",
    "WaitInterrupted",
)

# public name -> module that defines it
_LAZY = {
    "Client": "qibo_client.qibo_client",
    "TII": "qibo_client.tii",
    "Job": "qibo_client.job",
    "JobStatus": "qibo_client.job",
    "MetaBackend": "qibo_client.backend",
    "RemoteTIIBackend": "qibo_client.backend",
    "ServerExtraMissingError": "qibo_client.server",
    "ResampledCountsWarning": "qibo_client.results",
    **dict.fromkeys(_ERRORS, "qibo_client.config"),
}

__all__ = [
    "TII",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
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
    "RateLimitError",
    "RemoteTIIBackend",
    "ResampledCountsWarning",
    "ResultUnavailableError",
    "ServerExtraMissingError",
    "ServerUnreachableError",
    "SubmissionUncertainError",
    "TransportError",
    "UnknownJobStatusError",
    "UnsafeResultError",
    "UnsupportedCircuitError",
    "WaitInterrupted",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from qibo_client.backend import MetaBackend, RemoteTIIBackend
    from qibo_client.config import (
        AuthenticationError,
        ConfigurationError,
        IncompatibleVersionsError,
        JobFailedError,
        JobNotFoundError,
        JobPostServerError,
        JobTimeoutError,
        MalformedResponseError,
        QiboApiError,
        QiboClientError,
        RateLimitError,
        ResultUnavailableError,
        ServerUnreachableError,
        SubmissionUncertainError,
        TransportError,
        UnknownJobStatusError,
        UnsafeResultError,
        UnsupportedCircuitError,
        WaitInterrupted,
    )
    from qibo_client.job import Job, JobStatus
    from qibo_client.qibo_client import Client
    from qibo_client.results import ResampledCountsWarning
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
