"""The module paths of 0.3 keep working, with a DeprecationWarning that names the new path."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest

import qibo_client
from qibo_client import _moved
from qibo_client.jobs import job as jobs_job


def _forget(monkeypatch: pytest.MonkeyPatch, old: str) -> None:
    """Import ``old`` afresh in this test, as a script that never imported it would."""
    for name in [n for n in sys.modules if n == old or n.startswith(old + ".")]:
        monkeypatch.delitem(sys.modules, name)
    parent, _, leaf = old.rpartition(".")
    monkeypatch.delattr(sys.modules[parent], leaf, raising=False)


def test_an_old_module_path_warns_and_gives_the_new_module(monkeypatch: pytest.MonkeyPatch) -> None:
    _forget(monkeypatch, "qibo_client.job")
    with pytest.warns(DeprecationWarning, match=r"qibo_client\.job to qibo_client\.jobs\.job"):
        old = importlib.import_module("qibo_client.job")
    assert old is jobs_job
    assert old.Job is qibo_client.Job
    assert old.__spec__ is jobs_job.__spec__


def test_from_the_package_import_an_old_module_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    _forget(monkeypatch, "qibo_client.budget")
    with pytest.warns(DeprecationWarning, match=r"qibo_client\.http\.deadline"):
        from qibo_client import budget
    from qibo_client.http import deadline

    assert budget is deadline


def test_a_module_inside_a_moved_package_is_the_new_one_not_a_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("fastapi")
    _forget(monkeypatch, "qibo_client.server.routes")
    with pytest.warns(DeprecationWarning, match=r"qibo_client\.server\.api\.routes"):
        old = importlib.import_module("qibo_client.server.routes.jobs")
    assert old is importlib.import_module("qibo_client.server.api.routes.jobs")


def test_a_name_of_the_old_results_module_warns_and_resolves() -> None:
    from qibo_client.results import counts

    with pytest.warns(
        DeprecationWarning, match=r"qibo_client\.results\.counts\.ResampledCountsWarning"
    ):
        from qibo_client.results import ResampledCountsWarning
    assert ResampledCountsWarning is counts.ResampledCountsWarning
    with pytest.raises(ImportError, match="no_such_name"):
        from qibo_client.results import no_such_name  # noqa: F401


@pytest.mark.parametrize(("old", "new"), sorted(_moved.MOVED.items()))
def test_every_moved_name_points_at_a_module_that_exists(old: str, new: str) -> None:
    assert importlib.util.find_spec(new) is not None, f"{old} -> {new}: no such module"
    assert _moved.new_name(old) == new
    assert _moved.new_name(old + ".sub") == new + ".sub"


def test_names_that_did_not_move_are_not_answered() -> None:
    assert _moved.new_name("qibo_client.config") is None
    assert _moved.new_name("qibo_client.jobs.job") is None
    assert _moved.MovedFinder.find_spec("qibo_client.no_such_module") is None
