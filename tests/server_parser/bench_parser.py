"""Time our parsers against qibo's on random 70- and 300-gate circuits (not collected by pytest).

Run: ``python tests/server_parser/bench_parser.py``. Prints the median time per call over many
runs (``timeit.repeat``), for parsing alone and for building the qibo circuit from the result.
"""

from __future__ import annotations

import json
import random
import statistics
import timeit
from collections.abc import Callable

import qibo
from qibo import Circuit, gates

from qibo_client.server.circuits.program import GATE_SPECS
from qibo_client.server.circuits.qasm_parser import parse_qasm
from qibo_client.server.circuits.raw_circuit import program_from_raw


def random_circuit(nqubits: int, ngates: int, seed: int = 1) -> Circuit:
    rng = random.Random(seed)
    circuit = Circuit(nqubits)
    names = sorted(GATE_SPECS)
    for _ in range(ngates):
        name = rng.choice(names)
        spec = GATE_SPECS[name]
        qubits = rng.sample(range(nqubits), spec.nqubits)
        params = [rng.uniform(-3.2, 3.2) for _ in spec.params]
        circuit.add(getattr(gates, name)(*qubits, *params))
    circuit.add(gates.M(*range(nqubits)))
    return circuit


def median_ms(func: Callable[[], object], number: int) -> float:
    runs = timeit.repeat(func, number=number, repeat=15)
    return statistics.median(runs) / number * 1e3


def main() -> None:
    qibo.set_backend("numpy")
    print(f"{'circuit':<22}{'step':<38}{'median ms':>10}")
    for nqubits, ngates in ((5, 70), (20, 300)):
        circuit = random_circuit(nqubits, ngates)
        text = circuit.to_qasm()
        raw = json.loads(json.dumps(circuit.raw))
        program = parse_qasm(text)
        label = f"{nqubits} qubits, {ngates} gates"
        rows = [
            ("qibo Circuit.from_qasm", lambda t=text: Circuit.from_qasm(t), 5),
            ("ours parse_qasm", lambda t=text: parse_qasm(t), 200),
            ("ours program.to_circuit", program.to_circuit, 100),
            ("ours parse_qasm + to_circuit", lambda t=text: parse_qasm(t).to_circuit(), 100),
            ("qibo Circuit.from_dict(raw)", lambda r=raw: Circuit.from_dict(r), 50),
            ("ours program_from_raw", lambda r=raw: program_from_raw(r), 200),
        ]
        for name, func, number in rows:
            print(f"{label:<22}{name:<38}{median_ms(func, number):>10.3f}")


if __name__ == "__main__":
    main()
