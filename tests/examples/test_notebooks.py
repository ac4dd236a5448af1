"""The example notebooks: committed without outputs, and each one runs top to bottom.

Each notebook starts its own ``local_cluster()`` inside a fresh kernel, so this is what a user gets
who opens it in Jupyter. The kernel is this test's own interpreter, named by a kernel spec written
for the test: a ``python3`` spec in the user's Jupyter directories (which take precedence over the
environment's) could point at another Python without this package. An error in any cell fails
the test, with the cell and its traceback in the message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
#: Generous: a notebook takes seconds; a first kernel start with a cold disk cache takes longer.
CELL_TIMEOUT = 300


def test_every_example_is_here() -> None:
    names = {path.stem.split("_", 1)[1] for path in NOTEBOOKS}
    assert names >= {"bell_and_registers", "vqe_shots", "qaoa", "batches_and_journal"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert dirty == [], f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.fixture
def kernel_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec for ``sys.executable``, first on ``JUPYTER_PATH``."""
    name = "qibo-client-tests"
    spec_dir = tmp_path / "jupyter" / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "qibo-client tests",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path: Path, tmp_path: Path, kernel_name: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    runner = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    runner.execute()  # raises CellExecutionError, naming the cell, on the first error

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    errors = [output for cell in code for output in cell.outputs if output.output_type == "error"]
    assert errors == []
