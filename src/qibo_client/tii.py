"""``TII(token)``: a :class:`~qibo_client.qibo_client.Client` for TII's service.

The URL is ``https://cloud.qibo.science`` unless ``QIBO_CLIENT_URL`` says otherwise (a staging
server, or a local reference cluster in tests).
"""

from __future__ import annotations

import os
from typing import Any

from qibo_client.config import TII_URL, URL_ENV
from qibo_client.qibo_client import Client


def TII(token: str | None = None, **options: Any) -> Client:
    """A client for TII's cluster; ``options`` are passed on to :class:`Client`."""
    return Client(os.environ.get(URL_ENV) or TII_URL, token, **options)


__all__ = ["TII"]
