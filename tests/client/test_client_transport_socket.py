"""Transport behaviour that needs a real socket: Retry-After honoured, read timeouts that end.

A tiny stdlib HTTP server on loopback plays the replies the reference server never gives
(429 with ``Retry-After``); ``responses`` cannot show these, because it bypasses urllib3's sleeps.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import urllib3.util.retry

from qibo_client.config import QiboApiError, TransportError
from qibo_client.http.session import ApiSession, default_retry

TOKEN = "tok-socket-SECRET"


class _Script(BaseHTTPRequestHandler):
    """Answers GETs from a shared script of (status, headers, body), then 200 {"ok": true}."""

    script: ClassVar[list[tuple[int, dict[str, str], bytes]]] = []
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status, headers, body = self.script.pop(0) if self.script else (200, {}, b'{"ok": true}')
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture(scope="module")
def script_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_429_retry_after_is_honoured(script_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", slept.append)
    _Script.seen.clear()
    _Script.script[:] = [
        (429, {"Retry-After": "7"}, b'{"detail": "slow down"}'),
        (503, {}, b'{"detail": "busy"}'),
    ]
    session = ApiSession(script_server, TOKEN, retry=default_retry(total=3, backoff_factor=0))
    response = session.call("GET", "/api/jobs/")
    assert json.loads(response.content) == {"ok": True}
    assert len(_Script.seen) == 3
    assert 7.0 in slept


def test_a_retry_after_beyond_what_the_call_may_wait_ends_it_at_once(
    script_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", slept.append)
    _Script.seen.clear()
    _Script.script[:] = [(503, {"Retry-After": "7200"}, b'{"detail": "maintenance"}')]
    session = ApiSession(script_server, TOKEN, retry=default_retry(total=1, backoff_factor=0))
    with pytest.raises(QiboApiError) as info:
        session.call("GET", "/api/jobs/")
    assert info.value.status == 503
    assert "7200" in str(info.value)
    assert "maintenance" in str(info.value)
    assert slept == []
    assert len(_Script.seen) == 1


def test_a_server_that_never_answers_times_out() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # the kernel accepts the connection; nobody ever answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        session = ApiSession(url, TOKEN, timeout=0.2, retry=default_retry(total=0))
        with pytest.raises(TransportError) as info:
            session.call("GET", "/api/jobs/")
        assert "deadline" in str(info.value)
        assert TOKEN not in str(info.value)
    finally:
        listener.close()


def test_tls_verification_is_on_and_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert ApiSession("https://x.test", TOKEN).verify is True
    assert ApiSession("https://x.test", TOKEN, verify="/etc/ssl/ca.pem").verify == "/etc/ssl/ca.pem"
    assert ApiSession("https://x.test", TOKEN, verify=False).verify is False
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/opt/corp-ca.pem")
    assert ApiSession("https://x.test", TOKEN).verify == "/opt/corp-ca.pem"
    assert ApiSession("https://x.test", TOKEN, verify="/mine.pem").verify == "/mine.pem"
