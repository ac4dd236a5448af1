"""Docs that follow the code: tox docs env = the `docs` extra; every env var is listed."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tox_docs_deps_are_the_docs_extra() -> None:
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


def test_supported_pythons_agree_in_pyproject_tox_and_readme() -> None:
    """requires-python, the classifiers, the README and the tox envs name the same versions."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    match = re.fullmatch(r">=3\.(\d+),<3\.(\d+)", project["requires-python"])
    assert match, project["requires-python"]
    lowest, highest = int(match[1]), int(match[2]) - 1
    supported = {f"3.{minor}" for minor in range(lowest, highest + 1)}
    prefix = "Programming Language :: Python :: "
    classified = {c.removeprefix(prefix) for c in project["classifiers"] if c.count(".") == 1}
    assert classified == supported
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    envs = {env.strip() for env in tox["tox"]["env_list"].split(",")}
    assert {f"py3{lowest}", f"py3{highest}"} <= envs
    for document in ("README.md", "docs/index.md"):
        assert f"Python 3.{lowest} to 3.{highest}," in (ROOT / document).read_text()
