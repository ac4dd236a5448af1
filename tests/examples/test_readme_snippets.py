"""The local-cluster snippets of the README and the quick start run as scripts, pasted as they are.

Each snippet is written to a file and run with ``python FILE`` in a fresh process, as a user who
pastes it would; it must print a Bell pair's counts.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
BELL_COUNTS = re.compile(r"Counter\(\{'(00|11)': \d+, '(00|11)': \d+\}\)")


def local_cluster_snippet(document: Path) -> str:
    blocks = [
        block for block in PYTHON_BLOCK.findall(document.read_text()) if "local_cluster" in block
    ]
    assert blocks, f"{document.name} has no local_cluster snippet"
    return blocks[0]


@pytest.mark.slow
@pytest.mark.parametrize("document", ["README.md", "docs/index.md"])
def test_local_cluster_snippet_runs_as_a_script(document: str, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(local_cluster_snippet(ROOT / document))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert BELL_COUNTS.search(done.stdout), done.stdout
