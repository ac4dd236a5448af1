"""Runs inside ``tii-quantum`` 0.1.2's venv (TII's current client, qibo 0.3.6); prints JSON.

    python tii_driver.py latency --url URL --count 30 --nshots 1000    # Bell jobs
    python tii_driver.py energy --url URL --count 20 --nshots 1000     # <Z0 Z1 + X0 X1>

The token comes from ``BENCH_TOKEN``. Each job goes through tii-quantum's API as its users call
it: ``tii_quantum.Client(token, url).run_circuit(circuit, device="sim", nshots=...)`` (which checks
the versions first), then ``job.result(verbose=False)`` (which polls at its default pace and
rebuilds the result from the job object's ``frequencies``). The energy runs the two measurement
groups of ``circuits.energy_ansatz`` in turn, as ``driver.py`` does for the official 0.2.4. The
last line of stdout is the JSON result; ``jobs`` counts every job run, warm-up included.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for circuits.py

import qibo
import tii_quantum

import circuits


def counts_of(client: Any, circuit: Any, nshots: int) -> dict[str, int]:
    """One job, submission to counts in hand."""
    job = client.run_circuit(circuit, device="sim", nshots=nshots)
    return {str(key): int(value) for key, value in job.result(verbose=False).frequencies().items()}


def bell_one(client: Any, nshots: int) -> tuple[float, float]:
    """One Bell job; returns (seconds, shots counted)."""
    start = time.perf_counter()
    total = sum(counts_of(client, circuits.bell(), nshots).values())
    return time.perf_counter() - start, float(total)


def energy_one(client: Any, nshots: int) -> tuple[float, float]:
    """One energy, its two groups run in turn; returns (seconds, the estimate)."""
    start = time.perf_counter()
    energy = sum(
        circuits.parity(counts_of(client, circuits.energy_ansatz(basis), nshots))
        for basis in ("z", "x")
    )
    return time.perf_counter() - start, energy


CASES: dict[str, tuple[Callable[[Any, int], tuple[float, float]], int]] = {
    "latency": (bell_one, 1),  # (one run, jobs per run)
    "energy": (energy_one, 2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--nshots", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # its version warnings, once per job
    qibo.set_backend("numpy")
    client = tii_quantum.Client(os.environ["BENCH_TOKEN"], args.url)
    one, jobs = CASES[args.case]
    runs = [one(client, args.nshots) for _ in range(args.warmup + args.count)]
    measured = runs[args.warmup :]
    values = [value for _, value in measured]
    out: dict[str, Any] = {
        "qibo": qibo.__version__,
        "tii_quantum": tii_quantum.__version__,
        "times": [seconds for seconds, _ in measured],
        "jobs": jobs * len(runs),
    }
    if args.case == "energy":
        out["energies"] = values
    else:  # the keys of driver.py's answer
        out["all_counts_complete"] = all(total == args.nshots for total in values)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
