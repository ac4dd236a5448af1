"""qibo's side of the plugin: ``qibo.set_backend("qibo-client", ...)`` runs circuits on the cluster.

qibo finds a backend by importing the module named after it and calling
``qibo_client.MetaBackend.load(**kwargs)`` (``MetaBackend().list_available()`` for
``qibo.list_available_backends``). qibo reads no entry points: the ``qibo.backends`` entry point
this package also declares is for tools that list plugins, not how qibo finds it.
``RemoteTIIBackend`` subclasses ``NumpyBackend`` so that everything qibo computes locally
(matrices, Hamiltonians, optimisers, quantum-info helpers) keeps working; only circuit execution
goes to the cluster:

    backend -> export (refusals; a template where the server lists templates, else QASM where
            it lists QASM and QASM says the circuit, completed raw elsewhere) -> Client.submit
            -> Job.frequencies -> outcomes -> backend

Runs remotely, and agrees with local qibo:

- any circuit ending in measurements (Z, X or Y basis, named registers, any qubit order), with
  ``frequencies``/``samples``/``probabilities`` from the server's exact counts; sent as OpenQASM
  2.0 to a server that lists it when QASM says the circuit exactly (``circuit_format`` forces
  one format);
- as qibo's raw JSON, completed by :mod:`qibo_client.circuits.raw` (what qibo's own ``raw`` loses
  is written out), everything QASM cannot say: noise channels and ``NoiseModel`` circuits (on a
  simulator device, as a density matrix, also when the circuit is a state-vector one: the law is
  that of qibo's repeated sampling), density-matrix circuits, readout noise ``M(p0=, p1=)``,
  collapsing mid-circuit measurements (their own outcomes come back where the server lists the
  ``collapse_outcomes`` extension, else asking for them raises ``ResultUnavailableError``),
  iSWAP, SiSWAP, ECR, fSim, GeneralizedfSim, RZX, RXXYY, SYC, ``Unitary``, ``Align``,
  ``controlled_by`` gates, upper-case register names, and ``wire_names`` (on hardware devices
  they choose the physical qubits);
- an initial state vector (``circuit(state, nshots=N)``; a pure density matrix goes as its
  vector), in the submission's ``initial_state`` field, on simulator devices of a server that
  lists that extension; a circuit given as initial state runs first, as in qibo;
- ``SymbolicHamiltonian.expectation(circuit, nshots=N)`` (its measurement groups go as one
  batch); shots-based loops with ``qibo.optimizers.optimize``.

Refused with :class:`UnsupportedCircuitError` before the circuit is sent, saying what to do
instead, because no server could run it with the semantics it has locally: an initial state on a
hardware device (it starts from |0...0>) or to a server that does not list the extension (it
might ignore it), a mixed initial density matrix; anything that needs the state vector back
(``result.state()``, ``expectation`` without nshots, qibo's default VQE loss, a
``CallbackGate``), because only counts come back; gate parameters taken from mid-circuit
outcomes (classical feedback), which raw JSON cannot say; a circuit without measurements. What a
given server cannot take (a channel it does not know, a device limit) is its 4xx, which names it.

Stays local: qibo's ``QAOA``/``FALQON`` models and other state evolutions never call
``execute_circuit``, so they run on this NumpyBackend as before; so do qibo's quantum-info and
noise helpers, also those that pick an engine by the backend's name (:mod:`.local_engine`).

``seed=S`` makes a run replay: the backend draws each job's seed from a numpy ``Generator``
seeded with S, in submission order (a batch's circuits in order), and sends it in the job's
``seed`` field; the jobs stay independent of each other, and the same program with the same S
gets the same counts. Only a server that lists the ``seed`` extension is sent one; elsewhere the
backend warns once that the seed cannot be honoured and the server seeds as it likes.

The backend (and so every result, which holds it) pickles with its URL and options, never its
token: the copy looks the token up for its URL when it next connects. A seeded backend's copy
carries its generator as it stands, so it draws the seeds the original would have drawn next.

The backend leaves ``qubits`` and ``natives`` unset on purpose: setting them would make qibo
transpile locally, and the server transpiles for its own device.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from qibo.backends.numpy import NumpyBackend

from qibo_client.circuits.export import export_circuit
from qibo_client.circuits.raw import check_remote, encode_state
from qibo_client.config import TII_URL
from qibo_client.errors import ConfigurationError, QiboClientError, UnsupportedCircuitError
from qibo_client.local_engine import LocalEngineName, install
from qibo_client.protocol import (
    COLLAPSE_OUTCOMES_KEY,
    DEFAULT_DEVICE,
    DEFAULT_PROJECT,
    EXTENSION_SEED,
    MAX_SEED,
)
from qibo_client.results.outcomes import STATE_HINT, RemoteMeasurementOutcomes
from qibo_client.settings import (
    CIRCUIT_AUTO,
    SUBMIT_HOLD,
    JobOptions,
    as_tags,
    resolve,
    token_available,
)
from qibo_client.versions import __version__

if TYPE_CHECKING:  # pragma: no cover
    from qibo_client.jobs.job import Job
    from qibo_client.qibo_client import Client

logger = logging.getLogger(__name__)
install()  # qibo's engine-picking helpers (random_clifford, ...) compute with numpy under ours

_TOKEN_HOW_TO = "pass qibo.set_backend('qibo-client', token=...)"  # noqa: S105 - a hint
_INITIAL_STATE_HINT = (
    "Device {device!r} is hardware: it always starts from |0...0>, so an initial state cannot "
    "be sent to it. Prepare the state with gates at the start of the circuit (preparation + "
    "circuit), or run on a simulator device."
)


class RemoteTIIBackend(NumpyBackend):
    """A qibo backend that executes circuits on a remote cluster and computes the rest locally.

    ``token`` and ``url`` are resolved by :mod:`qibo_client.settings` (argument, then
    ``QIBO_CLIENT_TOKEN`` and ``QIBO_CLIENT_URL``, then the account saved by ``qibo-client login``,
    then TII's service for the URL); ``device`` is
    the cluster partition (``"sim"``: the ideal simulator), shown by qibo as the backend's
    platform; ``timeout`` bounds the wait for each result in seconds (None: no limit; a job that
    outlives it stays on the server, see ``JobTimeoutError``); ``circuit_format`` is ``"auto"``
    (QASM where the server lists it, qibo's ``circuit.raw`` elsewhere), ``"qasm"`` or ``"raw"``.
    ``templates=False`` sends every circuit whole even where the server takes templates
    (:mod:`qibo_client.jobs.encoding`). ``tags`` label every job this backend submits (sent where
    the server lists the ``tags`` extension, and kept in the local journal everywhere).
    ``seed`` (a non-negative integer) seeds the generator each job's seed is drawn from (see the
    module's docstring); None leaves every job's seed to the server.
    """

    def __init__(
        self,
        token: str | None = None,
        url: str | None = None,
        device: str = DEFAULT_DEVICE,
        project: str = DEFAULT_PROJECT,
        verbatim: bool = False,
        timeout: float | None = None,
        circuit_format: str = CIRCUIT_AUTO,
        templates: bool = True,
        tags: Sequence[str] = (),
        seed: int | None = None,
    ) -> None:
        # Resolved now, so that a missing token is said when the backend is set, not later.
        settings = resolve(url, token, default_url=TII_URL, how_to=_TOKEN_HOW_TO)
        self._setup(
            settings.url,
            device=device,
            project=project,
            verbatim=verbatim,
            timeout=timeout,
            circuit_format=circuit_format,
            templates=templates,
            tags=tags,
            seed=seed,
        )
        self._token: str | None = settings.token

    def _setup(
        self,
        url: str,
        *,
        device: str,
        project: str,
        verbatim: bool,
        timeout: float | None,
        circuit_format: str,
        templates: bool,
        tags: Sequence[str] = (),
        seed: int | None = None,
    ) -> None:
        """Everything but the token: what ``__init__`` and unpickling share."""
        super().__init__()
        # Both show and compare as themselves; qibo's engine lookups read them as numpy.
        self.name = LocalEngineName("qibo-client")
        self.platform = LocalEngineName(device)
        #: What every circuit of this backend carries (shots come with each execution).
        self.options = JobOptions(
            device, project, verbatim, circuit_format=circuit_format, tags=as_tags(tags)
        )
        self.timeout = timeout
        self.templates = templates
        #: The seed the jobs' seeds are drawn from (None: the server seeds each job).
        self.seed = _checked_seed(seed)
        self._seeds = None if seed is None else np.random.default_rng(seed)
        self._unseeded_said = False
        self.url = url
        self._token = None
        self._client: Client | None = None
        self._hardware: dict[str, bool] = {}  # device name -> listed as hardware
        self.versions["qibo-client"] = __version__

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its server's URL and options, never its token.

        qibo's ``Backend.__reduce__`` rebuilds a backend with no arguments, which for this one
        meant TII's service (or no token at all). The copy finds its token the usual way
        (environment, saved account for its URL) when it first connects.
        """
        options = {
            "device": self.device_name,
            "project": self.project,
            "verbatim": self.verbatim,
            "timeout": self.timeout,
            "circuit_format": self.options.circuit_format,
            "templates": self.templates,
            "tags": self.options.tags,
            "seed": self.seed,
        }
        drawn = None if self._seeds is None else self._seeds.bit_generator.state
        return (_unpickled_backend, (type(self), self.url, options, drawn))

    def __repr__(self) -> str:
        return f"{self.name} ({self.platform} at {self.url})"

    @property
    def project(self) -> str:
        return self.options.project

    @property
    def verbatim(self) -> bool:
        return self.options.verbatim

    @property
    def device_name(self) -> str:
        """The cluster device (partition) circuits run on; qibo shows it as ``platform``."""
        return str(self.platform)

    @property
    def client(self) -> Client:
        """The connection, opened on first use (its version check costs one round trip)."""
        if self._client is None:
            from qibo_client.qibo_client import Client

            if self._token is None:  # unpickled: found now, the usual way, for this URL
                self._token = resolve(self.url, None, how_to=_TOKEN_HOW_TO).token
            self._client = Client(self.url, self._token, templates=self.templates)
        return self._client

    # -- execution ---------------------------------------------------------------------------

    def execute_circuit(
        self, circuit: Any, initial_state: Any = None, nshots: int | None = 1000
    ) -> RemoteMeasurementOutcomes:
        """Run ``circuit`` on the cluster; ``nshots=None`` means the device's default.

        ``initial_state`` is a state vector (sent with the circuit, simulators only) or, as in
        qibo, a circuit that runs first.
        """
        if isinstance(initial_state, type(circuit)):
            return self.execute_circuit(initial_state + circuit, None, nshots)
        payload = self._encode(circuit, initial_state)
        options = self._options(nshots)
        seeds = self._job_seeds(1)
        if seeds is not None:
            options = dataclasses.replace(options, seed=seeds[0])
        job = self.client.submit(
            payload, options=options, wait=SUBMIT_HOLD, initial_state=initial_state
        )
        logger.debug("Circuit of %d qubits sent as job %s", circuit.nqubits, job.pid)
        job.frequencies(timeout=self.timeout)
        return self._outcomes(circuit, job)

    def execute_circuits(
        self,
        circuits: Sequence[Any],
        initial_states: Any = None,
        nshots: int | None = None,
        processes: int | None = None,
    ) -> list[RemoteMeasurementOutcomes]:
        """Submit every circuit at once, then wait for them together.

        Variational loops with several measurement groups come through here on every step, so
        the cluster runs the group in parallel instead of one round trip after another; on a
        server with the batch extension the submission is held until the jobs end, so a step
        is ONE request, and ``wait_all`` only asks about jobs that were not final by then.
        ``initial_states`` is one state for all circuits or a list with one per circuit, as in
        qibo; circuits with initial states go one POST each. ``processes`` is accepted for
        qibo's signature and ignored: the cluster schedules.
        """
        circuits = list(circuits)
        if initial_states is None:
            payloads = [self._encode(circuit) for circuit in circuits]  # refuse before queueing
            jobs = self.client.submit_many(
                payloads,
                options=self._options(nshots),
                wait=SUBMIT_HOLD,
                seeds=self._job_seeds(len(payloads)),
            )
        else:
            if not isinstance(initial_states, list | tuple):
                initial_states = [initial_states] * len(circuits)
            if len(initial_states) != len(circuits):
                raise UnsupportedCircuitError("Give one initial state per circuit, or one for all.")
            pairs = list(zip(circuits, initial_states, strict=True))
            payloads = [self._encode(circuit, state) for circuit, state in pairs]
            drawn = self._job_seeds(len(payloads))
            seeds: list[int | None] = [None] * len(payloads) if drawn is None else [*drawn]
            jobs = [
                self.client.submit(
                    payload,
                    options=dataclasses.replace(self._options(nshots), seed=seed),
                    initial_state=state,
                )
                for payload, (_, state), seed in zip(payloads, pairs, seeds, strict=True)
            ]
        unfinished = [job for job in jobs if not job.is_final]
        if unfinished:
            self.client.wait_all(unfinished, timeout=self.timeout)
        return [self._outcomes(circuit, job) for circuit, job in zip(circuits, jobs, strict=True)]

    def _encode(self, circuit: Any, initial_state: Any = None) -> Any:
        """What goes on the wire for ``circuit``, in the chosen format or the server's; the
        circuit itself where the client may send it as a template (it decides per shape).

        What no server can run is refused before any connection is made, a bad initial state
        too; with a forced format, everything that format refuses is too. An initial state
        forces raw and is refused on a hardware device (the server would refuse it too, after
        the round trip).
        """
        check_remote(circuit)
        if initial_state is not None:
            if isinstance(initial_state, type(circuit)):
                raise UnsupportedCircuitError(
                    "In a batch, give initial states as vectors; prepend a preparation circuit "
                    "with preparation + circuit."
                )
            encode_state(initial_state, circuit)
        chosen = self.options.circuit_format
        collapses = bool(_collapses(circuit)) and self.client.features.collapse_outcomes
        if (
            chosen == CIRCUIT_AUTO
            and initial_state is None
            and not collapses
            and self.client.encoder.active
        ):
            return circuit
        listed = self.client.features.circuit_format if chosen == CIRCUIT_AUTO else chosen
        payload = export_circuit(circuit, chosen, listed, raw=initial_state is not None)
        if initial_state is not None and self._is_hardware():
            raise UnsupportedCircuitError(_INITIAL_STATE_HINT.format(device=self.device_name))
        if collapses and isinstance(payload, dict):  # ask for the collapses' own outcomes
            payload = {**payload, COLLAPSE_OUTCOMES_KEY: True}
        return payload

    def _is_hardware(self) -> bool:
        """Whether the server lists this backend's device as hardware (asked once; unknown: no)."""
        device = self.device_name
        if device not in self._hardware:
            try:
                partitions = [item["partition"] for item in self.client.api.project_quotas()]
            except QiboClientError as error:
                logger.debug("Device kinds unknown (%s); the server will decide", error)
                partitions = []
            self._hardware[device] = any(
                isinstance(p, dict)
                and p.get("name") == device
                and p.get("hardware_type") == "hardware"
                for p in partitions
            )
        return self._hardware[device]

    def _options(self, nshots: int | None) -> JobOptions:
        """What every submission of this backend carries; ``nshots=None``: the device default."""
        return dataclasses.replace(self.options, device=self.device_name).with_nshots(nshots)

    def _job_seeds(self, count: int) -> list[int] | None:
        """The seeds of the next ``count`` jobs, drawn in order; None when this backend is not
        seeded or its server does not list the ``seed`` extension (said once: it would ignore
        them, or refuse them)."""
        if self._seeds is None:
            return None
        if not self.client.features.honours(EXTENSION_SEED):
            if not self._unseeded_said:
                self._unseeded_said = True
                warnings.warn(
                    f"The server at {self.url} does not list the {EXTENSION_SEED!r} extension: "
                    f"seed={self.seed} cannot be honoured, its jobs are seeded by the server and "
                    "will not replay (said once per backend).",
                    stacklevel=4,
                )
            return None
        drawn = self._seeds.integers(0, MAX_SEED, size=count, endpoint=True)
        return [int(seed) for seed in drawn]

    def _outcomes(self, circuit: Any, job: Job) -> RemoteMeasurementOutcomes:
        """The job's result on ``circuit``'s own gates, collapses' outcomes included if sent."""
        collapses = _collapses(circuit)
        joint = job.collapse_outcomes() if collapses else None
        result = RemoteMeasurementOutcomes(
            circuit.measurements,
            job.frequencies(),
            backend=self,
            nqubits=circuit.nqubits,
            collapses=collapses,
            joint=joint,
            missing=self._why_no_collapse_outcomes() if collapses and joint is None else "",
        )
        # qibo's expectation helpers read this, and run the circuit again when it is unset.
        circuit._final_state = result
        return result

    def _why_no_collapse_outcomes(self) -> str:
        """What to say when a collapsing measurement's outcomes did not come back."""
        if not self.client.features.collapse_outcomes:
            return (
                f"The server at {self.url} does not return the outcomes of collapsing "
                "measurements (it does not list the collapse_outcomes extension): only the "
                "final measurements' counts came back. Measure at the end instead (a CNOT "
                "onto a fresh qubit, measured last, records the same outcome), or run the "
                "circuit locally."
            )
        return (
            f"Device {self.device_name!r} did not return the outcomes of the collapsing "
            "measurements (it cannot, or the circuit with one extra qubit per collapsed qubit "
            "is wider than it simulates): only the final measurements' counts came back. "
            "Use a simulator device with room for the extra qubits, or measure at the end."
        )

    # -- what needs the state vector ---------------------------------------------------------

    def exp_value_observable_symbolic(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: an exact expectation value needs the state vector, which stays remote."""
        raise UnsupportedCircuitError(STATE_HINT)

    def execute_circuit_repeated(self, *args: Any, **kwargs: Any) -> Any:
        """Never reached: noisy and collapsing circuits go whole to the cluster, which samples."""
        raise UnsupportedCircuitError(
            "Repeated execution is the server's: run the circuit with circuit(nshots=N)."
        )


def _collapses(circuit: Any) -> list[Any]:
    """The circuit's collapsing (mid-circuit) measurement gates, in circuit order."""
    from qibo import gates

    return [gate for gate in circuit.queue if isinstance(gate, gates.M) and gate.collapse]


def _checked_seed(seed: Any) -> int | None:
    """``seed`` as an int, or a ConfigurationError that says what a seed is."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigurationError(
            f"seed={seed!r}: give a non-negative integer (or None to let the server seed jobs)"
        )
    return int(seed)


def _unpickled_backend(
    cls: type[RemoteTIIBackend],
    url: str,
    options: dict[str, Any],
    drawn: dict[str, Any] | None = None,
) -> RemoteTIIBackend:
    """A pickled backend again, without a token until it next needs one; a seeded one with
    its generator where the original's stood (``drawn``)."""
    backend = cls.__new__(cls)
    backend._setup(url, **options)
    if backend._seeds is not None and drawn is not None:
        backend._seeds.bit_generator.state = drawn
    return backend


class MetaBackend:
    """What qibo calls to build the backend: ``MetaBackend.load(**kwargs)``."""

    @staticmethod
    def load(**kwargs: Any) -> RemoteTIIBackend:
        """Build a :class:`RemoteTIIBackend`; ``platform`` (what qibo passes) means ``device``.

        ``QIBO_BACKEND=qibo-client`` makes qibo pass ``platform=QIBO_PLATFORM``, possibly None.
        """
        platform = kwargs.pop("platform", None)
        device = kwargs.pop("device", None)
        if platform and device and platform != device:
            raise ConfigurationError(
                f"platform={platform!r} and device={device!r} disagree; they are synonyms here, "
                "pass only one."
            )
        allowed = {
            *("token", "url", "project", "verbatim", "timeout", "circuit_format", "templates"),
            *("tags", "seed"),
        }
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise ConfigurationError(
                f"Unknown option(s) for the qibo-client backend: {', '.join(unknown)}. "
                f"Accepted: device (or platform), {', '.join(sorted(allowed))}."
            )
        return RemoteTIIBackend(device=device or platform or DEFAULT_DEVICE, **kwargs)

    def list_available(self) -> bool:
        """Whether the backend can be built without arguments: a token in the environment or saved.

        No network call: qibo asks this while listing backends, which must stay fast offline.
        """
        return token_available()


__all__ = ["MetaBackend", "RemoteTIIBackend"]
