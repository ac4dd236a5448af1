"""Qibo programs, unchanged but for ``set_backend``, through the plugin against a real cluster.

Each one is compared with the exact answer of the local numpy backend, within tolerances derived
from nshots (5 sigma), so a wrong bit order, basis or register shows at once. The suite runs
against both server profiles: ``default`` (QASM, holds, batches) and ``tii`` (qibo's raw circuits,
polling, one POST per job), so the plugin is tested on what TII's service is known to speak.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from backend_helpers import assert_counts_match, exact_distribution, plugin_on
from qibo import Circuit, gates
from qibo.backends import NumpyBackend
from qibo.hamiltonians import SymbolicHamiltonian
from qibo.models import QFT
from qibo.optimizers import optimize
from qibo.symbols import X, Y, Z

from qibo_client.backend import RemoteTIIBackend
from qibo_client.results.outcomes import RemoteMeasurementOutcomes

NSHOTS = 2000


@pytest.fixture
def remote(profile_cluster: Any) -> Iterator[RemoteTIIBackend]:
    """The plugin on the session cluster of each profile in turn; numpy again afterwards."""
    with plugin_on(profile_cluster) as backend:
        yield backend


def bell() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1, register_name="bell"))
    return circuit


def test_bell_pair_results_in_every_form(remote: RemoteTIIBackend) -> None:
    circuit = bell()
    result = circuit(nshots=NSHOTS)

    assert isinstance(result, RemoteMeasurementOutcomes)
    assert circuit._final_state is result
    counts = result.frequencies()
    assert sum(counts.values()) == NSHOTS
    assert_counts_match(counts, exact_distribution(bell))
    assert result.frequencies(binary=False) == Counter({int(k, 2): v for k, v in counts.items()})
    assert result.frequencies(registers=True) == {"bell": counts}
    probabilities = result.probabilities([0, 1])
    assert probabilities.tolist() == [counts["00"] / NSHOTS, 0.0, 0.0, counts["11"] / NSHOTS]

    assert not result.has_samples()  # counts stay counts until someone asks
    samples = result.samples()
    assert samples.shape == (NSHOTS, 2)
    assert Counter("".join(map(str, row)) for row in samples.tolist()) == counts
    assert np.array_equal(result.samples(registers=True)["bell"], samples)
    assert Counter(result.samples(binary=False).tolist()) == result.frequencies(binary=False)


def ghz() -> Circuit:
    circuit = Circuit(4)
    circuit.add(gates.H(0))
    for target in range(1, 4):
        circuit.add(gates.CNOT(0, target))
    circuit.add(gates.M(0, 1, register_name="left"))
    circuit.add(gates.M(2, 3, register_name="right"))
    return circuit


def test_ghz_with_named_registers(remote: RemoteTIIBackend) -> None:
    circuit = ghz()
    left = circuit.measurements[0].result
    result = circuit(nshots=NSHOTS)

    counts = result.frequencies()
    assert_counts_match(counts, exact_distribution(ghz))
    registers = result.frequencies(registers=True)
    assert (
        registers["left"]
        == registers["right"]
        == Counter({"00": counts["0000"], "11": counts["1111"]})
    )
    # The MeasurementResult that circuit.add returned answers too, with the same counts.
    assert left.frequencies() == registers["left"]
    by_register = result.samples(registers=True)
    assert np.array_equal(by_register["left"], by_register["right"])
    assert by_register["left"].shape == (NSHOTS, 2)


def unordered() -> Circuit:
    circuit = Circuit(3)
    circuit.add(gates.X(0))
    circuit.add(gates.RY(1, theta=1.1))
    circuit.add(gates.RY(2, theta=0.4))
    circuit.add(gates.M(2, 0, 1))
    return circuit


def test_measurements_in_non_ascending_order(remote: RemoteTIIBackend) -> None:
    result = unordered()(nshots=NSHOTS)

    counts = result.frequencies()
    assert all(key[1] == "1" for key in counts)  # the middle bit is qubit 0, always 1
    assert_counts_match(counts, exact_distribution(unordered))
    # probabilities() answers per qubit like a native result, in the asked order.
    local = NumpyBackend().execute_circuit(unordered(), nshots=1)
    for qubits in ([0], [2, 1], [0, 1, 2]):
        estimate = result.probabilities(qubits)
        exact = local.probabilities(qubits)
        assert np.all(np.abs(estimate - exact) <= 5 * np.sqrt(exact * (1 - exact) / NSHOTS) + 1e-3)


def qft5() -> Circuit:
    circuit = Circuit(5)
    for qubit, angle in enumerate((0.3, 1.2, 2.0, 0.7, 2.6)):
        circuit.add(gates.RY(qubit, theta=angle))
    circuit += QFT(5)
    circuit.add(gates.M(*range(5)))
    return circuit


def test_five_qubit_qft(remote: RemoteTIIBackend) -> None:
    result = qft5()(nshots=NSHOTS)

    assert_counts_match(result.frequencies(), exact_distribution(qft5))


MARKED = "101"


def grover3() -> Circuit:
    """Grover search over 3 qubits for MARKED, with the optimal two iterations (p ~ 0.945)."""
    circuit = Circuit(3)
    circuit.add(gates.H(q) for q in range(3))
    flips = [q for q, bit in enumerate(MARKED) if bit == "0"]
    for _ in range(2):
        circuit.add(gates.X(q) for q in flips)
        circuit.add(gates.CCZ(0, 1, 2))
        circuit.add(gates.X(q) for q in flips)
        circuit.add(gates.H(q) for q in range(3))
        circuit.add(gates.X(q) for q in range(3))
        circuit.add(gates.CCZ(0, 1, 2))
        circuit.add(gates.X(q) for q in range(3))
        circuit.add(gates.H(q) for q in range(3))
    circuit.add(gates.M(0, 1, 2))
    return circuit


def test_three_qubit_grover(remote: RemoteTIIBackend) -> None:
    result = grover3()(nshots=NSHOTS)

    counts = result.frequencies()
    assert counts.most_common(1)[0][0] == MARKED
    assert_counts_match(counts, exact_distribution(grover3))


def rotated() -> Circuit:
    circuit = Circuit(3)
    for qubit, (a, b) in enumerate(((0.4, 1.0), (1.3, -0.6), (2.2, 0.3))):
        circuit.add(gates.RY(qubit, theta=a))
        circuit.add(gates.RX(qubit, theta=b))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.CNOT(1, 2))
    return circuit


def observable(backend: Any = None) -> SymbolicHamiltonian:
    form = 0.5 * X(0) * X(1) - 0.8 * Y(1) * Y(2) + 1.1 * Z(0) * Z(2) + 0.3 * Y(0) + 0.7 * X(2)
    return SymbolicHamiltonian(form, backend=backend)


def template_jobs(remote: RemoteTIIBackend) -> tuple[int, int]:
    """(jobs that named a template, structures parsed) as the server's public listing says;
    (0, 0) on a server that lists no templates (there, every circuit goes whole)."""
    if not remote.client.features.templates:
        return 0, 0
    listing = remote.client.api.list_templates()
    return sum(entry["jobs"] for entry in listing["templates"]), listing["parsed"]


def whole_circuits_sent(remote: RemoteTIIBackend) -> list[int]:
    """A list that grows by one for every request body that carries a whole circuit."""
    seen: list[int] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        if b'"circuit"' in (response.request.body or b""):
            seen.append(1)

    remote.client.api.session.hooks["response"].append(hook)
    return seen


def test_symbolic_hamiltonian_expectation_with_x_y_z_terms(
    remote: RemoteTIIBackend, cluster: Any
) -> None:
    exact = observable(NumpyBackend()).expectation(rotated())
    before = len(remote.client.jobs())
    templated, _ = template_jobs(remote)
    whole = whole_circuits_sent(remote)
    hamiltonian = observable()
    nshots = 4000

    value = hamiltonian.expectation(rotated(), nshots=nshots)

    groups = len(remote.client.jobs()) - before
    assert groups >= 2  # several measurement groups travelled as one batch
    assert len(whole) >= 1  # new structures in a batch go whole: a template pays when seen again
    if remote.client.features.templates:
        assert template_jobs(remote)[0] == templated
        hamiltonian.expectation(rotated(), nshots=nshots)  # the same groups again: templates
        assert template_jobs(remote)[0] - templated == groups
    # Each group's estimate has variance <= (sum of its |coefficients|)^2 / nshots.
    tolerance = 5 * (0.5 + 0.8 + 1.1 + 0.3 + 0.7) / math.sqrt(nshots)
    assert abs(value - exact) <= tolerance, (value, exact)


def test_expectation_of_y_basis_is_signed_right(remote: RemoteTIIBackend) -> None:
    """RX(-pi/2)|0> is the +1 eigenstate of Y: a wrong Y rotation would give -1 or 0."""
    circuit = Circuit(1)
    circuit.add(gates.RX(0, theta=-math.pi / 2))
    assert SymbolicHamiltonian(Y(0)).expectation(circuit, nshots=500) == pytest.approx(1.0)


def ising() -> SymbolicHamiltonian:
    return SymbolicHamiltonian(Z(0) * Z(1) + 0.5 * (X(0) + X(1)))


def ansatz() -> Circuit:
    circuit = Circuit(2)
    circuit.add(gates.RY(0, theta=0.0))
    circuit.add(gates.RY(1, theta=0.0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.RY(0, theta=0.0))
    circuit.add(gates.RY(1, theta=0.0))
    return circuit


def test_shots_based_vqe_with_qibo_optimize(remote: RemoteTIIBackend) -> None:
    hamiltonian, circuit, nshots = ising(), ansatz(), 1000
    evaluations = []

    def loss(parameters: Any, circuit: Circuit, hamiltonian: Any, nshots: int) -> float:
        evaluations.append(1)
        circuit.set_parameters(parameters)
        return float(hamiltonian.expectation(circuit, nshots=nshots))

    templated, parsed = template_jobs(remote)
    whole = whole_circuits_sent(remote)
    start = np.array([0.3, 2.5, 1.0, 0.2])
    _, parameters, _ = optimize(
        loss, start, args=(circuit, hamiltonian, nshots), method="Powell", options={"maxfev": 30}
    )
    # Unchanged user code, yet every evaluation (2 measurement groups) after the first named a
    # template (the first sends the groups whole: a batch's new structures go whole, a template
    # pays once a structure comes again), and the server parsed at most one structure per group;
    # without templates listed, whole circuits.
    if remote.client.features.templates:
        named = template_jobs(remote)[0] - templated
        assert 2 * (len(evaluations) - 1) <= named <= 2 * len(evaluations)
        assert (len(whole) > 0) == (named < 2 * len(evaluations))  # the first, if it went whole
        assert template_jobs(remote)[1] - parsed <= 2
    else:
        assert len(whole) >= len(evaluations)

    local_hamiltonian = SymbolicHamiltonian(
        Z(0) * Z(1) + 0.5 * (X(0) + X(1)), backend=NumpyBackend()
    )
    local = ansatz()

    def exact(values: Any) -> float:
        local.set_parameters(values)
        return float(local_hamiltonian.expectation(local))

    # The optimiser really went downhill on the exact landscape, and the remote loss at the
    # parameters it kept agrees with the exact energy there (sum of |coefficients| = 2).
    assert exact(parameters) < exact(start) - 0.3
    assert abs(loss(parameters, circuit, hamiltonian, 4000) - exact(parameters)) <= 5 * 2 / 63


EDGES = ((0, 1), (1, 2), (2, 3), (3, 0))


def qaoa(parameters: Any) -> Circuit:
    """MaxCut QAOA on a 4-ring written by hand: RZZ cost layers, RX mixer layers."""
    gammas, betas = parameters[: len(parameters) // 2], parameters[len(parameters) // 2 :]
    circuit = Circuit(4)
    circuit.add(gates.H(q) for q in range(4))
    for gamma, beta in zip(gammas, betas, strict=True):
        circuit.add(gates.RZZ(a, b, theta=2 * gamma) for a, b in EDGES)
        circuit.add(gates.RX(q, theta=2 * beta) for q in range(4))
    circuit.add(gates.M(*range(4)))
    return circuit


def mean_cut(frequencies: dict[str, float]) -> float:
    total = sum(frequencies.values())
    return (
        sum(
            weight * sum(bits[a] != bits[b] for a, b in EDGES)
            for bits, weight in frequencies.items()
        )
        / total
    )


def test_qaoa_as_a_circuit_with_shots_based_loss(remote: RemoteTIIBackend) -> None:
    nshots = 1000

    def loss(parameters: Any) -> float:
        return -mean_cut(qaoa(parameters)(nshots=nshots).frequencies())

    start = np.array([0.2, 0.3])
    _, parameters, _ = optimize(loss, start, method="Powell", options={"maxfev": 25})

    exact = mean_cut(exact_distribution(lambda: qaoa(parameters)))
    assert exact > mean_cut(exact_distribution(lambda: qaoa(start))) + 0.2
    # The remote cut at the kept parameters matches the exact one (a cut is at most 4 edges).
    assert abs(-loss(parameters) - exact) <= 5 * 4 / math.sqrt(nshots)
