"""What a user sees while a wait lasts: one status line per slow wait, one bar per batch.

Nothing is shown for a fast job: the status line starts only once a single wait has lasted more
than :data:`SHOW_AFTER` seconds, and a batch shows one bar for all its jobs instead of one line per
job. Drawing is left to rich (terminal and Jupyter alike); this module only decides *whether* to
show and *what* to say.

Off with ``Client(progress=False)`` or ``QIBO_CLIENT_PROGRESS=0``; forced on with
``QIBO_CLIENT_PROGRESS=1``. By default it is on only when stderr is a terminal or in a notebook.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self

#: Environment switch: "0"/"false"/"off" disables, "1"/"true"/"on" forces.
PROGRESS_ENV = "QIBO_CLIENT_PROGRESS"
#: A wait shorter than this shows nothing.
SHOW_AFTER = 1.0


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


def describe(job: dict[str, Any], elapsed: float) -> str:
    """One line: status, queue position, estimated wait, elapsed time."""
    parts = [f"job {job.get('pid', '?')}: {job.get('status', '?')}"]
    position = job.get("queue_position")
    if isinstance(position, int) and position > 0:
        parts.append(f"position {position} in queue")
    etd = job.get("etd_seconds")
    if isinstance(etd, (int, float)) and etd > 0:
        parts.append(f"about {etd:.0f} s left")
    parts.append(f"{elapsed:.0f} s elapsed")
    return ", ".join(parts)


class WaitObserver(Protocol):
    """What a wait reports to: told the job object after every answer that is not final."""

    enabled: bool

    def update(self, job: dict[str, Any], elapsed: float) -> None: ...


class _LiveDisplay:
    """What both displays share: a rich live object, started lazily, stopped on close or exit."""

    _live: Any = None

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class WaitStatus(_LiveDisplay):
    """A status line for one job's wait, started lazily after :data:`SHOW_AFTER` seconds."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def update(self, job: dict[str, Any], elapsed: float) -> None:
        if not self.enabled or elapsed < SHOW_AFTER:
            return
        text = describe(job, elapsed)
        if self._live is None:
            from rich.console import Console

            self._live = Console(stderr=True).status(text)
            self._live.start()
            self.shown = True
        else:
            self._live.update(text)


class BatchProgress(_LiveDisplay):
    """One progress bar for a batch of jobs, shown only once the batch has taken a while.

    It is also the batch's :class:`WaitObserver`: while one job of the batch is slow, the bar
    appears (and its elapsed time runs) even though no job has finished yet.
    """

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled and total > 0
        self.total = total
        self.done = 0
        self.shown = False
        self._start = time.monotonic()
        self._task: Any = None

    def update(self, job: dict[str, Any], elapsed: float) -> None:
        self._show_if_slow(time.monotonic() - self._start)

    def advance(self, elapsed: float | None = None) -> None:
        """One more job is final; ``elapsed`` (since the batch began) defaults to the clock."""
        self.done += 1
        self._show_if_slow(time.monotonic() - self._start if elapsed is None else elapsed)
        if self._live is not None:
            self._live.update(self._task, completed=self.done)

    def _show_if_slow(self, elapsed: float) -> None:
        if not self.enabled or self._live is not None:
            return
        if elapsed < SHOW_AFTER or self.done >= self.total:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._live = Progress(
            TextColumn("qibo-client jobs"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self._task = self._live.add_task("jobs", total=self.total, completed=self.done)
        self._live.start()
        self.shown = True


__all__ = [
    "PROGRESS_ENV",
    "SHOW_AFTER",
    "BatchProgress",
    "WaitObserver",
    "WaitStatus",
    "describe",
    "progress_enabled",
]
