"""Old module paths keep working for a while, with a ``DeprecationWarning`` naming the new one.

Release 0.4 moved the modules into subpackages (``qibo_client.job`` is now
``qibo_client.jobs.job``). A script that imports an old path gets the very module object of the
new one (so ``Job`` is the same class, and patching either name patches both) and a warning that
says where to import it from. The finder answers only for the names in :data:`MOVED` (a string
look-up, so sitting first in ``sys.meta_path`` costs the other imports nothing).
"""

from __future__ import annotations

import importlib
import sys
import warnings
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

#: old module -> new module (a package's submodules follow it: ``server.routes.jobs`` too).
#: ``qibo_client.results`` is not here: it is a package now, whose ``__getattr__`` forwards the
#: names of the old module (today's ``results.counts``) with the same warning.
MOVED: dict[str, str] = {
    "qibo_client.transport": "qibo_client.http.session",
    "qibo_client.budget": "qibo_client.http.deadline",
    "qibo_client.watchdog": "qibo_client.http.watchdog",
    "qibo_client.replies": "qibo_client.http.replies",
    "qibo_client.api": "qibo_client.http.api",
    "qibo_client.compat": "qibo_client.http.compat",
    "qibo_client.retries": "qibo_client.http.retries",
    "qibo_client.export": "qibo_client.circuits.export",
    "qibo_client.qasm": "qibo_client.circuits.qasm",
    "qibo_client.raw_export": "qibo_client.circuits.raw",
    "qibo_client.templates": "qibo_client.circuits.templates",
    "qibo_client.job": "qibo_client.jobs.job",
    "qibo_client.batch": "qibo_client.jobs.batch",
    "qibo_client.waiting": "qibo_client.jobs.waiting",
    "qibo_client.progress": "qibo_client.jobs.progress",
    "qibo_client.journal": "qibo_client.jobs.journal",
    "qibo_client.legacy": "qibo_client.jobs.legacy",
    "qibo_client.encoding": "qibo_client.jobs.encoding",
    "qibo_client.outcomes": "qibo_client.results.outcomes",
    "qibo_client.accounts_cli": "qibo_client.cli.accounts",
    "qibo_client.devices_cli": "qibo_client.cli.devices",
    "qibo_client.journal_cli": "qibo_client.cli.jobs",
    "qibo_client.tables": "qibo_client.cli.tables",
    "qibo_client.demo": "qibo_client.cli.demo",
    "qibo_client.server.app": "qibo_client.server.api.app",
    "qibo_client.server.deps": "qibo_client.server.api.deps",
    "qibo_client.server.routes": "qibo_client.server.api.routes",
    "qibo_client.server.schemas": "qibo_client.server.api.schemas",
    "qibo_client.server.checks": "qibo_client.server.api.checks",
    "qibo_client.server.answers": "qibo_client.server.api.answers",
    "qibo_client.server.access_log": "qibo_client.server.api.access_log",
    "qibo_client.server.archive": "qibo_client.server.api.archive",
    "qibo_client.server.qasm_parser": "qibo_client.server.circuits.qasm_parser",
    "qibo_client.server.qasm_expr": "qibo_client.server.circuits.qasm_expr",
    "qibo_client.server.raw_circuit": "qibo_client.server.circuits.raw_circuit",
    "qibo_client.server.program": "qibo_client.server.circuits.program",
    "qibo_client.server.channels": "qibo_client.server.circuits.channels",
    "qibo_client.server.matrices": "qibo_client.server.circuits.matrices",
    "qibo_client.server.runner": "qibo_client.server.jobs.runner",
    "qibo_client.server.executors": "qibo_client.server.jobs.executors",
    "qibo_client.server.worker": "qibo_client.server.jobs.worker",
    "qibo_client.server.engines": "qibo_client.server.jobs.engines",
    "qibo_client.server.store": "qibo_client.server.jobs.store",
    "qibo_client.server.template_runs": "qibo_client.server.jobs.template_runs",
    "qibo_client.server.templates": "qibo_client.server.jobs.templates",
}


def new_name(old: str) -> str | None:
    """The module an old path now names, or None for a name that did not move."""
    parts = old.split(".")
    for end in range(len(parts), 1, -1):
        head = ".".join(parts[:end])
        if head in MOVED:
            return ".".join([MOVED[head], *parts[end:]])
    return None


def warn_moved(old: str, new: str, stacklevel: int = 3) -> None:
    """The one message of a moved name (pyproject's pytest filter matches its first words)."""
    warnings.warn(
        f"qibo-client moved {old} to {new}; import it from there, the old path will be removed",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


class _Alias:
    """Loads an old name as the new module itself: no second copy, no re-execution."""

    def __init__(self, new: str) -> None:
        self.new = new
        self.spec: ModuleSpec | None = None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        # stacklevel 3: warn_moved, this method, then the importer (importlib's frames are skipped)
        warn_moved(spec.name, self.new)
        module = importlib.import_module(self.new)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system set the alias's spec on the module: give the real one back.
        module.__spec__ = self.spec


class MovedFinder:
    """A meta path finder that answers only for the old names of :data:`MOVED`."""

    @classmethod
    def find_spec(
        cls, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        new = new_name(fullname) if fullname.startswith("qibo_client.") else None
        return None if new is None else ModuleSpec(fullname, cast("Loader", _Alias(new)))


def install() -> None:
    """Put the finder first in ``sys.meta_path``, once: an old package's submodules
    (``qibo_client.server.routes.jobs``) would otherwise be found again through the new package's
    ``__path__`` and run a second time under the old name."""
    if MovedFinder not in sys.meta_path:
        sys.meta_path.insert(0, MovedFinder)
