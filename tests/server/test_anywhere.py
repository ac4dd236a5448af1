"""``local_cluster()`` from wherever a scientist writes Python, and a clear word without the extra.

Each program below is the README's snippet as a user would paste it: no main guard. It runs in a
real interpreter (a script file, ``python -`` fed on stdin, ``python -c``), must print its result
and exit 0, and its worker processes must never run the user's code again (each run of the
program's top level appends a line to a marker file: exactly one line, ``__main__``, is allowed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = """\
import qibo
from qibo import Circuit, gates
from qibo_client.server import local_cluster

with open({marker!r}, "a") as marker:
    marker.write(__name__ + "\\n")

with local_cluster(workers=1) as cluster:
    qibo.set_backend("qibo-client", url=cluster.url, token=cluster.token)
    circuit = Circuit(2)
    circuit.add(gates.H(0))
    circuit.add(gates.CNOT(0, 1))
    circuit.add(gates.M(0, 1))
    print("outcomes", sorted(circuit(nshots=200).frequencies()))
"""


def _run(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("how", ["script", "stdin", "dash-c"])
def test_an_unguarded_program_runs_a_job(tmp_path: Path, how: str) -> None:
    marker = tmp_path / "ran.txt"
    program = PROGRAM.format(marker=str(marker))
    if how == "script":
        script = tmp_path / "unguarded.py"
        script.write_text(program)
        run = _run([str(script)])
    elif how == "stdin":
        run = _run(["-"], stdin=program)
    else:
        run = _run(["-c", program])
    assert run.returncode == 0, run.stderr[-3000:]
    assert "outcomes ['00', '11']" in run.stdout
    assert marker.read_text().splitlines() == ["__main__"]  # no worker ran the user's code
    assert "Traceback" not in run.stderr


HIDE_FASTAPI = """\
import sys

class HideFastapi:
    def find_spec(self, name, path=None, target=None):
        if name == "fastapi" or name.startswith("fastapi."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideFastapi())
"""


def test_local_cluster_without_the_extra_names_the_install_command() -> None:
    code = HIDE_FASTAPI + (
        "from qibo_client.server import ServerExtraMissingError\n"
        "try:\n"
        "    from qibo_client.server import local_cluster\n"
        "except ServerExtraMissingError as err:\n"
        "    assert isinstance(err, ImportError)\n"
        "    print(err)\n"
    )
    run = _run(["-c", code])
    assert run.returncode == 0, run.stderr
    assert 'pip install ".[server]"' in run.stdout
    assert 'pip install "qibo-client[server] @ git+https://' in run.stdout
    assert "fastapi" in run.stdout


@pytest.mark.parametrize("command", ["demo", "serve"])
def test_commands_without_the_extra_name_the_install_command(command: str) -> None:
    code = HIDE_FASTAPI + (f"from qibo_client.cli import main\nsys.exit(main([{command!r}]))\n")
    run = _run(["-c", code])
    assert run.returncode == 2
    assert 'pip install "qibo-client[server] @ git+https://' in run.stderr
    assert "Traceback" not in run.stderr
