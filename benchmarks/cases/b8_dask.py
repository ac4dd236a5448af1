"""B8: the same batch on the embedded pool and on a Dask cluster of as many workers.

200 random circuits of 16 to 18 qubits (rotation layers and CZs, depth 10, every qubit measured,
1000 shots; 60 circuits with ``--quick``) go through the plugin's ``execute_circuits`` (submit
all, then wait for all) to two servers of two workers each: the harness's server (the local
process pool) and one whose jobs run on a Dask ``LocalCluster`` of two one-thread worker processes
(scheduler in the server's process). Target: Dask at least 0.9x the pool's throughput.

Also what Dask adds to the smallest job: the median time of a Bell job (1000 shots) through the
plugin, one at a time, on each server.
"""

from __future__ import annotations

import time
from typing import Any

import circuits
from common import CaseResult, Context, ms, serving, summary, timed

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


def _measure(url: str, token: str, jobs: list[Any], bells: int) -> dict[str, Any]:
    """Throughput of the batch (after a small warm-up batch) and per-job time of Bell jobs."""
    import qibo

    qibo.set_backend("qibo-client", url=url, token=token)
    try:
        backend = qibo.get_backend()
        backend.execute_circuits(jobs[:6], nshots=NSHOTS)  # both workers, every size, once
        start = time.perf_counter()
        results = backend.execute_circuits(jobs, nshots=NSHOTS)
        wall = time.perf_counter() - start
        assert all(sum(r.frequencies().values()) == NSHOTS for r in results)
        pair = circuits.bell()
        pair(nshots=NSHOTS)
        bell = timed(lambda: pair(nshots=NSHOTS).frequencies(), bells)
    finally:
        qibo.set_backend("numpy")
    return {"wall": wall, "throughput": len(jobs) / wall, "bell": summary(bell)}


def run(ctx: Context) -> CaseResult:
    count = 60 if ctx.quick else 200
    bells = 30 if ctx.quick else 100
    jobs = batch(count)
    pool = _measure(ctx.url, ctx.token, jobs, bells)
    with serving(ctx.workers, "--dask-local", str(ctx.workers)) as (url, token):
        dask = _measure(url, token, jobs, bells)
    ratio = dask["throughput"] / pool["throughput"]
    overhead = dask["bell"]["median"] - pool["bell"]["median"]
    figure = (
        f"{count} jobs of {SIZES[0]}-{SIZES[-1]} qubits on {ctx.workers} workers: pool "
        f"{pool['throughput']:.1f} jobs/s, Dask {dask['throughput']:.1f} jobs/s ({ratio:.2f}x); "
        f"Bell job {ms(pool['bell']['median'])} pool, {ms(dask['bell']['median'])} Dask "
        f"(+{ms(overhead)})"
    )
    return CaseResult(
        CASE,
        WHAT,
        figure=figure,
        target=f"Dask >= {TARGET}x the pool's throughput",
        met=ratio >= TARGET,
        data={
            "count": count,
            "pool": pool,
            "dask": dask,
            "ratio": ratio,
            "bell_overhead": overhead,
        },
    )
