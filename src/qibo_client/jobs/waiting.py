"""The one wait policy: hold on the server when it can, else poll with backoff; one deadline.

Every wait of the client (``Job.wait``, the batch wait, the original
``wait_for_response_to_get_request``) is :func:`wait_until` around a *step*: one request, asked to
be held ``hold`` seconds by the server (0: answer at once), that says whether the wait is over and
whether anything changed.

- A server known to hold (or not yet known) is asked to hold up to :data:`MAX_WAIT_SECONDS` or
  what is left of the deadline, whichever is less; there is no pause between requests.
- A held request that comes back early with no news shows a server that ignores holds: that is
  learnt in :class:`~qibo_client.http.api.ServerFeatures`, and the wait falls back to polling.
- Polling (a server that does not hold, such as TII's service) follows the schedule stated once
  in :mod:`qibo_client.protocol`: polls at 0, ``POLL_START``, and pauses growing ``POLL_GROWTH``
  times up to ``POLL_MAX``, counted from the job's submission when the wait knows it
  (``since``). A wait begun right after a submission skips the look at 0, which almost never
  finds a job done and costs one request per job: its first look is ``POLL_START`` after the
  submission. A wait on an old job (``client.get_job(pid).wait()``) looks at once. A job is
  seen done within about 1.5x its life; a job of 5 minutes costs ``POLL_REQUESTS_5_MIN`` polls,
  fewer than the official client at its fixed ``OFFICIAL_POLL_SECONDS`` (the figures are in
  ``protocol``'s comment and tested).
- A request answered early with no news is followed by a backoff pause, never by another at once.
- The deadline is one instant, fixed when the wait starts, and it bounds each request of the wait
  too (:func:`qibo_client.http.deadline.capped`): a server that stops answering ends the wait with
  :class:`JobTimeoutError` about :data:`ANSWER_GRACE` after the deadline, not after the client's
  per-request timeout.
- The step runs at least once; after a step that did not end the wait past the deadline,
  :class:`JobTimeoutError` (built by the caller, who knows which jobs are late) is raised.

What a progress display shows never changes what is sent: the hold length depends only on the
deadline and on the server (the display redraws on its own timer; news arrives when a hold ends).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from qibo_client.errors import JobTimeoutError, TransportError
from qibo_client.http import deadline as budget
from qibo_client.protocol import MAX_WAIT_SECONDS, POLL_GROWTH, POLL_MAX
from qibo_client.protocol import POLL_START as _POLL_START

if TYPE_CHECKING:  # pragma: no cover
    from qibo_client.http.api import ServerFeatures

logger = logging.getLogger("qibo_client.jobs.waiting")

#: A hold that returns before this fraction of the asked time, with no news, was ignored.
IGNORED_HOLD_FRACTION = 0.5
#: Shortest hold from which an early answer says anything about the server.
MIN_TELLING_HOLD = 1.0
#: How long past a wait's deadline its last request may take to bring the answer of its hold.
ANSWER_GRACE = 1.0
#: The polling schedule is :mod:`qibo_client.protocol`'s, re-exported here: tests lower
#: ``waiting.POLL_START`` (read on each wait) to keep suites quick.
POLL_START: float = _POLL_START


class Step(NamedTuple):
    """What one request of a wait found: is the wait over, and did anything change?"""

    done: bool
    news: bool = False


def poll_intervals() -> Iterator[float]:
    """``POLL_START``, then ``POLL_GROWTH`` times the last each time, capped at ``POLL_MAX``."""
    interval = POLL_START
    while True:
        yield interval
        interval = min(interval * POLL_GROWTH, POLL_MAX)


class Deadline:
    """One instant for a whole wait; ``None`` timeout: never."""

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.start = time.monotonic()
        self._end = None if timeout is None else self.start + max(0.0, timeout)

    def remaining(self) -> float:
        return float("inf") if self._end is None else max(0.0, self._end - time.monotonic())

    def passed(self) -> bool:
        return self._end is not None and time.monotonic() >= self._end

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def cap(self) -> float | None:
        """The latest a request of this wait may end: the deadline, and a moment for the answer
        that a hold as long as the time left brings just then (``None``: no deadline)."""
        return None if self._end is None else self._end + ANSWER_GRACE


def now() -> float:
    """The clock of every wait (``time.monotonic``): a Job notes its submission on it."""
    return time.monotonic()


def first_pause(since: float | None, features: ServerFeatures) -> float | None:
    """How long a wait begun now sleeps before its first poll; None: it looks at once.

    Only a server that does not hold, and only for a job submitted (at ``since``, on
    :func:`now`'s clock) less than ``POLL_START`` ago: it is first asked ``POLL_START`` after
    its submission, the schedule's second poll (the first, at 0, is skipped).
    """
    if since is None or features.holds is not False:
        return None
    left = since + POLL_START - time.monotonic()
    return left if left > 0 else None


def hold_for(deadline: Deadline, features: ServerFeatures) -> float:
    """How long the next request asks the server to hold: 0 for a server that does not."""
    if features.holds is False:
        return 0.0
    return min(MAX_WAIT_SECONDS, deadline.remaining())


def wait_until(
    step: Callable[[float], Step],
    deadline: Deadline,
    features: ServerFeatures,
    timeout_error: Callable[[], JobTimeoutError],
    *,
    sleep: Callable[[float], None] | None = None,
    since: float | None = None,
) -> None:
    """Call ``step(hold)`` until it reports done; raise ``timeout_error()`` past the deadline.

    ``since``: when the job waited on was submitted (of several, the oldest), on :func:`now`'s
    clock; None when unknown (a job rebuilt from its pid). See :func:`first_pause`. ``sleep``:
    this module's ``time.sleep``, read on each call (so that a fake clock covers every wait).
    """
    sleep = sleep or time.sleep
    intervals = poll_intervals()
    pause = first_pause(since, features)
    if pause is not None:
        next(intervals)  # the schedule goes on from its second poll
        sleep(min(pause, deadline.remaining()))
    while True:
        hold = hold_for(deadline, features)
        sent = time.monotonic()
        try:
            # No request of the wait outlives the wait (by more than a moment for the answer).
            with budget.capped(deadline.cap()):
                result = step(hold)
        except TransportError:
            if deadline.passed():
                raise timeout_error() from None
            raise
        if result.done:
            return
        # Early and without news: the server did not hold (or the hold was too short to tell).
        early = time.monotonic() - sent < hold * IGNORED_HOLD_FRACTION and not result.news
        honoured = not early
        if hold >= MIN_TELLING_HOLD and features.holds is not honoured:
            logger.debug("Server %s holds", "honours" if honoured else "ignores")
            features.learn_holds(honoured)
        if deadline.passed():
            raise timeout_error()
        if hold <= 0 or early:
            sleep(min(next(intervals), deadline.remaining()))


__all__ = [
    "POLL_GROWTH",
    "POLL_MAX",
    "POLL_START",
    "Deadline",
    "Step",
    "first_pause",
    "hold_for",
    "now",
    "poll_intervals",
    "wait_until",
]
