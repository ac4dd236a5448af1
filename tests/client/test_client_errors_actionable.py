"""Errors a person can act on: a server that is down, a URL without a scheme, importable names."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

import qibo_client
from qibo_client import config
from qibo_client.config import ConfigurationError, ServerUnreachableError, TransportError
from qibo_client.http.session import CONNECT_RETRIES, default_retry
from qibo_client.qibo_client import Client

README = Path(__file__).resolve().parents[2] / "README.md"


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released): connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_server_that_is_down_says_so() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ServerUnreachableError) as info:
        Client(url, "some-token", progress=False, journal=False)
    message = str(info.value)
    assert message.startswith(f"cannot reach {url}: is the server running?")
    assert "some-token" not in message
    assert isinstance(info.value, TransportError)  # callers catching the parent still do


def test_a_refused_connect_is_retried_briefly() -> None:
    retry = default_retry()
    assert retry.connect == CONNECT_RETRIES
    assert CONNECT_RETRIES <= 3  # pauses 0 + 0.4 + 0.8 s at most


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "localhost", "cloud.qibo.science", "ftp://x"])
def test_a_url_without_a_scheme_fails_before_any_request(url: str) -> None:
    with pytest.raises(ConfigurationError, match="must start with http:// or https://"):
        Client(url, "some-token", progress=False, journal=False)


def test_a_token_in_the_url_place_is_not_shown() -> None:
    import qibo

    with pytest.raises(ConfigurationError) as info:
        qibo.set_backend("qibo-client", url="secret-token-123", token="another-token")
    assert "secret-token-123" not in str(info.value)


def test_the_backend_checks_the_url_too() -> None:
    import qibo

    with pytest.raises(ConfigurationError, match="must start with http:// or https://"):
        qibo.set_backend("qibo-client", url="127.0.0.1:8000", token="some-token")


def test_every_error_class_is_importable_from_the_package() -> None:
    errors = [
        name
        for name in config.__all__
        if isinstance(getattr(config, name), type)
        and issubclass(getattr(config, name), BaseException)
    ]
    assert "ConfigurationError" in errors
    for name in errors:
        assert getattr(qibo_client, name) is getattr(config, name)
        assert name in qibo_client.__all__


def test_every_error_the_readme_names_is_importable() -> None:
    named = set(re.findall(r"\b([A-Z][A-Za-z]+Error)\b", README.read_text()))
    assert "ConfigurationError" in named or "QiboClientError" in named
    missing = sorted(name for name in named if not hasattr(qibo_client, name))
    assert missing == []
