"""Runs inside the official client's venv (qibo-client 0.2.4, qibo 0.3.2); prints JSON timings.

    python driver.py latency --url URL --count 200 --nshots 1000
    python driver.py throughput --url URL --count 100 --nshots 1000
    python driver.py energy --url URL --count 20 --nshots 1000     # B11: <Z0 Z1 + X0 X1>

The token comes from ``BENCH_TOKEN``. Each job goes through the official API exactly as its users
call it: ``Client(token, url).run_circuit(circuit, device="sim", nshots=...)`` and then
``job.result(verbose=False)`` (which polls, downloads the archive and loads ``results.npy``).
The energy runs the two measurement groups of ``circuits.energy_ansatz`` one after the other,
as a user of this client (which has no grouping of its own) does. The last line of stdout is
the JSON result; ``jobs`` counts every job it ran, warm-up included (the harness divides the
server's request count by it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for circuits.py

import qibo

import circuits
import qibo_client


def run_one(client: qibo_client.Client, circuit: object, nshots: int) -> tuple[float, int]:
    """One job, submission to counts in hand; returns (seconds, sum of the counts)."""
    start = time.perf_counter()
    job = client.run_circuit(circuit, device="sim", nshots=nshots)
    result = job.result(verbose=False)
    counts = result.frequencies()
    elapsed = time.perf_counter() - start
    return elapsed, int(sum(counts.values()))


def energy_one(client: qibo_client.Client, nshots: int) -> tuple[float, float]:
    """One energy, its two groups run in turn; returns (seconds, the estimate)."""
    start = time.perf_counter()
    energy = 0.0
    for basis in ("z", "x"):
        job = client.run_circuit(circuits.energy_ansatz(basis), device="sim", nshots=nshots)
        energy += circuits.parity(dict(job.result(verbose=False).frequencies()))
    return time.perf_counter() - start, energy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case", choices=["latency", "throughput", "energy"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--nshots", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the official client warns about the version gap per job
    qibo.set_backend("numpy")
    client = qibo_client.Client(os.environ["BENCH_TOKEN"], args.url)

    if args.case == "energy":
        runs = [energy_one(client, args.nshots) for _ in range(args.warmup + args.count)]
        measured = runs[args.warmup :]
        out = {
            "qibo": qibo.__version__,
            "qibo_client": qibo_client.__version__,
            "times": [seconds for seconds, _ in measured],
            "energies": [energy for _, energy in measured],
            "jobs": 2 * len(runs),
        }
        print(json.dumps(out))
        return
    if args.case == "latency":
        todo = [circuits.bell() for _ in range(args.warmup + args.count)]
    else:
        todo = circuits.batch(args.warmup + args.count)
    times, sums = [], []
    wall_start = time.perf_counter()
    for index, circuit in enumerate(todo):
        if index == args.warmup:
            wall_start = time.perf_counter()
        elapsed, total = run_one(client, circuit, args.nshots)
        if index >= args.warmup:
            times.append(elapsed)
            sums.append(total)
    wall = time.perf_counter() - wall_start
    out = {
        "qibo": qibo.__version__,
        "qibo_client": qibo_client.__version__,
        "times": times,
        "wall": wall,
        "all_counts_complete": all(total == args.nshots for total in sums),
        "jobs": len(todo),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
