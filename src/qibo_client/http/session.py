"""One HTTP session per client: base URL, headers, timeouts, retries, HTTP errors -> typed errors.

Why a ``requests.Session`` subclass: every request of a client then shares one keep-alive
connection pool, one set of headers and one retry loop (:meth:`ApiSession.call`), so retries are
written once rather than pasted into each method (the model is qiskit-ibm-runtime's
``api/session.py``). The loop is ours, not urllib3's ``Retry``: it is short, and the deadline,
the retry table and ``Retry-After`` then need no hook inside the library; the adapter itself is
mounted with no retries.

The client's ``timeout`` is a deadline for a whole call (see :mod:`qibo_client.http.deadline`):
connects, reads, retries, backoff and ``Retry-After`` all fit inside it, and the body is read in
pieces so that a slow drip is cut at the deadline and an oversized answer is refused while it
arrives, not after. Without a timeout, reads are still bounded and no retry starts after a minute.

What is retried, and why it is safe, is one table: :mod:`qibo_client.http.retries`, a row per kind
of request. A call names its kind (``ServerApi`` does; a call without one is judged by its method)
and whether this server lists the kind's extension; :meth:`ApiSession.call`'s loop then retries a
failed connect always (to a server this session has reached before, until the deadline: that is a
restart), a 429 always, and, for a request that is safe to send again, also drops, 502/503/504 and
an answer cut off mid-body. A ``POST`` that may have reached the server is never sent twice
otherwise: the error then says the job may or may not exist, and where to look.

Reading an answer's body (bounded JSON, error bodies -> typed errors, key checks) lives in
:mod:`qibo_client.http.replies`; its names are re-exported here, where they always were.

The token lives only in the session's headers. It never appears in ``repr``, in error messages
(which name the method and URL only) or in log records.
"""

from __future__ import annotations

import io
import logging
import os
import platform
import time
from collections.abc import Mapping
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError
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
from qibo_client.http.retries import (
    CONNECT_RETRIES,
    IDEMPOTENT_METHODS,
    MAX_RETRY_AFTER,
    RETRY_STATUSES,
    RetryPolicy,
)
from qibo_client.http.watchdog import DeadlineAdapter
from qibo_client.protocol import CLIENT_VERSION_HEADER, TOKEN_HEADER
from qibo_client.versions import __version__, qibo_version

logger = logging.getLogger("qibo_client.http.session")

#: Seconds to establish a TCP/TLS connection (never more than the call has left).
CONNECT_TIMEOUT = 10.0
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


def default_retry(total: int = 5, backoff_factor: float = 0.2) -> RetryPolicy:
    """The retry policy: a few quick attempts with exponential backoff, capped at 10 s.

    Within a call it is also held to the call's deadline (see :meth:`ApiSession.call`).
    """
    return RetryPolicy(
        total=total, connect=min(total, CONNECT_RETRIES), backoff_factor=backoff_factor
    )


class ApiSession(requests.Session):
    """A keep-alive session bound to one server and one token.

    ``timeout`` is the deadline of each call in seconds (a hold asked of the server adds its
    length); ``None`` leaves calls without an overall deadline, their reads and retries still
    bounded. ``verify`` is ``True`` (the certifi CA bundle; ``REQUESTS_CA_BUNDLE`` is honoured),
    a path to a CA bundle, or ``False`` for a test server only. ``retry`` counts and spaces the
    retries (:class:`~qibo_client.http.retries.RetryPolicy`; a urllib3 ``Retry`` gives its counts).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float | None = 30.0,
        verify: bool | str = True,
        retry: RetryPolicy | Retry | None = None,
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
        if retry is None:
            retry = default_retry()
        elif not isinstance(retry, RetryPolicy):
            retry = RetryPolicy.from_urllib3(retry)
        self.policy: RetryPolicy = retry
        adapter = DeadlineAdapter(max_retries=0, pool_maxsize=8)  # the retries are call()'s
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

        The retry loop: each attempt gets ``(connect, read)`` timeouts within the time left
        (:meth:`~qibo_client.http.deadline.CallBudget.timeouts`); after a failure, the rules of
        :mod:`qibo_client.http.retries` and the budget decide whether, and after what pause, another
        attempt starts.
        """
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if idempotent is None:
            idempotent = kind.idempotent if kind else method.upper() in IDEMPOTENT_METHODS
        budget = _budget.CallBudget.start(self.timeout, extra_read, idempotent, self.reached)
        request = self._prepare(method, url, params, json_body, data, headers)
        tries = retries.Tries(self.policy)
        cuts = 0
        with _budget.running(budget):
            while True:
                try:
                    response = self._attempt(request, budget, max_bytes)
                except _CutOff as cut:
                    cuts += 1
                    self._ask_again_after_cut(cut, cuts, idempotent, budget, method, url)
                    continue
                except requests.RequestException as exc:
                    pause = self._pause_after_error(exc, budget, tries)
                    if pause is None:
                        raise self._transport_error(method, url, exc, budget) from None
                else:
                    if response.status_code < 400:
                        return response
                    pause = self._pause_after_status(response, budget, tries)
                    if pause is None:
                        note = _retry_after_note(response, budget)
                        raise error_from_response(response, job_url=job_url, retry_note=note)
                    logger.info("%s %s: HTTP %s; asking again", method, url, response.status_code)
                if pause > 0:
                    time.sleep(pause)

    def _ask_again_after_cut(
        self,
        cut: _CutOff,
        cuts: int,
        idempotent: bool,
        budget: _budget.CallBudget,
        method: str,
        url: str,
    ) -> None:
        """An answer cut off mid-body (IncompleteRead, a broken chunk) is asked for again only
        when the request is safe to send again, at most ``CUT_BODY_RETRIES`` times, and while
        the budget allows a retry; otherwise the call ends with its transport error."""
        if not idempotent or cuts > CUT_BODY_RETRIES or budget.retry_left() <= 0:
            raise self._transport_error(method, url, cut.error, budget) from None
        logger.info("%s %s: answer cut off (%s); asking again", method, url, cut)

    def _prepare(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        data: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> requests.PreparedRequest:
        """The request, prepared once for all its attempts by ``PreparedRequest.prepare``.

        Not ``Session.prepare_request``: its merges (settings, cookie jar copy, hooks, netrc)
        cost 0.1-0.2 ms a request (``timeit``, 2000 preparations of a job POST: 120-215 us
        against 30-60 us here) for settings this session fixes at construction. What it would
        merge is merged here: the session's headers (a ``None`` value drops one), its cookies and
        its hooks, read at each call.
        """
        merged = dict(self.headers)
        if headers:
            merged.update(headers)
            merged = {name: value for name, value in merged.items() if value is not None}
        request = requests.PreparedRequest()
        request.prepare(
            method=method,
            url=url,
            headers=merged,
            params=params,
            data=data,
            json=json_body,
            cookies=self.cookies or None,
            hooks=self.hooks,
        )
        return request

    def _attempt(
        self, request: requests.PreparedRequest, budget: _budget.CallBudget, max_bytes: int
    ) -> requests.Response:
        """One attempt: send under per-attempt timeouts, then read the body under the deadline."""
        timeout = budget.timeouts(CONNECT_TIMEOUT)
        response = self.send(request, timeout=timeout, stream=True, proxies=self.proxies)
        self.reached = True
        limit = MAX_ERROR_BYTES if response.status_code >= 400 else max_bytes
        self._read(response, budget, limit)
        return response

    def _pause_after_error(
        self, exc: requests.RequestException, budget: _budget.CallBudget, tries: retries.Tries
    ) -> float | None:
        """The pause before another attempt after no answer came, or None: no more attempts."""
        if budget.retry_left() <= 0:
            return None
        if _failed_connect(exc):  # nothing was sent: always safe to try again
            if budget.rides_restarts:  # a server met before restarts: ride it, uncounted
                tries.take(counted=False)
                return budget.cut(min(tries.backoff(), _budget.RESTART_PAUSE))
            return budget.cut(tries.backoff()) if tries.take(connect=True) else None
        if not budget.idempotent or isinstance(exc, requests.exceptions.SSLError):
            return None  # may have reached the server; a certificate does not heal by retrying
        return budget.cut(tries.backoff()) if tries.take() else None

    def _pause_after_status(
        self, response: requests.Response, budget: _budget.CallBudget, tries: retries.Tries
    ) -> float | None:
        """The pause before another attempt after an error status, or None: it is the answer.

        Only a 429 says a request was refused unprocessed; a 502/503/504 may come from a proxy
        whose backend did take it, so those are retried only for a request safe to repeat. A
        ``Retry-After`` is honoured exactly (0: at once) when it fits in the time left, and ends
        the call at once when it does not (waiting for an attempt that cannot happen only hides
        the answer; the budget keeps both figures for the message).
        """
        status = response.status_code
        if status not in self.policy.statuses or budget.retry_left() <= 0:
            return None
        if not budget.idempotent and status != 429:
            return None
        asked = retries.retry_after(response.headers.get("Retry-After"))
        if asked is not None and asked > min(budget.retry_left(), self.policy.max_retry_after):
            budget.refused_pause = (asked, max(0.0, budget.retry_left()))
            return None
        if not tries.take():
            return None
        return budget.cut(tries.backoff() if asked is None else asked)

    @staticmethod
    def _read(response: requests.Response, budget: _budget.CallBudget, limit: int) -> None:
        """Read the body under the deadline and ``limit`` into ``response.content``.

        requests reads ``content`` from ``response.raw``, a public attribute: for the length of
        the read it is the bounded view of the socket's answer, then the answer again.
        """
        raw = response.raw
        response.raw = _budget.BoundedBody(raw, budget, limit)
        try:
            response.content  # noqa: B018 # read once, from the bounded body
        except _budget.DeadlinePassed:
            raw.close()
            raise requests.Timeout("the deadline passed while the answer was arriving") from None
        except _budget.BodyTooLarge:
            raw.close()
            if response.status_code < 400:
                raise MalformedResponseError(
                    f"The answer to {response.request.method} {response.url} is larger than "
                    f"{limit} bytes, more than this request can legitimately return; refused "
                    "while reading it."
                ) from None
            response.raw = io.BytesIO()  # an error's message is all that matters: dropped
            response.content  # noqa: B018
        except (HTTPError, HTTPException, OSError, requests.RequestException) as exc:
            raw.close()  # cut off, broken chunk, bad gzip
            raise _CutOff(requests.ConnectionError(f"{type(exc).__name__}: {exc}")) from None
        finally:
            response.raw = raw
            response.close()  # the connection goes back to the pool (closed if not read through)

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
        connect = isinstance(exc, requests.RequestException) and _failed_connect(exc)
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


class _CutOff(Exception):
    """An answer cut off mid-body: asked again when safe, apart from the other retries."""

    def __init__(self, error: requests.RequestException) -> None:
        super().__init__(str(error))
        self.error = error


def _failed_connect(exc: requests.RequestException) -> bool:
    """No connection was made, so nothing was sent (requests wraps urllib3's reason)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


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
    "CONNECT_RETRIES",
    "IDEMPOTENT_METHODS",
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "ApiSession",
    "check_response_has_keys",
    "default_retry",
    "error_from_response",
    "loads",
    "parse_json",
    "user_agent",
]
