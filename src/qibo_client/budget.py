"""What one HTTP call may spend: a deadline that covers connects, reads, retries and their pauses.

``requests`` and urllib3 bound each socket operation, never a whole call: a read timeout of 3 s
lets a server drip one byte every half second forever, and a ``Retry`` of 5 attempts lets them add
up (5 x (connect + read) + backoff + ``Retry-After``). This module turns the client's ``timeout``
into one deadline per call, enforced by the library's own hooks rather than a loop of our own:

- :class:`CallBudget` is the deadline of the call in progress (``None``: no overall deadline),
  the time after which no retry starts (always set: without a deadline, retries stop after
  :data:`UNBOUNDED_RETRY_BUDGET`), and whether the request may be sent again once it may have
  reached the server. ``ApiSession.call`` sets it in a context variable for the length of the
  call: urllib3's retry object is shared by every call of a session (it is mounted once on the
  adapter), so the per-call facts travel beside it, not inside it. Context variables are per
  thread, so concurrent calls on one session never see each other's budget.
- :class:`BoundedRetry` is urllib3's ``Retry`` that stops retrying when the budget is spent, cuts
  backoff and ``Retry-After`` to what is left (and gives up at once when the server asks for a
  pause longer than that: waiting for a retry that can never happen only hides the answer), and
  re-sends a request that may have reached the server only when the call says it is safe.
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

from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ResponseError
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

#: Without a client timeout, no retry of a call starts after this many seconds.
UNBOUNDED_RETRY_BUDGET = 60.0
#: Without a client timeout, the longest one socket read may stall.
UNBOUNDED_READ_TIMEOUT = 60.0
#: Shortest socket timeout handed to urllib3 (0 would make the socket non-blocking).
MIN_SOCKET_TIMEOUT = 0.01
#: Bytes asked per read of an answer's body.
READ_CHUNK = 64 * 1024


@dataclasses.dataclass(frozen=True)
class CallBudget:
    """The limits of one call; times are ``time.monotonic()`` values."""

    deadline: float | None
    retry_until: float
    #: May the request be sent again after it may have reached the server?
    idempotent: bool
    #: The configured timeout, for messages.
    timeout: float | None = None

    @classmethod
    def start(cls, timeout: float | None, extra: float, idempotent: bool) -> CallBudget:
        """The budget of a call starting now; ``extra`` is a hold the server was asked for.

        A cap set by :func:`capped` (a wait's own deadline) shortens it further.
        """
        now = time.monotonic()
        deadline = None if timeout is None else now + timeout + extra
        cap = _CAP.get()
        if cap is not None:
            deadline = cap if deadline is None else min(deadline, cap)
        if deadline is None:
            return cls(None, now + UNBOUNDED_RETRY_BUDGET + extra, idempotent, None)
        return cls(deadline, deadline, idempotent, max(0.0, deadline - now))

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

    ``max_retry_after`` caps any server's ``Retry-After`` even without a deadline. Outside a call
    (no current budget) it behaves as its parent with that cap.
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
            if (
                error is not None
                and not budget.idempotent
                and not isinstance(error, ConnectTimeoutError)
            ):
                # Anything but a failed connect may have reached the server: no resend.
                raise error
            if response is not None:
                asked = super().get_retry_after(response)
                if asked is not None and asked > min(budget.retry_left(), self.max_retry_after):
                    # Waiting for an attempt that could never happen would only hide the answer.
                    raise MaxRetryError(_pool, url or "", ResponseError("Retry-After too long"))
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        return _cut(super().get_backoff_time())

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else _cut(min(seconds, self.max_retry_after))


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
