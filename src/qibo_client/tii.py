"""``TII(token)``: a :class:`~qibo_client.qibo_client.Client` for TII's service.

The URL is ``https://q-cloud.tii.ae`` (the address TII's own wrapper ``tii-quantum`` uses)
unless ``QIBO_CLIENT_URL`` says otherwise (a staging server, or a local reference cluster in
tests): the rule of :mod:`qibo_client.settings`.
The token: the argument, ``QIBO_CLIENT_TOKEN``, or the one saved by ``qibo-client login``
for that URL.
"""

from __future__ import annotations

from typing import Any

from qibo_client.config import TII_URL
from qibo_client.qibo_client import Client
from qibo_client.settings import service_url


def TII(token: str | None = None, **options: Any) -> Client:
    """A client for TII's cluster; ``options`` are passed on to :class:`Client`."""
    return Client(service_url(TII_URL), token, **options)


__all__ = ["TII"]
