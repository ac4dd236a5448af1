"""What a user sees while a wait lasts: one status line per slow wait, one bar per batch.

Nothing is shown for a fast job: the status line starts only once a single wait has lasted more
than :data:`SHOW_AFTER` seconds, and a batch shows one bar for all its jobs instead of one line per
job. In a terminal rich draws them; in a Jupyter kernel a plain text line is shown and updated in
place through IPython's own display machinery (rich's Jupyter path needs ipywidgets and warns when
it is missing). This module decides *whether* to show, *what* to say and *where*.

What the line says is meant to be true: the pid's first 8 characters (enough to tell jobs apart in
``qibo-client jobs``), the status, the queue position, the elapsed time (redrawn several times a
second, so it moves smoothly), and a time left only while the server's estimate (from the queue
and the device's recent job times) has not run out: once it has, no number is shown rather than
"about 0 s left". An estimate is kept for as long as the job's status and position stay the same,
so a server answering every few seconds does not restart the count each time.

Off with ``Client(progress=False)`` or ``QIBO_CLIENT_PROGRESS=0``; forced on with
``QIBO_CLIENT_PROGRESS=1``. By default it is on only when stderr is a terminal or in a notebook.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from qibo_client.protocol import ESTIMATE_KEYS, QUEUE_POSITION_KEYS, first_of

if TYPE_CHECKING:  # pragma: no cover
    from typing import Self

#: Environment switch: "0"/"false"/"off" disables, "1"/"true"/"on" forces.
PROGRESS_ENV = "QIBO_CLIENT_PROGRESS"
#: A wait shorter than this shows nothing.
SHOW_AFTER = 1.0
#: Characters of a pid shown in the status line (the journal and ``qibo-client jobs`` have it all).
SHORT_PID = 8
#: Seconds between two redraws of a notebook's line.
KERNEL_REFRESH = 0.5


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    get_ipython = getattr(shell, "get_ipython", None)
    instance = get_ipython() if get_ipython else None
    return type(instance).__name__ == "ZMQInteractiveShell"


def progress_enabled(setting: bool | None = None) -> bool:
    """Resolve the switch: explicit argument, else the environment, else "is anyone watching"."""
    if setting is not None:
        return bool(setting)
    env = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if env in {"0", "false", "off", "no"}:
        return False
    if env in {"1", "true", "on", "yes"}:
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty()) or _in_notebook()


def describe(job: dict[str, Any], elapsed: float, left: float | None = None) -> str:
    """One line: short pid, status, queue position, time left (if any is honest), elapsed time.

    ``left`` is the estimate still running (see :class:`Estimate`); None or under a second says
    nothing about the time left.
    """
    pid = str(job.get("pid", "?"))[:SHORT_PID]
    parts = [f"job {pid}: {job.get('status', '?')}"]
    position = first_of(job, QUEUE_POSITION_KEYS)
    if isinstance(position, int) and position > 0:
        parts.append(f"position {position} in queue")
    if left is not None and left >= 1:
        parts.append(f"about {left:.0f} s left")
    parts.append(f"{elapsed:.0f} s elapsed")
    return ", ".join(parts)


class Estimate:
    """The server's ``etd_seconds``, counted down on the client's clock.

    It is taken when first seen and kept while the job's status and queue position stay the same
    (a new answer with the same news does not restart it); it runs out rather than going
    negative, and is then shown as nothing.
    """

    def __init__(self) -> None:
        self._key: tuple[Any, Any] | None = None
        self._ends: float | None = None

    def update(self, job: dict[str, Any], now: float) -> None:
        key = (job.get("status"), first_of(job, QUEUE_POSITION_KEYS))
        if key == self._key:
            return
        self._key = key
        etd = first_of(job, ESTIMATE_KEYS)
        self._ends = None
        if isinstance(etd, (int, float)) and not isinstance(etd, bool) and etd > 0:
            self._ends = now + float(etd)

    def left(self, now: float) -> float | None:
        if self._ends is None or now >= self._ends:
            return None
        return self._ends - now


class WaitObserver(Protocol):
    """What a wait reports to: told the job object after every answer that is not final."""

    enabled: bool

    def update(self, job: dict[str, Any], elapsed: float) -> None: ...


class KernelLine:
    """A line of text in a Jupyter output cell, redrawn in place: no ipywidgets, no warning.

    ``IPython.display.display(..., display_id=True)`` gives a handle whose ``update`` replaces
    the output; a daemon thread calls it every :data:`KERNEL_REFRESH` seconds so the elapsed time
    moves. It has rich ``Live``'s ``start``/``stop``; at ``stop`` the last text stays, drawn once
    more so that it is final.
    """

    def __init__(self, render: Any) -> None:
        self._render = render
        self._handle: Any = None
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def _bundle(self) -> dict[str, str]:
        return {"text/plain": str(self._render())}

    def start(self) -> None:
        from IPython.display import display

        self._handle = display(self._bundle(), raw=True, display_id=True)
        self._thread = threading.Thread(target=self._run, name="qibo-client-progress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(KERNEL_REFRESH):
            self._handle.update(self._bundle(), raw=True)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._handle is not None:
            self._handle.update(self._bundle(), raw=True)


class _LiveDisplay:
    """What both displays share: a rich live object started after :data:`SHOW_AFTER` seconds.

    A timer of its own starts it, so a wait held on the server for 30 s still shows its line
    after a second: what the display needs never changes what the wait sends. Rich redraws the
    live object on its own timer; the news in it changes when an answer arrives.
    """

    enabled: bool = False
    shown: bool = False
    _live: Any = None
    _timer: threading.Timer | None = None
    _closed: bool = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._start = time.monotonic()

    def _build(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _wanted(self) -> bool:
        return True

    def _show(self) -> None:
        with self._lock:
            if self._closed or self._live is not None or not self._wanted():
                return
            self._live = self._build()
            self._live.start()
            self.shown = True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._live is not None:
                self._live.stop()
                self._live = None

    def __enter__(self) -> Self:
        if self.enabled:
            self._timer = threading.Timer(SHOW_AFTER, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Line:
    """The status line's text, computed at each redraw so that its elapsed time runs."""

    def __init__(self, status: WaitStatus) -> None:
        self._status = status

    def __rich__(self) -> str:
        return self._status.text()


class WaitStatus(_LiveDisplay):
    """A status line for one job's wait, shown once the wait has lasted :data:`SHOW_AFTER`."""

    def __init__(self, enabled: bool, pid: str | None = None) -> None:
        super().__init__()
        self.enabled = enabled
        #: The last job object seen; until the first answer, only what the caller knows.
        self.job: dict[str, Any] = {"pid": pid, "status": "waiting"} if pid else {}
        self.started = self._start
        self.estimate = Estimate()

    def update(self, job: dict[str, Any], elapsed: float) -> None:
        self.job = job
        self.estimate.update(job, time.monotonic())
        if self.enabled and elapsed >= SHOW_AFTER:
            self._show()

    def text(self) -> str:
        """The line as it reads now."""
        now = time.monotonic()
        return describe(self.job, now - self.started, self.estimate.left(now))

    def _build(self) -> Any:
        if _in_notebook():
            return KernelLine(self.text)
        from rich.console import Console

        return Console(stderr=True).status(_Line(self))


class BatchProgress(_LiveDisplay):
    """One progress bar for a batch of jobs, shown only once the batch has taken a while.

    It is also the batch's :class:`WaitObserver`: while one job of the batch is slow, the bar
    appears (and its elapsed time runs) even though no job has finished yet.
    """

    def __init__(self, enabled: bool, total: int) -> None:
        super().__init__()
        self.enabled = enabled and total > 0
        self.total = total
        self.done = 0
        self._task: Any = None

    def update(self, job: dict[str, Any], elapsed: float) -> None:
        self._show_if_slow(time.monotonic() - self._start)

    def advance(self, elapsed: float | None = None) -> None:
        """One more job is final; ``elapsed`` (since the batch began) defaults to the clock."""
        self.done += 1
        self._show_if_slow(time.monotonic() - self._start if elapsed is None else elapsed)
        if self._live is not None and self._task is not None:
            self._live.update(self._task, completed=self.done)

    def _show_if_slow(self, elapsed: float) -> None:
        if self.enabled and elapsed >= SHOW_AFTER:
            self._show()

    def _wanted(self) -> bool:
        return self.done < self.total

    def text(self) -> str:
        """The bar's words, for a notebook: jobs done and the time elapsed."""
        return (
            f"qibo-client jobs: {self.done}/{self.total} done, "
            f"{time.monotonic() - self._start:.0f} s elapsed"
        )

    def _build(self) -> Any:
        if _in_notebook():
            return KernelLine(self.text)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        live = Progress(
            TextColumn("qibo-client jobs"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self._task = live.add_task("jobs", total=self.total, completed=self.done)
        return live


__all__ = [
    "PROGRESS_ENV",
    "SHOW_AFTER",
    "BatchProgress",
    "Estimate",
    "KernelLine",
    "WaitObserver",
    "WaitStatus",
    "describe",
    "progress_enabled",
]
