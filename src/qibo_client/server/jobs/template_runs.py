"""The worker side of templates: a job that names a template, and the circuits a worker keeps.

A :class:`TemplateRun` travels to a worker process instead of a whole :class:`.program.Program`:
the template's id, its program pickled ONCE by the HTTP process (so each hand-off is a copy of
bytes, not a pickling of hundreds of gate objects) and the job's parameter values. Each worker
process keeps the qibo circuits it built for its most recent templates (:data:`BUILT_PER_WORKER`,
least recently used out) and, on a hit, only calls qibo's ``set_parameters``: the template's
gates are built once per worker, not once per job.

Why reusing a qibo circuit is safe here: every parametrised gate of a built template is trainable
(it was built from the program, not from the user's circuit), so ``set_parameters`` with the flat
list of values sets every placeholder in gate order; measurement gates keep no samples between
runs (their results are reset before each run); and the id is a content hash the server checked,
so one id never names two structures, whoever sent it.

Imports nothing from qibo at module level: the HTTP process builds TemplateRuns without it.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

#: Built qibo circuits one worker process keeps (a variational loop needs one per group).
BUILT_PER_WORKER = 32

_built: OrderedDict[str, Any] = OrderedDict()
#: How many templates this process built (public for tests: a loop builds each once).
builds = 0


@dataclass(frozen=True)
class TemplateRun:
    """One job's circuit as a template reference: what a worker needs to run it (picklable)."""

    template_id: str
    #: The template's program, pickled once on the HTTP side.
    blob: bytes
    values: tuple[float, ...]
    #: The template's width and gate count (what the fast lane's bound reads); None: unknown.
    nqubits: int | None = None
    nops: int | None = None

    def to_circuit(self) -> Any:
        """The template's qibo circuit (built once per worker) with this job's parameters."""
        global builds
        circuit = _built.get(self.template_id)
        if circuit is None:
            circuit = pickle.loads(self.blob).to_circuit()  # noqa: S301 - our own bytes
            builds += 1
            _built[self.template_id] = circuit
            if len(_built) > BUILT_PER_WORKER:
                _built.popitem(last=False)
        else:
            _built.move_to_end(self.template_id)
        if self.values:
            circuit.set_parameters(list(self.values))
        for gate in circuit.measurements:
            gate.result.reset()
        return circuit

    def qibo_initial_state(self) -> None:
        """A template always starts from ``|0...0>`` (as :class:`.program.Program` says it)."""
        return None


def built_count() -> int:
    """How many template circuits this process holds now."""
    return len(_built)


__all__ = ["BUILT_PER_WORKER", "TemplateRun", "built_count"]
