"""``execute_circuits`` on a server with the batch extension: one request per variational step."""

from __future__ import annotations

from typing import Any

from qibo import Circuit, gates

from qibo_client.backend import RemoteTIIBackend


def groups() -> list[Circuit]:
    """Two measurement groups of one ansatz, as a shots-based VQE sends them each step."""
    circuits = []
    for basis_change in (False, True):
        circuit = Circuit(2)
        circuit.add(gates.X(0))
        if basis_change:
            circuit.add(gates.H(1))
        circuit.add(gates.M(0, 1))
        circuits.append(circuit)
    return circuits


def test_two_groups_cost_one_request(remote: RemoteTIIBackend) -> None:
    seen: list[str] = []

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(f"{response.request.method} {response.request.path_url}")

    # Without parameters, the first step goes whole and the second sends the templates first.
    for _ in range(2):
        remote.execute_circuits(groups(), nshots=200)
    remote.client.api.session.hooks["response"].append(hook)
    results = remote.execute_circuits(groups(), nshots=200)
    assert seen == ["POST /api/jobs/batch/"]
    assert results[0].frequencies() == {"10": 200}
    second = results[1].frequencies()
    assert set(second) <= {"10", "11"}
    assert sum(second.values()) == 200
