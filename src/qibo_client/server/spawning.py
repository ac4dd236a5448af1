"""Worker processes that start without the user's main module, so a server runs from anywhere.

``multiprocessing``'s ``spawn`` start method sends each new process "preparation data" that names
the parent's ``__main__`` (its ``__spec__`` name or its ``__file__``), and the child imports it
again before it runs anything. For a reference server embedded in a user's program that is wrong
three ways: an unguarded top-level script runs again in every worker (and starts a server there,
which ``spawn`` refuses with four tracebacks); ``python -`` and piped stdin name a ``<stdin>`` file
that does not exist; and a worker never needs the user's code, only :mod:`.worker`.

:func:`worker_context` is a ``spawn`` context whose processes are launched while
``sys.modules["__main__"]`` is a bare stand-in module, so the preparation data names no main
module and the child imports none. The user's module object is never touched (its ``__file__`` and
``__spec__`` stay as they are); only the ``sys.modules`` entry is swapped, under a lock, for the
few milliseconds in which the launch reads it. ``ProcessPoolExecutor`` starts workers lazily and
again after a crash; every one of those launches goes through the context's ``Process`` class, so
all of them are covered, not only the first.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any

_SWAP_LOCK = threading.Lock()


@contextmanager
def main_module_hidden() -> Iterator[None]:
    """For the duration: ``sys.modules["__main__"]`` is an empty module with no file or spec."""
    with _SWAP_LOCK:
        original = sys.modules.get("__main__")
        stand_in = types.ModuleType("__main__")
        stand_in.__spec__ = None
        sys.modules["__main__"] = stand_in
        try:
            yield
        finally:
            if original is not None:
                sys.modules["__main__"] = original
            else:  # pragma: no cover - an interpreter always has a __main__
                del sys.modules["__main__"]


class MainlessProcess(SpawnProcess):
    """A spawned process whose preparation data names no main module."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        # The launch (preparation data, pickling, fork-exec) happens inside Popen's constructor.
        with main_module_hidden():
            return SpawnProcess._Popen(process_obj)


class MainlessSpawnContext(SpawnContext):
    """The ``spawn`` context, with :class:`MainlessProcess` as its ``Process``."""

    Process = MainlessProcess


def worker_context() -> MainlessSpawnContext:
    """The context to give ``ProcessPoolExecutor(mp_context=...)`` for simulation workers."""
    return MainlessSpawnContext()


__all__ = ["MainlessProcess", "MainlessSpawnContext", "main_module_hidden", "worker_context"]
