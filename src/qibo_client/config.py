"""Settings shared by every module: TII's address and the environment variables read.

The typed errors live in :mod:`qibo_client.errors`; this module re-exports them, so the first
release's ``from qibo_client.config import MalformedResponseError`` keeps working.
"""

from __future__ import annotations

# The error tree lives in qibo_client.errors; its names stay importable from here, where the first
# release put them (``from qibo_client.config import MalformedResponseError``), and so do the two
# rebuild helpers older pickles of these errors name.
from qibo_client import errors as _errors
from qibo_client.errors import *  # noqa: F403
from qibo_client.errors import _rebuild, _rebuild_interrupt  # noqa: F401
from qibo_client.protocol import TERMINAL_STATUSES as _TERMINAL_STATUSES

#: TII's service: ``qibo_client.tii.TII`` points here unless ``QIBO_CLIENT_URL`` says otherwise.
#: (The address TII's own wrapper ``tii-quantum`` 0.1.2 uses; ``https://cloud.qibo.science`` was
#: the older one.)
TII_URL = "https://q-cloud.tii.ae"
#: Environment variables read when an argument is omitted.
TOKEN_ENV = "QIBO_CLIENT_TOKEN"  # noqa: S105 - the variable's name, not a token
URL_ENV = "QIBO_CLIENT_URL"

#: Protocol statuses; ``success`` and ``error`` are the only terminal ones (defined in protocol).
TERMINAL_STATUSES = _TERMINAL_STATUSES


__all__ = ["TERMINAL_STATUSES", "TII_URL", "TOKEN_ENV", "URL_ENV"]
__all__ += _errors.__all__
