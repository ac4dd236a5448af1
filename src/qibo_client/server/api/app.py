"""The HTTP side of the reference cluster: the FastAPI app, put together.

This module only assembles: the lifespan makes the one :class:`ServerState` (store, runner, users)
and keeps it in ``app.state.server``; the routes (:mod:`.routes`, one router per resource) receive
it and the caller through :mod:`.deps`; requests are checked in :mod:`.checks`, answers written in
:mod:`.answers`, every request logged by :mod:`.access_log` and counted by :mod:`.metrics`
(``/metrics``); the web view (:mod:`.ui`, ``/ui/``) reads the same state. Two exception handlers
keep the protocol's promise that every refusal is ``{"detail": "<one sentence>"}`` and that a bug
answers a 500 without its traceback. The HTTP process never imports qibo (except, in a thread, to
build a download archive or to draw a circuit for the web view).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from qibo_client.protocol import TOKEN_HEADER
from qibo_client.server.api.access_log import AccessLog
from qibo_client.server.api.checks import parse_circuit
from qibo_client.server.api.metrics import add_metrics, listen
from qibo_client.server.api.routes import WithoutSlash, router_for
from qibo_client.server.api.schemas import add_request_schemas
from qibo_client.server.jobs.runner import Runner
from qibo_client.server.jobs.worker import Outcome
from qibo_client.server.state import ServerConfig, ServerState
from qibo_client.server.ui import mount_ui

logger = logging.getLogger("qibo_client.server")

#: Makes the runner of a state: ``(workers, on_outcome) -> Runner``. Tests pass a fake one; None
#: builds the runner with the executor the configuration names (local pool or Dask).
RunnerFactory = Callable[[int, Callable[[Outcome], None]], Runner]


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own 422 (a path or query it checked) as one ``detail`` sentence."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)


async def unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback, answered without it."""
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "internal server error; the server logged the details"}, status_code=500
    )


def create_app(config: ServerConfig, *, runner: RunnerFactory | None = None) -> FastAPI:
    """A ready-to-serve app; the store opens and the workers warm up in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            state = ServerState(config, runner)
            app.state.server = state
            listen(app, state)
            await state.runner.start()
        except Exception as err:
            app.state.startup_error = err  # for local_cluster to raise with the real reason
            raise
        requeued = state.requeue_unfinished()
        if requeued:
            logger.info("requeued %d unfinished job(s) from %s", requeued, config.db_path)
        try:
            yield
        finally:
            await asyncio.get_running_loop().run_in_executor(None, state.runner.shutdown)
            state.store.close()

    app = FastAPI(
        title="qibo-client reference cluster",
        description="The Qibo cluster protocol (see docs/protocol.md), with server-side waits, "
        f"idempotent submission and batches. Send your token in the {TOKEN_HEADER} header.",
        lifespan=lifespan,
    )
    app.add_middleware(AccessLog)
    app.add_middleware(WithoutSlash)  # outermost: every layer sees the path with its final /
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected)
    app.include_router(router_for(config.profile))
    add_request_schemas(app)
    add_metrics(app)
    mount_ui(app)
    return app


__all__ = ["ServerConfig", "ServerState", "create_app", "parse_circuit"]
