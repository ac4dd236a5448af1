"""The local-cluster snippet of the README (and of the docs' quick start) runs as a pasted script.

The snippet is written to a file and run with ``python FILE`` in a fresh process, as a user who
pastes it would; it must print a Bell pair's counts. The quick start shows the same snippet, so
one run checks both.
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


def local_cluster_snippet(document: str) -> str:
    text = (ROOT / document).read_text()
    blocks = [block for block in PYTHON_BLOCK.findall(text) if "local_cluster" in block]
    assert blocks, f"{document} has no local_cluster snippet"
    return blocks[0]


def test_quick_start_shows_the_readme_snippet() -> None:
    assert local_cluster_snippet("docs/index.md") == local_cluster_snippet("README.md")


@pytest.mark.slow
def test_readme_local_cluster_snippet_runs_as_a_script(tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(local_cluster_snippet("README.md"))
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
