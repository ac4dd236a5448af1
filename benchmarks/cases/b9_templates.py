"""B9: a shots-based VQE on a 400-gate ansatz, with circuit templates and without.

A 6-qubit hardware-efficient ansatz (RY and RZ on every qubit, then a CZ chain, repeated; 400
gates, 282 parameters), the Hamiltonian sum Z_i Z_i+1 + sum X_i (2 measurement groups, so each
loss evaluation is one ``execute_circuits`` of 2 circuits with 1000 shots), optimised by SPSA
(two evaluations per step) from the same seeded start three ways: the local numpy backend, the
plugin with templates switched off (``set_backend(..., templates=False)``: every evaluation sends
both circuits as QASM), and the plugin with templates (each structure sent once, then only the
parameter values). Per evaluation: bytes the client sent (request lines, headers and bodies,
from the session's hooks), the server's CPU (its process and its workers, from /proc), and the
wall time against numpy. Targets: templates send >= 20x fewer bytes and cost the server >= 5x
less CPU than whole circuits.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from common import CaseResult, Context, ms, tree_cpu_seconds

CASE = "B9"
WHAT = "templates"
NQUBITS = 6
NGATES = 400
NSHOTS = 1000
BYTES_TARGET = 20.0
CPU_TARGET = 5.0


def ansatz() -> Any:
    from qibo import Circuit, gates

    circuit = Circuit(NQUBITS)
    count = 0
    while count < NGATES:
        for kind in (gates.RY, gates.RZ):
            for qubit in range(NQUBITS):
                if count < NGATES:
                    circuit.add(kind(qubit, theta=0.0))
                    count += 1
        for qubit in range(NQUBITS - 1):
            if count < NGATES:
                circuit.add(gates.CZ(qubit, qubit + 1))
                count += 1
    return circuit


def hamiltonian() -> Any:
    from qibo.hamiltonians import SymbolicHamiltonian
    from qibo.symbols import X, Z

    form = sum(Z(i) * Z(i + 1) for i in range(NQUBITS - 1)) + sum(X(i) for i in range(NQUBITS))
    return SymbolicHamiltonian(form, nqubits=NQUBITS)


def spsa(evaluations: int, seed: int, *, warm: bool = True) -> tuple[float, int]:
    """SPSA on the current global backend -> (wall seconds, evaluations made)."""
    observable, circuit = hamiltonian(), ansatz()
    rng = np.random.default_rng(seed)
    nparams = len(circuit.get_parameters(output_format="flatlist"))
    theta = rng.uniform(0, 2 * np.pi, nparams)
    made = 0

    def loss(values: np.ndarray) -> float:
        nonlocal made
        made += 1
        circuit.set_parameters(values)
        return float(observable.expectation(circuit, nshots=NSHOTS))

    if warm:
        loss(theta)  # warm-up: first jobs (not measured)
    made = 0
    start = time.perf_counter()
    for step in range(evaluations // 2):
        delta = rng.choice([-1.0, 1.0], nparams)
        size = 0.1 / (step + 1) ** 0.101
        gradient = (loss(theta + size * delta) - loss(theta - size * delta)) / (2 * size) * delta
        theta -= 0.05 / (step + 1) ** 0.602 * gradient
    return time.perf_counter() - start, made


def _sent_bytes(request: Any) -> int:
    line = len(request.method) + len(request.path_url) + 11
    headers = sum(len(k) + len(v) + 4 for k, v in request.headers.items())
    return line + headers + 2 + len(request.body or b"")


def run(ctx: Context) -> CaseResult:
    import qibo

    evaluations = 10 if ctx.quick else 30
    qibo.set_backend("numpy")
    local_wall, made = spsa(evaluations, seed=0)
    rows = {}
    for templates in (False, True):
        rows[templates] = _measured(ctx, evaluations, templates)
    off, on = rows[False], rows[True]
    bytes_ratio = off["bytes"] / on["bytes"]
    cpu_ratio = off["cpu"] / on["cpu"] if on["cpu"] > 0 else float("inf")
    per = local_wall / made
    http_ratio = off["http_cpu"] / on["http_cpu"] if on["http_cpu"] > 0 else float("inf")
    figure = (
        f"per evaluation (2 circuits x {NGATES} gates, {NSHOTS} shots): whole circuits "
        f"{off['bytes'] / 1000:.1f} kB sent, server CPU {ms(off['cpu'])} (HTTP process "
        f"{ms(off['http_cpu'])}, workers {ms(off['worker_cpu'])}), wall {ms(off['wall'])}; "
        f"templates {on['bytes'] / 1000:.2f} kB, server CPU {ms(on['cpu'])} (HTTP "
        f"{ms(on['http_cpu'])}, workers {ms(on['worker_cpu'])}), wall {ms(on['wall'])} -> "
        f"{bytes_ratio:.1f}x fewer bytes, {cpu_ratio:.1f}x less server CPU "
        f"({http_ratio:.1f}x in the HTTP process); "
        f"numpy {ms(per)}/eval -> wall ratio {on['wall'] / per:.2f} (templates), "
        f"{off['wall'] / per:.2f} (whole)"
    )
    met = bytes_ratio >= BYTES_TARGET and cpu_ratio >= CPU_TARGET
    return CaseResult(
        CASE,
        WHAT,
        figure=figure,
        target=f">= {BYTES_TARGET:g}x fewer bytes, >= {CPU_TARGET:g}x less server CPU per eval",
        met=met if ctx.server_pid else None,
        data={
            "evaluations": made,
            "numpy_per_eval": per,
            "whole": off,
            "templates": on,
            "bytes_ratio": bytes_ratio,
            "cpu_ratio": cpu_ratio,
            "http_cpu_ratio": http_ratio,
        },
    )


def _measured(ctx: Context, evaluations: int, templates: bool) -> dict[str, float]:
    """Per evaluation: bytes sent, server CPU seconds, wall seconds (steady state)."""
    import qibo

    qibo.set_backend("qibo-client", url=ctx.url, token=ctx.token, templates=templates)
    try:
        sent: list[int] = []
        session = qibo.get_backend().client.api.session  # type: ignore[attr-defined]
        observable, circuit = hamiltonian(), ansatz()
        circuit.set_parameters(np.zeros(len(circuit.get_parameters(output_format="flatlist"))))
        observable.expectation(circuit, nshots=NSHOTS)  # warm-up: connection and templates
        session.hooks["response"].append(lambda r, *a, **k: sent.append(_sent_bytes(r.request)))
        http0, workers0 = tree_cpu_seconds(ctx.server_pid)
        wall, made = spsa(evaluations, seed=0, warm=False)
        http1, workers1 = tree_cpu_seconds(ctx.server_pid)
    finally:
        qibo.set_backend("numpy")
    return {
        "bytes": sum(sent) / made,
        "http_cpu": (http1 - http0) / made,
        "worker_cpu": (workers1 - workers0) / made,
        "cpu": (http1 - http0 + workers1 - workers0) / made,
        "wall": wall / made,
        "evals": made,
    }
