"""Docs that follow the code: tox docs env = the `docs` extra; every env var is listed."""

from __future__ import annotations

import configparser
import re
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


def environment_variables() -> set[str]:
    """Every variable the package reads: ``*_ENV = "NAME"`` constants and literal look-ups."""
    named = re.compile(r'^\s*[A-Z_]+_ENV\s*=\s*"([A-Z][A-Z0-9_]+)"', re.M)
    literal = re.compile(r'environ(?:\.get\(|\[)\s*"([A-Z][A-Z0-9_]+)"')
    found: set[str] = set()
    for path in (ROOT / "src").rglob("*.py"):
        text = path.read_text()
        found.update(named.findall(text), literal.findall(text))
    return found


def test_every_environment_variable_is_documented() -> None:
    variables = environment_variables()
    assert {"QIBO_CLIENT_TOKEN", "QIBO_CLIENT_URL", "QIBO_SERVER_ACCOUNTS"} <= variables
    for document in ("README.md", "docs/credentials.md"):
        text = (ROOT / document).read_text()
        missing = sorted(name for name in variables if f"`{name}`" not in text)
        assert missing == [], f"{document} does not list {missing}"
