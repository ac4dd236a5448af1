"""One HTTP session per client: base URL, headers, timeouts, retries, HTTP errors -> typed errors.

Why a ``requests.Session`` subclass: every request of a client then shares one keep-alive
connection pool, one set of headers and one urllib3 ``Retry`` policy mounted once, so retries are
configuration rather than loops pasted into each method (the model is qiskit-ibm-runtime's
``api/session.py``).

The client's ``timeout`` is a deadline for a whole call (see :mod:`qibo_client.http.deadline`):
connects, reads, retries, backoff and ``Retry-After`` all fit inside it, and the body is read in
pieces so that a slow drip is cut at the deadline and an oversized answer is refused while it
arrives, not after. Without a timeout, reads are still bounded and no retry starts after a minute.

What is retried, and why it is safe, is one table: :mod:`qibo_client.http.retries`, a row per kind
of request. A call names its kind (``ServerApi`` does; a call without one is judged by its method)
and whether this server lists the kind's extension; :class:`qibo_client.http.deadline.BoundedRetry`
then retries a failed connect always (to a server this session has reached before, until the
deadline: that is a restart), a 429 always, and, for a request that is safe to send again, also
drops, 502/503/504 and an answer cut off mid-body. A ``POST`` that may have reached the server is
never sent twice otherwise: the error then says the job may or may not exist, and where to look.

Reading an answer's body (bounded JSON, error bodies -> typed errors, key checks) lives in
:mod:`qibo_client.http.replies`; its names are re-exported here, where they always were.

The token lives only in the session's headers. It never appears in ``repr``, in error messages
(which name the method and URL only) or in log records.
"""

from __future__ import annotations

import logging
import os
import platform
from collections.abc import Mapping
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError, NewConnectionError
from urllib3.util.retry import Retry

from qibo_client.errors import (
    MalformedResponseError,
    ServerUnreachableError,
    SubmissionUncertainError,
    TransportError,
)
from qibo_client.http import deadline as _budget
from qibo_client.http import retries
from qibo_client.http.replies import (
    check_response_has_keys,
    error_from_response,
    loads,
    parse_json,
)
from qibo_client.http.watchdog import DeadlineAdapter
from qibo_client.protocol import CLIENT_VERSION_HEADER, TOKEN_HEADER
from qibo_client.versions import __version__, qibo_version

logger = logging.getLogger("qibo_client.http.session")

#: Seconds to establish a TCP/TLS connection (never more than the call has left).
CONNECT_TIMEOUT = 10.0
#: Attempts to connect again after a refused or failed connect to a server this session has not
#: reached yet: short enough that a wrong URL or a server that is down says so in about a second
#: (pauses 0, 0.4, 0.8 s). A server reached before that refuses is restarting: its connects are
#: retried until the deadline (:data:`qibo_client.http.deadline.RESTART_PAUSE` apart).
CONNECT_RETRIES = 3
#: Statuses worth another attempt: rate limit and the "busy or restarting" family.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Methods safe to send again after they may have reached the server, for a call that names no
#: kind of request (:mod:`qibo_client.http.retries` decides for those that do).
IDEMPOTENT_METHODS = retries.IDEMPOTENT_METHODS
#: Longest pause a ``Retry-After`` may impose before the next attempt, in seconds.
MAX_RETRY_AFTER = 30.0
#: Largest answer body read (a million-outcome result is about 40 MB of JSON).
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
#: Largest error body read; the rest is dropped (a message, not data).
MAX_ERROR_BYTES = 64 * 1024
#: Times an answer cut off mid-body is asked for again (when the request is safe to repeat).
CUT_BODY_RETRIES = 3


def user_agent() -> str:
    """Name every version that matters when a server operator reads a log line."""
    return (
        f"qibo-client/{__version__} qibo/{qibo_version()} "
        f"python/{platform.python_version()} requests/{requests.__version__}"
    )


def default_retry(total: int = 5, backoff_factor: float = 0.2) -> Retry:
    """The retry policy: a few quick attempts with exponential backoff, capped at 10 s.

    Within a call it is also held to the call's deadline
    (:class:`qibo_client.http.deadline.BoundedRetry`).
    """
    return _budget.BoundedRetry(
        total=total,
        connect=min(total, CONNECT_RETRIES),
        read=total,
        status=total,
        backoff_factor=backoff_factor,
        backoff_max=10.0,
        status_forcelist=RETRY_STATUSES,
        # Inside a call its kind decides (budget.BoundedRetry); outside one, the method's meaning.
        allowed_methods=IDEMPOTENT_METHODS,
        respect_retry_after_header=True,
        # Hand the last response back instead of raising: it becomes a typed error with the detail.
        raise_on_status=False,
        max_retry_after=MAX_RETRY_AFTER,
    )


def _bounded(retry: Retry) -> Retry:
    """A caller's plain ``Retry`` with the same settings, held to the call's deadline too."""
    if isinstance(retry, _budget.BoundedRetry):
        return retry
    fields = (
        "total",
        "connect",
        "read",
        "redirect",
        "status",
        "other",
        "allowed_methods",
        "status_forcelist",
        "backoff_factor",
        "backoff_max",
        "raise_on_redirect",
        "raise_on_status",
        "history",
        "respect_retry_after_header",
        "remove_headers_on_redirect",
        "backoff_jitter",
    )
    settings = {name: getattr(retry, name) for name in fields if hasattr(retry, name)}
    return _budget.BoundedRetry(**settings, max_retry_after=MAX_RETRY_AFTER)


class ApiSession(requests.Session):
    """A keep-alive session bound to one server and one token.

    ``timeout`` is the deadline of each call in seconds (a hold asked of the server adds its
    length); ``None`` leaves calls without an overall deadline, their reads and retries still
    bounded. ``verify`` is ``True`` (the certifi CA bundle; ``REQUESTS_CA_BUNDLE`` is honoured),
    a path to a CA bundle, or ``False`` for a test server only.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float | None = 30.0,
        verify: bool | str = True,
        retry: Retry | None = None,
    ) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = None if timeout is None else float(timeout)
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
        #: True once this server has answered: from then on, refused connections are a restart.
        self.reached = False
        adapter = DeadlineAdapter(max_retries=_bounded(retry or default_retry()), pool_maxsize=8)
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
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        extra_read: float = 0.0,
        job_url: bool = False,
        idempotent: bool | None = None,
        kind: retries.RequestKind | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
    ) -> requests.Response:
        """Send one request and return the 2xx response, body read, or raise the typed error.

        ``path`` is an API path (``/api/jobs/``) or an absolute URL; the body is ``json_body``
        (encoded here) or ``data`` (bytes sent as they are).

        ``extra_read`` lengthens the deadline for requests the server holds on purpose
        (``?wait=S``, ``Prefer: wait=S``). ``job_url`` marks paths where 404 means "no such job".
        ``idempotent`` says whether the request may be sent again after it may have reached the
        server: its ``kind``'s row in :mod:`qibo_client.http.retries` resolved for this server (what
        ``ServerApi`` passes), else the row's own answer, else the method's usual meaning.
        ``max_bytes`` bounds the body, enforced while it is read.
        """
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if idempotent is None:
            idempotent = kind.idempotent if kind else method.upper() in IDEMPOTENT_METHODS
        budget = _budget.CallBudget.start(self.timeout, extra_read, idempotent, self.reached)
        token = _budget.enter(budget)
        try:
            for attempt in range(CUT_BODY_RETRIES + 1):
                response = self._send(method, url, params, json_body, headers, budget, data)
                self.reached = True
                limit = MAX_ERROR_BYTES if response.status_code >= 400 else max_bytes
                try:
                    self._read(response, budget, limit)
                except requests.RequestException as exc:
                    # Cut off mid-body (IncompleteRead, a broken chunk): ask again if safe.
                    if not idempotent or attempt == CUT_BODY_RETRIES or budget.retry_left() <= 0:
                        raise self._transport_error(method, url, exc, budget) from None
                    logger.info("%s %s: answer cut off (%s); asking again", method, url, exc)
                    continue
                if response.status_code >= 400:
                    note = _retry_after_note(response, budget)
                    raise error_from_response(response, job_url=job_url, retry_note=note)
                return response
        finally:
            _budget.leave(token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        budget: _budget.CallBudget,
        data: bytes | None = None,
    ) -> requests.Response:
        """One request through the adapter's retries; the body is left to :meth:`_read`."""
        read = _budget.UNBOUNDED_READ_TIMEOUT if budget.deadline is None else budget.left()
        timeout = _budget.DeadlineTimeout(CONNECT_TIMEOUT, read, budget.deadline)
        try:
            return self.request(
                method,
                url,
                params=params,
                json=json_body,
                data=data,
                headers=headers,
                timeout=timeout,  # type: ignore[arg-type] # requests passes urllib3 Timeouts on
                stream=True,
            )
        except requests.RequestException as exc:
            raise self._transport_error(method, url, exc, budget) from None

    @staticmethod
    def _read(response: requests.Response, budget: _budget.CallBudget, limit: int) -> None:
        """Read the body under the deadline and ``limit`` into ``response.content``."""
        try:
            body = _budget.read_body(response.raw, budget, limit)
        except _budget.DeadlinePassed:
            response.close()
            raise requests.Timeout("the deadline passed while the answer was arriving") from None
        except _budget.BodyTooLarge:
            response.close()
            if response.status_code >= 400:
                body = b""  # an error's message is all that matters; an oversized one is dropped
            else:
                raise MalformedResponseError(
                    f"The answer to {response.request.method} {response.url} is larger than "
                    f"{limit} bytes, more than this request can legitimately return; refused "
                    "while reading it."
                ) from None
        except (HTTPError, HTTPException, OSError) as exc:  # cut off, broken chunk, bad gzip
            response.close()
            raise requests.ConnectionError(f"{type(exc).__name__}: {exc}") from None
        # What requests itself does when it reads a body: the content is then served from memory.
        response._content = body
        response._content_consumed = True  # type: ignore[attr-defined]
        response.close()

    @staticmethod
    def _transport_error(
        method: str, url: str, exc: Exception, budget: _budget.CallBudget
    ) -> TransportError:
        """The error for a call that got no usable answer; the text never holds the token."""
        what = f"{type(exc).__name__}: {exc}"
        if budget.passed() or (budget.deadline is not None and budget.left() < 0.05):
            return TransportError(
                f"{method} {url} timed out: no complete answer within the {budget.timeout:g} s "
                f"deadline (the client's timeout). Last error: {what}"
            )
        message = f"{method} {url} failed: {what}"
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        connect = isinstance(exc, requests.ConnectTimeout) or isinstance(reason, NewConnectionError)
        if connect:
            parts = urlsplit(url)
            cause = type(reason).__name__ if reason is not None else type(exc).__name__
            return ServerUnreachableError(
                f"cannot reach {parts.scheme}://{parts.netloc}: is the server running? "
                f"(no connection for {method} {parts.path or '/'}: {cause}; nothing was sent)"
            )
        if method.upper() == "POST" and not budget.idempotent and not connect:
            return SubmissionUncertainError(
                message + ". The request may have reached the server, so it was not sent again: "
                "the job may or may not exist. Look at client.jobs() (or `qibo-client jobs`) "
                "before submitting again."
            )
        return TransportError(message)


def _retry_after_note(response: requests.Response, budget: _budget.CallBudget) -> str | None:
    """What became of the server's ``Retry-After``: refused as too long (how long was asked, how
    long was left), or honoured and the server still refused; None without one."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if budget.refused_pause is not None:
        asked, left = budget.refused_pause
        return (
            f" The server asked to retry after {asked:g} s, but this call had {left:.1f} s left "
            "(the client's timeout), so it was not retried."
        )
    if not budget.idempotent and response.status_code != 429:
        return f" The server asked to retry after {value[:40]} s; this request is not sent twice."
    return f" The server asked to retry after {value[:40]} s and still refused after the retries."


__all__ = [
    "ApiSession",
    "check_response_has_keys",
    "default_retry",
    "error_from_response",
    "loads",
    "parse_json",
    "user_agent",
]
