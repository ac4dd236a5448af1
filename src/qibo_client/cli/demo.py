"""``qibo-client demo``: the whole path end to end, in well under a minute.

Starts the reference cluster on 127.0.0.1 (or uses ``--url``/``--token`` for a real service),
sets the ``qibo-client`` backend and runs three unchanged qibo programs through it: a Bell pair,
a 5-qubit QFT and a short shots-based VQE. It prints each result with its wall time. This is a
command, not library code, so it prints (through rich).

The VQE is meant to end close to the exact ground energy and to say how close: BFGS with the
parameter-shift gradient (exact for rotation gates, so shot noise is the only error) on 100 000
shots per evaluation (shots are cheap on a simulator; noise then is a few thousandths), and the
count of evaluations is the one the loss really made. Shot noise can break BFGS's line search
(scipy's status :data:`BFGS_PRECISION_LOSS`, "precision loss"): it then stopped after one or two
iterations, 0.15 away, in about one run of three; the demo restarts it from where it stopped (a
fresh Hessian estimate) until its iterations are spent, and says how often it did. ``--seed``
seeds the start point and the backend (``seed=``), so every job's shots replay: the same command
prints the same numbers (on a server that lists the ``seed`` extension; the embedded one does).
Against the embedded cluster the jobs go to a journal in a temporary directory: the user's own
journal should not fill with jobs of a server that is gone when the demo ends.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

from qibo_client.jobs.journal import CACHE_DIR_ENV
from qibo_client.protocol import DEFAULT_DEVICE

#: The VQE's Hamiltonian, a transverse-field Ising pair: H = Z0 Z1 + 0.5 (X0 + X1).
VQE_FIELD = 0.5
#: scipy's BFGS status when its line search found no decrease ("precision loss").
BFGS_PRECISION_LOSS = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quick", action="store_true", help="fewer shots and VQE iterations (a few seconds)"
    )
    parser.add_argument(
        "--url", help="run against this cluster instead of an embedded one (needs a token)"
    )
    parser.add_argument(
        "--token", help="token for --url (default: the QIBO_CLIENT_TOKEN environment variable)"
    )
    parser.add_argument(
        "--device", default=DEFAULT_DEVICE, help=f"cluster device (default: {DEFAULT_DEVICE})"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1234,
        help="seed of the VQE's start point and of every job's shots (the backend's seed=)",
    )


def main(args: argparse.Namespace) -> int:
    if not args.url:
        from qibo_client.server import ServerExtraMissingError, require_server_extra

        try:
            require_server_extra("qibo-client demo (its embedded cluster)")
        except ServerExtraMissingError as err:
            print(f"{err}; or pass --url and --token of a running cluster", file=sys.stderr)
            return 2
    import qibo
    from rich.console import Console
    from rich.table import Table

    console = Console()
    nshots = 1000 if args.quick else 10_000
    vqe_shots = 20_000 if args.quick else 100_000
    iterations = 12 if args.quick else 20
    rows: list[tuple[str, str, float]] = []
    try:
        with _cluster(args.url, args.token) as (url, token):
            started = time.perf_counter()
            qibo.set_backend(
                "qibo-client", url=url, token=token, device=args.device, seed=args.seed
            )
            console.print(f"Backend: {qibo.get_backend()} (set in {_ms(started)})")
            rows.append(_timed("Bell pair", lambda: _bell(nshots)))
            rows.append(_timed("5-qubit QFT", lambda: _qft(nshots)))
            rows.append(_timed("VQE (shots)", lambda: _vqe(vqe_shots, iterations, args.seed)))
    finally:
        qibo.set_backend("numpy")  # the embedded cluster is gone: do not leave qibo pointing at it

    table = Table(title=f"qibo-client demo ({nshots} shots per circuit)")
    table.add_column("program")
    table.add_column("result")
    table.add_column("time", justify="right")
    for name, result, seconds in rows:
        table.add_row(name, result, f"{seconds * 1000:.0f} ms")
    console.print(table)
    return 0


@contextlib.contextmanager
def _cluster(url: str | None, token: str | None) -> Iterator[tuple[str | None, str | None]]:
    """An embedded reference cluster, unless the user pointed at one."""
    if url:
        yield url, token
        return
    from qibo_client.server import local_cluster

    with (
        tempfile.TemporaryDirectory(prefix="qibo-demo-") as scratch,
        _environment(CACHE_DIR_ENV, scratch),
        local_cluster(workers=2) as cluster,
    ):
        yield cluster.url, cluster.token


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """``os.environ[name] = value`` for the duration, then as it was."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _timed(name: str, run: Callable[[], str]) -> tuple[str, str, float]:
    started = time.perf_counter()
    result = run()
    return name, result, time.perf_counter() - started


def _ms(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.0f} ms"


def _bell(nshots: int) -> str:
    from qibo import Circuit, gates

    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    frequencies = circuit(nshots=nshots).frequencies()
    return ", ".join(f"{key}: {count}" for key, count in sorted(frequencies.items()))


def _qft(nshots: int) -> str:
    """QFT of |00101>: a product of phases, so every outcome is equally likely."""
    from qibo import gates
    from qibo.models import QFT

    circuit = QFT(5)
    prepared = circuit.__class__(5)
    prepared.add(gates.X(2))
    prepared.add(gates.X(4))
    full = prepared + circuit
    full.add(gates.M(*range(5)))
    frequencies = full(nshots=nshots).frequencies()
    top = frequencies.most_common(1)[0][1]
    low = min(frequencies.values())
    return (
        f"{len(frequencies)} of 32 outcomes seen, counts {low}..{top} (uniform: {nshots / 32:.0f})"
    )


def vqe_hamiltonian() -> Any:
    from qibo.hamiltonians import SymbolicHamiltonian
    from qibo.symbols import X, Z

    return SymbolicHamiltonian(Z(0) * Z(1) + VQE_FIELD * (X(0) + X(1)))


def vqe_ansatz() -> Any:
    from qibo import Circuit, gates

    circuit = Circuit(2)
    for layer in range(2):
        circuit.add(gates.RY(0, theta=0.0))
        circuit.add(gates.RY(1, theta=0.0))
        if layer == 0:
            circuit.add(gates.CNOT(0, 1))
    return circuit


def _vqe(nshots: int, iterations: int, seed: int) -> str:
    """BFGS with the parameter-shift gradient on a shots-based loss; each evaluation is one remote
    batch (the Hamiltonian's X and Z groups)."""
    import numpy as np
    from qibo.optimizers import optimize

    hamiltonian = vqe_hamiltonian()
    circuit = vqe_ansatz()
    # Ground energy of Z0 Z1 + h (X0 + X1), in closed form (the dense matrix would warn).
    exact = -float(np.sqrt(1 + 4 * VQE_FIELD**2))
    evaluations = 0

    def loss(parameters: Any, circuit: Any, hamiltonian: Any, nshots: int) -> float:
        nonlocal evaluations
        evaluations += 1
        circuit.set_parameters(parameters)
        return float(hamiltonian.expectation(circuit, nshots=nshots))

    def gradient(parameters: Any, circuit: Any, hamiltonian: Any, nshots: int) -> Any:
        # Every parameter is a rotation angle: dE/dt = (E(t + pi/2) - E(t - pi/2)) / 2, exactly.
        shifts = np.eye(len(parameters)) * np.pi / 2
        return np.array(
            [
                (
                    loss(parameters + s, circuit, hamiltonian, nshots)
                    - loss(parameters - s, circuit, hamiltonian, nshots)
                )
                / 2
                for s in shifts
            ]
        )

    parameters = np.random.default_rng(seed).uniform(0, 2 * np.pi, 4)
    done, restarts = 0, -1
    while done < iterations:
        restarts += 1
        best, parameters, result = optimize(
            loss,
            parameters,
            args=(circuit, hamiltonian, nshots),
            method="BFGS",
            jac=gradient,
            options={"maxiter": iterations - done},
        )
        done += max(result.nit, 1)  # a restart that made no step still spends one
        if result.status != BFGS_PRECISION_LOSS:
            break
    # One evaluation's shot noise: the terms' standard deviations (at most 1, 0.5, 0.5) over
    # the shots; a distance within about twice that is as close as the shots can tell.
    noise = float(np.sqrt(1 + 2 * VQE_FIELD**2) / np.sqrt(nshots))
    return (
        f"energy {best:.3f}, exact {exact:.3f}: {abs(best - exact):.3f} away "
        f"(shot noise ~{noise:.3f} at {nshots} shots); {evaluations} evaluations, "
        f"{restarts} restarts"
    )


__all__ = ["add_arguments", "main"]
