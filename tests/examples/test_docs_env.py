"""tox's docs environment installs exactly the ``docs`` extra (it skips the package: faster)."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_tox_docs_deps_are_the_docs_extra() -> None:
    tomllib = pytest.importorskip("tomllib", reason="the standard library has it from 3.11 on")
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    deps = {line.strip() for line in tox["testenv:docs"]["deps"].splitlines() if line.strip()}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert deps == set(project["optional-dependencies"]["docs"])
