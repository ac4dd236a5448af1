"""What one HTTP call may spend: a deadline that covers connects, reads, retries and their pauses.

``requests`` and urllib3 bound each socket operation, never a whole call: a read timeout of 3 s
lets a server drip one byte every half second forever, and a ``Retry`` of 5 attempts lets them add
up (5 x (connect + read) + backoff + ``Retry-After``). This module turns the client's ``timeout``
into one deadline per call, enforced by the library's own hooks rather than a loop of our own:

- :class:`CallBudget` is the deadline of the call in progress (``None``: no overall deadline), the
  time after which no retry starts (always set: without a deadline, retries stop after
  :data:`UNBOUNDED_RETRY_BUDGET`), whether the request may be sent again once it may have reached
  the server (its row in :mod:`qibo_client.http.retries`), and whether refused connections are a
  restart to ride (the server answered this session before). ``ApiSession.call`` sets it in a
  context variable for the length of the call: urllib3's retry object is shared by every call of a
  session (it is mounted once on the adapter), so the per-call facts travel beside it, not inside
  it. Context variables are per thread, so concurrent calls on one session never see each other's
  budget.
- :class:`BoundedRetry` is urllib3's ``Retry`` that stops retrying when the budget is spent, cuts
  backoff to what is left, honours ``Retry-After`` exactly (0: at once; a decimal too) when it
  fits and gives up at once when the server asks for a pause longer than the time left (waiting
  for a retry that can never happen only hides the answer; the budget keeps both figures for the
  message), re-sends a request that may have reached the server only when the call says it is
  safe, and retries refused connections to a server met before until the deadline, pausing at
  most :data:`RESTART_PAUSE` between tries.
- :class:`DeadlineTimeout` is urllib3's ``Timeout`` whose connect and read timeouts never exceed
  the time left, so no single socket wait outlives the deadline.
- :func:`read_body` reads an answer in pieces, checking the deadline and a size limit between
  pieces: a slow drip is cut at the deadline and a huge body is refused before it is held.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

from urllib3.exceptions import InvalidHeader, MaxRetryError, ResponseError
from urllib3.util.retry import RequestHistory, Retry
from urllib3.util.timeout import Timeout

#: Without a client timeout, no retry of a call starts after this many seconds.
UNBOUNDED_RETRY_BUDGET = 60.0
#: Without a client timeout, the longest one socket read may stall.
UNBOUNDED_READ_TIMEOUT = 60.0
#: Shortest socket timeout handed to urllib3 (0 would make the socket non-blocking).
MIN_SOCKET_TIMEOUT = 0.01
#: Bytes asked per read of an answer's body.
READ_CHUNK = 64 * 1024
#: Longest pause between two connects to a restarting server: it is back within a second or so,
#: and each try costs a refused SYN on loopback or one round trip.
RESTART_PAUSE = 0.25


@dataclasses.dataclass
class CallBudget:
    """The limits of one call; times are ``time.monotonic()`` values."""

    deadline: float | None
    retry_until: float
    #: May the request be sent again after it may have reached the server?
    idempotent: bool
    #: The configured timeout, for messages.
    timeout: float | None = None
    #: Refused connections are a restart of a server met before: retried until the deadline.
    rides_restarts: bool = False
    #: (seconds asked by ``Retry-After``, seconds left) when a pause was refused as too long.
    refused_pause: tuple[float, float] | None = None

    @classmethod
    def start(
        cls, timeout: float | None, extra: float, idempotent: bool, rides_restarts: bool = False
    ) -> CallBudget:
        """The budget of a call starting now; ``extra`` is a hold the server was asked for.

        A cap set by :func:`capped` (a wait's own deadline) shortens it further.
        """
        now = time.monotonic()
        deadline = None if timeout is None else now + timeout + extra
        cap = _CAP.get()
        if cap is not None:
            deadline = cap if deadline is None else min(deadline, cap)
        if deadline is None:
            until = now + UNBOUNDED_RETRY_BUDGET + extra
            return cls(None, until, idempotent, None, rides_restarts)
        return cls(deadline, deadline, idempotent, max(0.0, deadline - now), rides_restarts)

    def left(self) -> float:
        """Seconds before the deadline (infinite without one)."""
        if self.deadline is None:
            return float("inf")
        return self.deadline - time.monotonic()

    def retry_left(self) -> float:
        """Seconds in which another attempt may still start."""
        return self.retry_until - time.monotonic()

    def passed(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


_CURRENT: contextvars.ContextVar[CallBudget | None] = contextvars.ContextVar(
    "qibo_client_call_budget", default=None
)


_CAP: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "qibo_client_call_cap", default=None
)


@contextlib.contextmanager
def capped(until: float | None) -> Iterator[None]:
    """Calls started inside end by ``until`` (monotonic) at the latest; None: no cap.

    A wait with a timeout uses it, so that no single request of the wait outlives the wait.
    Caps nest: the earliest wins.
    """
    outer = _CAP.get()
    if until is not None and outer is not None:
        until = min(until, outer)
    token = _CAP.set(until if until is not None else outer)
    try:
        yield
    finally:
        _CAP.reset(token)


def current() -> CallBudget | None:
    """The budget of the call in progress in this thread, if any."""
    return _CURRENT.get()


def enter(budget: CallBudget) -> contextvars.Token[CallBudget | None]:
    """Make ``budget`` the current one; pass the token to :func:`leave` when the call ends."""
    return _CURRENT.set(budget)


def leave(token: contextvars.Token[CallBudget | None]) -> None:
    _CURRENT.reset(token)


class BoundedRetry(Retry):
    """urllib3's ``Retry``, held to the current call's :class:`CallBudget`.

    Inside a call, the budget (the request's row in :mod:`qibo_client.http.retries`) decides what
    may be sent again, whatever the method: ``allowed_methods`` applies only to requests sent
    outside :meth:`~qibo_client.http.session.ApiSession.call`, where the method's usual meaning
    decides. ``max_retry_after`` caps any server's ``Retry-After`` even without a deadline.
    """

    def __init__(self, *args: Any, max_retry_after: float = 30.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after

    def new(self, **kwargs: Any) -> BoundedRetry:
        retry = super().new(**kwargs)
        retry.max_retry_after = self.max_retry_after
        return retry

    def is_exhausted(self) -> bool:
        budget = current()
        return super().is_exhausted() or (budget is not None and budget.retry_left() <= 0)

    def _is_method_retryable(self, method: str) -> bool:
        # Inside a call the budget decides (is_retry, increment); the method says nothing there.
        return current() is not None or super()._is_method_retryable(method)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        budget = current()
        if budget is not None:
            if budget.retry_left() <= 0:
                return False
            if not budget.idempotent and status_code != 429:
                # Only a 429 says the request was refused unprocessed; a 502/503/504 may come
                # from a proxy whose backend did take the request.
                return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> BoundedRetry:
        budget = current()
        if budget is not None:
            if error is not None and self._is_connection_error(error):
                if budget.rides_restarts:
                    return self._ride_restart(budget, method, url, error, _pool)
            elif error is not None and not budget.idempotent:
                # Anything but a failed connect may have reached the server: no resend.
                raise error
            if response is not None:
                asked = self.asked_pause(response)
                left = min(budget.retry_left(), self.max_retry_after)
                if asked is not None and asked > left:
                    # Waiting for an attempt that could never happen would only hide the answer.
                    budget.refused_pause = (asked, max(0.0, budget.retry_left()))
                    raise MaxRetryError(_pool, url or "", ResponseError("Retry-After too long"))
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def _ride_restart(
        self, budget: CallBudget, method: str | None, url: str | None, error: Exception, pool: Any
    ) -> BoundedRetry:
        """A refused connect to a server met before: try again until the deadline, uncounted."""
        if budget.retry_left() <= 0:
            raise MaxRetryError(pool, url or "", error) from error
        history = (*self.history, RequestHistory(method, url, error, None, None))
        return self.new(history=history)

    def get_backoff_time(self) -> float:
        seconds = super().get_backoff_time()
        budget = current()
        last = self.history[-1].error if self.history else None
        riding = budget is not None and budget.rides_restarts
        if riding and last is not None and self._is_connection_error(last):
            seconds = min(seconds, RESTART_PAUSE)
        return _cut(seconds)

    def asked_pause(self, response: Any) -> float | None:
        """The pause the server's ``Retry-After`` asks for, in seconds; None without a readable
        one (integer or decimal seconds, or an HTTP date)."""
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                return super().parse_retry_after(value)
            except InvalidHeader:
                return None
        return seconds if seconds >= 0 and seconds != float("inf") else None

    def get_retry_after(self, response: Any) -> float | None:
        seconds = self.asked_pause(response)
        return None if seconds is None else _cut(min(seconds, self.max_retry_after))

    def sleep_for_retry(self, response: Any) -> bool:
        """Pause as the server asked, exactly: ``Retry-After: 0`` retries at once."""
        seconds = self.get_retry_after(response)
        if seconds is None:
            return False
        if seconds > 0:
            time.sleep(seconds)
        return True


def _cut(seconds: float) -> float:
    """A pause shortened to the time the current call may still retry in."""
    budget = current()
    if budget is None:
        return seconds
    return max(0.0, min(seconds, budget.retry_left()))


class DeadlineTimeout(Timeout):
    """urllib3's ``Timeout`` whose connect and read parts never exceed the time left."""

    def __init__(self, connect: float, read: float, deadline: float | None) -> None:
        super().__init__(connect=connect, read=read)
        self.connect_cap = connect
        self.read_cap = read
        self.deadline = deadline

    def clone(self) -> DeadlineTimeout:
        # urllib3 clones the timeout for each attempt; the copy keeps the same deadline.
        return DeadlineTimeout(self.connect_cap, self.read_cap, self.deadline)

    def _bounded(self, seconds: float) -> float:
        if self.deadline is None:
            return seconds
        return max(MIN_SOCKET_TIMEOUT, min(seconds, self.deadline - time.monotonic()))

    @property
    def connect_timeout(self) -> float:
        return self._bounded(self.connect_cap)

    @property
    def read_timeout(self) -> float:
        return self._bounded(self.read_cap)


class DeadlinePassed(Exception):
    """The deadline passed while an answer's body was still arriving."""


class BodyTooLarge(Exception):
    """An answer's body grew past the limit while it was read."""


def read_body(raw: Any, budget: CallBudget, limit: int) -> bytes:
    """The whole body of urllib3 response ``raw``, read in pieces under the deadline and ``limit``.

    ``read1`` returns what has arrived (at least one byte) instead of waiting for a full piece,
    so the deadline is checked at least once per arrival, however slowly the server sends.
    """
    read = getattr(raw, "read1", None) or raw.read
    parts: list[bytes] = []
    size = 0
    while True:
        if budget.passed():
            raise DeadlinePassed
        piece = read(READ_CHUNK)
        if not piece:
            return b"".join(parts)
        size += len(piece)
        if size > limit:
            raise BodyTooLarge
        parts.append(piece)


__all__ = [
    "RESTART_PAUSE",
    "UNBOUNDED_READ_TIMEOUT",
    "UNBOUNDED_RETRY_BUDGET",
    "BodyTooLarge",
    "BoundedRetry",
    "CallBudget",
    "DeadlinePassed",
    "DeadlineTimeout",
    "capped",
    "current",
    "enter",
    "leave",
    "read_body",
]
