"""B7: a large circuit through the server, against local numpy and local qibojit.

A 22-qubit QFT with a measurement of every qubit, 1000 shots (18 qubits with ``--quick``), run
through the plugin (``qibo.set_backend("qibo-client")``) against a server of one worker that uses
every core for its one job (``--workers 1``: numba threads = cores), beside the same circuit on
the local numpy backend and the local qibojit (numba) backend in this process.

Targets: the server within 1.15x of local qibojit (what the network, the queue and the worker
add to a long job is small), and at least 8x faster than local numpy (the server simulates with
qibojit, not numpy).

Each engine runs the circuit once unmeasured first (numba compiles the QFT's kernels; the server's
workers compiled theirs at start, and one warm-up job through the plugin makes the comparison
even), then ``repeat`` times measured; numpy, the slowest by far, fewer times.
"""

from __future__ import annotations

import time
from typing import Any

from common import CaseResult, Context, median, serving, summary

CASE = "B7"
WHAT = "22-qubit QFT: server vs local engines"
NSHOTS = 1000
TARGET_VS_QIBOJIT = 1.15
TARGET_VS_NUMPY = 8.0


def qft(nqubits: int) -> Any:
    from qibo import gates
    from qibo.models import QFT

    circuit = QFT(nqubits)
    circuit.add(gates.M(*range(nqubits)))
    return circuit


def _times(nqubits: int, repeat: int, warm: bool = True) -> list[float]:
    """Wall seconds of ``repeat`` runs on qibo's current backend, after one warm-up run."""
    if warm:
        qft(nqubits)(nshots=NSHOTS)
    times = []
    for _ in range(repeat):
        circuit = qft(nqubits)  # a fresh circuit: no cached state or samples
        start = time.perf_counter()
        result = circuit(nshots=NSHOTS)
        assert sum(result.frequencies().values()) == NSHOTS
        times.append(time.perf_counter() - start)
    return times


def run(ctx: Context) -> CaseResult:
    import qibo

    nqubits = 18 if ctx.quick else 22
    repeat = 3 if ctx.quick else 5
    qibo.set_backend("qibojit", platform="numba")
    qibojit = _times(nqubits, repeat)
    qibo.set_backend("numpy")
    numpy = _times(nqubits, 1 if not ctx.quick else 2, warm=False)  # nothing to compile

    with serving(1) as (url, token):
        qibo.set_backend("qibo-client", url=url, token=token)
        try:
            remote = _times(nqubits, repeat)
        finally:
            qibo.set_backend("numpy")

    vs_qibojit = median(remote) / median(qibojit)
    vs_numpy = median(numpy) / median(remote)
    data = {
        "nqubits": nqubits,
        "nshots": NSHOTS,
        "server": summary(remote),
        "local_qibojit": summary(qibojit),
        "local_numpy": summary(numpy),
        "server_over_qibojit": vs_qibojit,
        "numpy_over_server": vs_numpy,
    }
    figure = (
        f"{nqubits} qubits, {NSHOTS} shots: server {median(remote):.2f} s, local qibojit "
        f"{median(qibojit):.2f} s ({vs_qibojit:.2f}x), local numpy {median(numpy):.2f} s "
        f"(server {vs_numpy:.1f}x faster)"
    )
    return CaseResult(
        CASE,
        WHAT,
        figure=figure,
        target=f"<= {TARGET_VS_QIBOJIT}x local qibojit, >= {TARGET_VS_NUMPY:g}x faster than numpy",
        met=vs_qibojit <= TARGET_VS_QIBOJIT and vs_numpy >= TARGET_VS_NUMPY,
        data=data,
    )
