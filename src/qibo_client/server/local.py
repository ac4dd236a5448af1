"""``local_cluster()``: the reference server in a background thread, for tests, demos and notebooks.

The socket is bound here (port 0, loopback) and handed to uvicorn, so there is no window in which
another process could take the port. ``__enter__`` returns once the server's lifespan has finished
(store open, workers warm), signalled by an event, not by polling HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qibo_client.protocol import DEFAULT_TEMPLATES_PER_USER
from qibo_client.server.accounts import DEFAULT_PROJECT, AccountSpec, new_token, specs_from
from qibo_client.server.api.app import create_app
from qibo_client.server.profiles import Profile, profile_named
from qibo_client.server.state import ServerConfig, ServerState

logger = logging.getLogger("qibo_client.server")

DEFAULT_EMAIL = "user@localhost"


class _Server:
    """A uvicorn server that tells a thread-safe event when it is serving (or failed to start)."""

    def __init__(self, config: Any) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            async def startup(inner, sockets: list[socket.socket] | None = None) -> None:
                try:
                    self.loop = asyncio.get_running_loop()
                    await super().startup(sockets)
                finally:
                    self.ready.set()

        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.uvicorn = Server(config)


class LocalCluster:
    """A running server: ``url``, the default user's ``token``, and ``add_user`` for more users."""

    def __init__(self, url: str, token: str, db_path: Path, server: _Server, app: Any) -> None:
        self.url = url
        self.token = token
        self.email = DEFAULT_EMAIL
        self.db_path = db_path
        self._server = server
        self._app = app

    def __repr__(self) -> str:  # never show the token
        return f"LocalCluster(url={self.url!r}, db_path={str(self.db_path)!r})"

    @property
    def state(self) -> ServerState:
        state: ServerState = self._app.state.server
        return state

    def _call(self, function: Any, *args: Any) -> Any:
        """Run ``function`` on the server's event loop (where the store and runner live)."""
        loop = self._server.loop
        assert loop is not None

        async def call() -> Any:
            return function(*args)

        return asyncio.run_coroutine_threadsafe(call(), loop).result(timeout=30)

    def add_user(self, email: str, projects: Iterable[str] = ()) -> str:
        """Create a user (with project ``personal`` plus ``projects``) and return its token."""
        token = new_token()
        spec = AccountSpec(email, token, frozenset(projects) | {DEFAULT_PROJECT})
        self._call(self.state.add_user, spec)
        return token


@contextmanager
def local_cluster(
    *,
    workers: int = 1,
    db_path: str | Path | None = None,
    accounts: Any = None,
    max_body_bytes: int = 1 << 20,
    max_queued_per_user: int = 10_000,
    host: str = "127.0.0.1",
    profile: str | Profile = "default",
    dask: Any = None,
    threads: int | None = None,
    engine: str | None = None,
    templates_per_user: int = DEFAULT_TEMPLATES_PER_USER,
    qibolab: str | Iterable[str] | None = None,
    stage_seconds: float = 0.0,
    fast_lane: bool = False,
) -> Iterator[LocalCluster]:
    """Start the reference server on a free loopback port; stop it cleanly on exit.

    ``workers=0`` accepts and queues jobs but runs none: a job then stays ``queueing`` for as long
    as a test needs (queue positions, durability across a restart on the same ``db_path``).
    ``templates_per_user`` bounds each user's templates (least recently used out).
    ``accounts`` adds users (an accounts-file structure or ``AccountSpec`` list); a default user
    ``user@localhost`` is always created, with a fresh token each start. ``profile="tii"``
    serves only what TII's service is known to speak (:mod:`.profiles`), ``"tii-2026"`` that
    service as its 2026 clients read it.

    ``dask`` runs the jobs on a Dask cluster instead of ``workers`` local processes: a scheduler
    address (``"tcp://127.0.0.1:8786"``), a ``distributed.Client`` or a cluster object such as
    ``distributed.LocalCluster`` (needs ``pip install "qibo-client[dask]"``). ``threads``: numba
    threads per job (default: cores divided by the jobs that run at once). ``engine``: the
    simulation engine of the simulators (``auto``, ``numpy``, ``qibojit``; see engines.py).
    ``stage_seconds``: the least time a job shows each of queueing, pending, running and
    postprocessing, so that it lives as long as on TII's service (see jobs/stages.py; 0: off).

    ``qibolab`` names qibolab platforms (``["dummy"]`` or ``"dummy,lab"``): each becomes a device
    of the same name, run one job at a time (needs the ``[hardware]`` extra; see platforms.py).
    ``fast_lane``: simulate tiny jobs in this process, on a thread of the server (lane.py); off
    by default here, as this process is the caller's (each lane job seeds numpy's global
    generator), on in ``qibo-client serve``.
    """
    import uvicorn

    from qibo_client.server.devices import DEFAULT_DEVICES
    from qibo_client.server.jobs.executors import require_dask

    if dask is not None:
        require_dask()  # the install hint here, not a failed start
    devices = DEFAULT_DEVICES if engine is None else DEFAULT_DEVICES.with_engine(engine)
    if qibolab:
        from qibo_client.server.platforms import platform_devices

        devices = devices.with_devices(platform_devices(qibolab))

    with tempfile.TemporaryDirectory(prefix="qibo-cluster-") as scratch:
        path = Path(db_path) if db_path is not None else Path(scratch) / "cluster.sqlite3"
        token = new_token()
        specs = [AccountSpec(DEFAULT_EMAIL, token, frozenset({DEFAULT_PROJECT}))]
        if accounts is not None:
            specs.extend(specs_from(accounts))
        config = ServerConfig(
            db_path=path,
            workers=workers,
            accounts=specs,
            max_body_bytes=max_body_bytes,
            max_queued_per_user=max_queued_per_user,
            profile=profile_named(profile),
            devices=devices,
            dask=dask,
            threads=threads,
            templates_per_user=templates_per_user,
            stage_seconds=stage_seconds,
            fast_lane=fast_lane,
        )
        app = create_app(config)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, 0))
        port = sock.getsockname()[1]
        server = _Server(
            uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=5,
            )
        )
        thread = threading.Thread(
            target=server.uvicorn.run,
            kwargs={"sockets": [sock]},
            name=f"qibo-cluster-{port}",
            daemon=True,
        )
        thread.start()
        try:
            server.ready.wait()
            if not server.uvicorn.started:
                cause = getattr(app.state, "startup_error", None)
                raise RuntimeError(f"the local cluster failed to start: {cause}") from cause
            cluster = LocalCluster(f"http://{host}:{port}", token, path, server, app)
            logger.info("local cluster serving at %s (db %s)", cluster.url, path)
            yield cluster
        finally:
            server.uvicorn.should_exit = True
            thread.join()
            sock.close()
