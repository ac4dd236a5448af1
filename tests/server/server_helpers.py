"""Circuits and sessions the server's tests share (fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import requests

BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg m[2];
h q[0];
cx q[0],q[1];
measure q[0] -> m[0];
measure q[1] -> m[1];
"""


def qasm(nqubits: int, body: str = "", measured: int | None = None) -> str:
    """A circuit on ``nqubits`` measuring the first ``measured`` (default all) qubits."""
    measured = nqubits if measured is None else measured
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{nqubits}];"]
    if measured:
        lines.append(f"creg m[{measured}];")
    lines.append(body)
    lines += [f"measure q[{i}] -> m[{i}];" for i in range(measured)]
    return "\n".join(lines) + "\n"


def session_for(url: str, token: str | None) -> requests.Session:
    session = requests.Session()
    if token is not None:
        session.headers["x-api-token"] = token
    session.base_url = url  # type: ignore[attr-defined]
    return session


Api = Callable[..., requests.Session]
