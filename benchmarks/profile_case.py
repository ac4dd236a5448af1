"""Where the time of a missed target goes: the plugin side of B1/B2/B3 under py-spy.

    python benchmarks/profile_case.py B2            # needs py-spy (pip install py-spy)
    python benchmarks/profile_case.py B3 --top 30

Re-runs itself under ``py-spy record --subprocesses`` (so the client, the server process and its
workers are all sampled), runs only the plugin part of the case against a fresh server, and then
prints, per process kind, the CPU seconds spent inside the measured window and the functions that
take most of it (inclusive share). CPU only: time waiting on a socket is not sampled, so the sum
over processes against the wall time shows whether the run is CPU-bound on this machine.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

RATE = 250  # samples per second
#: Frames that mark the measured window in each kind of process.
WINDOW = r"^_workload |run_asgi|_process_worker \(concurrent/futures/process.py:26\d\)"


def _workload(case: str, url: str, token: str, batch: list[Any]) -> float:
    """The plugin part of ``case``; returns its wall seconds."""
    import qibo

    qibo.set_backend("qibo-client", url=url, token=token)
    backend = qibo.get_backend()
    start = time.perf_counter()
    if case == "B1":
        bell = batch[0]
        for _ in range(200):
            bell(nshots=1000).frequencies()
    elif case == "B2":
        backend.execute_circuits(batch, nshots=1000)
    else:
        from cases.b3_variational import _optimise

        _optimise(50, seed=0)
    return time.perf_counter() - start


def _child(case: str) -> None:
    import circuits
    from run import serving

    os.environ.setdefault("QIBO_CLIENT_PROGRESS", "0")
    batch = [circuits.bell()] if case == "B1" else circuits.batch(500)  # outside the window
    with serving(2) as (url, token):
        _workload(case, url, token, batch)  # warm: connections, imports, first jobs
        wall = _workload(case, url, token, batch)
    print(f"wall of the profiled {case} workload: {wall:.2f} s (both runs are sampled)")


#: Frames on every stack of their process, which say nothing about where the time goes.
_PLUMBING = re.compile(
    r"threading\.py|asyncio/|multiprocessing/|concurrent/futures|importlib|<module>|^process |"
    r"_workload|_child|spawn_main|uvicorn/|starlette/|fastapi/|middleware"
)


def _kind(process: str) -> str:
    if "server.py" in process:
        return "server"
    return "worker" if "spawn_main" in process else "client"


def summarise(path: Path, top: int) -> None:
    """CPU seconds per process kind inside the window, and its heaviest functions."""
    totals: collections.Counter[str] = collections.Counter()
    inclusive: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    window = re.compile(WINDOW)
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        at = max(i for i, frame in enumerate(frames) if frame.startswith("process "))
        rest = frames[at + 1 :]
        if not any(window.search(frame) for frame in rest):
            continue
        kind = _kind(frames[at])
        totals[kind] += int(count)
        for frame in set(rest):
            inclusive[kind][frame] += int(count)
    for kind, samples in totals.most_common():
        print(f"== {kind}: {samples / RATE:.2f} s CPU")
        shown = 0
        for frame, n in inclusive[kind].most_common():
            if shown < top and not _PLUMBING.search(frame):
                print(f"   {n / samples:6.1%}  {frame}")
                shown += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["B1", "B2", "B3"])
    parser.add_argument("--top", type=int, default=25, help="functions shown per process")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.case)
        return
    spy = shutil.which("py-spy")
    if spy is None:
        sys.exit("py-spy is not installed: pip install py-spy")
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "profile.txt"
        record = [spy, "record", "--subprocesses", "-r", str(RATE), "--format", "raw"]
        command = [sys.executable, __file__, args.case, "--child"]
        subprocess.run([*record, "-o", str(raw), "--", *command], check=True)
        summarise(raw, args.top)


if __name__ == "__main__":
    main()
