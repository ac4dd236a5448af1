"""B8: the same jobs on the embedded pool and on a Dask cluster of as many workers.

200 random circuits of 16 to 18 qubits (rotation layers and CZs, depth 10, every qubit measured,
1000 shots; 60 with ``--quick``) go through the plugin's ``execute_circuits`` (submit all, then
wait for all) to two servers of two workers each: the harness's server (the local process pool)
and one whose jobs run on a Dask ``LocalCluster`` of two one-thread worker processes (scheduler in
the server's process), in Dask's default configuration. Target: Dask at least 0.9x the pool's
throughput.

The machine is shared, so the load drifts during a run: the batch goes in four rounds, each round
a quarter of the circuits to the pool and then the same quarter to Dask, and throughput is the
jobs over the summed wall time of each side's rounds (the per-round ratios are in the JSON).

Also what Dask adds to the smallest job: the median time of a Bell job (1000 shots) through the
plugin, one at a time, on each server (interleaved the same way). The Dask server runs without
its fast lane, so its Bell jobs take Dask's path; the harness's server has its lane, so its Bell
jobs are what a user of ``qibo-client serve`` gets (issue 21).
"""

from __future__ import annotations

import time
from typing import Any

import circuits
from common import CaseResult, Context, ms, serving, summary

CASE = "B8"
WHAT = "Dask vs local pool"
NSHOTS = 1000
TARGET = 0.9
SIZES = (16, 17, 18)


def batch(count: int) -> list[Any]:
    return [
        circuits.layered(SIZES[index % len(SIZES)], depth=10, seed=4321 + index)
        for index in range(count)
    ]


ROUNDS = 4


class _Side:
    """One server as the plugin sees it: a backend, and the wall times of its rounds."""

    def __init__(self, url: str, token: str) -> None:
        import qibo

        qibo.set_backend("qibo-client", url=url, token=token)
        self.backend = qibo.get_backend()
        self.walls: list[float] = []
        self.bells: list[float] = []

    def run(self, jobs: list[Any]) -> None:
        start = time.perf_counter()
        results = self.backend.execute_circuits(jobs, nshots=NSHOTS)
        self.walls.append(time.perf_counter() - start)
        assert all(sum(r.frequencies().values()) == NSHOTS for r in results)

    def bell(self, repeat: int) -> None:
        pair = circuits.bell()
        for _ in range(repeat):
            start = time.perf_counter()
            self.backend.execute_circuit(pair, nshots=NSHOTS).frequencies()
            self.bells.append(time.perf_counter() - start)

    def figures(self, count: int) -> dict[str, Any]:
        wall = sum(self.walls)
        return {
            "wall": wall,
            "throughput": count / wall,
            "rounds": self.walls,
            "bell": summary(self.bells),
        }


def run(ctx: Context) -> CaseResult:
    import qibo

    count = 60 if ctx.quick else 200
    bells = 30 if ctx.quick else 100
    jobs = batch(count)
    with serving(ctx.workers, "--dask-local", str(ctx.workers), "--no-fast-lane") as (url, token):
        try:
            pool, dask = _Side(ctx.url, ctx.token), _Side(url, token)
            for side in (pool, dask):
                side.backend.execute_circuits(jobs[:6], nshots=NSHOTS)  # every size, each worker
                side.bell(3)
                side.bells.clear()
            size = -(-count // ROUNDS)
            for start in range(0, count, size):
                for side in (pool, dask):
                    side.run(jobs[start : start + size])
                    side.bell(bells // ROUNDS)
        finally:
            qibo.set_backend("numpy")
    pool_figures, dask_figures = pool.figures(count), dask.figures(count)
    ratio = dask_figures["throughput"] / pool_figures["throughput"]
    overhead = dask_figures["bell"]["median"] - pool_figures["bell"]["median"]
    round_ratios = [p / d for p, d in zip(pool.walls, dask.walls, strict=True)]
    figure = (
        f"{count} jobs of {SIZES[0]}-{SIZES[-1]} qubits on {ctx.workers} workers: pool "
        f"{pool_figures['throughput']:.1f} jobs/s, Dask {dask_figures['throughput']:.1f} jobs/s "
        f"({ratio:.2f}x; rounds {min(round_ratios):.2f}-{max(round_ratios):.2f}x); Bell job "
        f"{ms(pool_figures['bell']['median'])} pool server (its lane), "
        f"{ms(dask_figures['bell']['median'])} Dask (+{ms(overhead)})"
    )
    return CaseResult(
        CASE,
        WHAT,
        figure=figure,
        target=f"Dask >= {TARGET}x the pool's throughput",
        met=ratio >= TARGET,
        data={
            "count": count,
            "pool": pool_figures,
            "dask": dask_figures,
            "ratio": ratio,
            "round_ratios": round_ratios,
            "bell_overhead": overhead,
        },
    )
