"""Shared pieces of the benchmark harness: the run context, a case's result, timing helpers.

Every case returns one :class:`CaseResult`: a one-line figure for the table (medians and ratios,
never a lone absolute time, because these machines are shared and noisy), the target it is judged
against, whether it was met, and the raw numbers for the JSON file.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass
class CaseResult:
    """What one case measured; ``met`` is None when the target could not be judged."""

    case: str
    what: str
    figure: str
    target: str
    met: bool | None
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "what": self.what,
            "figure": self.figure,
            "target": self.target,
            "met": self.met,
            "notes": self.notes,
            "data": self.data,
        }


@dataclass
class Context:
    """What a case may use: the sizes for this mode, the running cluster, the official client."""

    quick: bool
    url: str
    token: str
    workers: int
    official: Any  # official.env.Official: a driver runner, or why it is unavailable
    #: The server's process id (its CPU, and its workers', is read from /proc); 0 if unknown.
    server_pid: int = 0


def tree_cpu_seconds(pid: int) -> tuple[float, float]:
    """User + system CPU seconds so far of a process, and of all its descendants (Linux /proc)."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rpartition(")")[2].split()
            except OSError:
                continue
            # after the name: state ppid ... utime (12th) stime (13th)
            stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    own = stats[pid][1] if pid in stats else 0.0
    descendants, todo = 0.0, [child for child, (parent, _) in stats.items() if parent == pid]
    while todo:
        current = todo.pop()
        descendants += stats[current][1]
        todo += [child for child, (parent, _) in stats.items() if parent == current]
    return own, descendants


def timed(function: Callable[[], Any], repeat: int) -> list[float]:
    """Wall seconds of ``repeat`` sequential calls, one figure per call."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def ms(seconds: float) -> str:
    """Seconds as milliseconds, with the precision that a median on a noisy machine deserves."""
    value = seconds * 1000
    if value < 10:
        return f"{value:.2f} ms"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def summary(values: list[float]) -> dict[str, float]:
    """Median and spread of per-call times (seconds) for the JSON file."""
    ordered = sorted(values)
    return {
        "n": len(values),
        "median": median(values),
        "p10": ordered[int(0.1 * (len(ordered) - 1))],
        "p90": ordered[int(0.9 * (len(ordered) - 1))],
        "min": ordered[0],
        "max": ordered[-1],
    }


@contextlib.contextmanager
def serving(
    workers: int, *options: str, pids: list[int] | None = None
) -> Iterator[tuple[str, str]]:
    """The reference server (``local_cluster``) in its own process; yields (url, token).

    ``options`` go to server.py (``--threads N``, ``--dask-local N``, ``--engine numpy``);
    ``pids`` receives the server process's id (its CPU and its workers' are read from /proc)."""
    server = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), "--workers", str(workers), *options],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    if pids is not None:
        pids.append(server.pid)
    mark = "bench-server-address: "
    try:
        for line in server.stdout:
            if line.startswith(mark):
                address = json.loads(line[len(mark) :])
                break
        else:
            raise RuntimeError("the reference server did not start; see its log above")
        yield address["url"], address["token"]
    finally:
        server.stdin.close()  # the server's signal to stop
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
