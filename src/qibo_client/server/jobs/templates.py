"""The templates extension, HTTP side: structures parsed once, kept per user, named by jobs.

A template is a circuit's structure (docs/protocol.md, "Templates"): gate classes and qubits,
measurement registers, every parameter a placeholder. Its id is the SHA-256 of its bytes, checked
here, so an id names one structure for everyone (the workers may share built circuits by id).

**Parsed once.** ``PUT`` of an id the user already has touches it and answers, without reading
the structure again; a new one is parsed into a :class:`~.program.Program` (placeholders 0.0) and
pickled once for the workers (:class:`~.template_runs.TemplateRun`). A job that names a template
costs a dict look-up and a check of its values (count, finite numbers).

**Bounded.** Each user keeps at most ``per_user`` templates, least recently used out. A job that
names a forgotten template is refused with 409 ``unknown_template`` before anything is stored; the
client sends the structure again. Templates are also written to the store, so that jobs accepted
before a restart can run after it; a forgotten template stays in the file while an unfinished job
still names it.
"""

from __future__ import annotations

import math
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json, to_json

from qibo_client.protocol import (
    DEFAULT_TEMPLATES_PER_USER,
    MAX_TEMPLATE_PARAMETERS,
    TEMPLATE_FORMAT,
    UNKNOWN_TEMPLATE,
    template_id_of,
    template_path,
    unpack_parameters,
)
from qibo_client.server.circuits.program import (
    GATE_SPECS,
    MAX_OPS,
    MAX_QUBITS,
    Measurement,
    Op,
    Program,
)
from qibo_client.server.jobs.store import Store
from qibo_client.server.jobs.template_runs import TemplateRun

_ID = re.compile(r"[0-9a-f]{64}")


class UnknownTemplate(LookupError):
    """A job names a template this user does not have (never sent, or forgotten)."""

    def __init__(self, template_id: str) -> None:
        super().__init__(
            f"{UNKNOWN_TEMPLATE}: no template {template_id} for this user (never sent, or "
            f"forgotten to make room); PUT its structure to {template_path(template_id)} again"
        )


@dataclass(frozen=True)
class ServerTemplate:
    """A parsed structure: its program (placeholders 0.0), parameter count, pickled program."""

    template_id: str
    program: Program
    nparams: int
    blob: bytes
    #: Jobs that named it since this server started (public counter: GET /api/templates/).
    uses: list[int]

    def run(self, values: list[Any]) -> TemplateRun:
        program = self.program
        return TemplateRun(
            self.template_id, self.blob, tuple(values), program.nqubits, len(program.ops)
        )


def check_template_id(template_id: str) -> str:
    if not _ID.fullmatch(template_id):
        raise ValueError(f"a template id is 64 lower-case hex digits, not {template_id!r:.80}")
    return template_id


def _qubits(value: Any, nqubits: int, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: qubits must be a non-empty list")
    for q in value:
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q < nqubits:
            raise ValueError(f"{where}: qubit {q!r} is not an index below {nqubits}")
    if len(set(value)) != len(value):
        raise ValueError(f"{where}: the same qubit appears twice in {value}")
    return tuple(value)


# mccabe over 10 on purpose: one check per field of an untrusted template structure
def parse_structure(body: bytes) -> Program:  # noqa: C901
    """A template's structure -> its Program; a ValueError names what is wrong."""
    try:
        obj = from_json(body, allow_inf_nan=False)
    except ValueError as err:
        raise ValueError(f"a template structure must be JSON: {err}") from None
    if not isinstance(obj, dict) or obj.get("format") != TEMPLATE_FORMAT:
        raise ValueError(f'a template structure is an object with "format": "{TEMPLATE_FORMAT}"')
    nqubits, gates, measurements = obj.get("nqubits"), obj.get("gates"), obj.get("measurements")
    if isinstance(nqubits, bool) or not isinstance(nqubits, int) or not 1 <= nqubits <= MAX_QUBITS:
        raise ValueError(f"nqubits must be an integer from 1 to {MAX_QUBITS}")
    if not isinstance(gates, list) or len(gates) > MAX_OPS:
        raise ValueError(f"gates must be a list of at most {MAX_OPS} [name, qubits] pairs")
    if not isinstance(measurements, list) or not measurements:
        raise ValueError("measurements must be a non-empty list of [register, qubits] pairs")
    ops = []
    for index, gate in enumerate(gates):
        where = f"gates[{index}]"
        if not isinstance(gate, list) or len(gate) != 2 or gate[0] not in GATE_SPECS:
            names = " ".join(GATE_SPECS)
            raise ValueError(f"{where}: must be [name, qubits] with a name in {names}")
        spec = GATE_SPECS[gate[0]]
        qubits = _qubits(gate[1], nqubits, where)
        if len(qubits) != spec.nqubits and gate[0] != "I":
            raise ValueError(f"{where}: {gate[0]} acts on {spec.nqubits} qubit(s)")
        ops.append(Op(gate[0], qubits, (0.0,) * len(spec.params)))
    registers: list[Measurement] = []
    measured: set[int] = set()
    taken: set[str] = set()
    for index, measurement in enumerate(measurements):
        where = f"measurements[{index}]"
        if not isinstance(measurement, list) or len(measurement) != 2:
            raise ValueError(f"{where}: must be [register, qubits]")
        name, qubits = measurement[0], _qubits(measurement[1], nqubits, where)
        if not isinstance(name, str) or not 0 < len(name) <= 100 or name in taken:
            raise ValueError(f"{where}: register must be a short name used once")
        if measured & set(qubits):
            raise ValueError(f"{where}: a qubit is measured twice")
        measured |= set(qubits)
        taken.add(name)
        registers.append(Measurement(name, qubits))
    return Program(nqubits, tuple(ops), tuple(registers))


def check_values(values: Any, nparams: int) -> list[Any]:
    """A job's parameter values: ``nparams`` finite numbers, as a JSON list or as the packed
    text of :func:`~qibo_client.protocol.pack_parameters` (ValueError otherwise)."""
    if isinstance(values, str):
        values = unpack_parameters(values)
    elif not isinstance(values, list):
        raise ValueError("'parameters' must be a list of numbers, or their packed text")
    if len(values) != nparams:
        raise ValueError(f"the template takes {nparams} parameters, not {len(values)}")
    for value in values:
        if type(value) is not float and type(value) is not int:
            raise ValueError(f"parameters must be finite numbers, not {value!r:.40}")
    if not math.isfinite(sum(values)):  # one pass; the rare overflow is looked at closely
        for index, value in enumerate(values):
            if not math.isfinite(value):
                raise ValueError(f"parameters[{index}] is {value}: not a finite number")
    return values


class TemplateBook:
    """Every user's templates: in memory, least recently used out, written through to the store."""

    def __init__(self, store: Store, per_user: int = DEFAULT_TEMPLATES_PER_USER) -> None:
        self.store = store
        self.per_user = per_user
        self._users: dict[int, OrderedDict[str, ServerTemplate]] = {}
        #: Structures parsed since start (public: a known template is never parsed again).
        self.parsed = 0
        for user_id, template_id, structure in store.all_templates():
            self._remember(user_id, self._parse(template_id, structure))

    def _parse(self, template_id: str, structure: bytes) -> ServerTemplate:
        program = parse_structure(structure)
        self.parsed += 1
        nparams = sum(len(op.params) for op in program.ops if isinstance(op, Op))
        if nparams > MAX_TEMPLATE_PARAMETERS:
            raise ValueError(f"a template may have at most {MAX_TEMPLATE_PARAMETERS} parameters")
        return ServerTemplate(template_id, program, nparams, pickle.dumps(program), [0])

    def _remember(self, user_id: int, template: ServerTemplate) -> None:
        book = self._users.setdefault(user_id, OrderedDict())
        book[template.template_id] = template
        while len(book) > self.per_user:
            _, old = book.popitem(last=False)
            self.store.forget_template(user_id, old.template_id)

    def put(self, user_id: int, template_id: str, structure: bytes) -> tuple[ServerTemplate, bool]:
        """Keep a structure -> (template, created); a known one is only touched, never parsed."""
        check_template_id(template_id)
        known = self.get(user_id, template_id)
        if known is not None:
            return known, False
        if template_id_of(structure) != template_id:
            raise ValueError("the template id is not the SHA-256 of the body's bytes")
        template = self._parse(template_id, structure)
        self.store.put_template(user_id, template_id, structure)
        self._remember(user_id, template)
        return template, True

    def get(self, user_id: int, template_id: str) -> ServerTemplate | None:
        book = self._users.get(user_id)
        template = None if book is None else book.get(template_id)
        if template is not None:
            book.move_to_end(template_id)  # type: ignore[union-attr]
        return template

    def job(
        self, user_id: int, template_id: str, given: Any
    ) -> tuple[ServerTemplate, list[Any], str]:
        """A template job's template, its values and the circuit JSON to store.

        Raises UnknownTemplate, or ValueError for values of the wrong count or kind.
        """
        template = self.get(user_id, template_id)
        if template is None:
            raise UnknownTemplate(template_id)
        values = check_values(given, template.nparams)
        template.uses[0] += 1
        # Stored as given: packed text as it came (base64 needs no escaping), a list through
        # pydantic-core (exact floats, about 10x faster than json.dumps).
        stored = f'"{given}"' if isinstance(given, str) else to_json(values).decode()
        circuit_json = f'{{"template":"{template_id}","parameters":{stored}}}'
        return template, values, circuit_json

    def rerun(self, user_id: int, stored: dict[str, Any]) -> TemplateRun:
        """A stored template job, again (at start); ValueError if its template is gone."""
        template_id = str(stored.get("template"))
        template = self.get(user_id, template_id)
        if template is None:
            structure = self.store.get_template(user_id, template_id)
            if structure is None:
                raise ValueError(f"its template {template_id} is no longer kept")
            template = self._parse(template_id, structure)
        return template.run(check_values(stored.get("parameters"), template.nparams))

    def listing(self, user_id: int) -> dict[str, Any]:
        book = self._users.get(user_id, OrderedDict())
        return {
            "templates": [
                {"id": t.template_id, "parameters": t.nparams, "jobs": t.uses[0]}
                for t in book.values()
            ],
            "limit": self.per_user,
            "parsed": self.parsed,
        }


__all__ = [
    "ServerTemplate",
    "TemplateBook",
    "UnknownTemplate",
    "check_template_id",
    "check_values",
    "parse_structure",
]
