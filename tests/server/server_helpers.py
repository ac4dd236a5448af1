"""Circuits and sessions the server's tests share (fixtures are in conftest.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


ROOT = Path(__file__).resolve().parents[2]


def official_env() -> Any:
    """The benchmarks' venv builder, its cache pointed at ``$QIBO_CLIENT_OFFICIAL_VENV`` (or a
    folder under the temporary directory), so later sessions reuse the venvs."""
    spec = importlib.util.spec_from_file_location(
        "official_env", ROOT / "benchmarks" / "official" / "env.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    module.VENV_ROOT = Path(
        os.environ.get("QIBO_CLIENT_OFFICIAL_VENV")
        or Path(tempfile.gettempdir()) / "qibo-client-official-venv"
    )
    return module


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would let another venv see our packages, plus ``extra``."""
    hidden = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "QIBO_BACKEND", "QIBO_PLATFORM"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env.update(extra)
    return env


def run_in_venv(python: Path, script: str, env: dict[str, str]) -> tuple[Any, str]:
    """Run ``script`` with another venv's ``python`` (an official client's); the JSON of its last
    output line and its stderr (where those clients log). A failure shows the end of stderr."""
    done = subprocess.run(
        [str(python), "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr
