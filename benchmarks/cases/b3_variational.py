"""B3: a shots-based variational loop, plugin against local numpy (target: wall ratio <= TARGET).

A 4-qubit hardware-efficient ansatz (RY layers and a CZ chain), the Hamiltonian
sum Z_i Z_i+1 + sum X_i X_i+1 as a ``SymbolicHamiltonian`` (qibo measures it in 2 groups, so each
loss evaluation is one ``execute_circuits`` of 2 circuits), loss =
``hamiltonian.expectation(circuit, nshots=1000)``, optimised by COBYLA with ``maxiter=50`` (50
loss evaluations) from the same seeded start on both backends. The ratio of the two wall times
is the figure; the shots make the two paths differ a little, never the number of evaluations.
The time spent inside the loss alone is reported too: scipy's COBYLA costs milliseconds per step
in Python on both sides, which dilutes the ratio of whole loops.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from common import CaseResult, Context, ms

CASE = "B3"
WHAT = "variational"
TARGET = 1.5
NSHOTS = 1000
NQUBITS = 4
LAYERS = 2


def _ansatz() -> Any:
    from qibo import Circuit, gates

    circuit = Circuit(NQUBITS)
    for _ in range(LAYERS):
        for qubit in range(NQUBITS):
            circuit.add(gates.RY(qubit, theta=0.0))
        for qubit in range(NQUBITS - 1):
            circuit.add(gates.CZ(qubit, qubit + 1))
    for qubit in range(NQUBITS):
        circuit.add(gates.RY(qubit, theta=0.0))
    return circuit


def _optimise(iterations: int, seed: int) -> tuple[float, float, int, float]:
    """Run the loop on the current global backend.

    Returns (wall seconds, seconds inside the loss, evaluations, final loss).
    """
    from qibo.hamiltonians import SymbolicHamiltonian
    from qibo.symbols import X, Z
    from scipy.optimize import minimize

    pairs = range(NQUBITS - 1)
    form = sum(Z(i) * Z(i + 1) for i in pairs) + sum(X(i) * X(i + 1) for i in pairs)
    hamiltonian = SymbolicHamiltonian(form, nqubits=NQUBITS)
    circuit = _ansatz()
    evaluations, in_loss = 0, 0.0

    def loss(params: np.ndarray) -> float:
        nonlocal evaluations, in_loss
        evaluations += 1
        begin = time.perf_counter()
        circuit.set_parameters(params)
        value = float(hamiltonian.expectation(circuit, nshots=NSHOTS))
        in_loss += time.perf_counter() - begin
        return value

    start0 = np.random.default_rng(seed).uniform(0, 2 * np.pi, NQUBITS * (LAYERS + 1))
    loss(start0)  # warm-up: first connection, first job
    evaluations, in_loss = 0, 0.0
    start = time.perf_counter()
    result = minimize(loss, start0, method="COBYLA", options={"maxiter": iterations})
    return time.perf_counter() - start, in_loss, evaluations, float(result.fun)


def run(ctx: Context) -> CaseResult:
    import qibo

    # COBYLA needs at least (parameters + 2) = 14 evaluations
    iterations = 14 if ctx.quick else 50
    rounds = 1 if ctx.quick else 3
    local_times, plugin_times, evals, losses = [], [], set(), {}
    local_loss, plugin_loss = [], []
    for index in range(rounds):  # alternate, so that machine load hits both alike
        qibo.set_backend("numpy")
        wall, inside, count, final = _optimise(iterations, seed=index)
        local_times.append(wall)
        local_loss.append(inside)
        evals.add(count)
        losses["numpy"] = final
        qibo.set_backend("qibo-client", url=ctx.url, token=ctx.token)
        try:
            wall, inside, count, final = _optimise(iterations, seed=index)
        finally:
            qibo.set_backend("numpy")
        plugin_times.append(wall)
        plugin_loss.append(inside)
        evals.add(count)
        losses["plugin"] = final
    local = float(np.median(local_times))
    plugin = float(np.median(plugin_times))
    (count,) = evals  # both backends made the same number of evaluations
    ratio = plugin / local
    loss_ratio = float(np.median(plugin_loss) / np.median(local_loss))
    return CaseResult(
        CASE,
        WHAT,
        figure=(
            f"{count} evaluations x 2 groups: plugin {ms(plugin / count)}/eval vs numpy "
            f"{ms(local / count)}/eval -> wall ratio {ratio:.2f} (median of {rounds} runs); "
            f"inside the loss alone: {ms(float(np.median(plugin_loss)) / count)} vs "
            f"{ms(float(np.median(local_loss)) / count)} -> {loss_ratio:.1f}"
        ),
        target=f"wall ratio plugin / numpy <= {TARGET}",
        met=ratio <= TARGET,
        data={
            "iterations": iterations,
            "evaluations": count,
            "rounds": rounds,
            "plugin_walls": plugin_times,
            "numpy_walls": local_times,
            "ratio": ratio,
            "plugin_in_loss": plugin_loss,
            "numpy_in_loss": local_loss,
            "loss_ratio": loss_ratio,
            "final_loss_last_round": losses,
        },
    )
