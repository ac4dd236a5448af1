"""``Device.check_program``: the device rules for a parsed program (no server, no qibo for most).

The request path calls it once per job; these tests pin each rule and its message, and run the
program it returns through the worker's own ``run_task`` where the result matters (hw5 wire names).
"""

from __future__ import annotations

import json

import pytest

from qibo_client.server.circuits.program import Program, with_initial_state
from qibo_client.server.circuits.raw_circuit import program_from_raw
from qibo_client.server.devices import HW5, SIM
from qibo_client.server.jobs.worker import Task, run_task


def raw(*queue: dict, nqubits: int = 2, wire_names: list | None = None) -> Program:
    return program_from_raw(
        {
            "nqubits": nqubits,
            "queue": list(queue),
            "density_matrix": False,
            "wire_names": wire_names,
        }
    )


def g(cls: str, *qubits: int, **kwargs: float) -> dict:
    return {"_class": cls, "init_args": list(qubits), "init_kwargs": kwargs}


M01 = {**g("M", 0, 1), "init_kwargs": {"register_name": "m"}}
BELL_CZ = (g("GPI2", 0, phi=0.0), g("CZ", 0, 1), M01)


def test_simulator_accepts_any_wire_names_and_drops_them():
    program = raw(g("H", 0), M01, wire_names=["alice", "bob"])
    assert program.wire_names == ("alice", "bob")
    assert SIM.check_program(program).wire_names is None


def test_hw5_wire_names_are_physical_qubits():
    program = raw(*BELL_CZ, wire_names=["q3", 4])
    assert HW5.check_program(program).wire_names == (3, 4)
    assert HW5.check_program(raw(*BELL_CZ)).wire_names is None  # the first qubits, in order


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["q0", "q9"], "wire name 'q9' is not a qubit of device 'hw5'; its qubits are 0 to 4"),
        ([0, "alice"], "wire name 'alice' is not a qubit of device 'hw5'"),
        ([2, "q2"], r"wire_names \[2, 'q2'\] name the same qubit twice"),
    ],
)
def test_hw5_refuses_unknown_wire_names(names, message):
    with pytest.raises(ValueError, match=message):
        HW5.check_program(raw(*BELL_CZ, wire_names=names))


def test_verbatim_checks_couplings_on_the_chosen_physical_qubits():
    HW5.check_program(raw(*BELL_CZ, wire_names=[2, 3]), verbatim=True)
    with pytest.raises(ValueError, match=r"gate 1 \(CZ on qubits \[1, 3\]\) couples qubits"):
        HW5.check_program(raw(*BELL_CZ, wire_names=[1, 3]), verbatim=True)


def test_verbatim_refuses_a_controlled_by_gate_even_of_a_native():
    z = {**g("Z", 1), "_control_qubits": [0], "_target_qubits": [1]}
    with pytest.raises(ValueError, match=r"gate 0 \(Z controlled by \[0\]\) is not native"):
        HW5.check_program(raw(z, M01), verbatim=True)


@pytest.mark.parametrize(
    ("queue", "message"),
    [
        (
            (g("H", 0), {**g("M", 0), "init_kwargs": {"collapse": True}}, M01),
            "operation 1 is a collapsing measurement: device 'hw5' is hardware",
        ),
        (
            (
                {
                    "_class": "DepolarizingChannel",
                    "init_args": [[0]],
                    "init_kwargs": {"lam": 0.1},
                },
                M01,
            ),
            "operation 0 is DepolarizingChannel: device 'hw5' is hardware",
        ),
        (({**M01, "init_kwargs": {"p0": 0.1}},), r"readout noise M\(p0=..., p1=...\) is for"),
    ],
)
def test_hardware_refuses_noise(queue, message):
    with pytest.raises(ValueError, match=message):
        HW5.check_program(raw(*queue))


def test_initial_states_run_on_simulators_only():
    program = with_initial_state(raw(g("H", 0), M01), [[0.6, 0], [0, 0.8], 0, 0])
    assert program.initial_state == (0.6 + 0j, 0.8j, 0j, 0j)
    assert SIM.check_program(program) == program
    with pytest.raises(ValueError, match="device 'hw5' is hardware: it starts from"):
        HW5.check_program(program)
    assert with_initial_state(program, None) is program


def test_density_matrix_width_is_a_device_limit():
    noisy = {
        "_class": "AmplitudeDampingChannel",
        "_target_qubits": [0],
        "init_kwargs": {"gamma": 0.1},
    }
    program = raw(noisy, M01, nqubits=9)
    small = type(SIM)(**{**SIM.__dict__, "max_density_qubits": 8})
    with pytest.raises(
        ValueError, match="device 'sim' does for at most 8 qubits; the circuit has 9"
    ):
        small.check_program(program)
    assert SIM.check_program(program) == program


def test_hw5_runs_the_program_check_program_returns_on_its_physical_qubits():
    program = HW5.check_program(raw(g("H", 0), g("CNOT", 0, 1), M01, wire_names=[4, 2]))
    outcome = run_task(Task("p1", program, 200, HW5, verbatim=False))
    assert outcome.ok, outcome.stderr
    counts = json.loads(outcome.frequencies_json or "{}")
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 200
