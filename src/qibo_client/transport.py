"""One HTTP session per client: base URL, headers, timeouts, retries, HTTP errors -> typed errors.

Why a ``requests.Session`` subclass: every request of a client then shares one keep-alive
connection pool, one set of headers and one urllib3 ``Retry`` policy mounted once, so retries are
configuration rather than loops pasted into each method (the model is qiskit-ibm-runtime's
``api/session.py``).

Retries cover connection errors, 429 (honouring ``Retry-After``) and 502/503/504. ``POST`` is in
the retried methods because the only ``POST`` of the protocol, the submission, always carries an
``Idempotency-Key``: the server answers a replay with the first job's ``pid`` and queues nothing
new, so a retry can never create a second job.

The token lives only in the session's headers. It never appears in ``repr``, in error messages
(which name the method and URL only) or in log records.
"""

from __future__ import annotations

import json
import logging
import os
import platform
from collections.abc import Iterable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from qibo_client import __version__
from qibo_client.config import (
    AuthenticationError,
    JobNotFoundError,
    MalformedResponseError,
    QiboApiError,
    RateLimitError,
    TransportError,
)
from qibo_client.protocol import CLIENT_VERSION_HEADER, TOKEN_HEADER
from qibo_client.versions import qibo_version

logger = logging.getLogger("qibo_client.transport")

#: Seconds to establish a TCP/TLS connection; the read timeout is the client's ``timeout``.
CONNECT_TIMEOUT = 10.0
#: Statuses worth another attempt: rate limit and the "busy or restarting" family.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Methods retried on a status or a read error (POST only carries submissions with a key).
RETRY_METHODS = frozenset({"GET", "DELETE", "POST"})
#: Longest pause a ``Retry-After`` may impose before the next attempt, in seconds.
MAX_RETRY_AFTER = 30.0
#: Keys read, in this order, for the human message of an error body.
ERROR_KEYS = ("detail", "message", "error", "title")


def user_agent() -> str:
    """Name every version that matters when a server operator reads a log line."""
    return (
        f"qibo-client/{__version__} qibo/{qibo_version()} "
        f"python/{platform.python_version()} requests/{requests.__version__}"
    )


class _Retry(Retry):
    """urllib3's Retry, with the server's ``Retry-After`` honoured up to :data:`MAX_RETRY_AFTER`.

    A server asking for an hour would otherwise freeze the caller silently for that hour.
    """

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def default_retry(total: int = 5, backoff_factor: float = 0.2) -> Retry:
    """The retry policy: a few quick attempts with exponential backoff, capped at 10 s."""
    return _Retry(
        total=total,
        connect=total,
        read=total,
        status=total,
        backoff_factor=backoff_factor,
        backoff_max=10.0,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=RETRY_METHODS,
        respect_retry_after_header=True,
        # Hand the last response back instead of raising: it becomes a typed error with the detail.
        raise_on_status=False,
    )


class ApiSession(requests.Session):
    """A keep-alive session bound to one server and one token.

    ``verify`` is ``True`` (the certifi CA bundle; ``REQUESTS_CA_BUNDLE`` is honoured), a path to
    a CA bundle, or ``False`` for a test server only.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
        retry: Retry | None = None,
    ) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.read_timeout = float(timeout)
        # Read the environment once, here: with ``trust_env`` requests rescans it (proxies, CA
        # bundle, ~/.netrc) on every request, a fifth of a millisecond each time on the hot path.
        self.trust_env = False
        self.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        if verify is True:
            verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
        self.verify = verify
        self.headers.update(
            {
                TOKEN_HEADER: token,
                CLIENT_VERSION_HEADER: __version__,
                "User-Agent": user_agent(),
                "Accept": "application/json",
            }
        )
        adapter = HTTPAdapter(max_retries=retry or default_retry(), pool_maxsize=8)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def rebuild_auth(
        self, prepared_request: requests.PreparedRequest, response: requests.Response
    ) -> None:
        """On a redirect to another host, drop the token as requests drops ``Authorization``."""
        super().rebuild_auth(prepared_request, response)
        previous = response.request.url if response.request is not None else None
        target = prepared_request.url
        if previous and target and self.should_strip_auth(previous, target):
            prepared_request.headers.pop(TOKEN_HEADER, None)

    def url(self, path: str) -> str:
        """Absolute URL of an API path such as ``/api/jobs/``."""
        return self.base_url + path

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        extra_read: float = 0.0,
        job_url: bool = False,
    ) -> requests.Response:
        """Send one request and return the 2xx response, or raise the matching typed error.

        ``path`` is an API path (``/api/jobs/``) or an absolute URL.

        ``extra_read`` lengthens the read timeout for requests the server holds on purpose
        (``?wait=S``, ``Prefer: wait=S``). ``job_url`` marks paths where 404 means "no such job".
        """
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        try:
            response = self.request(
                method,
                url,
                params=params,
                json=json_body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, self.read_timeout + extra_read),
            )
        except requests.RequestException as exc:
            # The exception text names host and path only; the token sits in headers, never here.
            raise TransportError(f"{method} {url} failed: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 400:
            raise error_from_response(response, job_url=job_url)
        return response


def _detail(response: requests.Response) -> str:
    """The server's human message, whatever shape the error body has."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:500] or (response.reason or "")
    if isinstance(body, Mapping):
        for key in ERROR_KEYS:
            value = body.get(key)
            if value:
                return value if isinstance(value, str) else json.dumps(value)[:500]
    return json.dumps(body)[:500]


def error_from_response(response: requests.Response, *, job_url: bool = False) -> QiboApiError:
    """Turn a non-2xx response into the error a user can act on."""
    status = response.status_code
    request = response.request
    method = (request.method or "") if request is not None else ""
    url = (request.url or "") if request is not None else (response.url or "")
    detail = _detail(response)
    fields: dict[str, Any] = {"status": status, "detail": detail, "method": method, "url": url}
    if status == 401:
        return AuthenticationError(
            f"The server rejected the token (HTTP 401: {detail or 'unauthorized'}). "
            "Check the token you passed or QIBO_CLIENT_TOKEN.",
            **fields,
        )
    if status == 404 and job_url:
        return JobNotFoundError(
            f"{method} {url}: no such job (it never existed, was deleted, or belongs to "
            f"another user). Server said: {detail or 'not found'}",
            **fields,
        )
    if status == 429:
        return RateLimitError(
            f"{method} {url}: the server asks to slow down (HTTP 429) and kept asking after "
            f"the retries. Try again later. Server said: {detail or 'too many requests'}",
            **fields,
        )
    return QiboApiError(**fields)


def parse_json(response: requests.Response) -> Any:
    """The body as JSON, or MalformedResponseError naming what came instead."""
    try:
        return response.json()
    except ValueError:
        snippet = response.text[:200]
        raise MalformedResponseError(
            f"Server response to {response.request.method if response.request else ''} "
            f"{response.url} is not JSON: {snippet!r}"
        ) from None


def check_response_has_keys(response: Any, keys: Iterable[str]) -> dict[str, Any]:
    """Return the JSON object in ``response``; raise MalformedResponseError naming missing keys.

    ``response`` is a ``requests.Response`` or an already parsed body. A body that is not JSON,
    or JSON that is not an object, is malformed too.
    """
    body = parse_json(response) if isinstance(response, requests.Response) else response
    if not isinstance(body, dict):
        raise MalformedResponseError(
            f"Server response body is a {type(body).__name__}, not a JSON object"
        )
    missing = [key for key in keys if key not in body]
    if missing:
        raise MalformedResponseError(
            "Server response body does not contain all the expected keys; missing: "
            + ", ".join(repr(key) for key in missing)
        )
    return body


__all__ = [
    "ApiSession",
    "check_response_has_keys",
    "default_retry",
    "error_from_response",
    "parse_json",
    "user_agent",
]
