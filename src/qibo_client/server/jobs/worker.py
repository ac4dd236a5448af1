"""The worker side of the runner: what runs in a simulation process, one job at a time.

Workers are spawned processes or Dask workers (see :mod:`.executors`); each imports qibo, chooses
its engine and compiles numba's kernels once at start (:func:`warm_worker`, :mod:`.engines`), then
runs :func:`run_task` per job, on the engine its device names. A job is seeded before it runs, from
its explicit ``seed`` or else from its pid (:func:`job_seed_of`), so the same job run again draws
the same counts and a failing statistical test can be replayed. Hardware devices transpile with
their own native gates and couplings (``devices.py``). This module imports qibo only inside
functions, so the HTTP process can import :class:`Task` and :class:`Outcome` without it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from qibo_client.server.devices import Device
from qibo_client.server.jobs import engines

logger = logging.getLogger("qibo_client.server.jobs.runner")


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to run one job (picklable)."""

    pid: str
    program: Any  # qasm_parser.Program: frozen, picklable, builds the qibo circuit
    nshots: int
    device: Device
    verbatim: bool
    #: The job's explicit seed; None derives one from the pid (:func:`job_seed_of`).
    seed: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back: counts as ready-made JSON text, or the reason it failed."""

    pid: str
    ok: bool
    frequencies_json: str | None = None
    runtime: float | None = None
    stdout: str = ""
    stderr: str = ""
    #: the simulation engine the job ran on (engines.py), None if it failed before choosing one.
    engine: str | None = None
    #: ``host:pid`` of the worker process that ran it (logs, tests).
    worker: str = ""
    #: The joint counts of the collapsing and the final measurements, as JSON text, where the
    #: client asked and the device could (``Program.deferred``); else None.
    collapse_outcomes_json: str | None = None


def warm_worker(threads: int | None = None, engine: str = engines.AUTO) -> None:
    """Worker start (pool initializer, Dask plugin): import qibo, choose the engine, compile."""
    engines.configure(threads)
    engines.warm(engine)


def ping() -> bool:
    """A no-op task, used to make the pool start (and warm) its processes before real work."""
    return True


def job_seed_of(pid: str, seed: int | None) -> int:
    """The seed a job runs with: its explicit one, else 32 bits of the SHA-256 of its pid."""
    if seed is not None:
        return seed
    return int.from_bytes(hashlib.sha256(pid.encode()).digest()[:4], "big")


def _seed(seed: int, backend: Any) -> None:
    """Seed everything a simulation draws from: numpy's global generator and qibo's backend."""
    import numpy as np

    np.random.seed(seed)
    backend.set_seed(seed)


def transpile(circuit: Any, device: Device) -> Any:
    """qibo's own hardware pipeline (as in ``GlobalBackend._default_transpiler``), for the
    device's own native gates and couplings (``devices.py``), not qibo's defaults."""
    import networkx as nx
    from qibo.transpiler.optimizer import Preprocessing
    from qibo.transpiler.pipeline import Passes
    from qibo.transpiler.router import Sabre
    from qibo.transpiler.unroller import NativeGates, Unroller

    # Nodes are the chip's qubit names (a qibolab platform's own): the transpiled circuit's
    # wire_names are what the platform's compiler looks its qubits up by.
    names = device.qubit_names or tuple(range(device.max_qubits))
    if device.edges is None:
        graph = nx.complete_graph(names)
    else:
        graph = nx.Graph([(names[a], names[b]) for a, b in sorted(device.edges)])
        graph.add_nodes_from(names)
    allowed = device.transpile_natives()
    natives = (
        NativeGates.default()
        if allowed is None
        else NativeGates[sorted(allowed & set(NativeGates.__members__))]
    )
    passes = Passes(connectivity=graph, passes=[Preprocessing(), Sabre(), Unroller(natives)])
    transpiled, _layout = passes(circuit)
    return transpiled


def _counts(result: Any, nshots: int, seed: int) -> dict[str, int]:
    """``{bitstring: count}`` with bits in the order of the circuit's measurements.

    For a pure state with plain measurements (what QASM can say, and the server only takes
    terminal measurements) one multinomial draw over the measured qubits' probabilities has
    exactly the distribution of ``nshots`` independent shots, in O(2**m) instead of O(nshots):
    20 qubits x 1,000,000 shots takes 0.1 s instead of qibo's 4 s of per-shot sampling. Anything
    else (noise on the measurement, density matrices) goes through qibo's own ``frequencies``.
    """
    import numpy as np
    from qibo.result import CircuitResult

    gates = result.measurements
    plain = (
        isinstance(result, CircuitResult)
        and not result.density_matrix
        and all(not gate.collapse for gate in gates)
        and all(p == 0 for gate in gates for flips in gate.bitflip_map for p in flips.values())
    )
    if not plain:
        return {str(key): int(value) for key, value in result.frequencies(binary=True).items()}
    qubits = tuple(result.measurement_gate.qubits)
    probabilities = np.clip(np.asarray(result.probabilities(qubits=qubits), dtype=float), 0, None)
    draws = np.random.default_rng(seed).multinomial(nshots, probabilities / probabilities.sum())
    width = f"0{len(qubits)}b"
    return {format(int(index), width): int(draws[index]) for index in np.flatnonzero(draws)}


def run_task(task: Task, backend: Any = None, engine: str | None = None) -> Outcome:
    """Build, (transpile,) simulate and count one job. Never raises for the circuit's faults.

    Runs on the device's engine made qibo's global backend (a worker process), or on
    ``backend``, a backend object of engine ``engine`` (the server's fast lane, :mod:`.lane`,
    which must leave the process's global backend alone). Either way the circuit goes to the
    backend's ``execute_circuit`` (what ``circuit()`` does after qibo's default transpiler,
    which changes nothing on a simulator backend), so both give the same counts for a seed.
    """
    if task.device.engine == engines.QIBOLAB:
        from qibo_client.server.jobs.platform_worker import run_on_platform

        return run_on_platform(task)
    started = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        if backend is None:
            import qibo

            width = getattr(task.program, "nqubits", None)
            engine = engines.activate(task.device.engine, width)  # before seeding the backend
            backend = qibo.get_backend()
        seed = job_seed_of(task.pid, task.seed)
        _seed(seed, backend)
        program = task.program
        deferred = _deferred(program, task.device)
        ran = program if deferred is None else deferred
        circuit = ran.to_circuit()
        if task.device.hardware_type == "hardware" and not task.verbatim:
            circuit = transpile(circuit, task.device)
        result = backend.execute_circuit(circuit, ran.qibo_initial_state(), task.nshots)
        counts = _counts(result, task.nshots, seed)
        joint = None
        if deferred is not None:
            joint, counts = counts, _drop_leading_bits(counts, program.ncollapsed)
    except Exception as err:
        logger.debug("job %s failed", task.pid, exc_info=True)
        reason = f"{type(err).__name__}: {err}"
        runtime = time.perf_counter() - started
        return Outcome(
            task.pid, ok=False, runtime=runtime, stderr=reason, engine=engine, worker=worker
        )
    runtime = time.perf_counter() - started
    return Outcome(
        task.pid,
        ok=True,
        frequencies_json=json.dumps(counts, separators=(",", ":")),
        runtime=runtime,
        engine=engine,
        worker=worker,
        collapse_outcomes_json=None if joint is None else json.dumps(joint, separators=(",", ":")),
    )


def _deferred(program: Any, device: Device) -> Any:
    """The program with its collapses' outcomes measured (``Program.deferred``) where asked and
    where the device can: a simulator, within its width and density-matrix limits."""
    if not getattr(program, "collapse_outcomes", False) or device.hardware_type == "hardware":
        return None
    return program.deferred(device.max_qubits, device.max_density_qubits)


def _drop_leading_bits(counts: dict[str, int], nbits: int) -> dict[str, int]:
    """The counts of the outcome strings without their first ``nbits`` bits (a marginal)."""
    kept: dict[str, int] = {}
    for key, count in counts.items():
        kept[key[nbits:]] = kept.get(key[nbits:], 0) + count
    return kept


__all__ = ["Outcome", "Task", "job_seed_of", "ping", "run_task", "transpile", "warm_worker"]
