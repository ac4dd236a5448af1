"""qibo's side of the plugin: ``qibo.set_backend("qibo-client", ...)`` runs circuits on the cluster.

qibo finds a backend by importing the module named after it and calling
``qibo_client.MetaBackend.load(**kwargs)`` (``MetaBackend().list_available()`` for
``qibo.list_available_backends``). qibo reads no entry points: the ``qibo.backends`` entry point
this package also declares is for tools that list plugins, not how qibo finds it.
``RemoteTIIBackend`` subclasses ``NumpyBackend`` so that everything qibo computes locally
(matrices, Hamiltonians, optimisers, quantum-info helpers) keeps working; only circuit execution
goes to the cluster:

    backend -> export (refusals, bases; QASM or circuit.raw as the server lists) -> Client.submit
            -> Job.frequencies -> outcomes -> backend

Runs remotely: any circuit of QASM-expressible gates ending in measurements (Z, X or Y basis,
named registers, any qubit order), with ``frequencies``/``samples``/``probabilities`` from the
server's exact counts; ``SymbolicHamiltonian.expectation(circuit, nshots=N)`` (its measurement
groups go as one batch); shots-based loops with ``qibo.optimizers.optimize``.

Refused with :class:`UnsupportedCircuitError` (never run with other semantics): initial states
(the cluster starts from |0...0>); anything that needs the state vector (``result.state()``,
``expectation`` without nshots, qibo's default VQE loss), because only counts come back; and what
:mod:`qibo_client.qasm` refuses (density matrices, noise channels, collapsing measurements,
bit-flip measurement noise, gates OpenQASM 2.0 cannot name), because the QASM export would drop
or change them.

Stays local: qibo's ``QAOA``/``FALQON`` models and other state evolutions never call
``execute_circuit``, so they run on this NumpyBackend as before.

The backend leaves ``qubits`` and ``natives`` unset on purpose: setting them would make qibo
transpile locally, and the server transpiles for its own device.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from qibo.backends.numpy import NumpyBackend

from qibo_client import __version__
from qibo_client.config import TII_URL, ConfigurationError, UnsupportedCircuitError
from qibo_client.export import check_exportable, export_circuit
from qibo_client.outcomes import STATE_HINT, RemoteMeasurementOutcomes
from qibo_client.protocol import DEFAULT_DEVICE, DEFAULT_PROJECT
from qibo_client.settings import (
    CIRCUIT_AUTO,
    SUBMIT_HOLD,
    JobOptions,
    resolve,
    token_available,
)

if TYPE_CHECKING:  # pragma: no cover
    from qibo_client.qibo_client import Client

logger = logging.getLogger(__name__)

#: How long the server may hold a submission so that a fast job is one round trip.
SUBMIT_WAIT = SUBMIT_HOLD

_INITIAL_STATE_HINT = (
    "Initial states cannot be sent to the cluster, which always starts from |0...0>. Prepare "
    "the state with gates at the start of the circuit instead (e.g. preparation + circuit)."
)


class RemoteTIIBackend(NumpyBackend):
    """A qibo backend that executes circuits on a remote cluster and computes the rest locally.

    ``token`` and ``url`` are resolved by :mod:`qibo_client.settings` (argument, then
    ``QIBO_CLIENT_TOKEN`` and ``QIBO_CLIENT_URL``, then TII's service for the URL); ``device`` is
    the cluster partition (``"sim"``: the ideal simulator), shown by qibo as the backend's
    platform; ``timeout`` bounds the wait for each result in seconds (None: no limit; a job that
    outlives it stays on the server, see ``JobTimeoutError``); ``circuit_format`` is ``"auto"``
    (QASM where the server lists it, qibo's ``circuit.raw`` elsewhere), ``"qasm"`` or ``"raw"``.
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
    ) -> None:
        super().__init__()
        self.name = "qibo-client"
        self.platform = device
        #: What every circuit of this backend carries (shots come with each execution).
        self.options = JobOptions(device, project, verbatim, circuit_format=circuit_format)
        self.timeout = timeout
        settings = resolve(
            url,
            token,
            default_url=TII_URL,
            how_to="pass qibo.set_backend('qibo-client', token=...)",
        )
        self.url = settings.url
        self._token = settings.token
        self._client: Client | None = None
        self.versions["qibo-client"] = __version__

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

            self._client = Client(self.url, self._token)
        return self._client

    # -- execution ---------------------------------------------------------------------------

    def execute_circuit(
        self, circuit: Any, initial_state: Any = None, nshots: int | None = 1000
    ) -> RemoteMeasurementOutcomes:
        """Run ``circuit`` on the cluster; ``nshots=None`` means the device's default."""
        if initial_state is not None:
            raise UnsupportedCircuitError(_INITIAL_STATE_HINT)
        payload = self._encode(circuit)
        job = self.client.submit(payload, options=self._options(nshots), wait=SUBMIT_HOLD)
        logger.debug("Circuit of %d qubits sent as job %s", circuit.nqubits, job.pid)
        return self._outcomes(circuit, job.frequencies(timeout=self.timeout))

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
        ``processes`` is accepted for qibo's signature and ignored: the cluster schedules.
        """
        if initial_states is not None:
            raise UnsupportedCircuitError(_INITIAL_STATE_HINT)
        payloads = [self._encode(circuit) for circuit in circuits]  # refuse before queueing
        jobs = self.client.submit_many(payloads, options=self._options(nshots), wait=SUBMIT_HOLD)
        unfinished = [job for job in jobs if not job.is_final]
        if unfinished:
            self.client.wait_all(unfinished, timeout=self.timeout)
        return [
            self._outcomes(circuit, job.frequencies())
            for circuit, job in zip(circuits, jobs, strict=True)
        ]

    def _encode(self, circuit: Any) -> Any:
        """What goes on the wire for ``circuit``, in the chosen format or the server's.

        What no format can carry is refused before any connection is made; with a forced format,
        everything that format refuses is too.
        """
        check_exportable(circuit)
        chosen = self.options.circuit_format
        if chosen == CIRCUIT_AUTO:
            chosen = self.client.features.circuit_format
        return export_circuit(circuit, chosen, chosen)

    def _options(self, nshots: int | None) -> JobOptions:
        """What every submission of this backend carries; ``nshots=None``: the device default."""
        return dataclasses.replace(self.options, device=self.device_name).with_nshots(nshots)

    def _outcomes(self, circuit: Any, counts: dict[str, int]) -> RemoteMeasurementOutcomes:
        result = RemoteMeasurementOutcomes(
            circuit.measurements, counts, backend=self, nqubits=circuit.nqubits
        )
        # qibo's expectation helpers read this, and run the circuit again when it is unset.
        circuit._final_state = result
        return result

    # -- what needs the state vector ---------------------------------------------------------

    def exp_value_observable_symbolic(self, *args: Any, **kwargs: Any) -> Any:
        """Refused: an exact expectation value needs the state vector, which stays remote."""
        raise UnsupportedCircuitError(STATE_HINT)

    def execute_circuit_repeated(self, *args: Any, **kwargs: Any) -> Any:
        raise UnsupportedCircuitError(
            "Repeated (noisy or collapsing) execution cannot run remotely; see qibo_client.qasm."
        )


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
        allowed = {"token", "url", "project", "verbatim", "timeout", "circuit_format"}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise ConfigurationError(
                f"Unknown option(s) for the qibo-client backend: {', '.join(unknown)}. "
                f"Accepted: device (or platform), {', '.join(sorted(allowed))}."
            )
        return RemoteTIIBackend(device=device or platform or DEFAULT_DEVICE, **kwargs)

    def list_available(self) -> bool:
        """Whether the backend can be built without arguments: a token is in the environment.

        No network call: qibo asks this while listing backends, which must stay fast offline.
        """
        return token_available()


__all__ = ["SUBMIT_WAIT", "MetaBackend", "RemoteTIIBackend"]
