"""Devices backed by qibolab platforms (extra ``[hardware]``): a lab's own chip behind the protocol.

``qibo-client serve --qibolab NAME[,NAME...]`` (or ``local_cluster(qibolab=[...])``) adds one device
per platform, named after it. Why it is built this way:

- **Described by the platform itself.** qibolab finds a platform by name in the folders of
  ``$QIBOLAB_PLATFORMS`` (``dummy`` is built in); its qubits, couplings (``platform.pairs``) and the
  gates its compiler turns into pulses become the device's, so the submission checks
  (``verbatim``, ``wire_names``, width) are the ones of :mod:`.devices`, made in the HTTP process.
  ``QibolabBackend.natives`` needs qibo, so the same rule is written here from the platform's
  calibration (:data:`COMPILER_GATES`, :data:`TWO_QUBIT_GATES`); a test keeps the two equal.
- **Read in a process of its own.** Making a qibolab ``Platform`` replaces the process's SIGTERM
  and SIGINT handlers (with one that disconnects the instruments and raises), which works only in
  a main thread and would take Ctrl-C from the server: :func:`platform_devices` reads the
  platforms in one short spawned process (about two seconds at start), so the HTTP process
  never imports qibolab.
- **Per-pair, per-direction two-qubit gates.** A platform may calibrate CNOT on one pair, in one
  direction (control first), and only CZ elsewhere: the device keeps what each ordered pair has
  (CZ and iSWAP both ways, :data:`SYMMETRIC_GATES`), so ``verbatim`` refuses a gate where it is
  not calibrated and the transpiler uses only what every pair has both ways
  (:meth:`.Device.transpile_natives`).
- **One job at a time.** A platform connects to its instruments around each execution; the
  server gives each platform a queue and a worker process of its own (:mod:`.runner_group`,
  :mod:`.platform_worker`), beside the simulators' pool.
- **Without the extra** the option raises :class:`HardwareExtraMissingError`, which says what to
  install, rather than a bare ``No module named 'qibolab'``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from typing import Any

from qibo_client.server.devices import Device
from qibo_client.server.jobs import engines

#: How to get qibolab (and qibolab's qibo backend) beside the server.
HARDWARE_INSTALL_HINT = (
    'pip install ".[server,hardware]" in a clone of qibo-client (qibolab>=0.2.17,<0.3 with its '
    "backend extra)"
)
#: The environment variable where qibolab looks for platforms (qibolab's ``PLATFORMS_PATH``).
PLATFORMS_ENV = "QIBOLAB_PLATFORMS"
#: The gates qibolab 0.2's default compiler turns into pulses (``Compiler.default().rules``).
COMPILER_GATES = frozenset({"I", "Z", "RZ", "GPI2", "GPI", "M", "Align", "CZ", "iSWAP", "CNOT"})
#: The two-qubit ones, each usable only where the platform calibrated it (``TwoQubitNatives``).
TWO_QUBIT_GATES = ("CZ", "CNOT", "iSWAP")
#: Those that work both ways on a pair calibrated one way (``TwoQubitNatives``' metadata).
SYMMETRIC_GATES = frozenset({"CZ", "iSWAP"})
#: Shots per job a platform device accepts (as ``hw5``), and runs when a job names none.
PLATFORM_MAX_SHOTS = 100_000
PLATFORM_DEFAULT_SHOTS = 1000


class HardwareExtraMissingError(ImportError):
    """A qibolab platform was asked for, but the ``[hardware]`` extra is not installed."""


class PlatformError(ValueError):
    """A platform named for the server cannot be loaded (unknown, or its folder is broken)."""


def require_qibolab(what: str = "qibolab platforms") -> None:
    """Raise :class:`HardwareExtraMissingError`, naming the install command, if qibolab or the
    qibo it runs circuits with is not installed (looked up, not imported: qibo takes a second)."""
    for module in ("qibolab", "qibo"):
        if importlib.util.find_spec(module) is None:
            raise HardwareExtraMissingError(
                f"{what} need the [hardware] extra ({module} is not installed): "
                f"{HARDWARE_INSTALL_HINT}",
                name=module,
            )


def platform_names(value: str | Iterable[str] | None) -> list[str]:
    """``"a,b"`` or ``["a", "b"]`` as a list of platform names, blanks dropped, order kept."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else list(value)
    names = [str(part).strip() for part in parts if str(part).strip()]
    if len(set(names)) != len(names):
        raise PlatformError(f"platform names {names} name one platform twice")
    return names


def load_platform(name: str) -> Any:
    """qibolab's ``Platform`` called ``name``, or :class:`PlatformError` saying where it was
    looked for."""
    require_qibolab()
    from qibolab import create_platform

    try:
        return create_platform(name)
    except Exception as err:  # qibolab raises RuntimeError, ValueError or a platform's own
        raise PlatformError(
            f"cannot load qibolab platform {name!r}: {err} (platforms are folders named after "
            f"them, holding a platform.py, in the folders of ${PLATFORMS_ENV}; 'dummy' is built in)"
        ) from err


def device_of(name: str, platform: Any) -> Device:
    """The device a loaded platform is: its qubits, couplings and natives, by qubit number."""
    qubit_names = tuple(platform.qubits)
    number = {qubit: index for index, qubit in enumerate(qubit_names)}
    two_qubit = platform.natives.two_qubit
    ordered: dict[tuple[int, int], frozenset[str]] = {}
    for a, b in platform.pairs:
        calibrated = two_qubit[(a, b)]
        gates = frozenset(g for g in TWO_QUBIT_GATES if getattr(calibrated, g, None) is not None)
        forward, backward = (number[a], number[b]), (number[b], number[a])
        ordered[forward] = ordered.get(forward, frozenset()) | gates
        ordered[backward] = ordered.get(backward, frozenset()) | (gates & SYMMETRIC_GATES)
    on_some_pair = frozenset().union(*ordered.values())
    natives = (COMPILER_GATES - frozenset(TWO_QUBIT_GATES)) | on_some_pair
    edges = frozenset((min(pair), max(pair)) for pair in ordered)
    shown = ", ".join(f"{qubit_names[a]}-{qubit_names[b]}" for a, b in sorted(edges))
    return Device(
        name=name,
        description=(
            f"qibolab platform {name!r}: {len(qubit_names)} qubits, couplings {shown or 'none'}; "
            f"natives {', '.join(sorted(natives))}"
        ),
        max_qubits=len(qubit_names),
        max_shots=PLATFORM_MAX_SHOTS,
        default_shots=PLATFORM_DEFAULT_SHOTS,
        hardware_type="hardware",
        natives=natives,
        edges=edges,
        max_density_qubits=0,
        engine=engines.QIBOLAB,
        qubit_names=qubit_names,
        pair_natives=tuple(sorted(ordered.items())),
        lane_cost=0,  # a chip is never simulated in the server's fast lane
    )


def describe_platforms(names: list[str]) -> list[Device]:
    """(In a process of its own: see the module's docstring.) The device of each platform."""
    return [device_of(name, load_platform(name)) for name in names]


def platform_devices(names: str | Iterable[str] | None) -> list[Device]:
    """One device per platform named (see :func:`platform_names`), each read from its platform
    in a spawned process; :class:`HardwareExtraMissingError` or :class:`PlatformError` if not."""
    wanted = platform_names(names)
    if not wanted:
        return []
    require_qibolab()
    from concurrent.futures import ProcessPoolExecutor

    from qibo_client.server.spawning import worker_context

    with ProcessPoolExecutor(max_workers=1, mp_context=worker_context()) as pool:
        return pool.submit(describe_platforms, wanted).result()


__all__ = [
    "HARDWARE_INSTALL_HINT",
    "HardwareExtraMissingError",
    "PlatformError",
    "describe_platforms",
    "device_of",
    "load_platform",
    "platform_devices",
    "platform_names",
    "require_qibolab",
]
