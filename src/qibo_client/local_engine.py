"""qibo's helpers that choose an engine by the backend's name run on numpy under this backend.

qibo 0.3.6 picks the engine of some local computations from the global backend's attributes:
``qibo.backends._get_engine_name`` reads ``platform``, else ``name`` (the Clifford simulator, the
Hamming-weight backend, ``quantum_info``'s linear algebra on Clifford objects); ``random_clifford``
reads ``name``; error mitigation's ``ICS`` reads ``platform``. Each then builds a
``CliffordBackend`` (or a Hamming-weight backend) for that engine and refuses a name it does not
know: under ours, ``random_clifford(3)`` raised "Backend qibo-client is not supported for
Clifford Simulation" although it is a local computation, and so did everything built on it.

Our ``name`` ("qibo-client") and ``platform`` (the device, which ``QIBO_PLATFORM`` selects) must
stay what they are, so they are :class:`LocalEngineName` strings: they show and compare as
themselves everywhere, and only the two places every lookup ends in translate them to
:data:`LOCAL_ENGINE` (numpy, the engine this ``NumpyBackend`` computes with):
``CliffordBackend.__init__`` (wrapped on the class, so every import of it sees the wrapper) and
``qibo.backends._get_engine_name`` (which both backends import when they are called). A name of
any other backend passes untouched. :func:`install` does both once; it is idempotent.
"""

from __future__ import annotations

import functools
from typing import Any

#: The engine qibo's engine-picking helpers get under this backend: the one it computes with.
LOCAL_ENGINE = "numpy"
#: Marks a function of qibo that this module has wrapped (so installing twice wraps once).
_WRAPPED = "_qibo_client_local_engine"


class LocalEngineName(str):
    """A name or platform of this backend: itself everywhere, ``numpy`` to qibo's engine lookup."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # Plain text in a pickle: the marker is rebuilt by the backend that owns it.
        return (str, (str(self),))


def engine_of(name: Any) -> Any:
    """The engine qibo should use for ``name``: numpy for this backend's names, else ``name``."""
    return LOCAL_ENGINE if isinstance(name, LocalEngineName) else name


def install() -> None:
    """Make qibo's engine lookups read this backend's names as numpy (once per process)."""
    from qibo import backends
    from qibo.backends.clifford import CliffordBackend

    init = CliffordBackend.__init__
    if not getattr(init, _WRAPPED, False):

        @functools.wraps(init)
        def clifford_init(self: Any, platform: Any = None, *args: Any, **kwargs: Any) -> None:
            init(self, engine_of(platform), *args, **kwargs)

        setattr(clifford_init, _WRAPPED, True)
        CliffordBackend.__init__ = clifford_init

    lookup = backends._get_engine_name
    if not getattr(lookup, _WRAPPED, False):

        @functools.wraps(lookup)
        def get_engine_name(backend: Any) -> Any:
            return engine_of(lookup(backend))

        setattr(get_engine_name, _WRAPPED, True)
        backends._get_engine_name = get_engine_name


__all__ = ["LOCAL_ENGINE", "LocalEngineName", "engine_of", "install"]
