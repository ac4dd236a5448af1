"""Fixtures of the examples' tests: nothing reaches the user's journal, credentials or terminal."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A throwaway journal, no progress display, no credentials from the environment.

    Notebook kernels are child processes: they inherit this environment.
    """
    monkeypatch.setenv("QIBO_CLIENT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QIBO_CLIENT_PROGRESS", "0")
    monkeypatch.delenv("QIBO_CLIENT_TOKEN", raising=False)
    monkeypatch.delenv("QIBO_CLIENT_URL", raising=False)
