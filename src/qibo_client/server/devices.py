"""The devices the reference cluster offers, and the checks made against them at submission.

Two kinds, so that a client can exercise both paths of the real service:

- ``sim``: qibo's state-vector simulator (qibojit when installed, else numpy: see engines.py), the
  default, with no gate or connectivity rules; ``sim-gpu`` (qibojit on cupy) is listed only where
  cupy sees a GPU;
- ``hw5``: a simulated piece of hardware, 5 qubits on a line with qibo's default native gates.
  Without ``verbatim`` the worker transpiles with qibo's own transpiler (the same passes qibo uses
  for a hardware backend); with ``verbatim`` a circuit the chip cannot run as written is refused at
  submission, naming the first gate at fault, rather than failing later in a worker;
- a qibolab platform (``serve --qibolab NAME``, extra ``[hardware]``): a real chip, described by
  :mod:`.platforms` with the same fields (and the platform's own qubit names and the two-qubit
  gates calibrated on each pair), run one job at a time on qibolab's backend.

Everything here is plain data and pure Python: the HTTP process checks limits without importing
qibo. :meth:`Device.check_program` is the one call the request path makes with a parsed program:
it applies every device rule (width, density-matrix width, what hardware cannot do, ``wire_names``,
``verbatim``) and returns the program as this device runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from qibo_client.server.circuits.program import MAX_DENSITY_QUBITS, Op, Program
from qibo_client.server.jobs import engines


class _Op(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def qubits(self) -> tuple[int, ...]: ...


#: A simulator's fast-lane bound (qubits x gates x shots): a Bell pair at 1000 shots is 4,000, a
#: 4-qubit, 20-gate variational step 80,000; B2's 5-qubit, 70-gate circuits (350,000) keep the pool.
DEFAULT_LANE_COST = 100_000


@dataclass(frozen=True)
class Device:
    """A partition of the cluster: its limits and, for hardware, its gates and wiring."""

    name: str
    description: str
    max_qubits: int
    max_shots: int
    default_shots: int = 1000
    hardware_type: str = "simulator"
    #: qibo gate class names the chip runs natively; None means any gate (a simulator).
    natives: frozenset[str] | None = None
    #: two-qubit couplings as sorted pairs; None means all-to-all.
    edges: frozenset[tuple[int, int]] | None = None
    #: widest circuit simulated as a density matrix (noise channels, collapsing measurements).
    max_density_qubits: int = MAX_DENSITY_QUBITS
    #: the simulation engine (engines.ENGINES); "auto": qibojit when installed, else numpy;
    #: "qibolab": a qibolab platform of the same name (platforms.py).
    engine: str = engines.AUTO
    #: the chip's own name of each physical qubit 0, 1, ... (a qibolab platform's qubit ids);
    #: None: the qubits are called by their numbers.
    qubit_names: tuple[int | str, ...] | None = None
    #: the two-qubit natives calibrated on each coupling, each way (``(control, target)``), as
    #: ``((pair, gates), ...)``; None: every two-qubit native works on every coupling.
    pair_natives: tuple[tuple[tuple[int, int], frozenset[str]], ...] | None = None
    #: the largest qubits x gates x shots simulated in the server's fast lane (lane.py); 0: none.
    lane_cost: int = DEFAULT_LANE_COST

    def check_nshots(self, nshots: Any) -> int:
        """Return the number of shots to run, or raise ValueError saying what is wrong."""
        if nshots is None:
            return self.default_shots
        # bool is an int in Python, but ``true`` shots is a client mistake.
        if isinstance(nshots, bool) or not isinstance(nshots, int):
            raise ValueError(f"nshots must be a positive integer or null, not {nshots!r}")
        if nshots < 1:
            raise ValueError(f"nshots must be a positive integer, not {nshots}")
        if nshots > self.max_shots:
            raise ValueError(
                f"nshots={nshots} is above the limit of device {self.name!r} "
                f"({self.max_shots} shots per job)"
            )
        return nshots

    def check_qubits(self, nqubits: int) -> None:
        """Raise ValueError if the circuit is wider than the device."""
        if nqubits > self.max_qubits:
            raise ValueError(
                f"the circuit has {nqubits} qubits but device {self.name!r} has "
                f"{self.max_qubits}; pick a larger device or reduce the circuit"
            )

    def check_program(self, program: Program, verbatim: bool = False) -> Program:
        """Every rule of this device for ``program``; the program as the device runs it.

        Raises ValueError naming the rule and its limit. On hardware the returned program's
        ``wire_names`` are physical qubit numbers (the worker's transpiler starts from them, and
        ``verbatim`` checks couplings on them); a simulator accepts any names and drops them.
        """
        self.check_qubits(program.nqubits)
        if self.hardware_type == "hardware":
            self._check_hardware_can_run(program)
        if program.runs_as_density_matrix and program.nqubits > self.max_density_qubits:
            raise ValueError(
                f"noise channels and collapsing measurements are simulated with a density "
                f"matrix, which device {self.name!r} does for at most {self.max_density_qubits} "
                f"qubits; the circuit has {program.nqubits}"
            )
        if self.hardware_type != "hardware":
            if verbatim:
                self.check_verbatim(program.ops)
            return replace(program, wire_names=None) if program.wire_names else program
        physical = self.physical_qubits(program.wire_names, program.nqubits)
        if verbatim:
            self.check_verbatim(
                replace(op, qubits=tuple(physical[q] for q in op.qubits))
                for op in program.ops
                if isinstance(op, Op)
            )
        identity = physical == tuple(range(program.nqubits))
        return replace(program, wire_names=None if identity else physical)

    def _check_hardware_can_run(self, program: Program) -> None:
        for index, op in enumerate(program.ops):
            if not isinstance(op, Op):
                what = "a collapsing measurement" if op.name == "M" else op.name
                raise ValueError(
                    f"operation {index} is {what}: device {self.name!r} is hardware and brings "
                    "its own noise; run noise models and mid-circuit measurements on a simulator"
                )
        if any(m.p0 is not None or m.p1 is not None for m in program.measurements):
            raise ValueError(
                f"readout noise M(p0=..., p1=...) is for simulators; device {self.name!r} is "
                "hardware and brings its own"
            )
        if program.initial_state is not None:
            raise ValueError(
                f"device {self.name!r} is hardware: it starts from |0...0>; prepare the initial "
                "state with gates, or use a simulator"
            )

    def physical_qubits(
        self, wire_names: tuple[int | str, ...] | None, nqubits: int
    ) -> tuple[int, ...]:
        """The physical qubit of each circuit qubit: named by ``wire_names`` (an integer ``k``
        or ``"qk"``), or the first ones in order. Unknown or repeated names are a ValueError."""
        if wire_names is None:
            return tuple(range(nqubits))
        physical = []
        for name in wire_names:
            number = self._qubit_number(name)
            if number is None:
                raise ValueError(
                    f"wire name {name!r:.40} is not a qubit of device {self.name!r}; its qubits "
                    f"are {self._qubits_in_words()}"
                )
            physical.append(number)
        if len(set(physical)) != len(physical):
            raise ValueError(f"wire_names {list(wire_names)} name the same qubit twice")
        return tuple(physical)

    def _qubit_number(self, name: int | str) -> int | None:
        """The physical qubit a wire name stands for: one of the chip's own names (an integer
        name also as text or as ``"qk"``), or, without names, ``k`` or ``"qk"``; None if none."""
        if self.qubit_names is not None:
            for number, own in enumerate(self.qubit_names):
                if name == own or str(name) == str(own):
                    return number
                if isinstance(own, int) and name == f"q{own}":
                    return number
            return None
        text = name[1:] if isinstance(name, str) and name[:1] == "q" else name
        value = int(text) if isinstance(text, str) and text.isdigit() else text
        return value if isinstance(value, int) and 0 <= value < self.max_qubits else None

    def _qubits_in_words(self) -> str:
        if self.qubit_names is not None:
            return ", ".join(str(name) for name in self.qubit_names)
        return f"0 to {self.max_qubits - 1} (or q0 to q{self.max_qubits - 1})"

    def qubit_name(self, number: int) -> int | str:
        """The chip's name of physical qubit ``number`` (the number itself without names)."""
        return number if self.qubit_names is None else self.qubit_names[number]

    def couplings(self) -> list[tuple[int | str, int | str]]:
        """The couplings by the chip's qubit names, sorted (empty for all-to-all)."""
        return [(self.qubit_name(a), self.qubit_name(b)) for a, b in sorted(self.edges or ())]

    def check_verbatim(self, ops: Iterable[_Op]) -> None:
        """Raise ValueError naming the first gate the device cannot run exactly as written."""
        for index, op in enumerate(ops):
            controls: tuple[int, ...] = getattr(op, "controls", ())
            if self.natives is not None and controls:
                raise ValueError(
                    f"verbatim: gate {index} ({op.name} controlled by "
                    f"{list(controls)}) is not native to device "
                    f"{self.name!r}; submit with verbatim=false to let the server transpile it"
                )
            if self.natives is not None and op.name not in self.natives:
                natives = ", ".join(sorted(self.natives))
                raise ValueError(
                    f"verbatim: gate {index} ({op.name} on qubits {list(op.qubits)}) is not "
                    f"native to device {self.name!r} (natives: {natives}); submit with "
                    "verbatim=false to let the server transpile it"
                )
            if self.edges is not None and len(op.qubits) == 2:
                pair = (min(op.qubits), max(op.qubits))
                if pair not in self.edges:
                    raise ValueError(
                        f"verbatim: gate {index} ({op.name} on qubits {list(op.qubits)}) couples "
                        f"qubits that are not connected on device {self.name!r} (couplings: "
                        f"{self.couplings()}); submit with verbatim=false to route it"
                    )
            if self.pair_natives is not None and len(op.qubits) == 2:
                self._check_pair_native(index, op)
            if self.edges is not None and len(op.qubits) > 2:
                raise ValueError(
                    f"verbatim: gate {index} ({op.name}) acts on {len(op.qubits)} qubits; "
                    f"device {self.name!r} only couples pairs"
                )

    def _check_pair_native(self, index: int, op: _Op) -> None:
        """A coupled pair runs only the two-qubit gates calibrated on it, that way round (a
        qibolab platform may calibrate CNOT on one pair, one way, and CZ on the others)."""
        pair = (op.qubits[0], op.qubits[1])
        calibrated = dict(self.pair_natives or ()).get(pair)
        if calibrated is not None and op.name not in calibrated:
            names = [self.qubit_name(q) for q in pair]
            there = ", ".join(sorted(calibrated)) or "none"
            raise ValueError(
                f"verbatim: gate {index} ({op.name} on qubits {list(op.qubits)}) is not "
                f"calibrated on the pair {names}, in that order, of device {self.name!r} "
                f"(two-qubit gates there: {there}); submit with verbatim=false to let the server "
                "transpile it"
            )

    def transpile_natives(self) -> frozenset[str] | None:
        """The natives a transpiled circuit may use: a two-qubit gate only where every coupling
        has it calibrated both ways, since the router may put it on any of them."""
        if self.natives is None or self.pair_natives is None:
            return self.natives
        per_pair = [gates for _, gates in self.pair_natives]
        if not per_pair:
            return self.natives
        return self.natives - (frozenset().union(*per_pair) - frozenset.intersection(*per_pair))

    def partition(self) -> dict[str, Any]:
        """The ``partition`` object of ``/api/projectquotas/``; hardware also lists its qubits,
        couplings and native gates (fields an older client ignores)."""
        hardware = self.hardware_type == "hardware"
        return {
            "name": self.name,
            "max_num_qubits": self.max_qubits,
            "hardware_type": self.hardware_type,
            "description": self.description,
            "status": "available",
            "max_shots": self.max_shots,
            "default_shots": self.default_shots,
            "max_density_matrix_qubits": self.max_density_qubits,
            **(
                {"qubits": self._qubit_list(), "connectivity": self._coupling_list()}
                if hardware
                else {}
            ),
            **({"natives": sorted(self.natives)} if hardware and self.natives is not None else {}),
        }

    def _qubit_list(self) -> list[int | str]:
        return [self.qubit_name(number) for number in range(self.max_qubits)]

    def _coupling_list(self) -> list[list[int | str]] | None:
        return None if self.edges is None else [list(pair) for pair in self.couplings()]


def _line(n: int) -> frozenset[tuple[int, int]]:
    return frozenset((i, i + 1) for i in range(n - 1))


SIM = Device(
    name="sim",
    description="qibo state-vector simulator, qibojit or numpy (ideal, all-to-all)",
    max_qubits=25,
    max_shots=1_000_000,
)

SIM_GPU = Device(
    name="sim-gpu",
    description="qibo state-vector simulator on a GPU, qibojit with cupy (ideal, all-to-all)",
    max_qubits=30,
    max_shots=1_000_000,
    engine=engines.QIBOJIT_CUPY,
    lane_cost=0,  # the server process does not touch the GPU
)

HW5 = Device(
    name="hw5",
    description="simulated 5-qubit chip on a line (0-1-2-3-4); natives I, Z, RZ, GPI2, CZ, M",
    max_qubits=5,
    max_shots=100_000,
    hardware_type="hardware",
    max_density_qubits=0,
    # qibo 0.3.6's NativeGates.default(): I|Z|RZ|M|GPI2|CZ.
    natives=frozenset({"I", "Z", "RZ", "GPI2", "CZ", "M"}),
    edges=_line(5),
    lane_cost=0,  # qibo's transpiler (routing, unrolling) is no tiny job
)


def _default_devices() -> dict[str, Device]:
    """``sim`` and ``hw5``, plus ``sim-gpu`` where cupy sees a GPU."""
    devices = [SIM, HW5, *([SIM_GPU] if engines.gpu_available() else [])]
    return {device.name: device for device in devices}


@dataclass(frozen=True)
class DeviceTable:
    """The devices of one server, by name, with the default first."""

    devices: Mapping[str, Device] = field(default_factory=lambda: _default_devices())

    def get(self, name: Any) -> Device:
        """The device called ``name``, or ValueError listing the known ones."""
        device = self.devices.get(name) if isinstance(name, str) else None
        if device is None:
            raise ValueError(
                f"unknown device {name!r}; this server offers: {', '.join(self.devices)}"
            )
        return device

    def __iter__(self) -> Iterator[Device]:
        return iter(self.devices.values())

    def with_engine(self, engine: str) -> DeviceTable:
        """The same devices, the CPU simulators (engine ``auto``) set to run on ``engine``."""
        if engines.check(engine) == engines.QIBOLAB:
            raise ValueError("qibolab runs platforms, not simulators: name them with --qibolab")
        return DeviceTable(
            {
                name: replace(device, engine=engine) if device.engine == engines.AUTO else device
                for name, device in self.devices.items()
            }
        )

    def with_devices(self, extra: Iterable[Device]) -> DeviceTable:
        """These devices and then ``extra``; a name already taken is a ValueError."""
        devices = dict(self.devices)
        for device in extra:
            if device.name in devices:
                raise ValueError(
                    f"device name {device.name!r} is taken (this server offers: "
                    f"{', '.join(devices)}); rename the platform's folder"
                )
            devices[device.name] = device
        return DeviceTable(devices)


DEFAULT_DEVICES = DeviceTable()
