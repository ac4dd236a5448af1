"""What one HTTP call may spend: a deadline that covers connects, reads, retries and their pauses.

``requests`` and urllib3 bound each socket operation, never a whole call: a read timeout of 3 s
lets a server drip one byte every half second forever, and five attempts add up
(5 x (connect + read) + backoff + ``Retry-After``). This module turns the client's ``timeout``
into one deadline per call, with public means only:

- :class:`CallBudget` is the deadline of the call in progress (``None``: no overall deadline), the
  time after which no retry starts (always set: without a deadline, retries stop after
  :data:`UNBOUNDED_RETRY_BUDGET`), whether the request may be sent again once it may have reached
  the server (its row in :mod:`qibo_client.http.retries`), and whether refused connections are a
  restart to ride (the server answered this session before). The session's retry loop
  (:meth:`qibo_client.http.session.ApiSession.call`) asks it before every attempt and every pause.
- :meth:`CallBudget.timeouts` is the ``(connect, read)`` pair handed to requests for one attempt:
  neither part exceeds the time left, so no single socket wait outlives the deadline.
- :class:`BoundedBody` stands in for ``Response.raw`` while requests reads ``Response.content``:
  it reads the answer in pieces, checking the deadline and a size limit between pieces, so a slow
  drip is cut at the deadline and a huge body is refused before it is held.
- The current budget also lives in a context variable for the length of the call, for the one reader
  that cannot be handed it: the watchdog (:mod:`qibo_client.http.watchdog`), which cuts a head that
  drips in past the deadline. Context variables are per thread, so concurrent calls on one session
  never see each other's budget.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

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

    def timeouts(self, connect: float) -> tuple[float, float]:
        """requests' ``(connect, read)`` timeouts of one attempt starting now, within the time
        left (each socket wait is bounded by it; a drip that renews it is cut elsewhere)."""
        if self.deadline is None:
            return connect, UNBOUNDED_READ_TIMEOUT
        left = max(MIN_SOCKET_TIMEOUT, self.left())
        return min(connect, left), left

    def cut(self, seconds: float) -> float:
        """A pause shortened to the time in which another attempt may still start."""
        return max(0.0, min(seconds, self.retry_left()))


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


@contextlib.contextmanager
def running(budget: CallBudget) -> Iterator[CallBudget]:
    """Make ``budget`` the current one for the length of a call."""
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


class DeadlinePassed(Exception):
    """The deadline passed while an answer's body was still arriving."""


class BodyTooLarge(Exception):
    """An answer's body grew past the limit while it was read."""


class BoundedBody:
    """A file-like view of urllib3 response ``raw`` that ends at the deadline and at ``limit``.

    Set as ``Response.raw``, it is what requests reads ``Response.content`` from (requests reads
    any file-like ``raw`` with ``read``). Each ``read`` is urllib3's public ``read1``: what has
    arrived (at least one byte) instead of waiting for a full piece, so the deadline is checked
    at least once per arrival however slowly the server sends; gzip is decoded as requests would.
    """

    def __init__(self, raw: Any, budget: CallBudget, limit: int) -> None:
        self.raw = raw
        self.budget = budget
        self.limit = limit
        self.size = 0

    def read(self, amount: int = READ_CHUNK) -> bytes:
        if self.budget.passed():
            raise DeadlinePassed
        piece: bytes = self.raw.read1(amount, decode_content=True)
        self.size += len(piece)
        if self.size > self.limit:
            raise BodyTooLarge
        return piece

    def close(self) -> None:
        self.raw.close()

    def release_conn(self) -> None:
        self.raw.release_conn()


__all__ = [
    "RESTART_PAUSE",
    "UNBOUNDED_READ_TIMEOUT",
    "UNBOUNDED_RETRY_BUDGET",
    "BodyTooLarge",
    "BoundedBody",
    "CallBudget",
    "DeadlinePassed",
    "capped",
    "current",
    "running",
]
